"""The JSON documents of API v1: ANOTEA's shapes, and our additions as extra keys an
ANOTEA client ignores. Marks are whole numbers unless ``notes_decimales`` (ANOTEA's
rule: 2.4 → 2), rounded half up; the plain means are ANOTEA's ``notes``, our fair score
is ``note_ajustee``. Dates of answers are months (the first day of the month)."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

from flask import current_app

from avis.public.reviews import public_month
from avis.scores.aggregate import PRIOR_WEIGHT
from avis.scores.models import Score
from avis.surveys.models.answers import DIMENSIONS

#: ANOTEA's names of the five dimensions.
NOTE_NAMES = dict(zip(DIMENSIONS, ("accueil", "contenu_formation", "equipe_formateurs",
                                   "moyen_materiel", "accompagnement"), strict=True))


@dataclass(frozen=True)
class Rounding:
    decimals: bool

    def __call__(self, value: float | decimal.Decimal | None) -> float | int | None:
        if value is None:
            return None
        exact = decimal.Decimal(str(value))
        if self.decimals:
            return float(exact.quantize(decimal.Decimal("0.1"), decimal.ROUND_HALF_UP))
        return int(exact.quantize(decimal.Decimal("1"), decimal.ROUND_HALF_UP))


def month(day: dt.date) -> str:
    return public_month(day).isoformat()


@dataclass(frozen=True)
class ReviewRow:
    """What a review document is made of (one query row)."""

    id: int
    answered_on: dt.date
    marks: dict[str, int]
    overall: decimal.Decimal
    comment_title: str | None
    comment_text: str | None
    reply: str | None
    course_numero: str
    course_title: str
    formacodes: list[str]
    certifinfos: list[str]
    action_numero: str
    postcode: str
    city: str
    funders: list[int]
    body_name: str
    body_siret: str
    session_numero: str
    start_date: dt.date
    end_date: dt.date


def review(row: ReviewRow, rounding: Rounding) -> dict[str, Any]:
    document: dict[str, Any] = {"id": str(row.id), "date": month(row.answered_on)}
    if row.comment_text is not None:
        document["commentaire"] = {
            **({"titre": row.comment_title} if row.comment_title else {}),
            "texte": row.comment_text}
        if row.reply is not None:
            document["reponse"] = {"texte": row.reply}
    document["notes"] = {
        **{NOTE_NAMES[d]: rounding(row.marks[d]) for d in DIMENSIONS},
        "global": rounding(row.overall)}
    document["formation"] = {
        "numero": row.course_numero,
        "intitule": row.course_title,
        "domaine_formation": {"formacodes": list(row.formacodes)},
        "certifications": [{"certif_info": c} for c in row.certifinfos],
        "action": {
            "numero": row.action_numero,
            "lieu_de_formation": {"code_postal": row.postcode, "ville": row.city},
            "organisme_financeurs": [{"code_financeur": str(f)} for f in row.funders],
            "organisme_formateur": {"raison_sociale": row.body_name,
                                    "siret": row.body_siret, "numero": None},
            "session": {"numero": row.session_numero,
                        "periode": {"debut": row.start_date.isoformat(),
                                    "fin": row.end_date.isoformat()}},
        },
    }
    return document


def score(found: Score | None, rounding: Rounding,
          extremes: tuple[float, float] | None) -> dict[str, Any]:
    """ANOTEA's score (``nb_avis``, ``notes``, ``aggregation``) when it may be shown —
    enough answers from a large enough group — else the count alone; and ours."""
    if found is None:
        return {"nb_avis": 0}
    document: dict[str, Any] = {"nb_avis": found.answers_count}
    if found.shown:
        document["notes"] = {
            **{NOTE_NAMES[d]: rounding(getattr(found, f"mean_{d}")) for d in DIMENSIONS},
            "global": rounding(found.mean_overall)}
        if extremes is not None:
            document["aggregation"] = {"global": {"max": rounding(extremes[1]),
                                                  "min": rounding(extremes[0])}}
        document["note_ajustee"] = {
            "valeur": round(found.fair_score, 2) if found.fair_score is not None else None,
            "intervalle_90": ({"min": round(found.fair_score_low, 2),
                               "max": round(found.fair_score_high, 2)}
                              if found.fair_score_low is not None else None),
            "moyenne_regionale": (round(found.prior_mean, 2)
                                  if found.prior_mean is not None else None),
            "poids_a_priori": PRIOR_WEIGHT,
        }
        document["repartition"] = {NOTE_NAMES[d]: found.distribution(d) for d in DIMENSIONS}
        document["taux_satisfaction"] = _rate(found.satisfied_share)
        document["taux_recommandation"] = _rate(found.recommendation_rate)
    document["taux_de_reponse"] = _rate(found.response_rate)
    # As on the pages: a rate from fewer follow-ups than a score needs says nothing.
    enough = (found.is_public
              and found.follow_ups_count >= current_app.config["MIN_REVIEWS_FOR_SCORE"])
    document["insertion"] = {"nb_reponses": found.follow_ups_count,
                             "taux_en_emploi": _rate(found.insertion_rate) if enough else None}
    return document


def _rate(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
