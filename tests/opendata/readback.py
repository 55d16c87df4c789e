"""What the open-data files should hold, computed with pandas from the raw tables
(independently of the export's code), and the files read back with pandas, pyarrow
and openpyxl, each into comparable rows."""

from __future__ import annotations

import decimal
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from avis.catalog.geo import DEPARTEMENT_NAMES, REGION_NAMES
from avis.catalog.imports.rules import FUNDER_LABELS
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import db
from avis.surveys.models.answers import Answer, Reply

COLUMNS = [
    "mois", "note_accueil", "note_contenu_formation", "note_equipe_formateurs",
    "note_moyen_materiel", "note_accompagnement", "note_globale", "recommande",
    "commentaire_titre", "commentaire", "reponse_organisme", "formation_numero",
    "formation_intitule", "formacodes", "certifinfos", "action_numero", "siret_formateur",
    "raison_sociale_formateur", "code_postal", "ville", "departement_code", "departement_nom",
    "region_code", "region_nom", "financeurs", "financeurs_libelles", "dispositif",
]
TEXT_COLUMNS = {c for c in COLUMNS if not c.startswith("note_") and c != "recommande"}


def frame(model: Any) -> pd.DataFrame:
    result = db.session.execute(sa.select(model.__table__))
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def expected_rows(*, unmoderated: bool = False, min_session_size: int = 5) -> list[dict]:
    """The rows of the files, as Python values (Decimal overall, bool, int, str, None)."""
    enrolled = frame(Enrolment).groupby("session_id").size()
    public = set(enrolled[enrolled >= min_session_size].index)
    answers = frame(Answer)
    answers = answers[answers["session_id"].isin(public)].copy()
    statuses = {"published", "pending"} if unmoderated else {"published"}
    shown = (answers["comment_public"].astype(bool) & answers["comment_text"].notna()
             & answers["comment_status"].isin(statuses))
    replies = frame(Reply)
    replies = replies[replies["status"].isin(statuses)][["answer_id", "text"]]
    answers = answers.merge(replies.rename(columns={"text": "reply"}), how="left",
                            left_on="id", right_on="answer_id")
    shown = shown.to_numpy()

    courses = frame(Course).set_index("id")
    actions = frame(Action).set_index("id")
    bodies = frame(TrainingBody).set_index("id")
    sessions = frame(Session).set_index("id")

    def text(value: Any) -> Any:
        return None if value is None or (isinstance(value, float) and pd.isna(value)) else value

    def joined(values: Any) -> str | None:
        return "|".join(str(v) for v in values or []) or None

    rows = []
    for position, answer in enumerate(answers.itertuples(index=False)):
        course = courses.loc[answer.course_id]
        session = sessions.loc[answer.session_id]
        body = bodies.loc[answer.training_body_id]
        funders = list(session["funders"] or [])
        rows.append({
            "mois": answer.answered_on.strftime("%Y-%m"),
            "note_accueil": int(answer.welcome), "note_contenu_formation": int(answer.content),
            "note_equipe_formateurs": int(answer.trainers),
            "note_moyen_materiel": int(answer.equipment),
            "note_accompagnement": int(answer.support),
            "note_globale": decimal.Decimal(answer.overall),
            "recommande": bool(answer.would_recommend),
            "commentaire_titre": text(answer.comment_title) if shown[position] else None,
            "commentaire": text(answer.comment_text) if shown[position] else None,
            "reponse_organisme": text(answer.reply) if shown[position] else None,
            "formation_numero": course["numero"], "formation_intitule": course["title"],
            "formacodes": joined(course["formacodes"]),
            "certifinfos": joined(course["certifinfos"]),
            "action_numero": actions.loc[answer.action_id]["numero"],
            "siret_formateur": body["siret"], "raison_sociale_formateur": body["name"],
            "code_postal": session["postcode"], "ville": session["city"],
            "departement_code": session["departement"],
            "departement_nom": DEPARTEMENT_NAMES[session["departement"]],
            "region_code": session["region_code"],
            "region_nom": REGION_NAMES[session["region_code"]],
            "financeurs": joined(funders),
            "financeurs_libelles": joined(FUNDER_LABELS[f] for f in funders),
            "dispositif": text(session["funding_scheme"]),
        })
    return rows


def spreadsheet_text(value: str) -> str:
    """The export's rule, written again: a formula start gets an apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else value


def as_in_csv(row: dict) -> dict:
    out = {}
    for name, value in row.items():
        if value is None:
            out[name] = ""
        elif isinstance(value, bool):
            out[name] = "1" if value else "0"
        elif isinstance(value, decimal.Decimal):
            out[name] = str(value).replace(".", ",")
        elif isinstance(value, int):
            out[name] = str(value)
        else:
            out[name] = spreadsheet_text(value)
    return out


def as_in_xlsx(row: dict) -> dict:
    out = {}
    for name, value in row.items():
        if isinstance(value, decimal.Decimal):
            value = float(value)
        elif isinstance(value, str):
            value = spreadsheet_text(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", value))
        out[name] = value
    return out


def read_parquet(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def read_csv(path: Path) -> list[dict]:
    found = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(found.columns) == COLUMNS
    return found.to_dict("records")


def read_xlsx(path: Path) -> tuple[list[dict], list[str]]:
    """The rows of every data sheet, and the names of the sheets."""
    # From the bytes: openpyxl refuses a file whose name does not end in .xlsx.
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    rows = []
    for sheet in book.worksheets:
        if sheet.title == "dictionnaire":
            continue
        values = sheet.iter_rows(values_only=True)
        assert list(next(values)) == COLUMNS
        # Empty trailing cells are not written: a row may be shorter than the header.
        rows += [dict(zip(COLUMNS, (*row, *[None] * (len(COLUMNS) - len(row))), strict=True))
                 for row in values]
    names = book.sheetnames
    book.close()
    return rows, names


def key(row: dict) -> tuple:
    return tuple("" if row[c] is None else str(row[c]) for c in COLUMNS)


def same_rows(found: list[dict], expected: list[dict]) -> bool:
    return sorted(found, key=key) == sorted(expected, key=key)
