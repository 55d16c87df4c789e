"""Vectorised validation rules for the trainee importer.

Every rule takes whole pandas Series (dtype ``str``, missing values as NA) and
works without a per-row Python loop: either through pandas/numpy operations on
the whole Series, or by doing the Python work once per *distinct* value
(``pd.factorize``) and mapping the results back with a numpy ``take``. The
second form is used for columns with few distinct values (SIRETs, postcodes,
départements, funder and code lists, dates), where it is also the fastest.

Conventions shared by all the ``check_*`` rules:

* they return ``(values, reasons)``: ``values`` is the normalised Series, NA
  where the input is missing or invalid; ``reasons`` is a ``str`` Series of
  French sentences for Region staff, NA where the value is fine (a missing
  optional value is fine);
* both keep the input index, row for row (positional, so duplicate index
  labels are harmless);
* the input is first passed through :func:`clean_text`, so ``""``, blanks and
  ``NULL``/``null`` count as missing;
* an offending value is quoted in the reason as ``«value»``, cut to 60
  characters (59 and an ellipsis) so one bad cell cannot flood a report.

Dates are the exception to the ``str`` values: :func:`check_date` returns a
``datetime64[s]`` Series at midnight (NaT where missing or invalid); callers
take ``.dt.date`` to get :class:`datetime.date` objects.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from stdnum.fr import siret as stdnum_siret

from avis.catalog.funders import FUNDER_LABELS
from avis.catalog.geo import REGION_OF_DEPARTEMENT

__all__ = [
    "CERTIFINFO_PATTERN",
    "FORMACODE_PATTERN",
    "FUNDER_CODES",
    "FUNDER_LABELS",
    "check_code_list",
    "check_date",
    "check_departement",
    "check_email",
    "check_funders",
    "check_insee",
    "check_period",
    "check_postcode",
    "check_required_text",
    "check_siret",
    "clean_text",
    "departement_from_postcode",
    "fallback_siret",
    "first_reason",
    "region_of",
]

FUNDER_CODES: frozenset[int] = frozenset(FUNDER_LABELS)

#: Patterns for :func:`check_code_list` (matched in full, ASCII digits only).
FORMACODE_PATTERN = r"[0-9]{5}"
CERTIFINFO_PATTERN = r"[0-9]{1,7}"

_NULL_TOKENS = ["", "NULL", "null"]
_QUOTE_MAX = 60
_STR = "str"

# WHATWG HTML "valid e-mail address", tightened: the local part is dot-separated
# atoms (no leading, trailing or doubled dot), the domain has at least two labels,
# and the whole address is at most 254 characters. ASCII only: no re.IGNORECASE
# (under which "K" would match the Kelvin sign) and no \w.
_ATOM = r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_EMAIL_RE = re.compile(rf"(?=.{{1,254}}\Z){_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")

_POSTCODE_RE = re.compile(r"[0-9]{5}")
_INSEE_RE = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")
_CODE_LIST_SPLIT = re.compile(r"[;|,]")
_DEPARTEMENT_CODES = list(REGION_OF_DEPARTEMENT)
# Postcodes inside the 971 range that belong to collectivités outside any région.
_POSTCODES_OUTSIDE_REGIONS = ["97133", "97150"]  # Saint-Barthélemy, Saint-Martin


# --------------------------------------------------------------------------- helpers


def _quote(value: str) -> str:
    """Quote a value for a reason, cut to ``_QUOTE_MAX`` characters."""
    if len(value) > _QUOTE_MAX:
        value = value[: _QUOTE_MAX - 1] + "…"
    return f"«{value}»"


def _quote_array(values: pd.Series) -> np.ndarray:
    """Vectorised :func:`_quote`; returns an object array (positional, no index)."""
    long = (values.str.len() > _QUOTE_MAX).to_numpy(dtype=bool)
    cut = (values.str.slice(0, _QUOTE_MAX - 1) + "…").to_numpy(dtype=object)
    return "«" + np.where(long, cut, values.to_numpy(dtype=object)) + "»"


def _str_series(values: np.ndarray, index: pd.Index) -> pd.Series:
    """Wrap an object array (``None`` for missing) as a ``str`` Series."""
    return pd.Series(values, index=index, dtype=_STR)


def _na_array(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _per_unique(
    s: pd.Series,
    check: Callable[[str], tuple[str | None, str | None]],
    *,
    missing_reason: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Run ``check`` once per distinct non-missing value of ``s`` (already cleaned).

    ``check`` returns ``(value, reason)`` for one raw value; missing rows get
    ``(NA, missing_reason)``.
    """
    codes, uniques = pd.factorize(s)
    n = len(uniques)
    values = np.empty(n + 1, dtype=object)
    reasons = np.empty(n + 1, dtype=object)
    for i, raw in enumerate(uniques.tolist()):
        values[i], reasons[i] = check(raw)
    # factorize codes missing values as -1, which takes the last slot.
    values[n] = None
    reasons[n] = missing_reason
    return _str_series(values[codes], s.index), _str_series(reasons[codes], s.index)


def _strip_inner_spaces(value: str) -> str:
    return "".join(value.split())


def _is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _split_list(value: str, splitter: re.Pattern[str]) -> list[str]:
    """Split, strip, drop empty items and duplicates, keep the order."""
    items = (item.strip() for item in splitter.split(value))
    return list(dict.fromkeys(item for item in items if item))


# --------------------------------------------------------------------------- text


def clean_text(s: pd.Series) -> pd.Series:
    """Strip whitespace; ``""``, ``NULL`` and ``null`` become NA. Returns a ``str`` Series.

    (The reader has already turned control characters into spaces.)
    """
    if s.dtype != _STR:
        s = s.astype(_STR)
    stripped = s.str.strip()
    return stripped.mask(stripped.isin(_NULL_TOKENS).to_numpy(dtype=bool))


def check_required_text(
    s: pd.Series, *, label: str, max_length: int
) -> tuple[pd.Series, pd.Series]:
    """A mandatory free text of at most ``max_length`` characters (after stripping).

    Reasons: ``f"{label} manquant"``, ``f"{label} trop long (plus de {max_length}
    caractères)"``; ``label`` is used verbatim (e.g. "intitulé de la formation").
    """
    values = clean_text(s)
    missing = values.isna().to_numpy()
    too_long = (values.str.len() > max_length).to_numpy(dtype=bool)
    reasons = _na_array(len(values))
    reasons[missing] = f"{label} manquant"
    reasons[too_long] = f"{label} trop long (plus de {max_length} caractères)"
    return values.mask(too_long), _str_series(reasons, values.index)


# --------------------------------------------------------------------------- e-mail


def check_email(s: pd.Series, *, required: bool = True) -> tuple[pd.Series, pd.Series]:
    """E-mail addresses: stripped, validated, then lowercased.

    Valid means the WHATWG HTML "valid e-mail address" grammar (ASCII only) with,
    on top, a dot in the domain, no leading/trailing/doubled dot in the local
    part and at most 254 characters. The regex runs on the whole Series (most
    addresses are distinct, so factorizing would not pay).
    """
    raw = clean_text(s)
    missing = raw.isna().to_numpy()
    valid = raw.str.fullmatch(_EMAIL_RE).to_numpy(dtype=bool)
    invalid = ~valid & ~missing
    reasons = _na_array(len(raw))
    if required:
        reasons[missing] = "adresse e-mail manquante"
    if invalid.any():
        reasons[invalid] = "adresse e-mail invalide : " + _quote_array(raw[invalid])
    values = raw.where(valid).str.lower()
    return values, _str_series(reasons, raw.index)


# --------------------------------------------------------------------------- SIRET


def _compact_siret(s: pd.Series) -> pd.Series:
    """Clean, remove inner whitespace; all zeros (a placeholder) becomes NA."""

    def compact(raw: str) -> tuple[str | None, None]:
        value = _strip_inner_spaces(raw)
        if not value or set(value) == {"0"}:
            return None, None
        return value, None

    return _per_unique(clean_text(s), compact)[0]


@functools.lru_cache(maxsize=200_000)
def _siret_is_valid(value: str) -> bool:
    """The check digit test, remembered: the same bodies come back in every chunk."""
    return stdnum_siret.is_valid(value)


def check_siret(s: pd.Series, *, label: str, required: bool) -> tuple[pd.Series, pd.Series]:
    """SIRET numbers: 14 digits (inner spaces removed) with a valid check digit.

    The check digit is verified by ``stdnum.fr.siret.is_valid`` (which knows La
    Poste's exception), once per distinct value. A value made only of zeros is a
    placeholder and counts as missing. ``label`` completes the reason, e.g.
    "du formateur" → "SIRET du formateur invalide : «…»" / "SIRET du formateur
    manquant" (the latter only when ``required``).
    """
    missing_reason = f"SIRET {label} manquant" if required else None
    invalid_prefix = f"SIRET {label} invalide : "

    def check(raw: str) -> tuple[str | None, str | None]:
        value = _strip_inner_spaces(raw)
        if set(value) == {"0"}:
            return None, missing_reason
        if len(value) == 14 and _is_digits(value) and _siret_is_valid(value):
            return value, None
        return None, invalid_prefix + _quote(raw)

    return _per_unique(clean_text(s), check, missing_reason=missing_reason)


def fallback_siret(
    delivering_siret: pd.Series,
    delivering_name: pd.Series,
    responsible_siret: pd.Series,
    responsible_name: pd.Series,
) -> tuple[pd.Series, pd.Series]:
    """The body that actually delivers the training: ``(siret, name)``.

    Where the delivering body's SIRET is missing (empty, ``NULL`` or all zeros)
    the responsible body delivers: its SIRET and name are taken. Otherwise the
    delivering SIRET and name are kept; a missing delivering name is replaced by
    the responsible name only when both SIRETs are equal. SIRETs come back
    cleaned with inner whitespace removed (all-zero ones as NA) but are not
    validated: run :func:`check_siret` on the result. Names are cleaned.
    """
    series = (delivering_siret, delivering_name, responsible_siret, responsible_name)
    if len({len(x) for x in series}) != 1:
        raise ValueError("fallback_siret: the four Series must have the same length")
    index = delivering_siret.index
    d_siret = _compact_siret(delivering_siret).to_numpy(dtype=object, na_value=None)
    r_siret = _compact_siret(responsible_siret).to_numpy(dtype=object, na_value=None)
    d_name = clean_text(delivering_name).to_numpy(dtype=object, na_value=None)
    r_name = clean_text(responsible_name).to_numpy(dtype=object, na_value=None)

    use_responsible = pd.isna(d_siret)
    same_body = ~use_responsible & (d_siret == r_siret)
    borrow_name = use_responsible | (same_body & pd.isna(d_name))
    siret = np.where(use_responsible, r_siret, d_siret)
    name = np.where(borrow_name, r_name, d_name)
    return _str_series(siret, index), _str_series(name, index)


# --------------------------------------------------------------------------- places


def check_postcode(s: pd.Series, *, required: bool = True) -> tuple[pd.Series, pd.Series]:
    """French postcodes: 5 digits after removing spaces, not ``00000``.

    A 4-digit value gets its leading zero back ("1000" → "01000"): spreadsheets
    store postcodes as numbers. Works per distinct value.
    """
    missing_reason = "code postal manquant" if required else None

    def check(raw: str) -> tuple[str | None, str | None]:
        value = _strip_inner_spaces(raw)
        if len(value) == 4 and _is_digits(value):
            value = "0" + value
        if _POSTCODE_RE.fullmatch(value) and value != "00000":
            return value, None
        return None, "code postal invalide : " + _quote(raw)

    return _per_unique(clean_text(s), check, missing_reason=missing_reason)


def departement_from_postcode(postcode: pd.Series) -> pd.Series:
    """The département of a valid 5-digit postcode (NA otherwise).

    The first two digits, except Corsica (20000–20199 → "2A", 20200–20699 →
    "2B") and overseas départements (first three digits: 971–974, 976).
    Postcodes of places outside any région give NA: Saint-Pierre-et-Miquelon
    (975xx), Saint-Barthélemy (97133) and Saint-Martin (97150), Monaco and the
    Pacific (98xxx), and anything that is not a département ("00…", "96…", …).
    Beware that a few communes use a postcode of a neighbouring département; the
    postcode's département is what ANOTEA used and what we use.
    """
    codes, uniques = pd.factorize(clean_text(postcode))
    u = pd.Series(uniques, dtype=_STR)
    valid = u.str.fullmatch(_POSTCODE_RE).to_numpy(dtype=bool)
    two = u.str.slice(0, 2).to_numpy(dtype=object, na_value=None)
    three = u.str.slice(0, 3).to_numpy(dtype=object, na_value=None)
    corsica = two == "20"
    overseas = two == "97"
    outside = u.isin(_POSTCODES_OUTSIDE_REGIONS).to_numpy(dtype=bool)
    candidate = np.select(
        [
            ~valid | outside,
            corsica & (u < "20200").to_numpy(dtype=bool),
            corsica & (u < "20700").to_numpy(dtype=bool),
            overseas,
        ],
        [None, "2A", "2B", three],
        default=two,
    )
    known = pd.Series(candidate, dtype=object).isin(_DEPARTEMENT_CODES).to_numpy(dtype=bool)
    departements = np.append(np.where(known, candidate, None), None)
    return _str_series(departements[codes], postcode.index)


def check_departement(s: pd.Series, *, required: bool) -> tuple[pd.Series, pd.Series]:
    """Département codes: "1" → "01", "2a" → "2A", "971"; 1 to 3 characters only.

    "20" (Corsica before 1976) is ambiguous and rejected, as are codes of
    territories outside any région (975, 977, …) and anything longer than 3
    characters ("044", "44.0" are rejected, not guessed).
    """
    missing_reason = "département manquant" if required else None

    def check(raw: str) -> tuple[str | None, str | None]:
        value = raw.upper()
        if len(value) == 1 and _is_digits(value):
            value = "0" + value
        if value in REGION_OF_DEPARTEMENT:
            return value, None
        return None, "département inconnu : " + _quote(raw)

    return _per_unique(clean_text(s), check, missing_reason=missing_reason)


def region_of(departement: pd.Series) -> pd.Series:
    """The INSEE région code of each (normalised) département code; NA when unknown."""
    return departement.map(REGION_OF_DEPARTEMENT).astype(_STR)


def check_insee(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Optional INSEE commune codes: 5 digits, or "2A"/"2B" and 3 digits.

    Lowercase "2a"/"2b" is uppercased and, as for postcodes, a 4-digit code gets
    its leading zero back. Missing is fine (no reason).
    """

    def check(raw: str) -> tuple[str | None, str | None]:
        value = raw.upper()
        if len(value) == 4 and _is_digits(value):
            value = "0" + value
        if _INSEE_RE.fullmatch(value):
            return value, None
        return None, "code INSEE invalide : " + _quote(raw)

    return _per_unique(clean_text(s), check)


# --------------------------------------------------------------------------- dates


def check_date(
    s: pd.Series, *, label: str, formats: Iterable[str], required: bool = True
) -> tuple[pd.Series, pd.Series]:
    """Dates written in one of ``formats`` (``strptime`` codes, tried in order).

    Returns a ``datetime64[s]`` Series normalised to midnight (the time of day,
    if any, is dropped), NaT where missing or invalid; callers take
    ``.dt.date``. Each format must match the whole value (``2024-01-15`` does
    not match ``"%Y-%m-%d %H:%M:%S"``). Impossible dates (2024-02-30) and years
    outside 1990–2100 (typos such as 0202) are invalid. ``label`` completes
    the reason: "de début" → "date de début manquante" / "date de début
    invalide : «…»". Parsing happens once per distinct value.
    """
    raw = clean_text(s)
    codes, uniques = pd.factorize(raw)
    u = pd.Series(uniques, dtype=_STR)
    parsed = np.full(len(u), np.datetime64("NaT"), dtype="datetime64[s]")
    for fmt in formats:
        todo = np.isnat(parsed)
        if not todo.any():
            break
        attempt = pd.to_datetime(u[todo], format=fmt, errors="coerce")
        parsed[todo] = attempt.dt.normalize().to_numpy(dtype="datetime64[s]")
    years = parsed.astype("datetime64[Y]").astype(np.int64) + 1970
    ok = ~np.isnat(parsed) & (years >= 1990) & (years <= 2100)
    parsed[~ok] = np.datetime64("NaT")

    reasons = _na_array(len(u) + 1)
    if (~ok).any():
        reasons[:-1][~ok] = f"date {label} invalide : " + _quote_array(u[~ok])
    reasons[-1] = f"date {label} manquante" if required else None
    values = np.append(parsed, np.datetime64("NaT"))
    return (
        pd.Series(values[codes], index=raw.index, dtype="datetime64[s]"),
        _str_series(reasons[codes], raw.index),
    )


def check_period(start: pd.Series, end: pd.Series) -> pd.Series:
    """Reasons (only) where the end date precedes the start date; NA elsewhere.

    Takes the ``values`` of two :func:`check_date` calls; rows where either
    date is NaT get no reason here (their own check already gave one).
    """
    if len(start) != len(end):
        raise ValueError("check_period: start and end must have the same length")
    before = end.to_numpy(dtype="datetime64[s]") < start.to_numpy(dtype="datetime64[s]")
    reasons = _na_array(len(start))
    reasons[before] = "la date de fin précède la date de début"
    return _str_series(reasons, start.index)


# --------------------------------------------------------------------------- lists


def check_funders(s: pd.Series, *, separators: str = ";|") -> tuple[pd.Series, pd.Series]:
    """Funder code lists ("2;4", "4|2|4") → canonical "2;4" strings.

    Items are split on any character of ``separators``, stripped; empty items
    are ignored, duplicates dropped, the order kept; "04" is read as 4. A list
    with no item is missing (NA, no reason: funders are optional). A list with
    an item that is not an integer or not in :data:`FUNDER_CODES` is invalid
    as a whole (NA) with the reason "code financeur inconnu : «99»" (several:
    "codes financeurs inconnus : «99», «abc»").
    """
    splitter = re.compile("[" + "".join(re.escape(c) for c in separators) + "]")

    def check(raw: str) -> tuple[str | None, str | None]:
        codes: list[int] = []
        unknown: list[str] = []
        for item in _split_list(raw, splitter):
            code = int(item) if _is_digits(item) else None
            if code in FUNDER_CODES:
                codes.append(code)
            else:
                unknown.append(item)
        if unknown:
            quoted = ", ".join(_quote(item) for item in unknown)
            if len(unknown) == 1:
                return None, f"code financeur inconnu : {quoted}"
            return None, f"codes financeurs inconnus : {quoted}"
        return (";".join(str(c) for c in dict.fromkeys(codes)) or None), None

    return _per_unique(clean_text(s), check)


def check_code_list(
    s: pd.Series, *, label: str, pattern: str | re.Pattern[str], max_items: int
) -> tuple[pd.Series, pd.Series]:
    """Code lists such as formacodes or certifinfos → canonical "a;b" strings.

    Items are split on ``;``, ``|`` or ``,``, stripped, empty items dropped,
    duplicates dropped keeping the order; each must fully match ``pattern``
    (a string pattern is compiled with ``re.ASCII``; see
    :data:`FORMACODE_PATTERN`, :data:`CERTIFINFO_PATTERN`). More than
    ``max_items`` distinct codes is an error, not a truncation. ``label`` is
    the plural noun: "formacodes" → "code invalide dans les formacodes : «…»",
    "plus de 5 formacodes". Missing (or only separators) is fine: NA, no reason.
    """
    regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.ASCII)

    def check(raw: str) -> tuple[str | None, str | None]:
        items = _split_list(raw, _CODE_LIST_SPLIT)
        problems = [
            f"code invalide dans les {label} : {_quote(item)}"
            for item in items
            if not regex.fullmatch(item)
        ]
        if len(items) > max_items:
            problems.append(f"plus de {max_items} {label}")
        if problems:
            return None, " ; ".join(problems)
        return (";".join(items) or None), None

    return _per_unique(clean_text(s), check)


# --------------------------------------------------------------------------- reasons


def first_reason(*reasons: pd.Series) -> pd.Series:
    """Combine reason Series row by row: the non-NA reasons joined with " ; ".

    NA where a row has no reason. All Series must be the same length (they are
    combined by position); the result has the first one's index.
    """
    if not reasons:
        raise TypeError("first_reason() needs at least one Series")
    if len({len(r) for r in reasons}) != 1:
        raise ValueError("first_reason: all Series must have the same length")
    combined = reasons[0].astype(_STR).to_numpy(dtype=object, na_value=None)
    for other in reasons[1:]:
        nxt = other.astype(_STR).to_numpy(dtype=object, na_value=None)
        has_next = ~pd.isna(nxt)
        has_both = has_next & ~pd.isna(combined)
        only_next = has_next & ~has_both
        combined = combined.copy()
        if has_both.any():
            combined[has_both] = combined[has_both] + " ; " + nxt[has_both]
        combined[only_next] = nxt[only_next]
    return _str_series(combined, reasons[0].index)
