"""Pre-screening: its precision and recall on comments we wrote and labelled, each flag's
cases, the highlight and redaction contracts, robustness and linear time.

The labelled set (data/labelled_comments.csv, ``id;title;text;flags``) is ours: French
comments about vocational courses, labelled by judgement before the code was tuned and
never relabelled to make it pass. What a label means:

- phone: any phone number, a person's or a centre's (a freephone number too);
- email: any address, disguised ones included ("nom arobase site point fr");
- person_name: someone named — a surname, a first name, an initial after a civility; not
  a role without a name ("M. le directeur"), nor a name inside an address, an email
  address or a link, nor a shop ("Mr Bricolage");
- street_address: a postal address or a named street or square, number or not (the
  centre's included: the screen cannot know whose it is); not "sur place", "en cours";
- insult: insults, slurs and coarse words, reported ones too ("il nous a dit « ta
  gueule »"); not opinions ("arnaque", "nul", "incompétent", "débile" about a course)
  nor accusations ("escrocs", "menteur");
- link: an address on the web; not an email address;
- shouting: three words or more in capitals, or a title or text of 12 letters or more
  mostly in capitals; acronyms do not count, nor a single word for emphasis.

Rows 1–282 were written first and the code tuned on them. Rows 283–394 were written
afterwards and measured before any change (phone, email 1.00/1.00; person_name P 1.00
R 0.84; street_address P 1.00 R 0.80; insult P 1.00 R 0.50; link P 0.88 R 1.00;
shouting 1.00/1.00; personal data P 1.00 R 0.88): that is the fairer estimate of what
the screen does on comments it has never seen. Then general bugs they revealed were fixed
(overlapping civilities, capitalised particles of street names, a few variants of the
list) and the whole set is now in-sample.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from avis.moderation.prescreen import (
    PERSONAL_DATA,
    PLACEHOLDERS,
    Field,
    Flag,
    Match,
    Screening,
    highlight,
    screen,
    suggest_redaction,
)

LABELLED = Path(__file__).parent / "data" / "labelled_comments.csv"

#: The issue's rule: below this precision the personal-data flags would waste the
#: moderators' time more than they save.
ISSUE_PERSONAL_DATA_PRECISION = 0.8
#: Floors under what was measured on the whole set (every flag's precision ≥ 0.96 and
#: recall ≥ 0.92, see the module docstring and the printed table), with a margin for
#: changes that trade a little of one for the other; a broken pattern falls far below.
PRECISION_FLOOR = 0.9
RECALL_FLOOR = 0.85

GROUP = "personal data"


def labelled_rows() -> list[dict[str, str]]:
    with LABELLED.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter=";"))


def expected_flags(row: dict[str, str]) -> set[Flag]:
    return {Flag(name) for name in row["flags"].split("|") if name}


# ---------------------------------------------------------------------------------------
# The labelled set.

def test_the_labelled_set_is_large_and_varied_enough() -> None:
    rows = labelled_rows()
    assert len(rows) >= 240
    assert [int(row["id"]) for row in rows] == list(range(1, len(rows) + 1))
    counts = Counter(flag for row in rows for flag in expected_flags(row))
    assert all(counts[flag] >= 15 for flag in PERSONAL_DATA), counts
    assert counts[Flag.insult] >= 15
    assert counts[Flag.link] >= 10
    assert counts[Flag.shouting] >= 10
    # Most comments have nothing to flag, as in real life: the negatives carry the
    # precision figures.
    assert sum(not expected_flags(row) for row in rows) >= 120


def measure(rows: list[dict[str, str]]) -> tuple[dict[str, tuple[int, int, int]], list[str]]:
    """True positives, false positives and false negatives per flag and for personal
    data as a group, counted per comment; and the misses, to print."""
    counts: dict[str, list[int]] = {name: [0, 0, 0] for name in [*Flag, GROUP]}
    misses = []
    for row in rows:
        expected = expected_flags(row)
        found = set(screen(row["text"], row["title"]).flags)
        for name, wanted, got in [
            *((flag, flag in expected, flag in found) for flag in Flag),
            (GROUP, bool(expected & PERSONAL_DATA), bool(found & PERSONAL_DATA)),
        ]:
            counts[name][0] += wanted and got
            counts[name][1] += got and not wanted
            counts[name][2] += wanted and not got
            if wanted != got and name != GROUP:
                misses.append(f"{'FP' if got else 'FN'} {name} #{row['id']}")
    return {name: (tp, fp, fn) for name, (tp, fp, fn) in counts.items()}, misses


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def test_precision_and_recall_per_flag(capsys: pytest.CaptureFixture[str]) -> None:
    rows = labelled_rows()
    counts, misses = measure(rows)
    lines = [f"Pre-screening on {len(rows)} labelled comments "
             "(counted per comment; P = precision, R = recall)",
             f"{'flag':<16}{'TP':>5}{'FP':>5}{'FN':>5}{'P':>8}{'R':>8}"]
    for name, (tp, fp, fn) in counts.items():
        lines.append(f"{name:<16}{tp:>5}{fp:>5}{fn:>5}"
                     f"{ratio(tp, tp + fp):>8.3f}{ratio(tp, tp + fn):>8.3f}")
    lines.append("misses: " + (", ".join(misses) or "none"))
    with capsys.disabled():
        print("\n" + "\n".join(lines))

    for name, (tp, fp, fn) in counts.items():
        precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
        if name == GROUP or name in PERSONAL_DATA:
            assert precision >= ISSUE_PERSONAL_DATA_PRECISION, name
        assert precision >= PRECISION_FLOOR, (name, precision)
        assert recall >= RECALL_FLOOR, (name, recall)


# ---------------------------------------------------------------------------------------
# Each flag's cases: (text, the words matched).

FOUND = {
    Flag.phone: [
        ("appelez le 06 12 34 56 78 svp", "06 12 34 56 78"),
        ("06.12.34.56.78", "06.12.34.56.78"),
        ("tel 06-12-34-56-78.", "06-12-34-56-78"),
        ("mon num 0612345678", "0612345678"),
        ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("+33612345678 whatsapp", "+33612345678"),
        ("0033 6 12 34 56 78", "0033 6 12 34 56 78"),
        ("+33 (0)6 12 34 56 78", "+33 (0)6 12 34 56 78"),
        ("le standard : 01 44 55 66 77", "01 44 55 66 77"),
        ("box 09 87 65 43 21", "09 87 65 43 21"),
        ("Tél.:02.40.12.34.56", "02.40.12.34.56"),
        ("(05 56 12 34 56)", "05 56 12 34 56"),
        ("numéro vert 0 800 12 34 56", "0 800 12 34 56"),
    ],
    Flag.email: [
        ("écrivez à julie.martin@gmail.com.", "julie.martin@gmail.com"),
        ("a_b-c+d@sous.domaine.fr", "a_b-c+d@sous.domaine.fr"),
        ("MARC@ORANGE.FR", "MARC@ORANGE.FR"),
        ("mail: nom(at)site.fr", "nom(at)site.fr"),
        ("nom [at] site.fr", "nom [at] site.fr"),
        ("nom arobase site point fr", "nom arobase site point fr"),
        ("c'est prenom.nom at gmail point com merci", "prenom.nom at gmail point com"),
        ("contact (arobase) greta [point] fr", "contact (arobase) greta [point] fr"),
        ("sandrine point morel arobase gmail point com", "sandrine point morel arobase "
                                                        "gmail point com"),
    ],
    Flag.person_name: [
        ("Merci M. Durand.", "Durand"),
        ("Mme Lefèvre est top", "Lefèvre"),
        ("M Leroy explique bien", "Leroy"),
        ("avec Mr Martin", "Martin"),
        ("Monsieur Jean Dupont, formateur", "Jean Dupont"),
        ("Madame GAUTHIER, super", "GAUTHIER"),
        ("Mlle Roux", "Roux"),
        ("Mademoiselle Garnier", "Garnier"),
        ("Le Dr Hamon", "Hamon"),
        ("Mme Le Goff nous a aidés", "Le Goff"),
        ("Mme Da Silva", "Da Silva"),
        ("merci à Mme B. pour tout", "B."),
        ("mr benoit est top", "benoit"),
        ("la formatrice Sophie", "Sophie"),
        ("le formateur Jean-Pierre", "Jean-Pierre"),
        ("le formateur DUPONT est absent", "DUPONT"),
        ("le formateur, Thierry, était passionné", "Thierry"),
        ("Merci Pauline !", "Pauline"),
        ("merci à Helene du secrétariat", "Helene"),
        ("voir M.Dupont", "Dupont"),
        ("M. et Mme Diallo", "Diallo"),
        ("le formateur kevin est top", "kevin"),
    ],
    Flag.street_address: [
        ("au 12 rue des Lilas, à côté", "12 rue des Lilas"),
        ("au 3 bis avenue Jean Jaurès.", "3 bis avenue Jean Jaurès"),
        ("12bis rue Paul Bellamy", "12bis rue Paul Bellamy"),
        ("RDV 10 bd Victor Hugo", "10 bd Victor Hugo"),
        ("31 av. de la Libération, 49000 Angers", "31 av. de la Libération, 49000 Angers"),
        ("au 7 allée des Tilleuls", "7 allée des Tilleuls"),
        ("18 impasse du Moulin", "18 impasse du Moulin"),
        ("9 chemin des Vignes", "9 chemin des Vignes"),
        ("2 place de la République", "2 place de la République"),
        ("23 quai de la Fosse est mieux", "23 quai de la Fosse"),
        ("5 cours des 50 Otages", "5 cours des 50 Otages"),
        ("locaux rue Gambetta", "rue Gambetta"),
        ("je passe place Graslin", "place Graslin"),
        ("le cours Mirabeau est joli", "cours Mirabeau"),
        ("au 8, rue de la Paix", "8, rue de la Paix"),
        ("au 3 rue principale", "3 rue principale"),
        ("Résidence Les Acacias, bâtiment D", "Résidence Les Acacias"),
        ("12 RUE DES LILAS", "12 RUE DES LILAS"),
    ],
    Flag.insult: [
        ("un vrai connard", "connard"),
        ("Connasse !", "Connasse"),
        ("CONNARD", "CONNARD"),
        ("un c*nnard", "c*nnard"),
        ("c0nnasse de formatrice", "c0nnasse"),
        ("quel conard", "conard"),
        ("connnnnard", "connnnnard"),
        ("tous des enculés", "enculés"),
        ("encul*s", "encul*s"),
        ("Putain 6 mois", "Putain"),
        ("p*tain", "p*tain"),
        ("de la merde", "merde"),
        ("une formation de m**de", "m**de"),
        ("Merdique.", "Merdique"),
        ("bâtard", "bâtard"),
        ("batard", "batard"),
        ("ba\u0302tard", "ba\u0302tard"),  # decomposed accent
        ("abruti", "abruti"),
        ("des crétins", "crétins"),
        ("quel imbécile", "imbécile"),
        ("fdp", "fdp"),
        ("il a dit ta gueule", "ta gueule"),
        ("fils de pute", "fils de pute"),
        ("un bon à rien", "bon à rien"),
        ("un gros con", "con"),
        ("formation à la con", "con"),
    ],
    Flag.link: [
        ("voir https://exemple.fr/page?x=1.", "https://exemple.fr/page?x=1"),
        ("sur www.afpa.fr, rien", "www.afpa.fr"),
        ("WWW.AFPA.FR", "WWW.AFPA.FR"),
        ("mon site monsite.fr !", "monsite.fr"),
        ("bit.ly/abc", "bit.ly/abc"),
        ("sur moncompteformation.gouv.fr", "moncompteformation.gouv.fr"),
        ("(intranet.cfa-exemple.fr)", "intranet.cfa-exemple.fr"),
        ("http://x.com)", "http://x.com"),
    ],
    Flag.shouting: [
        ("FORMATION NULLE DU DEBUT A LA FIN", "FORMATION NULLE DU DEBUT A LA FIN"),
        ("TRES BONNE FORMATION", "TRES BONNE FORMATION"),
        ("Bonne formation mais ATTENTION AUX FRAIS CACHES qu'on découvre",
         "ATTENTION AUX FRAIS CACHES"),
        ("NUL NUL NUL", "NUL NUL NUL"),
        ("JE RECOMMANDE", "JE RECOMMANDE"),
        ("FORMATION CACES TOP", "FORMATION CACES TOP"),
    ],
}

NOT_FOUND = {
    Flag.phone: [
        "SIRET 123 456 789 00012", "SIRET 12345678900012", "44000 Nantes", "1500 €",
        "9h30-12h30", "le 12/06/2024", "du 02 03 2023 10 h", "en 2023 et 2024", "35 heures",
        "code 14_AF_0000123456", "n° 06123", "06 12 34 56", "061234567890",
        "Prix 1 234 567 €", "salle 12", "RNCP35019", "version 10.12.14.16.18",
        "de 08 30 à 17 30",
    ],
    Flag.email: [
        "rendez-vous at home", "@formateur", "j'ai eu 5 @ l'examen", "au point com",
        "Twitter @afpa_officiel", "a@b", "le site monsite.fr",
    ],
    Flag.person_name: [
        "M. le directeur", "Madame la directrice", "Bonjour Madame, Monsieur,",
        "M2 en alternance", "Certification M.O.S. Excel", "Stage chez Mr Bricolage",
        "le formateur d'Excel", "Formatrice CACES", "Formateur Anglais top",
        "au lycée Victor Hugo", "3 rue Jean Jaurès", "à Saint-Pierre",
        "FORMATEUR PATIENT ET GENTIL", "Mme ou M. le formateur", "la France",
        "Claire et nette, la formation", "Pôle Emploi", "conseiller Pôle emploi",
        "le responsable Qualité", "Sur Place", "julie.martin@gmail.com",
        "Saint-Jean-de-Monts", "le formateur nous a aidés", "les cours de Maths",
    ],
    Flag.street_address: [
        "sur place", "mise en place", "en cours", "Mise En Place d'un planning",
        "Des Cours Intéressants Et Bien Structurés", "à ma place", "2 places de parking",
        "3 cours de maths", "la route nationale", "cours d'Anglais", "cours de Maths",
        "Sur Place : rien", "à la rue", "EN COURS DE FORMATION", "Cours de FLE",
        "les cours de Sophie", "en cours de route", "du chemin parcouru", "10 places",
        "il y a 3 cours par jour", "les cours de Mme Chevalier", "on a eu 5 cours pratiques",
        "3 cours intensifs par semaine", "2 place libre", "1 route glissante",
    ],
    Flag.insult: [
        "arnaque", "nul", "nulle", "inutile", "honteux", "catastrophique", "incompétent",
        "incompétente", "lamentable", "débile", "idiot", "une escroquerie", "des escrocs",
        "menteur", "le contenu", "le conseiller", "le concours", "à Mâcon", "la connexion",
        "déconnecté", "un travail abrutissant", "une salopette de travail", "la pétanque",
        "raconter", "connaissances", "*** censuré", "putatif", "emmerdant",
    ],
    Flag.link: [
        "M. Durand", "4.5/5", "1.200 €", "etc.", "Super formation.Les formateurs",
        "bien.Franchement", "M.O.S.", "version 3.4.1", "B1.En fin", "julie@gmail.com",
        "Pôle-emploi", "moncompteformation", "a.b", "N.B. : rien", "nom arobase site point fr",
    ],
    Flag.shouting: [
        "CACES R489 CAT 1 3 5", "BTS MCO en alternance", "TP AVS, DEAES, CAP AEPE",
        "J'ai trouvé ça NUL", "SCANDALEUX", "TRES BIEN", "Super formation !!!", "BRAVO",
        "AFPA GRETA CPF RQTH POEI", "😀😀😀", "formation en BTS NDRC au GRETA",
    ],
}


@pytest.mark.parametrize(("flag", "text", "words"), [
    (flag, text, words) for flag, cases in FOUND.items() for text, words in cases])
def test_found(flag: Flag, text: str, words: str) -> None:
    matched = [match.text for match in screen(text).matches if match.flag == flag]
    assert matched == [words]


@pytest.mark.parametrize(("flag", "text"), [
    (flag, text) for flag, texts in NOT_FOUND.items() for text in texts])
def test_not_found(flag: Flag, text: str) -> None:
    assert flag not in screen(text)


def test_a_name_inside_an_address_or_an_email_address_is_not_a_name_of_its_own() -> None:
    screening = screen("au 10 bd Victor Hugo, écrire à Amandine.Leblanc@outlook.fr")
    assert screening.flags == (Flag.email, Flag.street_address)


def test_a_phone_number_inside_a_link_belongs_to_the_link() -> None:
    screening = screen("https://exemple.fr/rappel?tel=0612345678")
    assert [(m.flag, m.text) for m in screening.matches] == [
        (Flag.link, "https://exemple.fr/rappel?tel=0612345678")]


def test_every_match_of_an_enumeration_is_found() -> None:
    screening = screen("Merci Mme Nguyen et M. Traoré, formateurs Rémi et Aurélie.")
    assert [m.text for m in screening.matches] == ["Nguyen", "Traoré", "Rémi", "Aurélie"]


# ---------------------------------------------------------------------------------------
# The screening and its fields.

def test_title_and_text_are_screened_each_with_its_own_offsets() -> None:
    title = "TRES BONNE FORMATION"
    text = "Merci à M. Durand (06 12 34 56 78)."
    screening = screen(text, title)
    assert screening.flags == (Flag.phone, Flag.person_name, Flag.shouting)
    assert [(m.field, m.flag) for m in screening.matches] == [
        (Field.title, Flag.shouting), (Field.text, Flag.person_name),
        (Field.text, Flag.phone)]
    for match in screening.matches:
        source = title if match.field == Field.title else text
        assert source[match.start:match.end] == match.text
    assert screening.in_field(Field.title) == screening.matches[:1]
    assert screening.in_field("text") == screening.matches[1:]
    assert Flag.phone in screening
    assert Flag.email not in screening
    assert screening.has_personal_data
    assert screening


def test_nothing_to_flag() -> None:
    screening = screen("Très bonne formation, je recommande.", "Bien")
    assert screening == Screening(())
    assert not screening
    assert screening.flags == ()
    assert not screening.has_personal_data


def test_personal_data_is_the_four_flags_a_redaction_hides() -> None:
    four = {Flag.phone, Flag.email, Flag.person_name, Flag.street_address}
    assert four == PERSONAL_DATA
    assert set(PLACEHOLDERS) == PERSONAL_DATA | {Flag.link}


# ---------------------------------------------------------------------------------------
# Highlight: pieces for a template to escape and mark.

def check_highlight(text: str, matches: tuple[Match, ...]) -> None:
    pieces = highlight(text, matches)
    assert "".join(piece for piece, _ in pieces) == text
    assert all(piece for piece, _ in pieces)
    # Each character carries the flag of the most specific match over it.
    rank = {Flag.shouting: 1}
    position = 0
    for piece, flag in pieces:
        for offset in range(position, position + len(piece)):
            covering = [m.flag for m in matches if m.start <= offset < m.end]
            assert flag == (min(covering, key=lambda f: rank.get(f, 0)) if covering else None)
        position += len(piece)
    if not any(m.flag == Flag.shouting for m in matches):
        marked, position = [], 0
        for piece, flag in pieces:
            if flag is not None:
                marked.append((position, position + len(piece), flag))
            position += len(piece)
        assert marked == [(m.start, m.end, m.flag) for m in matches]


def test_highlight_rebuilds_every_labelled_comment_and_marks_exactly_its_matches() -> None:
    for row in labelled_rows():
        screening = screen(row["text"], row["title"])
        check_highlight(row["text"], screening.in_field(Field.text))
        if row["title"]:
            title_pieces = highlight(row["title"], screening.matches, Field.title)
            assert "".join(piece for piece, _ in title_pieces) == row["title"]


def test_highlight_example() -> None:
    text = "CE CENTRE EST NUL, LE DIRECTEUR M. RENAUD NE REPOND PAS"
    assert highlight(text, screen(text).matches) == [
        ("CE CENTRE EST NUL, LE DIRECTEUR M. ", Flag.shouting),
        ("RENAUD", Flag.person_name),
        (" NE REPOND PAS", Flag.shouting),
    ]
    assert highlight("Rien à signaler.", ()) == [("Rien à signaler.", None)]
    assert highlight(None, ()) == []
    assert highlight("", ()) == []


def test_highlight_only_takes_the_matches_of_its_field() -> None:
    screening = screen("Appelez Mme Bertin", "06 12 34 56 78")
    assert highlight("06 12 34 56 78", screening.matches, Field.title) == [
        ("06 12 34 56 78", Flag.phone)]
    assert highlight("Appelez Mme Bertin", screening.matches) == [
        ("Appelez Mme ", None), ("Bertin", Flag.person_name)]


# ---------------------------------------------------------------------------------------
# Suggested redaction.

def test_redaction_example() -> None:
    text = ("Merci à M. Durand et à la formatrice Sophie ! Appelez le 06 12 34 56 78 ou "
            "écrivez à sophie.m@gmail.com, 12 rue des Lilas, voir www.site.fr. Le "
            "directeur est un connard, C'EST UNE HONTE TOTALE")
    assert suggest_redaction(text, screen(text).matches) == (
        "Merci à M. [nom masqué] et à la formatrice [nom masqué] ! Appelez le "
        "[téléphone masqué] ou écrivez à [adresse électronique masquée], "
        "[adresse masquée], voir [lien masqué]. Le directeur est un connard, "
        "C'EST UNE HONTE TOTALE")


def test_redaction_removes_every_personal_data_match_and_keeps_the_rest_verbatim() -> None:
    for row in labelled_rows():
        for field, text in ((Field.title, row["title"]), (Field.text, row["text"])):
            if not text:
                continue
            matches = screen(row["text"], row["title"]).in_field(field)
            hidden = sorted((m for m in matches if m.flag in PLACEHOLDERS),
                            key=lambda m: m.start)
            redacted = suggest_redaction(text, matches, field)
            # What is left between the placeholders is the text outside the matches.
            expected, position = [], 0
            for match in hidden:
                expected += [text[position:match.start], PLACEHOLDERS[match.flag]]
                position = match.end
            assert redacted == "".join([*expected, text[position:]])
            # And screening the suggestion again finds no personal data nor link.
            again = screen(redacted)
            assert not again.has_personal_data, (row["id"], redacted)
            assert Flag.link not in again, (row["id"], redacted)


def test_redaction_without_anything_to_hide() -> None:
    text = "FORMATION NULLE, formateur connard"
    assert suggest_redaction(text, screen(text).matches) == text
    assert suggest_redaction(None, ()) == ""
    assert suggest_redaction("", ()) == ""


def test_redaction_ignores_overlapping_and_foreign_matches() -> None:
    text = "06 12 34 56 78"
    matches = [Match(Flag.phone, 0, 14, text), Match(Flag.phone, 3, 8, "12 34"),
               Match(Flag.email, 0, 5, "06 12", Field.title),
               Match(Flag.person_name, 10, 99, "hors du texte")]
    assert suggest_redaction(text, matches) == "[téléphone masqué]"


# ---------------------------------------------------------------------------------------
# Robustness and speed.

ODD_TEXTS = [
    None, "", " ", "\n\n", "\x00", "a\x00b M. Durand\x00", "😀" * 50,
    "👩🏽‍🏫 formatrice Sophie 👍🏼", "Mme Lefe\u0300vre", "e\u0301" * 1000,
    "\u0301" * 100 + "connard", "\ud800 lone surrogate", "\u202eRTL\u202c 06 12 34 56 78",
    "ﬁn de formation ǅ ǈ ǲ İstanbul", "\u200b".join("0612345678"), "ß" * 300,
    "Ⅻ ⅻ ① ٣ ۳ 𝟘𝟞𝟙𝟚", "\t".join(["M.", "Dupont", "rue", "Gambetta"]),
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_odd_text_screens_without_error(text: str | None) -> None:
    screening = screen(text, text)
    for match in screening.matches:
        assert text is not None
        assert text[match.start:match.end] == match.text
    if text:
        assert "".join(p for p, _ in highlight(text, screening.matches)) == text
        suggest_redaction(text, screening.matches)


def test_a_very_long_comment_screens_whole() -> None:
    rows = labelled_rows()
    text = " ".join(row["text"] for row in rows) * 5
    assert len(text) > 100_000
    screening = screen(text, "x" * 100_000)
    counts = Counter(match.flag for match in screening.matches)
    assert counts[Flag.phone] >= 5 * 31
    assert "".join(p for p, _ in highlight(text, screening.matches)) == text


def random_text(size: int, seed: int) -> str:
    generator = random.Random(seed)
    alphabet = "aeiousrnt lMm.@0-6 *CAP'é\u0301,:/"
    return "".join(generator.choice(alphabet) for _ in range(size))


@pytest.mark.parametrize("seed", range(5))
def test_random_text_screens_without_error(seed: int) -> None:
    text = random_text(20_000, seed)
    screening = screen(text, text[:80])
    assert "".join(p for p, _ in highlight(text, screening.matches)) == text
    assert not screen(suggest_redaction(text, screening.matches)).has_personal_data


SIZE = 100_000

#: Inputs built to make a backtracking pattern try every split: long runs of what each
#: pattern repeats, followed by what makes it fail at the very end.
ADVERSARIAL = {
    "digits": "0" * SIZE,
    "digit pairs": "06 " * (SIZE // 3),
    "zero and space": "0 " * (SIZE // 2),
    "plus thirty-three": "+33 " * (SIZE // 4),
    "domain labels": "a." * (SIZE // 2) + "!",
    "hyphens in a label": "a-" * (SIZE // 2) + ".",
    "www": "www." * (SIZE // 4),
    "url of dots": "http://" + "." * SIZE,
    "at signs": "a@" * (SIZE // 2),
    "at and dot": "a@a." * (SIZE // 4),
    "spoken points": "x " + "point " * (SIZE // 6),
    "spoken at": "a at " * (SIZE // 5),
    "civilities": "M. " * (SIZE // 3),
    "madame": "Mme " * (SIZE // 4),
    "roles": "formateur " * (SIZE // 10),
    "first names": "Sophie " * (SIZE // 7),
    "streets": "1 rue " * (SIZE // 6),
    "particles": "rue de la " * (SIZE // 10),
    "places": "place " * (SIZE // 6),
    "street words": "12 rue A" + " A" * (SIZE // 2),
    "stars": "c*" * (SIZE // 2),
    "only stars": "*" * SIZE,
    "c and stars": "c" + "*" * SIZE + "x",
    "repeated letter": "co" + "n" * SIZE + "x",
    "capital letters": "A " * (SIZE // 2),
    "capital pairs": "AB " * (SIZE // 3),
    "one capital word": "AB" * (SIZE // 2),
    "combining marks": "e" + "\u0301" * SIZE,
    "hyphens": "-" * SIZE,
    "apostrophes": "'" * SIZE,
    "spaces": " " * SIZE,
    "newlines": "\n" * SIZE,
}


#: Slower than plain text by more than this is backtracking, not a busy machine.
SLOWDOWN_LIMIT = 20


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the block after ``seconds``: a pattern that backtracks
    catastrophically would otherwise hang the suite (the regex engine checks signals
    while it matches, so the alarm interrupts it)."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def best_time(text: str, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        screen(text)
        times.append(time.perf_counter() - start)
    return min(times)


@contextlib.contextmanager
def no_garbage_collection() -> Iterator[None]:
    """Times without the collector, as ``timeit`` does: late in the suite a full
    collection of everything earlier tests left took longer than a deadline (a CI run
    failed so, its alarm landing in a collector callback)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@no_garbage_collection()
def test_screening_is_linear_in_the_length_of_the_text() -> None:
    # The plain reference: real comments, repeated to the same size. Comparing with it
    # rather than with a fixed time keeps the test sound on a loaded machine.
    plain = (" ".join(row["text"] for row in labelled_rows()) * 4)[:SIZE]
    try:
        with deadline(30):  # a hundred times what it takes
            reference = max(best_time(plain), 0.005)
    except TimeoutError:
        pytest.fail("100 KB of ordinary comments took more than 30 s to screen")
    limit = SLOWDOWN_LIMIT * reference
    slow: dict[str, float | str] = {}
    for name, text in ADVERSARIAL.items():
        try:
            with deadline(2 * limit):
                elapsed = best_time(text, repeat=1)
                if elapsed > limit:
                    elapsed = best_time(text)  # a pause of the machine is not backtracking
        except TimeoutError:
            slow[name] = "interrupted"
            continue
        if elapsed > limit:
            slow[name] = round(elapsed, 3)
    assert not slow, (reference, slow)
