"""The funders of training sessions, as the France Travail export codes them.

A module of its own, without pandas, so that the web pages that name funders do not load
the import pipeline's libraries into every worker.
"""

from __future__ import annotations

#: Funder codes of the France Travail export (``liste_financeur``) and their labels.
FUNDER_LABELS: dict[int, str] = {
    0: "autre",
    2: "Conseil régional",
    3: "Fonds social européen",
    4: "France Travail",
    5: "entreprise",
    7: "AGEFIPH",
    9: "commune",
    10: "bénéficiaire",
    11: "État – ministère chargé de l'emploi",
    12: "État – ministère de l'éducation nationale",
    13: "État – autre",
    14: "autres fonds européens",
    15: "autre collectivité territoriale",
    16: "OPCA/OPCO",
    17: "OPACIF",
}
