"""The lists of non-respondents and bounced addresses: counts equal pandas' on random
data; names and emails only with the permission, each reading journaled with its number
of people in the same transaction; scope; formula-safe, escaped files and pages."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable

import openpyxl
import pytest
import sqlalchemy as sa
import xlsxwriter
from flask import Flask

from avis.accounts.models import Account
from avis.accounts.scope import Scope
from avis.audit.models import AuditEvent
from avis.db import db
from avis.monitoring import lists
from avis.monitoring.lists import Filters, Grouping, ListKind
from avis.monitoring.lists_views import PAGE_SIZE
from avis.privacy.erasure import erase_email
from avis.spreadsheets import XLSX_TYPE
from tests.accounts.fixtures import Browser
from tests.admin.fixtures import VISIBLE, ScopedWorld
from tests.monitoring.lists_world import (
    FORMULA,
    SCRIPT,
    ListsWorld,
    build,
    expected_members,
    grant,
)

PATHS = {ListKind.non_respondents: "/admin/listes/non-repondants",
         ListKind.bounced: "/admin/listes/adresses-en-echec"}
#: The scope each account of the world has, for pandas.
SCOPES = {"admin": {}, "region_52": {"region": "52"},
          "region_52_ft": {"region": "52", "funders": (4,)}, "region_11": {"region": "11"}}


@pytest.fixture
def world(app: Flask) -> ListsWorld:
    with app.app_context():
        return build()


@pytest.fixture
def as_account(app: Flask, world: ListsWorld, browser: Callable[[], Browser]
               ) -> Callable[[str], Browser]:
    """``as_account(key)``: a client signed in as one of the world's accounts (admins
    need no second factor here)."""
    app.config["REQUIRE_TOTP_ROLES"] = ()

    def sign_in(key: str) -> Browser:
        client = browser()
        assert client.sign_in(world.accounts[key][1]).status_code == 303
        return client

    return sign_in


def _list_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action.in_(["list.viewed", "list.exported"])).order_by(AuditEvent.id)))


def _xlsx_text(data: bytes) -> str:
    """Every XML part of a workbook, as text: what a search for an email must look in."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(archive.read(name).decode() for name in archive.namelist())


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _xlsx_rows(data: bytes) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


# --- Counts ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(SCOPES))
@pytest.mark.parametrize("kind", list(ListKind))
def test_counts_by_group_equal_pandas(app: Flask, world: ListsWorld, key: str,
                                      kind: ListKind) -> None:
    with app.app_context():
        account = db.session.get(Account, world.accounts[key][0])
        scope = Scope.of(account)
        frame = expected_members(kind, **SCOPES[key])
        assert len(frame), "a scope with an empty list proves nothing"
        columns = {Grouping.campaign: "campaign", Grouping.body: "body_id",
                   Grouping.session: "session_id"}
        for by, column in columns.items():
            expected = frame.groupby(column).size().to_dict()
            found = lists.groups(scope, kind, Filters(), by)
            assert {group.key: group.people for group in found.groups} == expected, by
            assert found.total_people == len(frame)
            assert found.total_groups == len(expected)
            # Most people first, and pages that add up to the whole.
            counts = [group.people for group in found.groups]
            assert counts == sorted(counts, reverse=True)
            paged = [group.key for offset in range(0, len(expected), 2)
                     for group in lists.groups(scope, kind, Filters(), by, limit=2,
                                               offset=offset).groups]
            assert paged == [group.key for group in found.groups]
        # Filters narrow to what pandas finds for them, and combine.
        campaign = frame["campaign"].iloc[0]
        body_id = int(frame["body_id"].iloc[0])
        session_id = int(frame["session_id"].iloc[0])
        for filters, subset in [
            (Filters(campaign=campaign), frame[frame["campaign"] == campaign]),
            (Filters(body_id=body_id), frame[frame["body_id"] == body_id]),
            (Filters(session_id=session_id), frame[frame["session_id"] == session_id]),
            (Filters(campaign=campaign, body_id=body_id),
             frame[(frame["campaign"] == campaign) & (frame["body_id"] == body_id)]),
        ]:
            assert lists.count(scope, kind, filters) == len(subset), filters
            people = lists.people(scope, kind, filters)
            assert sorted(row.email for row in people) == sorted(subset["email"]), filters


@pytest.mark.parametrize("kind", list(ListKind))
def test_people_who_erased_their_data_leave_the_lists(app: Flask, world: ListsWorld,
                                                      kind: ListKind) -> None:
    with app.app_context():
        scope = Scope.of(db.session.get(Account, world.accounts["region_52"][0]))
        before = lists.people(scope, kind, Filters())
        erased = [before[0].email, before[-1].email]
        for email in erased:
            erase_email(email, reason="request")
        db.session.commit()
        frame = expected_members(kind, region="52")
        people = lists.people(scope, kind, Filters())
        # Nobody without a name or an address: the erased are gone, from counts too.
        assert all(row.email and row.last_name for row in people)
        assert sorted(row.email for row in people) == sorted(
            row.email for row in before if row.email not in erased)
        assert sorted(frame["email"]) == sorted(row.email for row in people)
        assert lists.count(scope, kind, Filters()) == len(before) - 2
        assert lists.groups(scope, kind, Filters(), Grouping.campaign).total_people == \
            len(before) - 2


def test_the_lists_hold_what_their_definitions_say(app: Flask, world: ListsWorld) -> None:
    with app.app_context():
        scope = Scope.of(db.session.get(Account, world.accounts["admin"][0]))
        statuses = {kind: {row.status for row in lists.people(scope, kind, Filters())}
                    for kind in ListKind}
    assert statuses[ListKind.non_respondents] == {"sent", "delivered", "opened", "expired"}
    assert statuses[ListKind.bounced] == {"bounced", "failed"}


def test_the_downloaded_counts_equal_pandas(app: Flask, world: ListsWorld,
                                            as_account: Callable[[str], Browser]) -> None:
    client = as_account("region_52")
    response = client.get(f"{PATHS[ListKind.bounced]}?par=organisme&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response.get_data())
    assert rows[0] == ["siret", "organisme", "personnes"]
    with app.app_context():
        frame = expected_members(ListKind.bounced, region="52")
    sirets = {body_id: siret for body_id, siret in world.bodies.values()}
    expected = {sirets[body_id]: count for body_id, count
                in frame.groupby("body_id").size().to_dict().items()}
    assert {row[0]: int(row[2]) for row in rows[1:]} == expected

    response = client.get(f"{PATHS[ListKind.bounced]}?par=session&format=xlsx")
    assert response.headers["Content-Type"] == XLSX_TYPE
    table = _xlsx_rows(response.get_data())
    assert table[0][0] == "session"
    assert sum(row[-1] for row in table[1:]) == len(frame)
    page = client.get(PATHS[ListKind.bounced]).get_data(as_text=True)
    assert re.search(r'class="list-total">(\d+) ', page).group(1) == str(len(frame))


# --- Names and emails -----------------------------------------------------------------

def _all_personal(world: ListsWorld) -> list[str]:
    return [text for region in world.trainees.values() for email, last, first
            in region for text in (email, last, first)
            if text not in (FORMULA, SCRIPT)] + ["HYPERLINK", "alert("]


@pytest.mark.parametrize("key", ["region_52", "admin"])
def test_without_the_permission_no_name_or_email_leaves(app: Flask, world: ListsWorld,
                                                        as_account: Callable[[str], Browser],
                                                        key: str) -> None:
    client = as_account(key)
    personal = _all_personal(world)
    for _kind, path in PATHS.items():
        for by in ("campagne", "organisme", "session"):
            for suffix in ("", "&format=csv", "&format=xlsx"):
                response = client.get(f"{path}?par={by}{suffix}")
                assert response.status_code == 200, (path, by, suffix)
                data = response.get_data()
                text = _xlsx_text(data) if suffix.endswith("xlsx") else data.decode()
                leaked = [item for item in personal if item in text]
                assert leaked == [], (path, by, suffix, leaked[:3])
        page = client.get(path).get_data(as_text=True)
        assert "noms=1" not in page
        for suffix in ("", "&format=csv", "&format=xlsx"):
            response = client.get(f"{path}?noms=1{suffix}")
            assert response.status_code == 403
            assert not any(item in response.get_data(as_text=True) for item in personal)
    assert _list_events(app) == []


def test_with_the_permission_names_show_and_each_reading_is_journaled(
        app: Flask, world: ListsWorld, as_account: Callable[[str], Browser]) -> None:
    grant(app, world, "region_52")
    client = as_account("region_52")
    with app.app_context():
        frame = expected_members(ListKind.non_respondents, region="52")
    emails = sorted(frame["email"])
    assert 0 < len(emails) <= PAGE_SIZE
    path = PATHS[ListKind.non_respondents]

    page = client.get(path).get_data(as_text=True)
    assert "noms=1" in page
    assert not any(email in page for email in emails)
    assert _list_events(app) == []

    page = client.get(f"{path}?noms=1").get_data(as_text=True)
    assert all(email in page for email in emails)
    others = [email for email, _l, _f in world.trainees["11"]]
    assert not any(email in page for email in others)
    events = _list_events(app)
    assert [(e.action, e.object_id, e.changes["people"]) for e in events] == [
        ("list.viewed", "non_respondents", len(emails))]
    assert events[0].actor_id == world.accounts["region_52"][0]

    response = client.get(f"{path}?noms=1&format=csv")
    assert response.status_code == 200
    rows = _csv_rows(response.get_data())
    assert rows[0] == lists.PEOPLE_HEADER
    assert sorted(row[2] for row in rows[1:]) == emails
    response = client.get(f"{path}?noms=1&format=xlsx")
    table = _xlsx_rows(response.get_data())
    assert sorted(row[2] for row in table[1:]) == emails
    events = _list_events(app)
    assert [(e.action, e.changes["people"], e.changes.get("format")) for e in events[1:]] == [
        ("list.exported", len(emails), "csv"), ("list.exported", len(emails), "xlsx")]

    # A body's session: the event says how many were shown, and which filters.
    body_id, siret = world.bodies["angers"]
    client.get(f"{path}?noms=1&organisme={siret}")
    last = _list_events(app)[-1]
    assert last.changes["people"] == int((frame["body_id"] == body_id).sum())
    assert last.changes["filters"]["organisme"] == siret


def test_people_come_by_pages_and_each_page_counts_its_own(
        app: Flask, as_account: Callable[[str], Browser], world: ListsWorld) -> None:
    with app.app_context():
        big = build(seed=4, per_session=30, accounts=False)  # more than a page
        frame = expected_members(ListKind.non_respondents)
    grant(app, world, "admin")
    client = as_account("admin")
    path = PATHS[ListKind.non_respondents]
    total = len(frame)
    assert total > PAGE_SIZE
    assert big.bodies
    shown = []
    page_number = 1
    while True:
        html = client.get(f"{path}?noms=1&page={page_number}").get_data(as_text=True)
        found = re.findall(r"personne\d+@listes\.example", html)
        if not found:
            break
        shown += found
        assert len(found) <= PAGE_SIZE
        page_number += 1
    assert sorted(shown) == sorted(frame["email"])
    events = _list_events(app)
    assert [e.changes["people"] for e in events][:-1] == \
        [PAGE_SIZE] * (total // PAGE_SIZE) + ([total % PAGE_SIZE] if total % PAGE_SIZE else [])


def test_no_event_no_data(app: Flask, world: ListsWorld,
                          as_account: Callable[[str], Browser]) -> None:
    """The database refuses the journal's event: the request fails, and nothing of the
    list leaves."""
    grant(app, world, "region_52")
    client = as_account("region_52")
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text(
                "CREATE FUNCTION refuse_list_events() RETURNS trigger AS $$ BEGIN "
                "IF NEW.action LIKE 'list.%' THEN RAISE EXCEPTION 'journal full'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"))
            connection.execute(sa.text(
                "CREATE TRIGGER refuse_list_events BEFORE INSERT ON audit_events "
                "FOR EACH ROW EXECUTE FUNCTION refuse_list_events()"))
        else:
            connection.execute(sa.text(
                "CREATE TRIGGER refuse_list_events BEFORE INSERT ON audit_events "
                "WHEN NEW.action LIKE 'list.%' BEGIN SELECT RAISE(ABORT, 'journal full'); END"))
        db.session.commit()
    try:
        for suffix in ("", "&format=csv", "&format=xlsx"):
            with pytest.raises(sa.exc.DBAPIError, match="journal full"):
                client.get(f"{PATHS[ListKind.non_respondents]}?noms=1{suffix}")
    finally:
        with app.app_context():
            db.session.execute(sa.text("DROP TRIGGER refuse_list_events" + (
                " ON audit_events" if db.session.get_bind().dialect.name == "postgresql"
                else "")))
            if db.session.get_bind().dialect.name == "postgresql":
                db.session.execute(sa.text("DROP FUNCTION refuse_list_events()"))
            db.session.commit()
    assert _list_events(app) == []
    # Unhindered, the same request works and is journaled.
    assert client.get(f"{PATHS[ListKind.non_respondents]}?noms=1").status_code == 200
    assert len(_list_events(app)) == 1


def test_no_file_no_event(app: Flask, world: ListsWorld, as_account: Callable[[str], Browser],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The workbook cannot be written: the request fails and nothing is journaled."""
    grant(app, world, "region_52")
    client = as_account("region_52")

    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(xlsxwriter.Workbook, "add_worksheet", broken)
    with pytest.raises(OSError, match="disk full"):
        client.get(f"{PATHS[ListKind.bounced]}?noms=1&format=xlsx")
    assert _list_events(app) == []


# --- Spreadsheets and pages are safe ---------------------------------------------------

def test_files_are_formula_safe_and_pages_escaped(app: Flask, world: ListsWorld,
                                                  as_account: Callable[[str], Browser]) -> None:
    grant(app, world, "region_52")
    client = as_account("region_52")
    path = PATHS[ListKind.non_respondents]
    rows = _csv_rows(client.get(f"{path}?noms=1&format=csv").get_data())
    mine = [row for row in rows if row[0].endswith(FORMULA)]
    assert len(mine) == 1
    assert mine[0][0] == "'" + FORMULA
    assert mine[0][1] == SCRIPT  # not a formula: kept as written

    data = client.get(f"{path}?noms=1&format=xlsx").get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    assert "'" + FORMULA in [cell.value for cell in cells]
    assert "<f>" not in _xlsx_text(data)

    page = client.get(f"{path}?noms=1").get_data(as_text=True)
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#39;liste&#39;)&lt;/script&gt;" in page


# --- Scope ----------------------------------------------------------------------------

def test_region_staff_never_reach_another_region(app: Flask, world: ListsWorld,
                                                 as_account: Callable[[str], Browser]) -> None:
    grant(app, world, "region_52")
    client = as_account("region_52")
    _paris_id, paris_siret = world.bodies["paris"]
    foreign_session = world.sessions["paris"][0]
    for path in PATHS.values():
        for query in (f"organisme={paris_siret}", f"session={foreign_session}",
                      "campagne=Campagne+Seine+2026", "organisme=99999999999999",
                      "session=987654321", "campagne=Inconnue"):
            for extra in ("", "&noms=1", "&format=csv", "&noms=1&format=xlsx"):
                response = client.get(f"{path}?{query}{extra}")
                assert response.status_code == 404, (path, query, extra)
                assert "Organisme Listes Paris" not in response.get_data(as_text=True)
        # A campaign both régions have: région 52's people only.
        html = client.get(f"{path}?noms=1&campagne=Campagne+commune").get_data(as_text=True)
        assert not any(email in html for email, _l, _f in world.trainees["11"])
        html = client.get(f"{path}?par=organisme").get_data(as_text=True)
        assert "Organisme Listes Paris" not in html
        assert "Campagne Seine 2026" not in client.get(path).get_data(as_text=True)
    assert all(e.changes["people"] >= 0 for e in _list_events(app))


def test_funder_limited_staff_see_their_funders_only(app: Flask, world: ListsWorld,
                                                     as_account: Callable[[str], Browser]
                                                     ) -> None:
    grant(app, world, "region_52_ft")
    client = as_account("region_52_ft")
    path = PATHS[ListKind.non_respondents]
    html = client.get(f"{path}?par=organisme").get_data(as_text=True)
    # Angers (funder 4) and Laval (2 and 4); Nantes (funder 2 only) is not theirs.
    assert "Organisme Listes Angers" in html
    assert "Organisme Listes Laval" in html
    assert "Organisme Listes Nantes" not in html
    nantes_session = world.sessions["nantes"][0]
    assert client.get(f"{path}?session={nantes_session}").status_code == 404
    rows = _csv_rows(client.get(f"{path}?noms=1&format=csv").get_data())
    assert {row[6] for row in rows[1:]} <= {"Organisme Listes Angers", "Organisme Listes Laval"}


@pytest.mark.parametrize("key", ["moderator_52"])
def test_other_roles_are_refused(app: Flask, world: ListsWorld,
                                 as_account: Callable[[str], Browser], key: str) -> None:
    client = as_account(key)
    for path in PATHS.values():
        assert client.get(path).status_code == 403
        assert client.get(f"{path}?format=csv").status_code == 403


def test_bad_filters_get_a_clear_answer(app: Flask, world: ListsWorld,
                                        as_account: Callable[[str], Browser]) -> None:
    client = as_account("region_52")
    path = PATHS[ListKind.non_respondents]
    response = client.get(f"{path}?organisme=123&format=pdf&page=0")
    assert response.status_code == 400
    assert "SIRET" in response.get_data(as_text=True)
    assert client.get(f"{path}?par=inconnu").status_code == 400


def test_no_email_in_any_link(app: Flask, world: ListsWorld,
                              as_account: Callable[[str], Browser]) -> None:
    """Filters are ids: no URL (and so no access log line) carries an email."""
    grant(app, world, "region_52")
    client = as_account("region_52")
    for path in PATHS.values():
        for query in ("", "?noms=1", "?par=session", "?par=organisme&noms=1"):
            html = client.get(f"{path}{query}").get_data(as_text=True)
            hrefs = re.findall(r'href="([^"]*)"', html)
            assert hrefs
            assert not any("@" in href or "%40" in href for href in hrefs)


# --- A crawl of the lists, with the permission ------------------------------------------

@pytest.mark.parametrize("key", ["region_52", "region_52_ft", "region_53"])
def test_a_crawl_of_the_lists_finds_only_the_scopes_trainees(
        app: Flask, scoped_world: ScopedWorld, browser: Callable[[], Browser],
        key: str) -> None:
    """Every link and filter of the lists, names shown and files downloaded, as Region
    staff allowed to read names: their scope's trainees are there, no other's."""
    from tests.admin.test_crawler import crawl

    with app.app_context():
        db.session.execute(sa.update(Account).where(Account.id == scoped_world.accounts[key][0])
                           .values(can_see_personal_data=True))
        db.session.commit()
    client = browser()
    client.sign_in(scoped_world.accounts[key][1])
    pages = crawl(client, start=PATHS[ListKind.non_respondents], within="/admin/listes")
    assert any("format=xlsx" in path and "noms=1" in path for path in pages)
    everything = "\n".join(pages.values())
    for name, facts in scoped_world.bodies.items():
        for email in facts.trainees:
            if name in VISIBLE[key]:
                continue
            assert email not in everything, (key, name, email)
    own = [email for name in VISIBLE[key] for email in scoped_world.bodies[name].trainees]
    assert any(email in everything for email in own)
    assert len(_list_events(app)) == sum("noms=1" in path for path in pages)


def test_a_file_of_too_many_people_is_refused_with_a_reason(
        app: Flask, world: ListsWorld, as_account: Callable[[str], Browser],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from avis.monitoring import lists_views

    monkeypatch.setattr(lists_views, "MAX_EXPORT", 3)
    grant(app, world, "region_52")
    client = as_account("region_52")
    response = client.get(f"{PATHS[ListKind.non_respondents]}?noms=1&format=xlsx")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Trop de personnes pour un seul fichier" in html
    # The page shows the first names instead, and says so in the journal.
    assert [(e.action, e.changes["people"] > 3) for e in _list_events(app)] == [
        ("list.viewed", True)]
