"""``avis demo`` fills the dashboard: two campaigns over the year, a rising response
rate, a campaign with many bounces, and the counts computed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from avis.accounts.models import Role
from avis.accounts.scope import Scope
from avis.db import db
from avis.monitoring import dashboard
from avis.monitoring.dashboard import Filters
from avis.monitoring.demo import CAMPAIGNS
from avis.monitoring.models.alerts import Alert, AlertRule
from avis.surveys.models.invitations import InvitationKind
from tests.monitoring.funnel_data import assert_table_matches

pytestmark = pytest.mark.usefixtures("app_context")


def test_demo_shows_campaigns_a_trend_and_bounces(runner) -> None:
    result = runner.invoke(args=["demo"])  # fewer trainees: a month's rate is noise
    assert result.exit_code == 0, result.output

    assert_table_matches()  # the counts were computed after the demo's last change
    scope = Scope(role=Role.region, account_id=0, region_code="52")
    end = InvitationKind.end_of_training
    lines, _count = dashboard.breakdown(scope, Filters(), "campagne")
    campaigns = {line.key: line.end for line in lines}
    assert set(campaigns) == set(CAMPAIGNS)
    older, newer = (campaigns[name] for name in CAMPAIGNS)
    assert older.bounced / older.sent > 0.10
    assert newer.bounced / max(newer.sent, 1) < 0.05
    months = dashboard.trend(scope, Filters())
    assert len(months) == 12
    early = dashboard.Figures()
    late = dashboard.Figures()
    for month in months[:3]:
        early.add(month.here.counts)
    # The last months' invitations are still open: only those before are compared.
    for month in months[5:8]:
        late.add(month.here.counts)
    assert early.response_rate is not None
    assert late.response_rate is not None
    assert late.response_rate > early.response_rate + 0.05
    assert dashboard.totals(scope, Filters())[end].answered > 0
    # And the night's alerts: the body whose marks fell, the campaign that bounced.
    found = set(db.session.scalars(sa.select(Alert.rule).where(Alert.region_code == "52")))
    assert {AlertRule.score_drop, AlertRule.bounces} <= found
