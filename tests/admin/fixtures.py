"""A catalogue split across scopes, with accounts of every kind: what the scope filter,
the route × role matrix and the crawler test against.

Every body, review and trainee has words found nowhere else, so that a page showing
what it should not is caught by a plain text search.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pyotp
import pytest
from flask import Flask

from avis.accounts.models import Account, Role
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.moderation.models import Report, ReportReason, ReportStatus
from avis.monitoring.models.alerts import Alert, AlertRule
from avis.surveys.models.answers import CommentStatus
from tests.accounts.fixtures import create_account
from tests.catalog.fixtures import make_siret
from tests.public.fixtures import Place, add_answer, add_body, add_offer, add_reply, publish

NANTES = Place("Nantes", "44000", "44", funders=(2,))
ANGERS = Place("Angers", "49000", "49", funders=(4,))
RENNES = Place("Rennes", "35000", "35", region="53", funders=(10,))
LYON = Place("Lyon", "69001", "69", region="84", funders=(2,))


@dataclass(frozen=True)
class BodyFacts:
    """What identifies a body on a page: none of it may reach another body's account."""

    siret: str
    siren: str
    name: str
    #: the titles and texts of its comments and replies, published or not
    words: tuple[str, ...]
    #: its trainees' emails and names
    trainees: tuple[str, ...]
    #: its answers with a comment (the last one still pending)
    answer_ids: tuple[int, ...] = ()
    #: its reply (to the first answer) and the open report it made (on the second)
    reply_id: int = 0
    report_id: int = 0
    #: an alert about it (negative reviews), in its session's région
    alert_id: int = 0


@dataclass
class ScopedWorld:
    bodies: dict[str, BodyFacts]
    #: account key → (account id, email, TOTP secret or None)
    accounts: dict[str, tuple[int, str, str | None]] = field(default_factory=dict)
    #: account key (or "cli") → (id, région) of the import run it uploaded (ran)
    import_runs: dict[str, tuple[int, str | None]] = field(default_factory=dict)

    def visible_to(self, key: str) -> set[str]:
        """The bodies each account of the world must see."""
        return VISIBLE[key]


#: Which bodies each account sees (the rules of avis.accounts.scope, written out).
VISIBLE = {
    "admin": {"net_nantes", "net_rennes", "lumiere", "zephyr", "lyon"},
    "moderator_all": {"net_nantes", "net_rennes", "lumiere", "zephyr", "lyon"},
    "moderator_52": {"net_nantes", "lumiere", "zephyr"},
    "region_52": {"net_nantes", "lumiere", "zephyr"},
    "region_52_ft": {"lumiere"},
    "region_53": {"net_rennes"},
    "body_network": {"net_nantes", "net_rennes"},
    "body_lumiere": {"lumiere"},
    "body_zephyr": {"zephyr"},
}

#: (role, scope options) of each account.
ACCOUNTS = {
    "admin": (Role.admin, {}),
    "moderator_all": (Role.moderator, {}),
    "moderator_52": (Role.moderator, {"region": "52"}),
    "region_52": (Role.region, {"region": "52"}),
    "region_52_ft": (Role.region, {"region": "52", "funders": (4,)}),
    "region_53": (Role.region, {"region": "53"}),
    "body_network": (Role.organisation, {"siret": "network"}),
    "body_lumiere": (Role.organisation, {"siret": "lumiere"}),
    "body_zephyr": (Role.organisation, {"siret": "zephyr"}),
}


def _body(key: str, name: str, place: Place, siret: str) -> tuple[TrainingBody, BodyFacts]:
    body = add_body(name, siret=siret)
    offer = add_offer(body, f"Cours {key} de menuiserie", place, enrolled=8)
    words = []
    answer_ids = []
    for i in range(6):
        title, text = f"Titre-{key}-{i}", f"Avis unique {key} numéro {i} sur la formation"
        status = CommentStatus.pending if i == 5 else CommentStatus.published
        answer = add_answer(offer, (4, 4, 5, 3, 4), comment=(title, text), status=status)
        answer_ids.append(answer.id)
        words += [title, text]
        if i == 0:
            # No character that HTML escapes: the crawler looks for these words as is.
            reply = f"Réponse-{key} de notre organisme"
            reply_id = add_reply(answer, reply).id
            words.append(reply)
        if i == 1:
            report = Report(answer_id=answer.id, training_body_id=body.id,
                            reason=ReportReason.false_facts, status=ReportStatus.open,
                            text=f"Signalement-{key} de notre organisme")
            db.session.add(report)
            db.session.flush()
            report_id = report.id
            words.append(report.text)
    from avis.catalog.models.trainees import Trainee

    alert = Alert(rule=AlertRule.negative_reviews, region_code=place.region,
                  subject_key=f"body:{body.id}", training_body_id=body.id, value=12.0,
                  details={"count": 12, "threshold": 10})
    db.session.add(alert)
    db.session.flush()
    trainees = [t.email for t in db.session.query(Trainee).all()]
    facts = BodyFacts(siret=body.siret, siren=body.siren, name=name, words=tuple(words),
                      trainees=tuple(trainees), answer_ids=tuple(answer_ids),
                      reply_id=reply_id, report_id=report_id, alert_id=alert.id)
    return body, facts


@pytest.fixture
def scoped_world(app: Flask) -> ScopedWorld:
    """Five bodies (two establishments of one network in two régions, two in région 52,
    one in région 84), each with published and pending comments and a reply; and one
    account per kind of scope. Committed, scored."""
    network = make_siret(31_415_926)
    bodies: dict[str, BodyFacts] = {}
    with app.app_context():
        seen: set[str] = set()
        specs = [
            ("net_nantes", "Réseau Boréal Nantes", NANTES, network),
            ("net_rennes", "Réseau Boréal Rennes", RENNES, _same_siren(network, 2)),
            ("lumiere", "Lumière Qualifications", ANGERS, make_siret(27_182_818)),
            ("zephyr", "Zéphyr Conseil Formation", NANTES, make_siret(16_180_339)),
            ("lyon", "Rhône Savoirs Pratiques", LYON, make_siret(14_142_135)),
        ]
        for key, name, place, siret in specs:
            _, facts = _body(key, name, place, siret)
            new_trainees = tuple(email for email in facts.trainees if email not in seen)
            seen.update(new_trainees)
            # Each body's own trainees (the reply, report and alert ids kept: they
            # were dropped here once, and the matrix tested unknown ids only).
            bodies[key] = dataclasses.replace(facts, trainees=new_trainees)
        publish()
        world = ScopedWorld(bodies=bodies)
        for key, (role, options) in ACCOUNTS.items():
            options = dict(options)
            if role == Role.organisation:
                target = options.pop("siret")
                options["siret"] = (bodies["net_nantes"].siren if target == "network"
                                    else bodies[target].siret)
            secret = pyotp.random_base32() if role == Role.admin else None
            account = create_account(role, f"{key}@comptes.example", totp_secret=secret,
                                     **options)
            world.accounts[key] = (account.id, account.email, secret)
        db.session.commit()
        _add_import_runs(world, app)
        # The dashboard's counts, as the hourly job leaves them.
        from avis.monitoring.funnel import rebuild

        rebuild()
    return world


#: Uploaders of the world's import runs, each with the status its run is left in.
UPLOADERS = {"region_52": "queued", "region_52_ft": "completed", "region_53": "completed",
             "admin": "completed"}


def _add_import_runs(world: ScopedWorld, app: Flask) -> None:
    """An upload of each region account and of the admin, with a rejected row each, and a
    command-line run. Their rejected rows name nobody of the world."""
    from pathlib import Path

    from avis.catalog.imports.models import ImportRun, ImportStatus

    rejects = "\ufeffligne;motif;email\r\n2;adresse e-mail invalide;pas-une-adresse\r\n"
    for key, status in UPLOADERS.items():
        account_id, email, _secret = world.accounts[key]
        account = db.session.get(Account, account_id)
        assert account is not None
        folder = f"monde-{key.replace('_', '-')}"
        path = Path(app.instance_path) / "uploads" / folder / "rejets.csv"
        path.parent.mkdir(parents=True)
        path.write_bytes(rejects.encode())
        run = ImportRun(file_name=f"stagiaires-{key}.csv", file_hash=f"{len(folder):064d}",
                        file_format="csv", campaign="monde", triggered_by=email,
                        status=ImportStatus(status), account_id=account_id,
                        region_code=account.region_code, upload_dir=folder,
                        file_size=2_000, rows_read=4, imported=3, rejected=1,
                        rejects_size=len(rejects.encode()), chunk_size=50)
        db.session.add(run)
        db.session.flush()
        world.import_runs[key] = (run.id, account.region_code)
    cli = ImportRun(file_name="export-national.txt", file_hash="f" * 64, file_format="pe",
                    campaign="national", triggered_by="ops", status=ImportStatus.completed)
    db.session.add(cli)
    db.session.flush()
    world.import_runs["cli"] = (cli.id, None)
    db.session.commit()


def _same_siren(siret: str, establishment: int) -> str:
    """Another establishment of the SIREN of ``siret``, with a valid check digit."""
    from stdnum import luhn

    head = f"{siret[:9]}{establishment:04d}"
    return head + luhn.calc_check_digit(head)


def account_of(app: Flask, world: ScopedWorld, key: str) -> Account:
    with app.app_context():
        account = db.session.get(Account, world.accounts[key][0])
        assert account is not None
        return account
