"""Turn a chunk of raw rows into canonical, validated rows, or reasons to reject them.

Each format is first mapped onto the same canonical columns, then the same
rules apply to every format. The rules work on whole columns (see ``rules``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from avis.catalog.imports import rules
from avis.catalog.imports.formats import PE, FileFormat
from avis.catalog.imports.reader import Chunk

#: The columns of a validated row, as the database writer reads them.
CANONICAL_COLUMNS = (
    "line",
    "email",
    "last_name",
    "first_name",
    "phone_1",
    "phone_2",
    "session_external_id",
    "session_numero",
    "course_numero",
    "course_title",
    "formacodes",
    "certifinfos",
    "action_numero",
    "start_date",
    "end_date",
    "siret",
    "body_name",
    "responsible_siret",
    "responsible_name",
    "postcode",
    "insee_code",
    "city",
    "departement",
    "region_code",
    "funders",
    "funding_scheme",
)


@dataclass
class Validated:
    #: the good rows, with ``CANONICAL_COLUMNS``
    rows: pd.DataFrame
    #: the refused rows: (line, raw cells, reason)
    rejected: list[tuple[int, list[str], str]]


def validate_chunk(chunk: Chunk, header: list[str], file_format: FileFormat) -> Validated:
    rejected = list(chunk.malformed)
    if not chunk.lines:
        return Validated(pd.DataFrame(columns=list(CANONICAL_COLUMNS)), rejected)
    raw = chunk.frame.reset_index(drop=True)
    if file_format == PE:
        fields, reasons = _from_pe(raw)
    else:
        fields, reasons = _from_generic(raw, file_format.date_formats)
    fields["line"] = pd.Series(chunk.lines, index=raw.index)
    verdict = rules.first_reason(*reasons)
    bad = verdict.notna()
    positions = bad[bad].index.tolist()
    for position, cells in zip(positions, chunk.cells(positions), strict=True):
        rejected.append((chunk.lines[position], cells, verdict[position]))
    rows = pd.DataFrame({name: fields[name] for name in CANONICAL_COLUMNS})[~bad]
    rows["start_date"] = rows["start_date"].dt.date
    rows["end_date"] = rows["end_date"].dt.date
    return Validated(rows.reset_index(drop=True), rejected)


def _column(raw: pd.DataFrame, name: str) -> pd.Series:
    """A column of the file, or an empty one when an optional column is absent."""
    if name in raw.columns:
        return raw[name]
    return pd.Series(pd.NA, index=raw.index, dtype="str")


def _joined(raw: pd.DataFrame, names: list[str]) -> pd.Series:
    """Several single-code columns (formacode 1..5) as one ``a|b|c`` list cell."""
    parts = [rules.clean_text(_column(raw, name)) for name in names]
    return parts[0].str.cat(parts[1:], sep="|", na_rep="")


def _from_pe(raw: pd.DataFrame) -> tuple[dict[str, pd.Series], list[pd.Series]]:
    col = raw.__getitem__
    responsible_name = rules.clean_text(col("dc_raisonsociale")).fillna(
        rules.clean_text(col("dc_lblorganisme"))
    )
    body_name = rules.clean_text(col("dc_raisonsocialeorganismeformateur")).fillna(
        rules.clean_text(col("dc_lblorganismeorganismeformateur"))
    )
    validity = rules.clean_text(col("c_validitemail_id"))
    flagged = validity.notna() & (validity.str.upper() != "V")
    flagged_reason = pd.Series(pd.NA, index=raw.index, dtype="str").mask(
        flagged, "adresse e-mail signalée invalide par France Travail (c_validitemail_id)"
    )
    return _common(
        raw,
        email=col("c_adresseemail"),
        last_name=col("c_nomcorrespondance"),
        first_name=col("c_prenomcorrespondance"),
        phone_1=col("c_telephone1"),
        phone_2=col("c_telephone2"),
        session_external_id=col("dn_session_id"),
        session_numero=col("dc_numeroicsession"),
        course_numero=col("dc_formation_id"),
        course_title=col("dc_lblformation"),
        formacodes=_joined(
            raw,
            ["dc_formacode_ppal_id"] + [f"dc_formacode_secondaire{i}_id" for i in range(1, 5)],
        ),
        certifinfos=_joined(raw, [f"dn_certifinfo_{i}_id" for i in range(1, 6)]),
        action_numero=col("dc_numeroicaction"),
        start_date=col("dd_datedebutplanformation"),
        end_date=col("dd_datefinplanformation"),
        siret=col("dc_siretorganismeformateur"),
        body_name=body_name,
        responsible_siret=col("dc_siret"),
        responsible_name=responsible_name,
        postcode=col("dc_cp_lieuformation"),
        insee_code=col("dc_insee_lieuformation"),
        city=col("dc_ville_lieuformation"),
        departement=col("departement"),
        funders=col("liste_financeur"),
        funding_scheme=col("c_dispositifformation"),
        date_formats=PE.date_formats,
        extra_reasons=[flagged_reason],
    )


def _from_generic(
    raw: pd.DataFrame, date_formats: tuple[str, ...]
) -> tuple[dict[str, pd.Series], list[pd.Series]]:
    def col(name: str) -> pd.Series:
        return _column(raw, name)

    return _common(
        raw,
        email=col("email"),
        last_name=col("nom"),
        first_name=col("prenom"),
        phone_1=None,
        phone_2=None,
        session_external_id=col("session_id"),
        session_numero=col("session_numero"),
        course_numero=col("formation_numero"),
        course_title=col("formation_intitule"),
        formacodes=col("formacodes"),
        certifinfos=col("certifinfos"),
        action_numero=col("action_numero"),
        start_date=col("date_debut"),
        end_date=col("date_fin"),
        siret=col("siret_formateur"),
        body_name=col("raison_sociale_formateur"),
        responsible_siret=col("siret_responsable"),
        responsible_name=col("raison_sociale_responsable"),
        postcode=col("code_postal"),
        insee_code=None,
        city=col("ville"),
        departement=None,
        funders=col("financeurs"),
        funding_scheme=col("dispositif"),
        date_formats=date_formats,
        extra_reasons=[],
    )


def _common(
    raw: pd.DataFrame,
    *,
    date_formats: tuple[str, ...],
    extra_reasons: list[pd.Series],
    **given: pd.Series | None,
) -> tuple[dict[str, pd.Series], list[pd.Series]]:
    empty = pd.Series(pd.NA, index=raw.index, dtype="str")
    src = {name: (empty if value is None else value) for name, value in given.items()}
    out: dict[str, pd.Series] = {}
    reasons: list[pd.Series] = []

    def keep(name: str, result: tuple[pd.Series, pd.Series]) -> None:
        out[name], reason = result
        reasons.append(reason)

    keep("email", rules.check_email(src["email"], required=True))
    keep(
        "session_external_id",
        rules.check_required_text(src["session_external_id"], label="identifiant de session",
                                  max_length=64),
    )
    keep(
        "course_numero",
        rules.check_required_text(src["course_numero"], label="numéro de formation",
                                  max_length=64),
    )
    keep(
        "course_title",
        rules.check_required_text(src["course_title"], label="intitulé de la formation",
                                  max_length=500),
    )
    for name, label, limit in (
        ("last_name", "nom", 100),
        ("first_name", "prénom", 100),
        ("phone_1", "téléphone", 32),
        ("phone_2", "téléphone", 32),
        ("session_numero", "numéro de session", 64),
        ("action_numero", "numéro d'action", 64),
        ("funding_scheme", "dispositif", 32),
    ):
        keep(name, _optional_text(src[name], label, limit))
    keep("insee_code", rules.check_insee(src["insee_code"]))
    keep("formacodes", rules.check_code_list(src["formacodes"], label="formacodes",
                                             pattern=rules.FORMACODE_PATTERN, max_items=5))
    keep("certifinfos", rules.check_code_list(src["certifinfos"], label="certifinfos",
                                              pattern=rules.CERTIFINFO_PATTERN, max_items=5))
    keep("start_date", rules.check_date(src["start_date"], label="de début", formats=date_formats))
    keep("end_date", rules.check_date(src["end_date"], label="de fin", formats=date_formats))
    reasons.append(rules.check_period(out["start_date"], out["end_date"]))

    delivering, delivering_reason = rules.check_siret(src["siret"], label="du formateur",
                                                      required=False)
    responsible, responsible_reason = rules.check_siret(
        src["responsible_siret"], label="du responsable", required=False
    )
    reasons += [delivering_reason, responsible_reason]
    siret, body_name = rules.fallback_siret(
        delivering,
        rules.clean_text(src["body_name"]),
        responsible,
        rules.clean_text(src["responsible_name"]),
    )
    no_body = siret.isna() & delivering_reason.isna() & responsible_reason.isna()
    reasons.append(empty.mask(no_body, "SIRET du formateur manquant"))
    out["siret"] = siret
    keep("body_name", rules.check_required_text(body_name, label="raison sociale du formateur",
                                                max_length=250))
    # A file that names no responsible body means the delivering body is responsible.
    out["responsible_siret"] = responsible.fillna(siret)
    out["responsible_name"] = rules.clean_text(src["responsible_name"]).where(
        responsible.notna(), out["body_name"]
    ).fillna(out["body_name"])
    too_long = out["responsible_name"].str.len() > 250
    reasons.append(empty.mask(too_long.fillna(False), "raison sociale du responsable trop longue"))

    keep("postcode", rules.check_postcode(src["postcode"], required=True))
    keep("city", rules.check_required_text(src["city"], label="ville", max_length=200))
    departement = rules.departement_from_postcode(out["postcode"])
    given_departement, departement_reason = rules.check_departement(
        src["departement"], required=False
    )
    departement = departement.fillna(given_departement)
    reasons.append(departement_reason.where(departement.isna()))
    region = rules.region_of(departement)
    unplaced = out["postcode"].notna() & region.isna()
    reasons.append(
        empty.mask(unplaced, "code postal hors des régions françaises : «" + out["postcode"] + "»")
    )
    out["departement"] = departement
    out["region_code"] = region
    keep("funders", rules.check_funders(src["funders"]))
    # Sources without catalogue numbers still need stable ones: a session is its own
    # numero, and an action is "this body teaching this course at this place".
    out["session_numero"] = out["session_numero"].fillna(out["session_external_id"])
    out["action_numero"] = out["action_numero"].fillna(out["siret"] + "-" + out["postcode"])
    reasons.extend(extra_reasons)
    return out, reasons


def _optional_text(values: pd.Series, label: str, limit: int) -> tuple[pd.Series, pd.Series]:
    cleaned = rules.clean_text(values)
    too_long = (cleaned.str.len() > limit).fillna(False)
    reason = pd.Series(pd.NA, index=values.index, dtype="str").mask(
        too_long, f"{label} trop long (plus de {limit} caractères)"
    )
    return cleaned, reason
