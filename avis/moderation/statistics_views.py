"""``/admin/moderation/statistiques``: what waits and since when, how long decisions
take, and the decisions of the last twelve months by reason, tone and moderator.

Moderators and admins, within their scope: a région's moderator sees its région's
figures only. Counts and staff addresses, never anything about a trainee.
"""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from avis.accounts.access import allow
from avis.accounts.scope import Scope
from avis.accounts.sessions import signed_in_account
from avis.admin import admin_blueprint
from avis.catalog.geo import REGION_NAMES
from avis.moderation import statistics
from avis.moderation.forms import (
    DECISION_NAMES,
    EXCLUSION_REASONS,
    QUALIFICATIONS,
    REJECTION_REASONS,
)
from avis.moderation.models import Decision, Subject
from avis.moderation.views import MODERATORS

bp = admin_blueprint("moderation_stats", __name__, template_folder="templates")

SUBJECTS: dict[str, LazyString] = {
    Subject.comment: _l("Comments"),
    Subject.reply: _l("Replies of training bodies"),
    Subject.report: _l("Reports"),
}


def _reason(decision: str, reason: str | None) -> str:
    """A history row's reason in words: rejection and exclusion reasons, or, for an undo,
    the decision taken back."""
    if reason is None:
        return "—"
    if decision == Decision.undo:
        return str(DECISION_NAMES.get(reason, reason))
    return str(REJECTION_REASONS.get(reason) or EXCLUSION_REASONS.get(reason) or reason)


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"subjects": SUBJECTS, "decision_label": lambda d: DECISION_NAMES.get(d, d),
            "reason_label": _reason, "qualifications": QUALIFICATIONS,
            "wait": statistics.describe_wait}


@bp.get("/moderation/statistiques")
@allow(*MODERATORS)
def overview() -> ResponseReturnValue:
    """The moderation's figures within one's scope."""
    account = signed_in_account()
    assert account is not None  # require_access ran
    return render_template("moderation/statistics.html",
                           figures=statistics.gather(Scope.of(account)),
                           region_name=REGION_NAMES.get(account.region_code or "",
                                                        account.region_code))
