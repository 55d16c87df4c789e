"""Deterministic France Travail ("pe") trainee exports of any size, for benchmarks and tests.

`write_pe_file(path, rows, seed)` streams a pipe-delimited file in the 38-column layout of
ANCHORS.md ("Import format (France Travail export, PE)") and returns what it wrote. Memory
stays flat whatever `rows` is (lines are written in chunks; only the training bodies and a
small pool of recent trainees are kept).

What the file holds:
- sessions of 5–20 trainees; `max(10, rows // 50)` delivering training bodies (20,000 at
  a million rows), each with a valid SIRET; about 20 % of them are branches whose
  responsible body (`dc_siret`) is their company's head office (same SIREN);
- in about 30 % of the rows (whole sessions) the delivering SIRET is `NULL` or
  `00000000000000`: the responsible columns then hold the delivering body itself;
- about 2 % of rows are a trainee already seen in an earlier session (same email and
  national id), never twice in one session: (email, dn_session_id) is unique;
- exactly one row in 20 (row index % 20 == 19, i.e. 5 %) is deliberately bad, cycling
  through BAD_KINDS: an invalid email, a SIRET with a wrong check digit (the SIRET that
  applies: the delivering one, or the responsible one when the delivering one is empty),
  an end date before the start date, an unknown funder code, a malformed postcode (a
  letter O for a zero, or six digits).
  Every other row is valid in all those respects; each bad row has exactly one defect.
- sessions end during the 18 months before `last_end` (default 2026-03-31: fixed so that
  the bytes depend only on `rows` and `seed`); names, phones (ARCEP's ranges reserved for
  fiction) and emails (example.org/.com/.net) are invented.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import unicodedata
from collections import deque
from pathlib import Path

from stdnum import luhn

from avis.catalog.demo_data import FIRST_NAMES, LAST_NAMES
from avis.catalog.imports.formats import PE_COLUMNS

__all__ = ["BAD_KINDS", "HEADER", "KNOWN_FUNDERS", "write_pe_file"]

COLUMNS = PE_COLUMNS
HEADER = "|".join(COLUMNS)

NULL = "NULL"
ZERO_SIRET = "0" * 14
#: funder codes of ANCHORS.md ("Data")
KNOWN_FUNDERS = frozenset(
    {"0", "2", "3", "4", "5", "7", "9", "10", "11", "12", "13", "14", "15", "16", "17"}
)
BAD_KINDS = ("email", "siret", "dates", "funder", "postcode")
#: one row in BAD_EVERY is bad
BAD_EVERY = 20
ROWS_PER_WRITE = 20_000
DEFAULT_LAST_END = dt.date(2026, 3, 31)

# Column positions used to build bad rows.
_I = {name: i for i, name in enumerate(COLUMNS)}

# (town, postcode, INSEE code, département) across France, Corsica and overseas.
TOWNS = (
    ("Paris", "75011", "75056", "75"),
    ("Marseille", "13001", "13055", "13"),
    ("Lyon", "69003", "69123", "69"),
    ("Toulouse", "31000", "31555", "31"),
    ("Nice", "06000", "06088", "06"),
    ("Nantes", "44000", "44109", "44"),
    ("Montpellier", "34000", "34172", "34"),
    ("Strasbourg", "67000", "67482", "67"),
    ("Bordeaux", "33000", "33063", "33"),
    ("Lille", "59000", "59350", "59"),
    ("Rennes", "35000", "35238", "35"),
    ("Reims", "51100", "51454", "51"),
    ("Saint-Étienne", "42000", "42218", "42"),
    ("Le Havre", "76600", "76351", "76"),
    ("Toulon", "83000", "83137", "83"),
    ("Grenoble", "38000", "38185", "38"),
    ("Dijon", "21000", "21231", "21"),
    ("Angers", "49000", "49007", "49"),
    ("Nîmes", "30000", "30189", "30"),
    ("Villeurbanne", "69100", "69266", "69"),
    ("Clermont-Ferrand", "63000", "63113", "63"),
    ("Le Mans", "72000", "72181", "72"),
    ("Aix-en-Provence", "13090", "13001", "13"),
    ("Brest", "29200", "29019", "29"),
    ("Tours", "37000", "37261", "37"),
    ("Amiens", "80000", "80021", "80"),
    ("Limoges", "87000", "87085", "87"),
    ("Perpignan", "66000", "66136", "66"),
    ("Metz", "57000", "57463", "57"),
    ("Besançon", "25000", "25056", "25"),
    ("Orléans", "45000", "45234", "45"),
    ("Rouen", "76000", "76540", "76"),
    ("Caen", "14000", "14118", "14"),
    ("Nancy", "54000", "54395", "54"),
    ("Mulhouse", "68100", "68224", "68"),
    ("Argenteuil", "95100", "95018", "95"),
    ("Saint-Denis", "93200", "93066", "93"),
    ("Montreuil", "93100", "93048", "93"),
    ("Pau", "64000", "64445", "64"),
    ("Poitiers", "86000", "86194", "86"),
    ("La Rochelle", "17000", "17300", "17"),
    ("Avignon", "84000", "84007", "84"),
    ("Laval", "53000", "53130", "53"),
    ("La Roche-sur-Yon", "85000", "85191", "85"),
    ("Saint-Nazaire", "44600", "44184", "44"),
    ("Cholet", "49300", "49099", "49"),
    ("Lorient", "56100", "56121", "56"),
    ("Vannes", "56000", "56260", "56"),
    ("Quimper", "29000", "29232", "29"),
    ("Chartres", "28000", "28085", "28"),
    ("Troyes", "10000", "10387", "10"),
    ("Valence", "26000", "26362", "26"),
    ("Annecy", "74000", "74010", "74"),
    ("Chambéry", "73000", "73065", "73"),
    ("Bayonne", "64100", "64102", "64"),
    ("Ajaccio", "20000", "2A004", "2A"),
    ("Bastia", "20200", "2B033", "2B"),
    ("Pointe-à-Pitre", "97110", "97120", "971"),
    ("Fort-de-France", "97200", "97209", "972"),
    ("Cayenne", "97300", "97302", "973"),
    ("Saint-Denis", "97400", "97411", "974"),
    ("Mamoudzou", "97600", "97611", "976"),
)

# (title, formacodes (1–5), certifinfos (0–5)); codes are plausible illustrations.
COURSES = (
    ("AIDE A DOMICILE", ("42056", "44028"), ("54913",)),
    ("ASSISTANT DE VIE AUX FAMILLES", ("42056", "44054", "44028"), ("90535", "54913")),
    ("AGENT DE PROPRETE ET D'HYGIENE", ("42891",), ("87205",)),
    ("PREPARATION CONCOURS INFIRMIER", ("43448", "15084"), ()),
    ("COMMIS DE CUISINE", ("42752", "42754"), ("92150",)),
    ("AGENT DE RESTAURATION", ("42752", "42781", "42754"), ("82327",)),
    ("SERVEUR EN RESTAURATION", ("42789", "42711"), ("92153",)),
    ("PREPARATEUR DE COMMANDES", ("31812", "31854"), ("86384",)),
    ("CARISTE D'ENTREPOT", ("31813", "31812"), ("86377", "54682")),
    ("CONDUCTEUR DU TRANSPORT ROUTIER INTERURBAIN DE VOYAGEURS", ("31746", "31795"), ("87198",)),
    ("MACON", ("22454", "22470"), ("87268",)),
    ("ELECTRICIEN D'EQUIPEMENT DU BATIMENT", ("24054", "22681"), ("82243",)),
    ("OPERATEUR MENUISERIE INDUSTRIELLE", ("22554", "22576"), ("87271",)),
    ("SOUDEUR ASSEMBLEUR INDUSTRIEL", ("23684", "23692", "23654"), ("82358", "91002")),
    ("SECRETAIRE ASSISTANT", ("35054", "35028"), ("82270",)),
    ("VENDEUR CONSEIL EN MAGASIN", ("34588", "34566"), ("87161",)),
    ("EMPLOYE COMMERCIAL EN MAGASIN", ("34566", "34594"), ("87160",)),
    ("DEVELOPPEUR WEB ET WEB MOBILE", ("46270", "31088", "31054"), ("106360",)),
    ("MECANICIEN AUTOMOBILE", ("31815", "31840"), ("87187", "104528")),
    ("REMISE A NIVEAU COMPETENCES CLES", ("15041", "15061", "15084", "15031", "15099"), ()),
    ("TECHNICIEN D'USINAGE", ("23665", "23654", "23684", "31090"), ("87229", "82341", "91003")),
    (
        "ACCOMPAGNANT EDUCATIF ET SOCIAL",
        ("44054", "44092", "42056", "44028", "43436"),
        ("87185", "90535", "54913", "86422", "93011"),
    ),
    ("AGENT MAGASINIER", ("31812", "31854"), ("86381",)),
    ("COMPTABLE ASSISTANT", ("32663",), ("82305",)),
    ("OUVRIER DU PAYSAGE", ("21046", "21054"), ("87280",)),
    ("FRANCAIS LANGUE ETRANGERE", ("15235", "15254"), ("86421",)),
)

# (liste_financeur, c_dispositifformation, weight)
FUNDING = (
    ("2", "CR", 30),
    ("2;3", "CR", 15),
    ("4", "AIF", 20),
    ("4", "AFC", 10),
    ("2;4", "CR", 8),
    ("4;16", "POEI", 6),
    ("10", "BEN", 4),
    ("4", "FOAD", 4),
    ("13", "41N", 3),
)

# fmt: off
# The demo's French names (avis/catalog/demo_data.py).

# Words for invented training-body names: PREFIX THEME TOWN (+ a number past the combinations).
_PREFIXES = (
    "CENTRE DE FORMATION", "INSTITUT", "ACADEMIE", "ATELIERS", "ECOLE", "CAMPUS", "AGENCE",
    "ESPACE", "POLE", "MAISON", "CAP", "HORIZON", "ATOUT", "PARCOURS", "TREMPLIN", "ELAN",
)
_THEMES = (
    "METIERS", "COMPETENCES", "EMPLOI", "BATIMENT", "LOGISTIQUE", "INDUSTRIE", "SERVICES",
    "NUMERIQUE", "RESTAURATION", "COMMERCE", "SANTE SOCIAL", "TRANSPORT", "TERTIAIRE",
    "AVENIR", "INSERTION", "QUALIFICATION",
)
# fmt: on
_LEGAL_FORMS = ("SAS", "SARL", "ASSOCIATION", "SCOP", "EURL")
_EMAIL_DOMAINS = ("example.org", "example.com", "example.net")
_BAD_EMAILS = ("{local}.{domain}", "{local}@", "{local} @{domain}", "{local}@@{domain}")
_BAD_FUNDERS = ("99", "2;8", "1", "6;4")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _slug(text: str) -> str:
    return "".join(c for c in _ascii(text).lower() if c.isalnum() or c == "-")


def _timestamp(day: dt.date) -> str:
    return f"{day.isoformat()} 00:00:00.0"


class _Bodies:
    """Training bodies: SIRET, labels, home town, courses and responsible body."""

    def __init__(self, rng: random.Random, count: int) -> None:
        used: set[str] = set()
        self.rows: list[tuple[str, str, str, int, tuple[int, ...], tuple[str, str, str]]] = []
        combinations = len(_PREFIXES) * len(_THEMES)
        for i in range(count):
            while True:
                siren8 = f"{rng.randrange(10_000_000, 100_000_000):08d}"
                if siren8 not in used and siren8 != "35600000":
                    used.add(siren8)
                    break
            siren = siren8 + luhn.calc_check_digit(siren8)
            town = rng.randrange(len(TOWNS))
            name = (
                f"{_PREFIXES[i % len(_PREFIXES)]} {_THEMES[(i // len(_PREFIXES)) % len(_THEMES)]}"
                f" {_ascii(TOWNS[town][0]).upper()}"
            )
            if i >= combinations:
                name += f" {i // combinations + 1}"
            legal = f"{name} {rng.choice(_LEGAL_FORMS)}"
            courses = tuple(rng.sample(range(len(COURSES)), 3))
            if rng.random() < 0.2:  # a branch: its company's head office is responsible
                nic = rng.randrange(2, 200)
                siret = self._siret(siren, nic)
                responsible = (self._siret(siren, 1), f"{name} SIEGE", legal)
            else:
                siret = self._siret(siren, rng.randrange(1, 4))
                responsible = (siret, name, legal)
            self.rows.append((siret, name, legal, town, courses, responsible))

    @staticmethod
    def _siret(siren: str, nic: int) -> str:
        head = f"{siren}{nic:04d}"
        return head + luhn.calc_check_digit(head)


def _bad_siret(siret: str) -> str:
    """The same SIRET with a wrong check digit."""
    return siret[:-1] + str((int(siret[-1]) + 1) % 10)


def write_pe_file(
    path: str | os.PathLike[str],
    rows: int,
    seed: int = 0,
    *,
    last_end: dt.date = DEFAULT_LAST_END,
) -> dict:
    """Write a "pe" export of `rows` data rows (plus the header) to `path`.

    Returns ``{"rows", "bad_rows": {kind: count}, "bad_total", "bodies",
    "responsible_bodies", "sessions", "trainees", "null_delivering_rows", "bytes"}``:
    `bodies` counts the distinct SIRETs that deliver (the responsible one where the
    delivering one is empty), `trainees` the distinct people (national ids).
    Same `rows`, `seed` and `last_end` → identical bytes.
    """
    if rows < 0:
        raise ValueError("rows must not be negative")
    rng = random.Random(seed)
    bodies = _Bodies(rng, max(10, rows // 50))
    n_bodies = len(bodies.rows)
    funding = [(f, d) for f, d, _ in FUNDING]
    funding_weights = [w for _, _, w in FUNDING]
    first_slugs = [(name, _slug(name)) for name in FIRST_NAMES]
    last_names = [(_ascii(name).upper(), _slug(name)) for name in LAST_NAMES]

    bad_rows = dict.fromkeys(BAD_KINDS, 0)
    used_bodies: set[int] = set()
    responsible_sirets: set[str] = set()
    formations: dict[tuple[int, int], str] = {}
    actions: dict[int, list[tuple[str, int, str, str, str]]] = {}
    recent: deque[tuple[str, str, str, str, str, str, str]] = deque(maxlen=2_000)
    next_session = 2_400_000 + rng.randrange(100_000)
    next_action = 80_000 + rng.randrange(10_000)
    next_formation = 10_000 + rng.randrange(10_000)
    trainee = 0
    sessions = 0
    null_delivering = 0
    written = 0

    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(HEADER + "\n")
        chunk: list[str] = []
        while written < rows:
            # Session size 5–20, the last ones adjusted so that the total is exact.
            remaining = rows - written
            size = rng.randint(5, 20)
            if remaining - size < 5:
                size = remaining if remaining <= 20 else remaining - 5

            b = sessions if sessions < n_bodies else rng.randrange(n_bodies)
            siret, name, legal, home, courses, responsible = bodies.rows[b]
            used_bodies.add(b)
            known = actions.setdefault(b, [])
            if known and rng.random() < 0.4:
                formation_id, course, funders, dispositif, action_numero = rng.choice(known)
            else:
                course = rng.choice(courses)
                formation_id = formations.get((b, course))
                if formation_id is None:
                    next_formation += rng.randint(1, 50)
                    formation_id = formations[b, course] = f"14_AF_{next_formation:010d}"
                funders, dispositif = rng.choices(funding, funding_weights)[0]
                next_action += rng.randint(1, 30)
                action_numero = f"14_SE_{next_action:010d}"
                known.append((formation_id, course, funders, dispositif, action_numero))
            title, formacodes, certifinfos = COURSES[course]
            town, postcode, insee, departement = TOWNS[
                home if rng.random() < 0.8 else rng.randrange(len(TOWNS))
            ]
            end = last_end - dt.timedelta(days=rng.randint(0, 547))
            start = end - dt.timedelta(days=rng.randint(30, 270))
            next_session += rng.randint(1, 9)
            sessions += 1

            delivering = rng.random()
            if delivering < 0.3:  # the responsible columns name the delivering body itself
                null_delivering += size
                resp_siret, resp_name, resp_legal = siret, name, legal
                of_siret, of_name, of_legal = (
                    (NULL, NULL, NULL) if delivering < 0.15 else (ZERO_SIRET, NULL, NULL)
                )
            else:
                resp_siret, resp_name, resp_legal = responsible
                of_siret, of_name, of_legal = siret, name, legal
            responsible_sirets.add(resp_siret)

            fields = [
                formation_id,
                title,
                _timestamp(start),
                _timestamp(end),
                f"{b + 1:06d}",
                postcode,
                insee,
                _ascii(town).upper(),
                *formacodes,
                *([NULL] * (5 - len(formacodes))),
                *certifinfos,
                *([NULL] * (5 - len(certifinfos))),
                resp_siret,
                resp_name,
                resp_legal,
                departement,
                f"SE_{next_session:010d}",
                action_numero,
                funders,
                dispositif,
                of_siret,
                of_name,
                of_legal,
            ]
            offset = _I["dc_formation_id"]
            tail = "|".join(fields)
            session_id = str(next_session)

            in_session: set[str] = set()
            new_recent = []
            for _ in range(size):
                if recent and rng.random() < 0.02:
                    person = recent[rng.randrange(len(recent))]
                    if person[2] in in_session:
                        person = None
                else:
                    person = None
                if person is None:
                    trainee += 1
                    first, first_slug = first_slugs[rng.randrange(len(first_slugs))]
                    last, last_slug = last_names[rng.randrange(len(last_names))]
                    phone = rng.randrange(10_000)
                    person = (
                        last,
                        first,
                        f"{first_slug}.{last_slug}{trainee}@{_EMAIL_DOMAINS[trainee % 3]}",
                        f"063998{phone:04d}" if phone % 10 < 7 else NULL,
                        f"026191{phone:04d}" if phone % 10 == 0 else NULL,
                        str(20_000_000 + trainee),
                        f"{trainee * 7919 % 10_000_000:07d}{'ABCDEFGHJK'[trainee % 10]}",
                    )
                in_session.add(person[2])
                last, first, email, phone1, phone2, national, local = person

                if written % BAD_EVERY == BAD_EVERY - 1:
                    kind = BAD_KINDS[(written // BAD_EVERY) % len(BAD_KINDS)]
                    bad_rows[kind] += 1
                    variant = written // (BAD_EVERY * len(BAD_KINDS))
                    row_fields = list(fields)
                    if kind == "email":
                        local_part, domain = email.split("@")
                        email = _BAD_EMAILS[variant % len(_BAD_EMAILS)].format(
                            local=local_part, domain=domain
                        )
                    elif kind == "siret":
                        at = "dc_siretorganismeformateur"
                        if of_siret in (NULL, ZERO_SIRET):
                            at = "dc_siret"
                        row_fields[_I[at] - offset] = _bad_siret(row_fields[_I[at] - offset])
                    elif kind == "dates":
                        start_at = _I["dd_datedebutplanformation"] - offset
                        end_at = _I["dd_datefinplanformation"] - offset
                        row_fields[start_at], row_fields[end_at] = (
                            row_fields[end_at],
                            row_fields[start_at],
                        )
                    elif kind == "funder":
                        row_fields[_I["liste_financeur"] - offset] = _BAD_FUNDERS[
                            variant % len(_BAD_FUNDERS)
                        ]
                    else:
                        # not 4 digits: importers rightly restore a leading zero lost
                        # in a spreadsheet ("9510" -> "09510")
                        row_fields[_I["dc_cp_lieuformation"] - offset] = (
                            postcode[:2] + "O" + postcode[3:],
                            postcode + "0",
                        )[variant % 2]
                    row_tail = "|".join(row_fields)
                else:
                    row_tail = tail
                    new_recent.append(person)
                chunk.append(
                    f"{last}|{first}|{email}|{phone1}|{phone2}|V|{national}|{session_id}|"
                    f"{local}|{row_tail}\n"
                )
                written += 1
            recent.extend(new_recent)
            if len(chunk) >= ROWS_PER_WRITE:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))

    return {
        "rows": rows,
        "bad_rows": bad_rows,
        "bad_total": sum(bad_rows.values()),
        "bodies": len(used_bodies),
        "responsible_bodies": len(responsible_sirets),
        "sessions": sessions,
        "trainees": trainee,
        "null_delivering_rows": null_delivering,
        "bytes": Path(path).stat().st_size,
    }
