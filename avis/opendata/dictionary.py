"""The data dictionary of the open-data files: every column, its type, what it means.

One list serves the export (column order and types), the download page (a table, in
the reader's language) and the dictionary file written next to the data
(``avis-avis-dictionnaire.csv``). Pure Python: the web page must not load Arrow.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

#: Licence of the data, as the page and the Parquet metadata state it.
LICENCE = "Licence Ouverte / Open Licence 2.0 (Etalab)"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
#: Separator of the values of a list column (formacodes, funders…), in every format.
LIST_SEPARATOR = "|"


#: Type key → (French, English) label. The export maps the keys to Arrow types.
TYPES = {
    "text": ("texte", "text"),
    "month": ("texte AAAA-MM", "text YYYY-MM"),
    "mark": ("entier de 1 à 5", "integer from 1 to 5"),
    "decimal": ("décimal, une décimale", "decimal, one decimal place"),
    "boolean": ("booléen (CSV : 1 oui, 0 non)", "boolean (CSV: 1 yes, 0 no)"),
    "list": ("liste de textes séparés par |", "list of texts separated by |"),
}


@dataclass(frozen=True)
class Column:
    #: name in the files (French, snake case, as in the trainee import format)
    name: str
    #: a key of ``TYPES``
    type: str
    description_fr: str
    description_en: str

    @property
    def type_fr(self) -> str:
        return TYPES[self.type][0]

    @property
    def type_en(self) -> str:
        return TYPES[self.type][1]


def _mark(name: str, fr: str, en: str) -> Column:
    return Column(name, "mark", f"Note {fr}, de 1 (très insatisfait) à 5 (très satisfait).",
                  f"Mark given to {en}, from 1 (very dissatisfied) to 5 (very satisfied).")


_SHOWN_FR = ("vide sauf si le stagiaire a accepté sa publication et que la modération l’a "
             "publié (la règle des pages publiques)")
_SHOWN_EN = ("empty unless the trainee agreed to its publication and moderation published it "
             "(the rule of the public pages)")

#: The columns, in file order.
COLUMNS: tuple[Column, ...] = (
    Column("mois", "month",
           "Mois de la réponse au questionnaire. Jamais le jour : une date précise, "
           "rapprochée des dates d’une session, pourrait désigner une personne.",
           "Month of the answer to the questionnaire. Never the day: an exact date, next "
           "to a session's dates, could point to a person."),
    _mark("note_accueil", "de l’accueil et de l’information avant et au début de la formation",
          "the welcome and information before and at the start of the course"),
    _mark("note_contenu_formation", "du contenu de la formation", "the content of the course"),
    _mark("note_equipe_formateurs", "de l’équipe de formateurs", "the trainers"),
    _mark("note_moyen_materiel", "des moyens matériels (équipements, locaux)",
          "the equipment and premises"),
    _mark("note_accompagnement", "de l’accompagnement pendant la formation",
          "the support during the course"),
    Column("note_globale", "decimal",
           "Moyenne exacte des cinq notes (une décimale, jamais arrondie).",
           "Exact mean of the five marks (one decimal place, never rounded)."),
    Column("recommande", "boolean",
           "Le stagiaire recommanderait la formation.",
           "The trainee would recommend the course."),
    Column("commentaire_titre", "text",
           f"Titre du commentaire ; {_SHOWN_FR}.", f"Title of the comment; {_SHOWN_EN}."),
    Column("commentaire", "text",
           f"Commentaire du stagiaire, tel qu’il l’a écrit ; {_SHOWN_FR}.",
           f"The trainee's comment, as written; {_SHOWN_EN}."),
    Column("reponse_organisme", "text",
           "Réponse publiée de l’organisme de formation au commentaire ; vide sans "
           "commentaire publié ou sans réponse publiée.",
           "The training body's published reply to the comment; empty without a published "
           "comment or a published reply."),
    Column("formation_numero", "text", "Numéro de la formation au catalogue.",
           "Catalogue number of the course."),
    Column("formation_intitule", "text", "Intitulé de la formation.", "Title of the course."),
    Column("formacodes", "list", "Formacodes de la formation, le principal en premier.",
           "Formacodes of the course, the main one first."),
    Column("certifinfos", "list",
           "Numéros Certif Info des certifications auxquelles mène la formation.",
           "Certif Info numbers of the certifications the course leads to."),
    Column("action_numero", "text",
           "Numéro de l’action de formation (la formation dispensée par un organisme).",
           "Number of the training action (the course as delivered by one body)."),
    Column("siret_formateur", "text",
           "SIRET (14 chiffres) de l’établissement de l’organisme qui dispense la formation.",
           "SIRET (14 digits) of the establishment of the body that teaches the course."),
    Column("raison_sociale_formateur", "text", "Raison sociale de cet organisme.",
           "Registered name of that body."),
    Column("code_postal", "text", "Code postal du lieu de formation.",
           "Postcode of the place of training."),
    Column("ville", "text", "Commune du lieu de formation.", "Town of the place of training."),
    Column("departement_code", "text", "Code du département du lieu de formation (44, 2A, 974).",
           "Code of the département of the place of training (44, 2A, 974)."),
    Column("departement_nom", "text", "Nom de ce département.", "Name of that département."),
    Column("region_code", "text", "Code INSEE de la région du lieu de formation (52).",
           "INSEE code of the region of the place of training (52)."),
    Column("region_nom", "text", "Nom de cette région.", "Name of that region."),
    Column("financeurs", "list",
           "Codes des financeurs de la session (2 Conseil régional, 4 France Travail…).",
           "Codes of the session's funders (2 regional council, 4 France Travail…)."),
    Column("financeurs_libelles", "list", "Libellés de ces financeurs, dans le même ordre.",
           "Labels of those funders, in the same order (in French)."),
    Column("dispositif", "text", "Dispositif de financement (AIF, CR, PRF…), tel que la "
           "source l’écrit.", "Funding scheme (AIF, CR, PRF…), as the source spells it."),
)

#: What every file contains, and what it leaves out (the page shows it; the
#: dictionary ends with it, then the licence).
NOTES_FR = (
    "Une ligne par réponse au questionnaire de fin de formation : les notes de toutes "
    "les réponses, le texte des seuls commentaires publiés.",
    "Aucune donnée personnelle : ni nom, ni adresse électronique, ni téléphone, ni date "
    "précise ; les réponses des sessions de moins de {min_session_size} stagiaires inscrits "
    "sont exclues, car elles ne doivent jamais être publiées seules.",
    "Les lignes sont triées par mois, organisme, formation et action, puis par contenu : "
    "leur ordre ne dit rien du moment des réponses.",
    "CSV : UTF-8 avec BOM, séparateur « ; », virgule décimale ; dans les fichiers CSV et "
    "XLSX, une cellule qui commence par = + - @ est précédée d’une apostrophe pour "
    "qu’aucun tableur ne l’exécute. XLSX : au-delà de 1 048 575 lignes, la suite continue "
    "dans une feuille « avis 2 », et ainsi de suite.",
)
NOTES_EN = (
    "One row per answer to the end-of-training questionnaire: the marks of every answer, "
    "the text of published comments only.",
    "No personal data: no name, email address, phone number or exact date; the answers of "
    "sessions with fewer than {min_session_size} enrolled trainees are left out, as they "
    "must never be published on their own.",
    "Rows are sorted by month, training body, course and action, then by content: their "
    "order says nothing of when the answers came.",
    "CSV: UTF-8 with BOM, \";\" separator, decimal comma; in the CSV and XLSX files a cell "
    "starting with = + - @ is prefixed with an apostrophe so that no spreadsheet runs it. "
    "XLSX: beyond 1,048,575 rows, the rest continues in a sheet \"avis 2\", and so on.",
)


def notes(language: str, min_session_size: int) -> list[str]:
    chosen = NOTES_EN if language == "en" else NOTES_FR
    return [note.format(min_session_size=min_session_size) for note in chosen]


def dictionary_rows(min_session_size: int) -> list[list[str]]:
    """The dictionary as a table: a header, a row per column, then the notes."""
    rows = [["colonne", "type", "description", "type_en", "description_en"]]
    rows += [[c.name, c.type_fr, c.description_fr, c.type_en, c.description_en]
             for c in COLUMNS]
    rows += [["note", "", fr, "", en] for fr, en in zip(
        notes("fr", min_session_size), notes("en", min_session_size), strict=True)]
    rows.append(["licence", "", f"{LICENCE} : {LICENCE_URL}", "", f"{LICENCE}: {LICENCE_URL}"])
    return rows


def dictionary_csv(min_session_size: int) -> bytes:
    """The dictionary file: the columns (name, types and descriptions in French and
    English), then the notes; UTF-8 with BOM and ``;`` like the data."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in dictionary_rows(min_session_size):
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


__all__ = ["COLUMNS", "LICENCE", "LICENCE_URL", "LIST_SEPARATOR", "TYPES", "Column",
           "dictionary_csv", "dictionary_rows", "notes"]
