"""Builders of trainee files, for import tests: valid rows by default, any cell overridable."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from stdnum import luhn

from avis.catalog.imports.formats import GENERIC_COLUMNS, PE_COLUMNS


def make_siret(number: int) -> str:
    """A valid SIRET (SIREN and SIRET check digits right) derived from ``number``."""
    siren = luhn.calc_check_digit(f"{number % 10**8:08d}")
    siren = f"{number % 10**8:08d}{siren}"
    nic = f"{(number // 10**8) % 10**4:04d}"
    for digit in "0123456789":
        candidate = f"{siren}{nic}{digit}"
        if luhn.is_valid(candidate):
            return candidate
    raise AssertionError("unreachable: one digit always completes a Luhn number")


BODY_SIRET = make_siret(12345678)
HEAD_OFFICE_SIRET = make_siret(87654321)


def pe_row(n: int = 1, **overrides: Any) -> dict[str, str]:
    """One valid France Travail row; trainee ``n`` in session ``SE{session}``."""
    row = {
        "c_nomcorrespondance": f"Martin{n}",
        "c_prenomcorrespondance": "Léa",
        "c_adresseemail": f"lea.martin{n}@example.org",
        "c_telephone1": "0601020304",
        "c_telephone2": "NULL",
        "c_validitemail_id": "V",
        "dn_individu_national": f"{1000 + n}",
        "dn_session_id": "2422722",
        "c_individulocal": f"0{n}",
        "dc_formation_id": "14_AF_0000011111",
        "dc_lblformation": "Aide à domicile",
        "dd_datedebutplanformation": "2026-01-05 00:00:00.0",
        "dd_datefinplanformation": "2026-06-30 00:00:00.0",
        "dc_organisme_id": "1234",
        "dc_cp_lieuformation": "44000",
        "dc_insee_lieuformation": "44109",
        "dc_ville_lieuformation": "Nantes",
        "dc_formacode_ppal_id": "42056",
        "dc_formacode_secondaire1_id": "44028",
        "dc_formacode_secondaire2_id": "NULL",
        "dc_formacode_secondaire3_id": "NULL",
        "dc_formacode_secondaire4_id": "NULL",
        "dn_certifinfo_1_id": "83899",
        "dn_certifinfo_2_id": "NULL",
        "dn_certifinfo_3_id": "NULL",
        "dn_certifinfo_4_id": "NULL",
        "dn_certifinfo_5_id": "NULL",
        "dc_siret": HEAD_OFFICE_SIRET,
        "dc_lblorganisme": "FORMATION OUEST",
        "dc_raisonsociale": "Formation Ouest SA",
        "departement": "44",
        "dc_numeroicsession": "14_SE_0000092111",
        "dc_numeroicaction": "14_AC_0000012345",
        "liste_financeur": "2;4",
        "c_dispositifformation": "CR",
        "dc_siretorganismeformateur": BODY_SIRET,
        "dc_lblorganismeorganismeformateur": "FORMATION OUEST NANTES",
        "dc_raisonsocialeorganismeformateur": "Formation Ouest Nantes",
    }
    unknown = set(overrides) - set(row) - {"dc_cofinanceuropca"}
    assert not unknown, f"not PE columns: {unknown}"
    row.update(overrides)
    return row


def generic_row(n: int = 1, **overrides: Any) -> dict[str, str]:
    """One valid row of our generic format."""
    row = {
        "email": f"paul.durand{n}@example.org",
        "nom": f"Durand{n}",
        "prenom": "Paul",
        "session_id": "SE100",
        "formation_numero": "F100",
        "formation_intitule": "Commis de cuisine",
        "action_numero": "AC100",
        "session_numero": "S100",
        "date_debut": "2026-02-02",
        "date_fin": "2026-05-29",
        "siret_formateur": BODY_SIRET,
        "raison_sociale_formateur": "Formation Ouest Nantes",
        "siret_responsable": "",
        "raison_sociale_responsable": "",
        "code_postal": "49000",
        "ville": "Angers",
        "formacodes": "42752|42754",
        "certifinfos": "",
        "financeurs": "2",
        "dispositif": "PRF",
    }
    unknown = set(overrides) - set(row)
    assert not unknown, f"not generic columns: {unknown}"
    row.update(overrides)
    return row


def write_pe(
    path: Path,
    rows: Iterable[dict[str, str]],
    *,
    columns: Iterable[str] = PE_COLUMNS,
    encoding: str = "utf-8",
) -> Path:
    columns = list(columns)
    lines = ["|".join(columns)]
    lines += ["|".join(row.get(c, "NULL") for c in columns) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def write_csv(
    path: Path,
    rows: Iterable[dict[str, str]],
    *,
    columns: Iterable[str] = GENERIC_COLUMNS,
    delimiter: str = ";",
    encoding: str = "utf-8",
) -> Path:
    columns = list(columns)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


def write_xlsx(path: Path, rows: Iterable[dict[str, Any]],
               *, columns: Iterable[str] = GENERIC_COLUMNS) -> Path:
    import openpyxl

    columns = list(columns)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(c) for c in columns])
    workbook.save(path)
    return path


@pytest.fixture
def trainee_file(tmp_path: Path) -> Callable[..., Path]:
    """``trainee_file("pe", rows)`` writes a file of that format in a temporary folder."""
    counter = iter(range(1, 10_000))

    def build(file_format: str, rows: Iterable[dict[str, Any]], **options: Any) -> Path:
        n = next(counter)
        if file_format == "pe":
            return write_pe(tmp_path / f"export-{n}.txt", rows, **options)
        if file_format == "csv":
            return write_csv(tmp_path / f"stagiaires-{n}.csv", rows, **options)
        if file_format == "xlsx":
            return write_xlsx(tmp_path / f"stagiaires-{n}.xlsx", rows, **options)
        raise ValueError(file_format)

    return build
