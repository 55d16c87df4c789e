"""The demo data set and the benchmark's France Travail file generator."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from stdnum.fr import siren, siret

from avis.catalog.demo_data import COLUMNS, DEMO_REGION, demo_rows

TODAY = dt.date(2026, 11, 26)
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
ANCHORS_PE_HEADER = (
    "c_nomcorrespondance|c_prenomcorrespondance|c_adresseemail|c_telephone1|c_telephone2|"
    "c_validitemail_id|dn_individu_national|dn_session_id|c_individulocal|dc_formation_id|"
    "dc_lblformation|dd_datedebutplanformation|dd_datefinplanformation|dc_organisme_id|"
    "dc_cp_lieuformation|dc_insee_lieuformation|dc_ville_lieuformation|dc_formacode_ppal_id|"
    "dc_formacode_secondaire1_id|dc_formacode_secondaire2_id|dc_formacode_secondaire3_id|"
    "dc_formacode_secondaire4_id|dn_certifinfo_1_id|dn_certifinfo_2_id|dn_certifinfo_3_id|"
    "dn_certifinfo_4_id|dn_certifinfo_5_id|dc_siret|dc_lblorganisme|dc_raisonsociale|"
    "departement|dc_numeroicsession|dc_numeroicaction|liste_financeur|c_dispositifformation|"
    "dc_siretorganismeformateur|dc_lblorganismeorganismeformateur|"
    "dc_raisonsocialeorganismeformateur"
)
EMAIL = re.compile(r"^[a-z0-9][a-z0-9.+-]*@[a-z0-9-]+(\.[a-z0-9-]+)+$")
# funder codes of ANCHORS.md ("Data")
KNOWN_FUNDERS = {"0", "2", "3", "4", "5", "7", "9", *(str(code) for code in range(10, 18))}


@pytest.fixture(scope="module")
def demo():
    return demo_rows(today=TODAY)


@pytest.fixture(scope="module")
def pe_file():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("pe_file")
    finally:
        sys.path.remove(str(BENCHMARKS))


# --- demo_rows -------------------------------------------------------------------------


def test_demo_is_deterministic(demo):
    assert demo_rows(today=TODAY).equals(demo)
    assert not demo_rows(today=TODAY, seed=1).equals(demo)
    assert not demo_rows(today=TODAY + dt.timedelta(days=1)).equals(demo)


def test_demo_columns_and_types(demo):
    assert DEMO_REGION == "52"
    assert tuple(demo.columns) == COLUMNS
    assert COLUMNS[:3] == ("email", "nom", "prenom")
    assert COLUMNS[-1] == "dispositif"
    assert all(str(dtype) == "str" for dtype in demo.dtypes)
    assert not demo.isna().any().any()


def test_demo_sizes(demo):
    assert demo["email"].nunique() == 3000
    assert 3000 < len(demo) <= 3150
    assert 35 <= demo["siret_formateur"].nunique() <= 45
    assert 180 <= demo["session_id"].nunique() <= 220
    per_session = demo.groupby("session_id").size()
    assert (per_session < 5).any()
    assert per_session.between(2, 25).all()
    # an action is run as several sessions
    assert (demo.groupby("action_numero")["session_id"].nunique() > 1).any()


def test_demo_trainees_and_emails(demo):
    sessions_per_email = demo.groupby("email")["session_id"].nunique()
    twice = (sessions_per_email == 2).sum()
    assert 0.01 * 3000 < twice < 0.06 * 3000
    assert (sessions_per_email <= 2).all()
    assert not demo.duplicated(["email", "session_id"]).any()
    assert demo["email"].map(lambda e: EMAIL.match(e) is not None).all()
    domains = set(demo["email"].str.split("@").str[1])
    assert domains <= {"example.org", "example.com", "example.net"}
    assert (demo["nom"] != "").all()
    assert (demo["prenom"] != "").all()


def test_demo_bodies(demo):
    for value in set(demo["siret_formateur"]):
        assert siret.is_valid(value), value
        assert siren.is_valid(value[:9]), value
    responsible = set(demo["siret_responsable"]) - {""}
    assert all(siret.is_valid(value) for value in responsible)
    delegated = demo[
        (demo["siret_responsable"] != "") & (demo["siret_responsable"] != demo["siret_formateur"])
    ]
    assert delegated["siret_formateur"].nunique() >= 3
    assert (demo["siret_responsable"] == "").any()
    assert (demo["siret_responsable"] == demo["siret_formateur"]).any()
    # one name per SIRET
    assert (demo.groupby("siret_formateur")["raison_sociale_formateur"].nunique() == 1).all()


def test_demo_places_codes_and_funding(demo):
    assert demo["code_postal"].str.fullmatch(r"(44|49|53|72|85)\d{3}").all()
    assert (demo["ville"] != "").all()
    formacodes = demo["formacodes"].str.split("|")
    assert formacodes.map(lambda codes: 1 <= len(codes) <= 3).all()
    assert formacodes.map(lambda codes: all(re.fullmatch(r"\d{5}", c) for c in codes)).all()
    certifinfos = demo["certifinfos"].map(lambda v: v.split("|") if v else [])
    assert certifinfos.map(lambda codes: len(codes) <= 2).all()
    assert certifinfos.map(lambda codes: all(c.isdigit() for c in codes)).all()
    funders = demo["financeurs"].str.split("|")
    assert funders.map(lambda codes: set(codes) <= KNOWN_FUNDERS).all()
    assert {"2", "2|3", "4"} <= set(demo["financeurs"])
    assert {"CR", "AIF", "PRF"} <= set(demo["dispositif"])
    assert demo["session_id"].str.fullmatch(r"SE\d+").all()
    assert demo["formation_numero"].str.fullmatch(r"14_AF_\d{10}").all()
    assert demo["action_numero"].str.fullmatch(r"14_SE_\d{10}").all()


def test_demo_dates(demo):
    start = demo["date_debut"].map(dt.date.fromisoformat)
    end = demo["date_fin"].map(dt.date.fromisoformat)
    assert (end >= start).all()
    months = (end - start).map(lambda delta: delta.days / 30.4)
    assert months.between(0.9, 9.1).all()
    sessions = demo.drop_duplicates("session_id")
    end = sessions["date_fin"].map(dt.date.fromisoformat)
    assert (end >= TODAY - dt.timedelta(days=550)).all()
    not_over = (end >= TODAY).mean()
    assert 0.04 <= not_over <= 0.2
    assert ((end < TODAY) & (end >= TODAY - dt.timedelta(days=7))).sum() >= 3


def test_demo_other_sizes():
    small = demo_rows(trainees=40, seed=3, today=TODAY)
    assert small["email"].nunique() == 40
    assert not small.duplicated(["email", "session_id"]).any()
    assert len(demo_rows(trainees=1, today=TODAY)) == 1
    with pytest.raises(ValueError, match="trainees"):
        demo_rows(trainees=0, today=TODAY)


# --- write_pe_file ---------------------------------------------------------------------


def _effective_siret(fields, index):
    delivering = fields[index["dc_siretorganismeformateur"]]
    if delivering in ("NULL", "", "0" * 14):
        return fields[index["dc_siret"]]
    return delivering


def _start_and_end(fields, index):
    return (
        dt.datetime.strptime(fields[index["dd_datedebutplanformation"]], "%Y-%m-%d %H:%M:%S.%f"),
        dt.datetime.strptime(fields[index["dd_datefinplanformation"]], "%Y-%m-%d %H:%M:%S.%f"),
    )


def test_pe_file_layout_and_bad_rows(pe_file, tmp_path):
    path = tmp_path / "pe.txt"
    counts = pe_file.write_pe_file(path, 1000, 7)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    header, *rows = lines[:-1]
    assert header == ANCHORS_PE_HEADER
    assert len(rows) == 1000 == counts["rows"]
    split = [row.split("|") for row in rows]
    assert all(len(fields) == 38 for fields in split)
    assert not any('"' in row for row in rows)  # COPY ... FORMAT csv reads it as is

    index = {name: i for i, name in enumerate(header.split("|"))}
    found = dict.fromkeys(pe_file.BAD_KINDS, 0)
    for fields in split:
        defects = []
        if not EMAIL.match(fields[index["c_adresseemail"]]):
            defects.append("email")
        if not siret.is_valid(_effective_siret(fields, index)):
            defects.append("siret")
        start, end = _start_and_end(fields, index)
        if end < start:
            defects.append("dates")
        if not set(fields[index["liste_financeur"]].split(";")) <= KNOWN_FUNDERS:
            defects.append("funder")
        if not re.fullmatch(r"\d{5}", fields[index["dc_cp_lieuformation"]]):
            defects.append("postcode")
        assert len(defects) <= 1, fields
        for kind in defects:
            found[kind] += 1
    assert found == counts["bad_rows"]
    assert counts["bad_total"] == sum(found.values()) == 50
    assert all(n == 10 for n in found.values())


def test_pe_file_content(pe_file, tmp_path):
    path = tmp_path / "pe.txt"
    counts = pe_file.write_pe_file(path, 1000, 7)
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    index = {name: i for i, name in enumerate(header.split("|"))}
    split = [row.split("|") for row in rows]

    assert {fields[index["c_validitemail_id"]] for fields in split} == {"V"}
    sessions = Counter(fields[index["dn_session_id"]] for fields in split)
    assert len(sessions) == counts["sessions"]
    assert all(5 <= size <= 20 for size in sessions.values())
    pairs = [(f[index["c_adresseemail"]], f[index["dn_session_id"]]) for f in split]
    assert len(set(pairs)) == len(pairs)

    effective = {_effective_siret(fields, index) for fields in split}
    delivering = {value for value in effective if siret.is_valid(value)}
    assert len(delivering) == counts["bodies"] == 20  # max(10, 1000 // 50)
    empty = sum(f[index["dc_siretorganismeformateur"]] in ("NULL", "0" * 14) for f in split)
    assert empty == counts["null_delivering_rows"]
    assert 0.2 <= empty / 1000 <= 0.4
    for fields in split:
        start = fields[index["dd_datedebutplanformation"]]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00\.0", start)
        assert re.fullmatch(r"[0-9AB]{2}|97\d", fields[index["departement"]])
        assert fields[index["c_adresseemail"]].split("@")[-1] in {
            "example.org",
            "example.com",
            "example.net",
        } or not EMAIL.match(fields[index["c_adresseemail"]])


def test_pe_file_is_deterministic(pe_file, tmp_path):
    def digest(name, seed):
        path = tmp_path / name
        pe_file.write_pe_file(path, 1000, seed)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert digest("a.txt", 1) == digest("b.txt", 1)
    assert digest("c.txt", 2) != digest("a.txt", 1)


def test_pe_file_scales_bodies(pe_file, tmp_path):
    counts = pe_file.write_pe_file(tmp_path / "small.txt", 12, 0)
    assert counts["rows"] == 12
    assert counts["bodies"] <= 10
    counts = pe_file.write_pe_file(tmp_path / "big.txt", 20_000, 0)
    assert counts["bodies"] == 400
    assert counts["bad_total"] == 1000
