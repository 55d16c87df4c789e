"""Pre-screening of comments: flags that point a moderator at what to read closely.

It assists and never decides. A flag is a hint shown as a badge with the matching words
highlighted, and a filter of the queue; a suggested redaction is only offered to the
moderator. Nothing here publishes, rejects or edits a comment.

What each flag looks for (tests/moderation/data/labelled_comments.csv measures it):

- ``phone``: French numbers — 06 12 34 56 78, 06.12.34.56.78, 06-12-34-56-78,
  0612345678, +33 6 12 34 56 78, 0033 6…, +33 (0)6…, landlines 01–09, and freephone
  numbers written 0 800 12 34 56. The separator must be the same throughout the number,
  so that dates and hours in a row ("du 02 03 2023 10 h") are not taken for one; numbers
  glued to other digits (SIRET, course codes) are not numbers of their own.
- ``email``: addresses, and the usual disguises of them: ``nom(at)site.fr``,
  ``nom [at] site.fr``, ``nom arobase site point fr``, ``prenom.nom at gmail point com``
  (only when the disguised domain ends in a common top-level domain, so that "at" and
  "point" in ordinary sentences do not count).
- ``person_name``: a name after a civility (M., M, Mr, Monsieur, Mme, Madame, Mlle,
  Mademoiselle, Dr, Docteur — "M. le directeur" names nobody; after a civility spelt out,
  a lower-case word that is not an ordinary one: "mr benoit"), a capitalised name after
  a role ("la formatrice Sophie", "mon tuteur Romain", "le formateur DUPONT"; in lower
  case only a first name of our list: "le formateur kevin"), and common first names
  written with a capital (our own list below) unless they are part of a place ("lycée
  Victor Hugo", "rue Jean Jaurès"). Only the name is matched, not the civility, so that
  the redaction keeps "M." or "la formatrice".
- ``street_address``: a number and a kind of street ("12 rue des Lilas", "3 bis avenue
  Jean Jaurès", "31 av. de la Libération, 49000 Angers"), or a kind of street followed by
  a capitalised name ("rue Gambetta", "place Graslin"). "place", "cours", "route",
  "chemin", "allée" and "passage" are ordinary words ("sur place", "en cours", "mise en
  place"): they need a capitalised name even after a number.
- ``insult``: insults, slurs and coarse words (injures et grossièretés) from a small list
  of our own, with their inflections, accent-insensitive, and with the usual disguises
  (c*nnard, c0nnasse, repeated letters). Opinions are not insults: "arnaque", "nul",
  "inutile", "honteux", "catastrophique", "lamentable", "débile" or "idiot" about a
  course. "Incompétent", even about a person, is an opinion on their work that a review
  may state. Accusations ("escroc", "voleur", "menteur") are not in the list either: they
  are claims a moderator weighs, not words to spot.
- ``link``: http(s)://…, www.…, and bare domains with a common top-level domain written
  in lower case ("monsite.fr", "bit.ly/xyz"); not "M.", decimals, "etc." or a missing
  space after a full stop ("formation.Les formateurs").
- ``shouting``: a stretch of at least three words in capitals (at least 8 letters), or a
  whole title or text of at least 12 letters with 70 % of them in capitals. Acronyms of
  the field (AFPA, CACES, BTS, RQTH…) and words with digits (R489) neither count nor
  break a stretch; a single word in capitals for emphasis does not count, nor does
  punctuation ("!!!" is enthusiasm more often than anger).

Speed: every pattern is compiled once and none backtracks more than linearly (repeats
are bounded or anchored so that each can start at few places), so that a batch of
200,000 comments screens in well under a millisecond per comment.
"""

from __future__ import annotations

import bisect
import enum
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


class Flag(enum.StrEnum):
    """What a comment seems to contain; the badge a moderator sees."""

    phone = "phone"
    email = "email"
    person_name = "person_name"
    street_address = "street_address"
    insult = "insult"
    link = "link"
    shouting = "shouting"


#: Flags about someone's personal data (RGPD): what a redaction hides.
PERSONAL_DATA = frozenset({Flag.phone, Flag.email, Flag.person_name, Flag.street_address})


class Field(enum.StrEnum):
    """Which part of a comment a match is in."""

    title = "title"
    text = "text"


@dataclass(frozen=True, slots=True)
class Match:
    """One flagged stretch: ``text[start:end]`` of the comment's ``field``."""

    flag: Flag
    start: int
    end: int
    text: str
    field: Field = Field.text


@dataclass(frozen=True, slots=True)
class Screening:
    """The matches found in a comment's title and text, in reading order (title first)."""

    matches: tuple[Match, ...] = ()

    @property
    def flags(self) -> tuple[Flag, ...]:
        """The flags found, once each, in the order of ``Flag`` (the badges' order)."""
        found = {match.flag for match in self.matches}
        return tuple(flag for flag in Flag if flag in found)

    @property
    def has_personal_data(self) -> bool:
        return any(match.flag in PERSONAL_DATA for match in self.matches)

    def __contains__(self, flag: object) -> bool:
        return any(match.flag == flag for match in self.matches)

    def __bool__(self) -> bool:
        return bool(self.matches)

    def in_field(self, field: Field | str) -> tuple[Match, ...]:
        return tuple(match for match in self.matches if match.field == field)

    @property
    def bits(self) -> int:
        """The flags as stored with the comment (``Answer.flags``), for the queue's filter."""
        return sum(FLAG_BITS[flag] for flag in self.flags)


#: A flag's bit in the stored ``flags`` column. Never renumber: stored values use them.
FLAG_BITS: dict[Flag, int] = {flag: 1 << rank for rank, flag in enumerate(Flag)}
#: The bits of the personal-data flags together.
PERSONAL_DATA_BITS = sum(FLAG_BITS[flag] for flag in PERSONAL_DATA)


#: Placeholders of a suggested redaction. Insults and shouting have none: whether to
#: cut, rewrite or reject is the moderator's call.
PLACEHOLDERS: dict[Flag, str] = {
    Flag.phone: "[téléphone masqué]",
    Flag.email: "[adresse électronique masquée]",
    Flag.person_name: "[nom masqué]",
    Flag.street_address: "[adresse masquée]",
    Flag.link: "[lien masqué]",
}

# When two matches overlap, the more specific one stays: an address's domain is not also
# a link, a street named after someone is not a person's name, a phone number inside a
# link belongs to the link. Shouting spans whole sentences and overlaps the others.
_PRIORITY = {flag: rank for rank, flag in enumerate(
    (Flag.email, Flag.link, Flag.phone, Flag.street_address, Flag.person_name, Flag.insult,
     Flag.shouting))}


# ---------------------------------------------------------------------------------------
# Folding. Offsets into the folded text are offsets into the text: every character maps
# to exactly one character.

_COMBINING = "\u0300-\u036f"
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s"}


def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base if len(base) == 1 else char


_FOLD = {code: _fold_char(chr(code)) for code in range(0x41, 0x250)}
_FOLD.update({ord(digit): letter for digit, letter in _LEET.items()})
_FOLD.update({ord("œ"): "o", ord("Œ"): "o", ord("æ"): "a", ord("Æ"): "a"})


def _fold_word(word: str) -> str:
    """A word without accents, lower case: for comparing with our word lists."""
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _words(listing: str) -> list[str]:
    """The words of a list written as text, a space or a line apart."""
    return listing.split()


def _folded(listing: str) -> frozenset[str]:
    return frozenset(_fold_word(word) for word in _words(listing))


# ---------------------------------------------------------------------------------------
# Phone numbers.

_PHONE = re.compile(r"""
    (?<![\w+])
    (?:
        (?:\+|00)\ ?33\ ?(?:\(0\)\ ?)?[1-9]     # +33 6…, 0033 6…, +33 (0)6…
      | 0[1-9]
    )
    (?P<sep>[\ .\-]?)\d{2}(?:(?P=sep)\d{2}){3}
    (?![\d])
  | (?<![\w+])0[\ .]?8\d{2}(?P<sep2>[\ .\-]?)\d{2}(?:(?P=sep2)\d{2}){2}(?![\d])  # 0 800 …
""", re.VERBOSE)


# ---------------------------------------------------------------------------------------
# Email addresses, plain and disguised.

_EMAIL = re.compile(r"""
    (?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])
""", re.VERBOSE)

_TLD_SPOKEN = r"(?:fr|com|net|org|eu|be|ch|info|io|biz)"
_EMAIL_DISGUISED = re.compile(rf"""
    (?<![\w.+-])
    [A-Za-z0-9][\w.+-]{{0,63}}(?:\ +(?i:point|dot)\ +[A-Za-z0-9][\w.+-]{{0,63}}){{0,3}}
    (?:
        \ *(?i:\(at\)|\[at\]|\{{at\}}|\(arobase\)|\[arobase\]|\(a\)|\[a\])\ *
      | \ +(?i:at|arobase)\ +
    )
    [A-Za-z0-9][\w-]{{0,62}}(?:\.[\w-]{{1,63}}){{0,4}}
    (?:
        \.
      | \ *(?i:\(dot\)|\[dot\]|\(point\)|\[point\])\ *
      | \ +(?i:dot|point)\ +
    )
    (?i:{_TLD_SPOKEN})(?![\w-])
""", re.VERBOSE)


# ---------------------------------------------------------------------------------------
# Links.

_URL_END = r"""[^\s<>"'’.,;:!?)\]}»]"""
_BARE_TLDS = r"(?:fr|com|net|org|eu|info|io|be|ch|ly|gle|tv|biz|bzh|paris)"
_LINK = re.compile(rf"""
    (?<![\w@/.-])(?i:https?://|www\.)(?:[^\s<>"]{{0,2000}}{_URL_END})?
  | (?<![\w@.-])
    (?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.){{1,8}}{_BARE_TLDS}(?![\w-])
    (?:/(?:[^\s<>"]{{0,2000}}{_URL_END})?)?
""", re.VERBOSE)


# ---------------------------------------------------------------------------------------
# Names of people.

_UPPER = "A-ZÀ-ÖØ-Þ"
_WORD_CHARS = rf"[\w{_COMBINING}'’-]"

#: Common first names (written by us, spelt with their accents; compared without them).
#: Names that are also ordinary words or places when capitalised (France, Claire,
#: Florence, Pascal, Noël, Marine, Rose…) are left out on purpose.
_FIRST_NAMES = _folded("""
    Adam Adrien Ahmed Alain Alban Albert Alexandre Alexis Ali Amine Anthony Antoine Arnaud
    Arthur Aurélien Axel Bastien Baptiste Benjamin Benoît Bernard Bruno Bryan Cédric
    Christophe Clément Cyril Damien Daniel David Denis Didier Dimitri Dylan Éric Emmanuel
    Enzo Étienne Fabien Fabrice Farid Florian Francis Franck François Frédéric Gabriel
    Gaëtan Georges Gérard Grégory Guillaume Gilles Hakim Hamid Henri Hervé Hugo Ibrahim
    Jacques Jean Jérémy Jérôme Joël Jonathan Joseph Julien Karim Kevin Kévin Killian Laurent
    Léo Lionel Loïc Louis Luc Lucas Ludovic Malik Mamadou Marc Marcel Mathieu Matthieu Maxime
    Mehdi Michel Mickaël Mohamed Moussa Nabil Nathan Nicolas Noah Olivier Omar Patrick Paul
    Philippe Pierre Quentin Rachid Raphaël Rémi Rémy Renaud Richard Robert Romain Samir
    Samuel Sébastien Serge Simon Stéphane Sylvain Théo Thibault Thierry Thomas Tony Valentin
    Vincent Xavier Yann Yannick Yassine Yves Youssef
    Agnès Aïcha Alice Amandine Amélie Amina Anaïs Angélique Anne Annie Audrey Aurélie
    Béatrice Brigitte Camille Carole Caroline Catherine Cécile Céline Chantal Charlotte Chloé
    Christelle Christine Claudine Coralie Corinne Delphine Dominique Élise Élodie Émilie Emma
    Estelle Fanny Fatima Fatou Françoise Gaëlle Géraldine Hélène Inès Isabelle Jacqueline
    Jeanne Jessica Joëlle Josiane Julie Juliette Justine Karine Katia Khadija Laetitia Laura
    Laure Léa Leïla Léna Lina Lucie Magali Manon Marie Marina Marion Martine Mathilde Maud
    Mélanie Mélissa Monique Morgane Myriam Nadia Nadine Nathalie Nicole Noémie Nora Océane
    Pascale Patricia Pauline Régine Sabrina Samia Sandra Sandrine Sarah Séverine Sonia
    Sophie Stéphanie Suzanne Sylvie Valérie Vanessa Véronique Virginie Yasmine Zoé
""")

#: Subjects and tools taught, capitalised after "cours de", "formateur" and the like.
_SUBJECTS = _folded("""
    excel word powerpoint outlook access anglais français espagnol allemand italien arabe
    maths math mathématiques informatique bureautique comptabilité compta gestion paie
    vente marketing communication droit qualité sécurité hygiène cuisine électricité
    plomberie soudure logistique secrétariat accueil
""")

#: Capitalised words that follow a kind of street without naming it.
_NOT_STREET_NAMES = _SUBJECTS | _folded("""
    le la les l un une des du de d et ou mon ma mes notre votre son sa ce cette je il elle
    on nous vous qui que en au aux sur pour par avec sans très bien
    m mme mlle mr dr monsieur madame mademoiselle
""")

#: Capitalised words that follow a civility or a role without being anyone's name.
_NOT_NAMES = _SUBJECTS | _folded("""
    le la les l un une des du de d et ou mon ma mes ton ta tes notre votre nos vos son sa
    ses leur leurs ce cet cette ces je j il elle on nous vous ils elles qui que qu quoi est
    était a avait ont sont ne n se s y en au aux sur dans chez pour par avec sans très bien
    trop pas plus toujours jamais aussi mais donc car si lui tout tous toute toutes fait dit
    merci bonjour svp stp etc ok oui non m mme mmes mlle mr dr
    monsieur madame mademoiselle messieurs mesdames directeur directrice formateur
    formatrice formateurs formatrices président présidente maire responsable professeur
    prof docteur tuteur tutrice référent référente conseiller conseillère secrétaire
    coordinateur coordinatrice intervenant intervenante patron patronne chef
    bricolage propre commerce pôle france travail région département afpa greta cariste
    caces ressources administratif administrative pédagogique pédagogie handicap insertion
    emploi stage stages formation formations
    entreprise centre super top génial géniale excellent excellente sympa nul nulle
""")

#: Words after which a capitalised word names a place, a school or a street, not a person.
_PLACE_WORDS = _folded("""
    rue avenue av bd boulevard allée impasse quai place cours route chemin square passage
    lycée collège école institut université faculté centre hôpital clinique résidence stade
    parc salle espace gymnase fondation pont gare port cité maison saint sainte st ste
    station arrêt métro tram campus hall bâtiment zone za zi zac
""")

_PARTICLES = frozenset({"Le", "La", "Da", "De", "Di", "Du", "Des", "Van", "Von", "Ben", "El",
                        "Al", "Mac", "Mc", "Dos", "Del", "Della"})

_NAME_WORD = rf"[\w{_COMBINING}](?:[\w{_COMBINING}'’-]{{0,40}}[\w{_COMBINING}])?\.?"
_CIVILITY = re.compile(rf"""
    (?<![\w.])
    (?P<civ>(?i:monsieur|madame|mademoiselle|docteur|mme|mlle|mr|dr)\.?|M\.|M(?=\ ))
    (?:\ +|(?<=\.)(?=[{_UPPER}][a-zà-öø-ÿ]))
    (?P<w1>{_NAME_WORD})(?:\ +(?P<w2>{_NAME_WORD}))?
""", re.VERBOSE)

_ROLE = re.compile(rf"""
    (?<![\w{_COMBINING}])
    (?P<role>(?i:formateur|formatrice|prof|professeur|professeure|tuteur|tutrice|directeur|directrice
       |responsable|référent|referent|référente|referente|conseiller|conseillère|conseillere
       |coordinateur|coordinatrice|intervenant|intervenante|secrétaire|secretaire|moniteur
       |monitrice|animateur|animatrice|patron|patronne|chef|collègue|collegue)s?)
    (?:\ *,\ *|\ +)
    (?P<w1>{_NAME_WORD})(?:\ +(?P<w2>{_NAME_WORD}))?
""", re.VERBOSE)

_CAPITALISED = re.compile(
    rf"(?<![\w{_COMBINING}'’-])[{_UPPER}][\w{_COMBINING}]*(?:-[{_UPPER}][\w{_COMBINING}]*)?"
    rf"(?![\w{_COMBINING}'’-])")
_AND_NAME = re.compile(rf"\ +(?:et|&)\ +(?P<w>{_NAME_WORD})")
_NEXT_WORD = re.compile(rf"\ +(?P<w>{_NAME_WORD})")
_PREVIOUS_WORDS = re.compile(rf"(?:({_WORD_CHARS}+)[\s,]*)?({_WORD_CHARS}+)[\s,]*$")


def _is_titlecase(word: str) -> bool:
    return word[:1].isupper() and any(c.islower() for c in word[1:])


def _is_caps(word: str) -> bool:
    return word.isupper() and sum(c.isalpha() for c in word) >= 2


def _clean(word: str) -> str:
    return word.rstrip(".")


def _may_be_name(word: str) -> bool:
    """A capitalised word that could be a name (first name or surname)."""
    word = _clean(word)
    if _fold_word(word) in _NOT_NAMES:
        return False
    if _is_titlecase(word):
        return True
    return _is_caps(word) and word not in _ACRONYMS


def _name_span(found: re.Match[str], *, after_civility: bool) -> tuple[int, int] | None:
    """The span of the name read in ``found`` (groups w1 and w2), or None."""
    w1, w2 = found["w1"], found["w2"]
    start, first = found.start("w1"), _clean(w1)
    w2_end = found.start("w2") + len(_clean(w2)) if w2 is not None else -1
    if w2 is not None and first in _PARTICLES and _may_be_name(w2):
        return start, w2_end
    if after_civility and re.fullmatch(f"[{_UPPER}]", first) and w1.endswith("."):
        return start, start + 2  # an initial: "Mme B."
    if _may_be_name(first):
        if _is_titlecase(first) and w2 is not None and _is_titlecase(_clean(w2)) \
                and _may_be_name(w2):
            return start, w2_end
        return start, start + len(first)
    if after_civility and found["civ"] not in ("M", "M.") and first.isalpha() \
            and first.islower() and len(first) >= 3 and _fold_word(first) not in _NOT_NAMES:
        return start, start + len(first)
    return None


def _after_place(text: str, start: int) -> bool:
    """Whether the capitalised word at ``start`` follows "rue", "lycée" and the like,
    possibly with one capitalised word between ("lycée Victor Hugo")."""
    before = _PREVIOUS_WORDS.search(text, max(0, start - 60), start)
    if before is None:
        return False
    earlier, previous = before.group(1), before.group(2)
    if _fold_word(previous) in _PLACE_WORDS:
        return True
    return earlier is not None and _is_titlecase(previous) \
        and _fold_word(earlier) in _PLACE_WORDS


def _overlapping(pattern: re.Pattern[str], text: str, group: str) -> Iterator[re.Match[str]]:
    """Matches that may overlap: the next search starts after ``group``, so that the
    words read after a civility may begin the next match ("M. et Mme Diallo")."""
    position = 0
    while found := pattern.search(text, position):
        yield found
        position = found.end(group)


def _person_names(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for found in _overlapping(_CIVILITY, text, "civ"):
        span = _name_span(found, after_civility=True)
        if span:
            spans.append(span)
    for found in _overlapping(_ROLE, text, "role"):
        first = _clean(found["w1"])
        if _is_caps(first) and (len(first) < 3 or found["role"].isupper()):
            continue  # "FORMATEUR PATIENT": in shouted text capitals name nobody
        if first.islower() and _fold_word(first) in _FIRST_NAMES:
            span: tuple[int, int] | None = (found.start("w1"), found.start("w1") + len(first))
        else:
            span = _name_span(found, after_civility=False)
        if span:
            spans.append(span)
            spans.extend(_and_more_names(text, span[1]))
    for found in _CAPITALISED.finditer(text):
        word = found.group()
        parts = word.split("-")
        if not (_fold_word(word) in _FIRST_NAMES
                or all(_fold_word(part) in _FIRST_NAMES for part in parts)):
            continue
        if _after_place(text, found.start()):
            continue
        end = found.end()
        following = _NEXT_WORD.match(text, end)
        if following and _may_be_name(following["w"]) and not following["w"].endswith("."):
            end = following.start("w") + len(_clean(following["w"]))
        spans.append((found.start(), end))
    return spans


def _and_more_names(text: str, end: int) -> list[tuple[int, int]]:
    """"formateurs Rémi et Aurélie": the names enumerated after the first one."""
    spans = []
    following = _AND_NAME.match(text, end)
    if following and _is_titlecase(_clean(following["w"])) and _may_be_name(following["w"]):
        spans.append((following.start("w"), following.start("w") + len(_clean(following["w"]))))
    return spans


# ---------------------------------------------------------------------------------------
# Street addresses.

# Kinds of street that are seldom anything else, and those that are ordinary words too.
_STRONG_STREETS = {"rue", "avenue", "av.", "bd", "boulevard", "blvd", "impasse", "imp.",
                   "quai", "square", "faubourg", "fbg", "ruelle", "esplanade"}
_STREET = re.compile(rf"""
    (?:(?<![\w.,/-])(?P<num>\d{{1,4}}(?:\ ?(?i:bis|ter|quater)|[a-dA-D])?)(?![\w]),?\ +)?
    (?<![\w{_COMBINING}-])
    (?P<kind>(?i:rue|avenue|av\.|bd|boulevard|blvd|impasse|imp\.|quai|square|faubourg|fbg
       |ruelle|esplanade|allée|allee|place|pl\.|cours|route|rte|chemin|passage|promenade
       |résidence|residence|lotissement))
    (?![\w{_COMBINING}])
    (?P<particle>\ +(?i:(?:de|du|des|aux?)\ +(?:la\ +|les\ +|l['’])?|d['’]|l['’]|la\ +|le\ +
       |les\ +)|\ +)
    (?P<first>\d{{1,4}}(?=\ +[{_UPPER}])|[\w{_COMBINING}][\w{_COMBINING}'’-]{{0,40}})
    (?P<more>(?:\ +(?:(?:de|du|des|la|le|les|sur|sous|en|aux?)\ +|[dl]['’]){{0,2}}
       [{_UPPER}0-9][\w{_COMBINING}'’-]{{0,40}}){{0,4}})
""", re.VERBOSE)
_TOWN_WORD = rf"[{_UPPER}][\w{_COMBINING}'’-]{{0,40}}"
_POSTCODE_TOWN = re.compile(rf",?\ +\d{{5}}\ +{_TOWN_WORD}(?:[\ -]{_TOWN_WORD}){{0,3}}")


def _street_addresses(text: str) -> list[tuple[int, int]]:
    spans = []
    position = 0
    while found := _STREET.search(text, position):
        # A candidate turned down goes on from after its kind of street, not its end:
        # "un cours rue Gambetta" is turned down at "cours" and found at "rue".
        position = found.end("kind")
        kind, first = found["kind"], found["first"]
        numbered = found["num"] is not None
        strong = kind.lower() in _STRONG_STREETS
        if first.isdigit():
            if not found["more"]:
                continue  # "1 rue 1": a number names a street only before a name
        elif first[0].isupper():
            if first in _ACRONYMS or (
                    _fold_word(first.rstrip("'’-")) in _NOT_STREET_NAMES
                    and not first.isupper()):
                continue
        elif not (numbered and strong and first.isalpha()
                  and _fold_word(first) not in _NOT_NAMES):
            # A name in lower case only after a number and an unambiguous kind ("3 rue
            # principale"), and never an ordinary word of the wider list ("12 rue est").
            continue
        if not numbered:
            if not strong and not found["more"] and _fold_word(first) in _FIRST_NAMES:
                continue  # "les cours de Sophie" are hers, not a street
            if kind.isupper():
                continue  # "EN COURS DE FORMATION": capitals say nothing in shouted text
            if kind[0].isupper() and _follows_capitalised_word(text, found.start("kind")):
                continue  # Title Case: "Des Cours Intéressants"
        end = found.end()
        tail = _POSTCODE_TOWN.match(text, end)
        if tail:
            end = tail.end()
        start = found.start("num") if numbered else found.start("kind")
        spans.append((start, end))
        position = end
    return spans


def _follows_capitalised_word(text: str, start: int) -> bool:
    before = text[max(0, start - 40):start]
    if not before.endswith(" "):
        return False
    words = before.split()
    return bool(words) and _is_titlecase(words[-1]) and words[-1][-1].isalpha()


# ---------------------------------------------------------------------------------------
# Insults. Our own small list; inflections written out. Matched in the folded text.

_INSULTS = [*_words("""
    con conne cons connes connard connards connarde connardes connasse connasses
    enculé enculés enculée enculées enculer
    salope salopes salopard salopards salaud salauds
    pute putes putain putains ptain ptn
    merde merdes merdique merdiques emmerdeur emmerdeurs emmerdeuse emmerdeuses
    bâtard bâtards bâtarde bâtardes
    abruti abrutie abrutis abruties crétin crétine crétins crétines imbécile imbéciles
    enfoiré enfoirés enfoirée enfoirées pétasse pétasses pouffiasse pouffiasses poufiasse
    bouffon bouffons bouffonne bouffonnes guignol guignols tocard tocards tocarde tocardes
    couillon couillons couillonne branleur branleurs branleuse branleuses gogol gogols
    fdp ntm putin
    bougnoule bougnoules bicot bicots négro négros youpin youpins pédé pédés tarlouze
    tarlouzes gouine gouines
"""), "ta gueule", "fils de pute", "bon à rien", "bons à rien", "bonne à rien",
            "bonnes à rien", "trou du cul", "trous du cul", "nique ta mère",
            "va te faire foutre"]


def _insult_pattern(phrase: str) -> str:
    words = []
    for word in _fold_word(phrase).split():
        units = []
        for index, letter in enumerate(word):
            if index and letter == word[index - 1]:
                continue  # doubled letters are matched by "+": "conard" and "connnard"
            unit = re.escape(letter) + "+"
            if index:  # the first letter stays, so that "***" alone matches nothing
                unit = rf"(?:{unit}|\*)"
            units.append(unit + f"[{_COMBINING}]*")
        words.append("".join(units))
    return r"\s+".join(words)


# The look-ahead on first letters spares trying every word at every position.
_INSULT = re.compile(
    r"(?<![\w*])(?=[" + "".join(sorted({_fold_word(p)[0] for p in _INSULTS})) + "])(?:"
    + "|".join(_insult_pattern(p) for p in sorted(_INSULTS, key=len, reverse=True))
    + r")(?![\w*])", re.IGNORECASE)


# ---------------------------------------------------------------------------------------
# Shouting.

#: Acronyms of vocational training and of the administration: capitals that are not
#: shouting. Our own list; a missing acronym makes a false "shouting" only when three
#: or more of them follow each other. Acronyms that are also French words in capitals
#: (CE, EU, ME) are left out: shouted text is full of them.
_ACRONYMS = frozenset(_words("""
    AFPA AFPR AFDAS AGEFIPH APEC ARE ASS AAH BAC BAFA BAFD BEP BEPECASER BP BPJEPS BSR BTP
    BTS BUT CACES CAF CAP CAT CATEC CCI CCNA CDD CDI CEP CFA CG CI CIF CISCO CIEL CMA CNAM
    CPAM CPF CQP CSP CV DAEU DEAES DEAP DEAS DEEJE DEME DEUST DUT ECF ECSR EPIDE ESAT FCO
    FIMO FLE FT GPME GRETA HACCP HT IAE IBC ICDL INRS IT MCO MDPH MELEC MOOC MOS NDRC OF OK
    OPCO PC PCIE PDF PE PLIE PME PMSMP POE POEC POEI PRAP PRO PSC PSE QCM RAS RER RH RNCP
    RQTH RS RSA SAM SAV SIAE SIO SIREN SIRET SMIC SNCF SST TD TER TGV TOEIC TOSA TP TPE TRE
    TSAI TTC UE USB VAE ZA ZAC ZI ADVF AEPE ASMS ASH AVS AES ASSP AIPR GPS EHPAD SSIAP
    CESF TOEFL DELF DALF TCF VTC PL SPL HSE QSE ERP SAP CRM SQL PHP HTML CSS
"""))

_TOKEN = re.compile(rf"[^\W_][\w{_COMBINING}]*(?:['’][^\W_][\w{_COMBINING}]*)*")
_CAPS_PAIR = re.compile(f"[{_UPPER}]{{2}}")
_RUN_WORDS, _RUN_LETTERS = 3, 8
_FIELD_LETTERS, _FIELD_SHARE = 12, 0.7


def _shouting(text: str) -> list[tuple[int, int]]:
    if not _CAPS_PAIR.search(text):
        return []
    runs: list[tuple[int, int]] = []
    run_start = run_end = -1
    run_words = run_letters = 0
    upper_letters = cased_letters = 0
    first = last = -1
    strong_seen = False

    def close() -> None:
        if run_words >= _RUN_WORDS and run_letters >= _RUN_LETTERS:
            runs.append((run_start, run_end))

    for token in _TOKEN.finditer(text):
        word = token.group()
        if any(c.isdigit() for c in word) or word in _ACRONYMS:
            continue  # neither counts nor breaks a stretch
        letters = sum(c.isalpha() for c in word)
        if not any(c.isupper() or c.islower() for c in word):
            continue  # scripts without case
        cased_letters += letters
        if word.isupper():
            upper_letters += letters
            strong_seen = strong_seen or letters >= 2
            if first < 0:
                first = token.start()
            last = token.end()
            if run_start < 0:
                run_start, run_words, run_letters = token.start(), 0, 0
            run_end = token.end()
            run_letters += letters
            run_words += letters >= 2
        else:
            if run_start >= 0:
                close()
            run_start = -1
    if run_start >= 0:
        close()
    if strong_seen and cased_letters >= _FIELD_LETTERS \
            and upper_letters >= _FIELD_SHARE * cased_letters:
        return [(first, last)]
    return runs


# ---------------------------------------------------------------------------------------
# Screening.

def _resolve(candidates: list[tuple[Flag, int, int]]) -> list[tuple[Flag, int, int]]:
    """Drop every match that overlaps a more specific one (shouting overlaps freely)."""
    # Kept spans never overlap, so their starts and ends sort alike: a new span fits
    # when it ends before the next kept one starts and starts after the previous ends.
    starts: list[int] = []
    ends: list[int] = []
    kept: list[tuple[Flag, int, int]] = []
    shouting = [c for c in candidates if c[0] is Flag.shouting]
    others = sorted((c for c in candidates if c[0] is not Flag.shouting),
                    key=lambda c: (_PRIORITY[c[0]], c[1], c[1] - c[2]))
    for flag, start, end in others:
        index = bisect.bisect_right(starts, start)
        if start < end and (index == 0 or ends[index - 1] <= start) \
                and (index == len(starts) or end <= starts[index]):
            starts.insert(index, start)
            ends.insert(index, end)
            kept.append((flag, start, end))
    return sorted(kept + shouting, key=lambda c: (c[1], _PRIORITY[c[0]]))


def _screen_field(text: str, field: Field) -> list[Match]:
    candidates: list[tuple[Flag, int, int]] = []
    candidates += [(Flag.email, m.start(), m.end()) for m in _EMAIL.finditer(text)]
    candidates += [(Flag.email, m.start(), m.end()) for m in _EMAIL_DISGUISED.finditer(text)]
    candidates += [(Flag.link, m.start(), m.end()) for m in _LINK.finditer(text)]
    candidates += [(Flag.phone, m.start(), m.end()) for m in _PHONE.finditer(text)]
    candidates += [(Flag.street_address, s, e) for s, e in _street_addresses(text)]
    candidates += [(Flag.person_name, s, e) for s, e in _person_names(text)]
    folded = text.translate(_FOLD)
    candidates += [(Flag.insult, m.start(), m.end()) for m in _INSULT.finditer(folded)]
    candidates += [(Flag.shouting, s, e) for s, e in _shouting(text)]
    return [Match(flag, start, end, text[start:end], field)
            for flag, start, end in _resolve(candidates)]


def screen(text: str | None, title: str | None = None) -> Screening:
    """Screen a comment's title and text. Spans are offsets into the field they are in
    (``Match.field``); ``None`` and empty fields have no matches."""
    matches: list[Match] = []
    if title:
        matches += _screen_field(title, Field.title)
    if text:
        matches += _screen_field(text, Field.text)
    return Screening(tuple(matches))


@functools.lru_cache(maxsize=4096)
def screen_kept(text: str | None, title: str | None = None) -> Screening:
    """``screen``, kept per process (the result depends on the words alone): a moderator
    reloads the queue after every decision, and its other 19 comments are the same."""
    return screen(text, title)


def highlight(text: str | None, matches: Iterable[Match], field: Field | str = Field.text
              ) -> list[tuple[str, Flag | None]]:
    """The pieces of ``text`` in order, each with the flag to mark it with (None: plain).

    Joined, the pieces are the text. Where shouting contains another match, the other
    match marks its own words. The template escapes every piece and wraps the flagged
    ones in ``<mark>``: nothing here is markup.
    """
    if not text:
        return []
    # A sweep over the cuts, counting the matches of each flag open at each piece.
    events: dict[int, list[tuple[Flag, int]]] = {0: [], len(text): []}
    for m in matches:
        if m.field == field and 0 <= m.start < m.end <= len(text):
            events.setdefault(m.start, []).append((m.flag, 1))
            events.setdefault(m.end, []).append((m.flag, -1))
    cuts = sorted(events)
    open_by_flag = dict.fromkeys(_PRIORITY, 0)
    by_priority = sorted(_PRIORITY, key=_PRIORITY.__getitem__)
    pieces: list[tuple[str, Flag | None]] = []
    for start, end in itertools.pairwise(cuts):
        for flag, change in events[start]:
            open_by_flag[flag] += change
        covering = next((flag for flag in by_priority if open_by_flag[flag]), None)
        pieces.append((text[start:end], covering))
    return pieces


def suggest_redaction(text: str | None, matches: Iterable[Match],
                      field: Field | str = Field.text) -> str:
    """``text`` with its personal data and links replaced by French placeholders, to
    offer the moderator; everything else, insults and shouting included, is kept as is."""
    if not text:
        return text or ""
    spans = sorted((m.start, m.end, m.flag) for m in matches
                   if m.field == field and m.flag in PLACEHOLDERS
                   and 0 <= m.start < m.end <= len(text))
    pieces, position = [], 0
    for start, end, flag in spans:
        if start < position:
            continue  # screen() never overlaps these; a caller's list might
        pieces += [text[position:start], PLACEHOLDERS[flag]]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
