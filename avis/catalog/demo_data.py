"""A realistic, deterministic demo data set for the Pays de la Loire region.

`demo_rows()` returns trainee rows in our generic import format (CONTRACT.md, "Trainee
import formats"): one row per trainee × session, every value a string, dates ISO, lists
joined with ``|``, empty values as ``""``. Everything derives from ``seed`` and ``today``
through private ``random.Random`` instances: same inputs, identical frame.

Training bodies, their SIRETs and the course catalogue do not depend on ``seed`` (so that
demo URLs such as ``/organismes/<siret>`` stay stable); sessions, dates and trainees do.
All SIRETs are invented (valid check digits, not registry entries); emails use the
reserved ``example.*`` domains only. Formacodes and Certif Info numbers are plausible
illustrations, not an authoritative mapping.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import unicodedata
from dataclasses import dataclass

import pandas as pd
from stdnum import luhn

from avis.catalog.imports.formats import GENERIC_COLUMNS

__all__ = ["COLUMNS", "DEMO_REGION", "demo_rows"]

#: INSEE code of the Pays de la Loire region
DEMO_REGION = "52"

#: the generic import format's columns, in order
COLUMNS = GENERIC_COLUMNS

# Real towns of the region's five départements and their postcodes.
TOWNS: dict[str, str] = {
    # 44 Loire-Atlantique
    "Nantes": "44000",
    "Saint-Herblain": "44800",
    "Saint-Nazaire": "44600",
    "Rezé": "44400",
    "Carquefou": "44470",
    "Châteaubriant": "44110",
    "Ancenis-Saint-Géréon": "44150",
    "Blain": "44130",
    "Guérande": "44350",
    "Pornic": "44210",
    "Clisson": "44190",
    # 49 Maine-et-Loire
    "Angers": "49000",
    "Cholet": "49300",
    "Saumur": "49400",
    "Segré-en-Anjou Bleu": "49500",
    "Doué-en-Anjou": "49700",
    "Beaupréau-en-Mauges": "49600",
    "Trélazé": "49800",
    # 53 Mayenne
    "Laval": "53000",
    "Château-Gontier-sur-Mayenne": "53200",
    "Mayenne": "53100",
    "Craon": "53400",
    "Évron": "53600",
    "Ernée": "53500",
    # 72 Sarthe
    "Le Mans": "72000",
    "La Flèche": "72200",
    "Sablé-sur-Sarthe": "72300",
    "Mamers": "72600",
    "La Ferté-Bernard": "72400",
    "Allonnes": "72700",
    # 85 Vendée
    "La Roche-sur-Yon": "85000",
    "Les Sables-d'Olonne": "85100",
    "Challans": "85300",
    "Fontenay-le-Comte": "85200",
    "Les Herbiers": "85500",
    "Luçon": "85400",
    "Montaigu-Vendée": "85600",
    "Pouzauges": "85700",
}


@dataclass(frozen=True)
class _Course:
    title: str
    domain: str
    formacodes: tuple[str, ...]
    certifinfos: tuple[str, ...]
    #: shortest and longest duration, in months
    months: tuple[int, int]


COURSES: tuple[_Course, ...] = (
    # care, personal services, health and social work
    _Course("Aide à domicile", "sap", ("42056", "44028"), ("54913",), (3, 6)),
    _Course("Assistant de vie aux familles", "sap", ("42056", "44054"), ("90535",), (4, 8)),
    _Course("Agent de propreté et d'hygiène", "sap", ("42891",), ("87205",), (2, 4)),
    _Course("Infirmier (prépa concours)", "sap", ("43448", "15084"), (), (3, 6)),
    _Course("Aide-soignant (prépa concours)", "sap", ("43436", "15084"), (), (2, 5)),
    _Course("Accompagnant éducatif et social", "sap", ("44054", "44092"), ("87185",), (6, 9)),
    # hotels, restaurants, catering
    _Course("Commis de cuisine", "resto", ("42752", "42754"), ("92150",), (3, 6)),
    _Course("Agent de restauration", "resto", ("42752", "42781"), ("82327",), (2, 5)),
    _Course("Serveur en restauration", "resto", ("42789", "42711"), ("92153",), (3, 6)),
    _Course("Cuisinier", "resto", ("42752",), ("104781", "92151"), (6, 9)),
    # logistics and transport
    _Course("Préparateur de commandes", "logi", ("31812", "31854"), ("86384",), (2, 4)),
    _Course("Cariste d'entrepôt", "logi", ("31813", "31812"), ("86377", "54682"), (1, 3)),
    _Course("Conducteur de bus", "logi", ("31746", "31795"), ("87198",), (3, 5)),
    _Course("Conducteur routier de marchandises", "logi", ("31754",), ("87197",), (3, 5)),
    _Course("Agent magasinier", "logi", ("31812", "31854"), ("86381",), (2, 5)),
    # building
    _Course("Maçon", "btp", ("22454", "22470"), ("87268",), (5, 8)),
    _Course("Électricien d'équipement du bâtiment", "btp", ("24054", "22681"), ("82243",), (5, 8)),
    _Course("Peintre en bâtiment", "btp", ("22676",), ("87244",), (4, 7)),
    _Course("Plaquiste", "btp", ("22684", "22676"), ("87242",), (3, 6)),
    _Course("Agent d'entretien du bâtiment", "btp", ("22628", "22454"), ("86343",), (4, 7)),
    # industry
    _Course("Opérateur menuiserie industrielle", "indus", ("22554", "22576"), ("87271",), (3, 6)),
    _Course("Soudeur", "indus", ("23684", "23692"), ("82358", "91002"), (4, 8)),
    _Course("Agent de fabrication industrielle", "indus", ("31090", "31054"), ("87224",), (2, 5)),
    _Course("Technicien d'usinage", "indus", ("23665", "23654"), ("87229",), (6, 9)),
    _Course(
        "Conducteur de ligne en agroalimentaire", "indus", ("21546", "31090"), ("86375",), (3, 6)
    ),
    # office work
    _Course("Secrétaire assistant", "tertiaire", ("35054", "35028"), ("82270",), (5, 8)),
    _Course(
        "Employé administratif et d'accueil", "tertiaire", ("35054", "35021"), ("96458",), (4, 7)
    ),
    _Course("Comptable assistant", "tertiaire", ("32663",), ("82305",), (6, 9)),
    _Course("Gestionnaire de paie", "tertiaire", ("32688", "32663"), ("92296",), (6, 9)),
    # retail
    _Course("Vendeur conseil en magasin", "commerce", ("34588", "34566"), ("87161",), (4, 7)),
    _Course("Employé commercial en magasin", "commerce", ("34566", "34594"), ("87160",), (3, 6)),
    _Course("Manager d'unité marchande", "commerce", ("34562", "32047"), ("87162",), (6, 9)),
    # digital
    _Course("Développeur web et web mobile", "numerique", ("46270", "31088"), ("106360",), (6, 9)),
    _Course(
        "Technicien d'assistance en informatique",
        "numerique",
        ("24231", "31006"),
        ("87253",),
        (5, 8),
    ),
    _Course("Compétences numériques de base", "numerique", ("15099", "70332"), (), (1, 2)),
    # motor vehicles
    _Course("Mécanicien automobile", "auto", ("31815", "31840"), ("87187", "104528"), (5, 9)),
    _Course("Carrossier peintre automobile", "auto", ("31862", "31877"), ("87188",), (6, 9)),
    # basic skills and career projects
    _Course("Remise à niveau – compétences clés", "base", ("15041", "15061", "15084"), (), (1, 4)),
    _Course("Français langue étrangère (FLE)", "base", ("15235", "15254"), ("86421",), (2, 5)),
    _Course("Projet professionnel – découverte des métiers", "base", ("15031",), (), (1, 3)),
    # agriculture and landscaping
    _Course("Ouvrier du paysage", "agri", ("21046", "21054"), ("87280",), (4, 8)),
    _Course("Ouvrier viticole", "agri", ("21261", "21054"), ("86380",), (3, 6)),
    _Course("Agent de production horticole", "agri", ("21028", "21046"), ("87279",), (3, 6)),
)


@dataclass(frozen=True)
class _Body:
    name: str
    towns: tuple[str, ...]  # the first one is where it is based
    domains: tuple[str, ...]
    #: key of the responsible head office in _HEAD_OFFICES, or "" when it delivers itself
    head_office: str = ""
    #: relative share of the sessions
    weight: int = 1


# Responsible bodies named by `_Body.head_office`. AFPA centres and Horizon Compétences'
# branch are establishments of their head office's company (same SIREN); the MFR
# federation is a separate association. Horizon Compétences' head office also delivers.
_HEAD_OFFICES: dict[str, str] = {
    "afpa": "AFPA – Direction régionale Pays de la Loire",
    "mfr": "Fédération régionale des Maisons Familiales Rurales des Pays de la Loire",
    "horizon": "Horizon Compétences",
}

BODIES: tuple[_Body, ...] = (
    _Body(
        "AFPA Nantes",
        ("Saint-Herblain", "Nantes"),
        ("btp", "indus", "logi", "tertiaire"),
        "afpa",
        3,
    ),
    _Body("AFPA Saint-Nazaire", ("Saint-Nazaire", "Guérande"), ("indus", "btp", "logi"), "afpa", 2),
    _Body(
        "AFPA Le Mans", ("Le Mans", "Allonnes"), ("logi", "indus", "tertiaire", "auto"), "afpa", 3
    ),
    _Body("AFPA Laval", ("Laval",), ("btp", "indus", "sap"), "afpa", 2),
    _Body("AFPA La Roche-sur-Yon", ("La Roche-sur-Yon",), ("btp", "resto", "auto"), "afpa", 2),
    _Body(
        "GRETA Loire-Atlantique",
        ("Nantes", "Saint-Nazaire", "Châteaubriant", "Ancenis-Saint-Géréon"),
        ("sap", "tertiaire", "commerce", "base"),
        weight=3,
    ),
    _Body(
        "GRETA Maine-et-Loire",
        ("Angers", "Cholet", "Saumur", "Segré-en-Anjou Bleu"),
        ("sap", "resto", "commerce", "base"),
        weight=3,
    ),
    _Body(
        "GRETA Mayenne",
        ("Laval", "Mayenne", "Château-Gontier-sur-Mayenne"),
        ("sap", "indus", "base"),
        weight=2,
    ),
    _Body(
        "GRETA Sarthe",
        ("Le Mans", "La Flèche", "La Ferté-Bernard"),
        ("tertiaire", "commerce", "resto", "base"),
        weight=2,
    ),
    _Body(
        "GRETA Vendée",
        ("La Roche-sur-Yon", "Les Sables-d'Olonne", "Fontenay-le-Comte"),
        ("sap", "resto", "base"),
        weight=2,
    ),
    _Body("CCI Formation Sarthe", ("Le Mans",), ("commerce", "tertiaire")),
    _Body(
        "CCI Formation Maine-et-Loire", ("Angers", "Cholet"), ("commerce", "tertiaire", "numerique")
    ),
    _Body("CCI Formation Loire-Atlantique", ("Nantes", "Saint-Nazaire"), ("commerce", "tertiaire")),
    _Body("CMA Formation Vendée", ("La Roche-sur-Yon",), ("resto", "auto", "commerce")),
    _Body("CMA Formation Mayenne", ("Laval",), ("resto", "auto")),
    _Body("Maison Familiale Rurale de Pouzauges", ("Pouzauges",), ("agri", "sap"), "mfr"),
    _Body("Maison Familiale Rurale de Mamers", ("Mamers",), ("sap", "agri"), "mfr"),
    _Body("Maison Familiale Rurale de Craon", ("Craon",), ("agri", "indus"), "mfr"),
    _Body("Maison Familiale Rurale de Blain", ("Blain",), ("agri", "sap"), "mfr"),
    _Body("Maison Familiale Rurale de Doué-en-Anjou", ("Doué-en-Anjou",), ("agri",), "mfr"),
    _Body("IFPA Vendée", ("Les Herbiers", "Montaigu-Vendée"), ("indus", "logi")),
    _Body("CNAM Pays de la Loire", ("Nantes", "Angers"), ("tertiaire", "numerique")),
    _Body("ARIFTS Pays de la Loire", ("Angers", "Rezé"), ("sap",)),
    _Body("Horizon Compétences", ("Nantes", "Rezé"), ("tertiaire", "commerce", "base")),
    _Body(
        "Horizon Compétences Vendée",
        ("Challans", "Les Sables-d'Olonne"),
        ("commerce", "base"),
        "horizon",
    ),
    _Body("Atout Formation Conseil", ("Cholet",), ("tertiaire", "commerce", "base")),
    _Body("Cap Métiers Atlantique", ("Saint-Nazaire", "Pornic"), ("resto", "sap")),
    _Body("Ouest Logistique Formation", ("Carquefou",), ("logi",), weight=2),
    _Body("Numéria Academy", ("Nantes",), ("numerique",)),
    _Body("Les Ateliers du Bâtiment", ("Angers", "Trélazé"), ("btp",)),
    _Body("Trajectoires Emploi", ("Laval", "Évron", "Ernée"), ("base", "commerce")),
    _Body("Forma'Pro Anjou", ("Saumur",), ("resto", "commerce", "agri")),
    _Body("Élan Services à la Personne", ("Le Mans",), ("sap",)),
    _Body("Vendée Transport Formation", ("La Roche-sur-Yon", "Luçon"), ("logi",)),
    _Body("Mayenne Industrie Compétences", ("Château-Gontier-sur-Mayenne",), ("indus",)),
    _Body("Propreté Formation Ouest", ("Rezé", "Clisson"), ("sap",)),
    _Body("Sillon Formation", ("Guérande",), ("resto", "commerce")),
    _Body("Parcours & Talents", ("La Flèche", "Sablé-sur-Sarthe"), ("base", "tertiaire")),
    _Body("Soudure Expertise Formation", ("Sablé-sur-Sarthe",), ("indus",)),
    _Body("Garage École de l'Ouest", ("Fontenay-le-Comte", "Beaupréau-en-Mauges"), ("auto",)),
)

# (dispositif, financeurs, weight): programmes and their funder codes
# (2 Conseil régional, 3 FSE, 4 France Travail, 10 beneficiary, 16 OPCA).
_FUNDING: tuple[tuple[str, str, int], ...] = (
    ("PRF", "2", 30),  # programme régional de formation
    ("PRF", "2|3", 15),  # same, co-funded by the European Social Fund
    ("CR", "2", 8),  # other Regional grant
    ("CR", "2|4", 8),  # Region and France Travail together
    ("AFC", "4", 14),  # action de formation conventionnée (France Travail)
    ("AIF", "4", 12),  # aide individuelle à la formation (France Travail)
    ("POEI", "4|16", 6),  # préparation opérationnelle à l'emploi individuelle
    ("BEN", "10", 4),  # paid by the trainee
    ("AIF", "4|10", 3),
)

# fmt: off
FIRST_NAMES = (
    "Marie", "Julie", "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Laura",
    "Pauline", "Céline", "Nathalie", "Sandrine", "Isabelle", "Stéphanie", "Aurélie", "Émilie",
    "Audrey", "Mélanie", "Anaïs", "Océane", "Clémence", "Élodie", "Valérie", "Sophie",
    "Christelle", "Karine", "Fatima", "Aïcha", "Yasmine", "Nadia", "Sonia", "Mélissa",
    "Justine", "Margaux", "Lucie", "Charlotte", "Françoise", "Brigitte",
    "Thomas", "Nicolas", "Julien", "Maxime", "Kévin", "Alexandre", "Antoine", "Romain",
    "Guillaume", "Mathieu", "Sébastien", "Jérôme", "David", "Christophe", "Frédéric",
    "Stéphane", "Laurent", "Olivier", "Cédric", "Anthony", "Jordan", "Dylan", "Lucas", "Hugo",
    "Théo", "Enzo", "Mehdi", "Karim", "Mohamed", "Yanis", "Bilal", "Moussa", "Mamadou",
    "Jean-Pierre", "Jean-Baptiste", "Pierre-Yves", "Loïc", "Gaëtan", "Yann", "Erwan",
)

LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Roussel", "Perrin", "Morin", "Mathieu", "Clément",
    "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez",
    "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Roger", "Roche", "Noël", "Meyer",
    "Gaillard", "Le Gall", "Le Roux", "Ménard", "Guillou", "Chauvin", "Hervé", "Pineau",
    "Brunet", "Diallo", "Traoré", "Benali", "Da Silva", "Ferreira", "Besnard", "Jourdain",
    "Gaudin", "Bouvier", "Tessier", "Cousin",
)

# fmt: on
_EMAIL_DOMAINS = ("example.org", "example.com", "example.net")


def _siret(siren8: str, establishment: int) -> tuple[str, str]:
    """(SIREN, SIRET) with valid Luhn check digits for a SIREN body and an establishment."""
    siren = siren8 + luhn.calc_check_digit(siren8)
    head = f"{siren}{establishment:04d}"
    return siren, head + luhn.calc_check_digit(head)


def _body_identities() -> list[tuple[str, str, str]]:
    """(siret, siret_responsable, raison_sociale_responsable) for each of BODIES.

    Independent of any seed. A body with a head office names it as responsible; the
    others deliver themselves and, alternately, repeat their own SIRET as responsible
    or leave it empty (both happen in real exports).
    """
    rng = random.Random(520_044)
    used: set[str] = set()

    def new_siren8() -> str:
        while True:
            # associations (7…, 8…) and companies (3…-5…, 9…); never La Poste's 356000000
            candidate = rng.choice("3457789") + f"{rng.randrange(10**7):07d}"
            if candidate not in used and not candidate.startswith("3560000"):
                used.add(candidate)
                return candidate

    company = {"afpa": new_siren8(), "horizon": new_siren8()}
    head_offices = {key: _siret(siren8, 1)[1] for key, siren8 in company.items()}
    head_offices["mfr"] = _siret(new_siren8(), 1)[1]
    establishments = dict.fromkeys(company, 1)

    identities: list[tuple[str, str, str]] = []
    for index, body in enumerate(BODIES):
        network = body.head_office or next(
            (key for key, name in _HEAD_OFFICES.items() if name == body.name), ""
        )
        if body.name == _HEAD_OFFICES.get(network):
            siret = head_offices[network]
        elif network in company:
            establishments[network] += 1
            nic = establishments[network] * 8 + rng.randrange(8)
            siret = _siret(company[network], nic)[1]
        else:
            siret = _siret(new_siren8(), 1 + rng.randrange(3))[1]
        if body.head_office:
            responsible = (head_offices[body.head_office], _HEAD_OFFICES[body.head_office])
        elif index % 2:
            responsible = (siret, body.name)
        else:
            responsible = ("", "")
        identities.append((siret, *responsible))
    return identities


def _ascii_slug(text: str) -> str:
    """'Le Gall' -> 'legall', 'Jean-Pierre' -> 'jean-pierre', 'Aïcha' -> 'aicha'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c for c in folded.lower() if c.isalnum() or c == "-")


def _session_sizes(rng: random.Random, n_sessions: int, total: int) -> list[int]:
    """Sizes summing to `total`: about 4 % of sessions of 2–4 trainees, the rest 5–25."""
    n_small = n_sessions // 25 if n_sessions >= 10 else 0
    small = [rng.randint(2, 4) for _ in range(n_small)]
    n_big = n_sessions - n_small
    remaining = total - sum(small)
    average = remaining / n_big
    low = max(1, min(5, math.floor(average)))
    high = max(25, math.ceil(average))
    big = [rng.randint(low, high) for _ in range(n_big)]
    difference = remaining - sum(big)
    while difference:
        i = rng.randrange(n_big)
        if difference > 0 and big[i] < high:
            big[i] += 1
            difference -= 1
        elif difference < 0 and big[i] > low:
            big[i] -= 1
            difference += 1
    sizes = small + big
    rng.shuffle(sizes)
    return sizes


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _not_weekend(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


def _session_dates(rng: random.Random, course: _Course, today: dt.date) -> tuple[dt.date, dt.date]:
    """Most sessions ended in the last 18 months; some just ended; ~10 % running or future."""
    low, high = course.months
    duration = rng.randint(max(1, low) * 30, min(9, high) * 30)
    kind = rng.random()
    if kind < 0.05:  # starts in the coming weeks
        start = _monday(today + dt.timedelta(days=rng.randint(7, 75)))
        return start, _not_weekend(start + dt.timedelta(days=duration))
    if kind < 0.10:  # running now
        start = _monday(today - dt.timedelta(days=rng.randint(14, duration - 14)))
        return start, _not_weekend(start + dt.timedelta(days=duration))
    if kind < 0.16:  # ended in the last few days: its invitations are due
        end = today - dt.timedelta(days=rng.randint(1, 6))
        return _monday(end - dt.timedelta(days=duration)), end
    end = _not_weekend(today - dt.timedelta(days=rng.randint(9, 546)))
    return _monday(end - dt.timedelta(days=duration)), end


@dataclass
class _Action:
    body: int
    course: _Course
    formation_numero: str
    action_numero: str
    town: str
    dispositif: str
    financeurs: str


def demo_rows(*, trainees: int = 3000, seed: int = 0, today: dt.date) -> pd.DataFrame:
    """Trainee rows (generic import format, COLUMNS order) for a regional demo.

    ``trainees`` distinct people (one email each); about 3 % of them follow two sessions,
    so there are slightly more rows than trainees. About ``trainees / 15`` sessions
    (200 for 3,000 trainees) of 5–25 trainees, about 4 % of them of 2–4 trainees.
    """
    if trainees < 1:
        raise ValueError("trainees must be at least 1")
    rng = random.Random(seed)
    identities = _body_identities()

    n_sessions = max(1, round(trainees / 15))
    n_double = round(trainees * 0.03) if n_sessions > 1 else 0
    sizes = _session_sizes(rng, n_sessions, trainees + n_double)

    # Sessions: every body gets one first, then by weight; a body's action (a course in a
    # place, with its funding) is often run again as a new session.
    body_weights = [body.weight for body in BODIES]
    courses_by_domain: dict[str, list[_Course]] = {}
    for course in COURSES:
        courses_by_domain.setdefault(course.domain, []).append(course)
    formation_numbers: dict[tuple[int, str], str] = {}
    actions_by_body: dict[int, list[_Action]] = {}
    actions_by_place: dict[tuple[int, str, str], _Action] = {}
    next_formation = rng.randint(10_000, 90_000)
    next_action = rng.randint(100_000, 900_000)
    next_session = rng.randint(2_000_000, 2_900_000)
    funding_choices = [(d, f) for d, f, _ in _FUNDING]
    funding_weights = [w for _, _, w in _FUNDING]

    sessions: list[tuple[_Action, str, str, dt.date, dt.date]] = []
    for k in range(n_sessions):
        b = k if k < len(BODIES) else rng.choices(range(len(BODIES)), body_weights)[0]
        body = BODIES[b]
        known = actions_by_body.setdefault(b, [])
        if known and rng.random() < 0.45:
            action = rng.choice(known)
        else:
            catalogue = [c for domain in body.domains for c in courses_by_domain[domain]]
            course = rng.choice(catalogue)
            town = body.towns[0]
            if len(body.towns) > 1 and rng.random() < 0.4:
                town = rng.choice(body.towns[1:])
            action = actions_by_place.get((b, course.title, town))
            if action is None:
                formation = formation_numbers.get((b, course.title))
                if formation is None:
                    next_formation += rng.randint(1, 900)
                    formation = formation_numbers[b, course.title] = f"14_AF_{next_formation:010d}"
                next_action += rng.randint(1, 5_000)
                dispositif, financeurs = rng.choices(funding_choices, funding_weights)[0]
                action = _Action(
                    b,
                    course,
                    formation,
                    f"14_SE_{next_action:010d}",
                    town,
                    dispositif,
                    financeurs,
                )
                actions_by_place[b, course.title, town] = action
                known.append(action)
        next_session += rng.randint(1, 40)
        start, end = _session_dates(rng, action.course, today)
        sessions.append(
            (action, f"SE{next_session}", f"SE_{next_session + 7_000_000:010d}", start, end)
        )

    # Trainees: one slot per row; the first `trainees` slots give everyone a session, the
    # others a second one, preferably not overlapping the first.
    slots = [k for k, size in enumerate(sizes) for _ in range(size)]
    rng.shuffle(slots)
    members: list[list[int]] = [[] for _ in range(n_sessions)]
    first_session = slots[:trainees]
    for person, k in enumerate(first_session):
        members[k].append(person)
    doubled: set[int] = set()
    for k in slots[trainees:]:
        start, end = sessions[k][3], sessions[k][4]
        fallback = None
        for _ in range(60):
            person = rng.randrange(trainees)
            other = first_session[person]
            if person in doubled or other == k:
                continue
            fallback = person if fallback is None else fallback
            if sessions[other][4] < start or sessions[other][3] > end:
                break
        else:
            person = fallback
        if person is None:  # tiny data sets: give the slot to someone new to it
            person = next(p for p in range(trainees) if p not in members[k] and p not in doubled)
        doubled.add(person)
        members[k].append(person)

    people: list[tuple[str, str, str]] = []
    taken: dict[str, int] = {}
    for _ in range(trainees):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{_ascii_slug(first)}.{_ascii_slug(last)}"
        taken[local] = taken.get(local, 0) + 1
        suffix = "" if taken[local] == 1 else str(taken[local])
        people.append((f"{local}{suffix}@{rng.choice(_EMAIL_DOMAINS)}", last, first))

    columns: dict[str, list[str]] = {name: [] for name in COLUMNS}
    for k, (action, session_id, session_numero, start, end) in enumerate(sessions):
        body = BODIES[action.body]
        siret, siret_responsable, raison_sociale_responsable = identities[action.body]
        fixed = {
            "session_id": session_id,
            "formation_numero": action.formation_numero,
            "formation_intitule": action.course.title,
            "action_numero": action.action_numero,
            "session_numero": session_numero,
            "date_debut": start.isoformat(),
            "date_fin": end.isoformat(),
            "siret_formateur": siret,
            "raison_sociale_formateur": body.name,
            "siret_responsable": siret_responsable,
            "raison_sociale_responsable": raison_sociale_responsable,
            "code_postal": TOWNS[action.town],
            "ville": action.town,
            "formacodes": "|".join(action.course.formacodes),
            "certifinfos": "|".join(action.course.certifinfos),
            "financeurs": action.financeurs,
            "dispositif": action.dispositif,
        }
        for person in sorted(members[k]):
            email, nom, prenom = people[person]
            columns["email"].append(email)
            columns["nom"].append(nom)
            columns["prenom"].append(prenom)
            for name, value in fixed.items():
                columns[name].append(value)
    return pd.DataFrame(columns, columns=list(COLUMNS), dtype="str")
