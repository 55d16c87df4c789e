"""Unit tests of the importer's vectorised validation rules and the geography facts."""

import datetime as dt

import pandas as pd
import pytest
from stdnum import luhn

from avis.catalog import geo
from avis.catalog.imports import rules

PE_FORMATS = ["%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
CSV_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def ser(*values, index=None):
    """A ``str`` Series, as the importer reads it."""
    return pd.Series(list(values), index=index, dtype="str")


def py(series):
    """Series → list, with every missing value as None (exact comparisons)."""
    return [None if pd.isna(x) else x for x in series]


def make_siret(siren8: str, nic4: str) -> str:
    """A valid SIRET: Luhn-valid SIREN, then the whole number Luhn-valid."""
    siren = siren8 + luhn.calc_check_digit(siren8)
    base = siren + nic4
    return base + luhn.calc_check_digit(base)


# --------------------------------------------------------------------------- geo


def test_region_of_departement_has_the_101_departements():
    expected = (
        [f"{n:02d}" for n in range(1, 20)]
        + ["2A", "2B"]
        + [f"{n:02d}" for n in range(21, 96)]
        + ["971", "972", "973", "974", "976"]
    )
    assert len(geo.REGION_OF_DEPARTEMENT) == 101
    assert sorted(geo.REGION_OF_DEPARTEMENT) == sorted(expected)
    assert set(geo.DEPARTEMENT_NAMES) == set(expected)


def test_every_region_has_a_name_and_the_right_number_of_departements():
    counts = pd.Series(list(geo.REGION_OF_DEPARTEMENT.values())).value_counts().to_dict()
    assert counts == {
        "84": 12, "27": 8, "53": 4, "24": 6, "94": 2, "44": 10, "32": 5, "11": 8,
        "28": 5, "75": 12, "76": 13, "52": 5, "93": 6,
        "01": 1, "02": 1, "03": 1, "04": 1, "06": 1,
    }  # fmt: skip
    assert set(geo.REGION_NAMES) == set(counts)


@pytest.mark.parametrize(
    ("departement", "region"),
    [
        ("44", "52"), ("49", "52"), ("53", "52"), ("72", "52"), ("85", "52"),
        ("75", "11"), ("2A", "94"), ("2B", "94"), ("971", "01"), ("972", "02"),
        ("973", "03"), ("974", "04"), ("976", "06"), ("01", "84"), ("90", "27"),
        ("35", "53"), ("45", "24"), ("67", "44"), ("59", "32"), ("76", "28"),
        ("33", "75"), ("31", "76"), ("13", "93"),
    ],
)  # fmt: skip
def test_region_of_departement(departement, region):
    assert geo.REGION_OF_DEPARTEMENT[departement] == region


def test_names():
    assert geo.DEPARTEMENT_NAMES["44"] == "Loire-Atlantique"
    assert geo.DEPARTEMENT_NAMES["2A"] == "Corse-du-Sud"
    assert geo.DEPARTEMENT_NAMES["974"] == "La Réunion"
    assert geo.REGION_NAMES["52"] == "Pays de la Loire"
    assert geo.REGION_NAMES["11"] == "Île-de-France"
    assert geo.REGION_NAMES["93"] == "Provence-Alpes-Côte d'Azur"


# --------------------------------------------------------------------------- clean_text


def test_clean_text_strips_and_maps_null_markers_to_na():
    s = ser(" a ", "", "NULL", "null", "   ", None, "Null", "\u00a0b\t", index=list("abcdefgh"))
    out = rules.clean_text(s)
    assert py(out) == ["a", None, None, None, None, None, "Null", "b"]
    assert list(out.index) == list("abcdefgh")
    assert out.dtype == "str"


def test_clean_text_accepts_object_columns():
    out = rules.clean_text(pd.Series([None, 1000, " x "], dtype=object))
    assert py(out) == [None, "1000", "x"]
    assert out.dtype == "str"


# --------------------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jean.Dupont@Example.FR", "jean.dupont@example.fr"),
        ("  a@b.fr ", "a@b.fr"),
        ("o'neil+tag@sub.example.co.uk", "o'neil+tag@sub.example.co.uk"),
        ("a_b-c{x}~@x-y.fr", "a_b-c{x}~@x-y.fr"),
        ("1@2.3", "1@2.3"),
    ],
)
def test_check_email_valid(raw, expected):
    values, reasons = rules.check_email(ser(raw))
    assert py(values) == [expected]
    assert py(reasons) == [None]


@pytest.mark.parametrize(
    "raw",
    [
        "a@localhost",  # no dot in the domain
        "a..b@x.fr",
        ".a@x.fr",
        "a.@x.fr",
        "jé@x.fr",  # non-ASCII local part
        "a@é.fr",
        "a b@x.fr",
        "a@x .fr",
        "a@-x.fr",
        "a@x-.fr",
        "a@x..fr",
        "a@@x.fr",
        "a@x.fr.",
        "@x.fr",
        "a@",
        "a",
        "a\n@x.fr",
        "\u212aelvin@x.fr",  # Kelvin sign, lowercases to ASCII "k"
    ],
)
def test_check_email_invalid(raw):
    values, reasons = rules.check_email(ser(raw))
    assert py(values) == [None]
    assert py(reasons) == [f"adresse e-mail invalide : «{raw.strip()}»"]


def test_check_email_length_limit():
    domain = "@example.fr"
    ok = "a" * (254 - len(domain)) + domain
    too_long = "a" * (255 - len(domain)) + domain
    values, reasons = rules.check_email(ser(ok, too_long))
    assert py(values) == [ok, None]
    assert py(reasons) == [None, "adresse e-mail invalide : «" + "a" * 59 + "…»"]


def test_check_email_domain_labels_are_at_most_63_characters():
    ok = "a@" + "b" * 63 + ".fr"
    too_long = "a@" + "b" * 64 + ".fr"
    values, reasons = rules.check_email(ser(ok, too_long))
    assert py(values) == [ok, None]
    assert py(reasons) == [None, "adresse e-mail invalide : «a@" + "b" * 57 + "…»"]


def test_check_email_missing():
    s = ser(None, "", "NULL", index=[7, 8, 9])
    values, reasons = rules.check_email(s)
    assert py(values) == [None, None, None]
    assert py(reasons) == ["adresse e-mail manquante"] * 3
    values, reasons = rules.check_email(s, required=False)
    assert py(values) == [None, None, None]
    assert py(reasons) == [None, None, None]
    assert list(values.index) == list(reasons.index) == [7, 8, 9]


# --------------------------------------------------------------------------- SIRET


def test_make_siret_builds_valid_numbers():
    assert make_siret("73282932", "0007") == "73282932000074"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("73282932000074", "73282932000074"),
        (" 732 829 320 00074 ", "73282932000074"),
        ("35600000000048", "35600000000048"),  # La Poste
        ("35600000049837", "35600000049837"),  # La Poste: not Luhn, digit sum multiple of 5
        ("55208131766522", "55208131766522"),
    ],
)
def test_check_siret_valid(raw, expected):
    values, reasons = rules.check_siret(ser(raw), label="du formateur", required=True)
    assert py(values) == [expected]
    assert py(reasons) == [None]


@pytest.mark.parametrize(
    "raw",
    [
        "73282932000075",
        "7328293200007",
        "732829320000744",
        "7328293200007A",
        "abc",
        "35600000000049",
    ],
)
def test_check_siret_invalid(raw):
    values, reasons = rules.check_siret(ser(raw), label="du formateur", required=True)
    assert py(values) == [None]
    assert py(reasons) == [f"SIRET du formateur invalide : «{raw}»"]


def test_check_siret_all_zeros_and_null_are_missing():
    s = ser("00000000000000", "000 000 000 00000", "0", "NULL", None)
    values, reasons = rules.check_siret(s, label="du responsable", required=True)
    assert py(values) == [None] * 5
    assert py(reasons) == ["SIRET du responsable manquant"] * 5
    values, reasons = rules.check_siret(s, label="du responsable", required=False)
    assert py(values) == [None] * 5
    assert py(reasons) == [None] * 5


def test_check_siret_maps_unique_results_back_to_every_row():
    good = make_siret("12345678", "0001")
    s = ser(good, "1", good, None, "1", good, index=[10, 10, 3, 4, 5, 6])
    values, reasons = rules.check_siret(s, label="X", required=True)
    assert py(values) == [good, None, good, None, None, good]
    assert py(reasons) == [
        None,
        "SIRET X invalide : «1»",
        None,
        "SIRET X manquant",
        "SIRET X invalide : «1»",
        None,
    ]
    assert list(values.index) == list(reasons.index) == [10, 10, 3, 4, 5, 6]


def test_fallback_siret():
    d = "73282932000074"
    r = "35600000000048"
    siret, name = rules.fallback_siret(
        ser("00000000000000", None, "NULL", " ", d, d, d, d, "0000 0000", index=list("abcdefghi")),
        ser("D1", "D2", "D3", "D4", "D5", None, None, "NULL", "D9", index=list("abcdefghi")),
        ser(r, r, r, r, r, d, r, d, None, index=list("abcdefghi")),
        ser("R1", "R2", "R3", "R4", "R5", "R6", "R7", " R8 ", "R9", index=list("abcdefghi")),
    )
    assert py(siret) == [r, r, r, r, d, d, d, d, None]
    assert py(name) == ["R1", "R2", "R3", "R4", "D5", "R6", None, "R8", "R9"]
    assert list(siret.index) == list(name.index) == list("abcdefghi")


def test_fallback_siret_compacts_but_does_not_validate():
    siret, name = rules.fallback_siret(
        ser("123 456"), ser("Formateur"), ser("73282932000074"), ser("Responsable")
    )
    assert py(siret) == ["123456"]
    assert py(name) == ["Formateur"]


def test_fallback_siret_needs_equal_lengths():
    with pytest.raises(ValueError, match="same length"):
        rules.fallback_siret(ser("1"), ser("a"), ser("1", "2"), ser("a", "b"))


# --------------------------------------------------------------------------- postcodes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01000", "01000"),
        ("1000", "01000"),
        (" 44 000 ", "44000"),
        ("20090", "20090"),
        ("97600", "97600"),
    ],
)
def test_check_postcode_valid(raw, expected):
    values, reasons = rules.check_postcode(ser(raw))
    assert py(values) == [expected]
    assert py(reasons) == [None]


@pytest.mark.parametrize("raw", ["00000", "0000", "123", "440000", "4400A", "44-000", "٤٤٠٠٠"])
def test_check_postcode_invalid(raw):
    values, reasons = rules.check_postcode(ser(raw))
    assert py(values) == [None]
    assert py(reasons) == [f"code postal invalide : «{raw}»"]


def test_check_postcode_missing():
    assert py(rules.check_postcode(ser(None, "NULL"))[1]) == ["code postal manquant"] * 2
    assert py(rules.check_postcode(ser(None, "NULL"), required=False)[1]) == [None, None]


@pytest.mark.parametrize(
    ("postcode", "departement"),
    [
        ("01000", "01"),
        ("44000", "44"),
        ("75015", "75"),
        ("95000", "95"),
        ("20000", "2A"),
        ("20090", "2A"),
        ("20199", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("20699", "2B"),
        ("20700", None),
        ("97100", "971"),
        ("97200", "972"),
        ("97300", "973"),
        ("97400", "974"),
        ("97600", "976"),
        ("97133", None),  # Saint-Barthélemy
        ("97150", None),  # Saint-Martin
        ("97500", None),  # Saint-Pierre-et-Miquelon
        ("97700", None),
        ("97800", None),
        ("98000", None),  # Monaco
        ("98800", None),  # Nouvelle-Calédonie
        ("00100", None),
        ("96000", None),
        ("1000", None),  # not a valid (normalised) postcode
        ("abcde", None),
        (None, None),
    ],
)
def test_departement_from_postcode(postcode, departement):
    assert py(rules.departement_from_postcode(ser(postcode))) == [departement]


def test_departement_from_postcode_keeps_the_index():
    out = rules.departement_from_postcode(ser("44000", None, "20600", "44000", index=[9, 9, 1, 0]))
    assert py(out) == ["44", None, "2B", "44"]
    assert list(out.index) == [9, 9, 1, 0]
    assert out.dtype == "str"


# --------------------------------------------------------------------------- départements


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "01"),
        ("01", "01"),
        ("9", "09"),
        ("2a", "2A"),
        ("2B", "2B"),
        (" 44 ", "44"),
        ("95", "95"),
        ("971", "971"),
        ("974", "974"),
        ("976", "976"),
    ],
)
def test_check_departement_valid(raw, expected):
    values, reasons = rules.check_departement(ser(raw), required=True)
    assert py(values) == [expected]
    assert py(reasons) == [None]


@pytest.mark.parametrize(
    "raw", ["20", "975", "977", "96", "99", "00", "0", "044", "44.0", "abc", "2C", "9710"]
)
def test_check_departement_invalid(raw):
    values, reasons = rules.check_departement(ser(raw), required=True)
    assert py(values) == [None]
    assert py(reasons) == [f"département inconnu : «{raw}»"]


def test_check_departement_missing():
    assert py(rules.check_departement(ser(None), required=True)[1]) == ["département manquant"]
    assert py(rules.check_departement(ser(None), required=False)[1]) == [None]


def test_region_of():
    out = rules.region_of(
        ser("44", "49", "53", "72", "85", "75", "2A", "971", None, "20", index=list("abcdefghij"))
    )
    assert py(out) == ["52", "52", "52", "52", "52", "11", "94", "01", None, None]
    assert list(out.index) == list("abcdefghij")
    assert out.dtype == "str"


def test_postcode_to_region_pipeline():
    postcodes, _ = rules.check_postcode(ser("1000", "20600", "97500", "49000"))
    assert py(rules.region_of(rules.departement_from_postcode(postcodes))) == [
        "84",
        "94",
        None,
        "52",
    ]


# --------------------------------------------------------------------------- INSEE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("44109", "44109"), ("2a004", "2A004"), ("2B033", "2B033"), ("1053", "01053")],
)
def test_check_insee_valid(raw, expected):
    values, reasons = rules.check_insee(ser(raw))
    assert py(values) == [expected]
    assert py(reasons) == [None]


@pytest.mark.parametrize("raw", ["2C004", "441090", "ABCDE", "123", "2A04"])
def test_check_insee_invalid(raw):
    values, reasons = rules.check_insee(ser(raw))
    assert py(values) == [None]
    assert py(reasons) == [f"code INSEE invalide : «{raw}»"]


def test_check_insee_is_optional():
    values, reasons = rules.check_insee(ser(None, "NULL", ""))
    assert py(values) == [None, None, None]
    assert py(reasons) == [None, None, None]


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "formats", "expected"),
    [
        ("2024-01-15 00:00:00.0", PE_FORMATS, dt.date(2024, 1, 15)),
        ("2024-01-15 13:45:12.123456", PE_FORMATS, dt.date(2024, 1, 15)),
        ("2024-01-15 23:59:59", PE_FORMATS, dt.date(2024, 1, 15)),
        ("2024-01-15", PE_FORMATS, dt.date(2024, 1, 15)),
        ("2024-01-15", CSV_FORMATS, dt.date(2024, 1, 15)),
        ("15/01/2024", CSV_FORMATS, dt.date(2024, 1, 15)),
        ("05/02/2024", CSV_FORMATS, dt.date(2024, 2, 5)),
        ("29/02/2024", CSV_FORMATS, dt.date(2024, 2, 29)),
        ("1990-01-01", CSV_FORMATS, dt.date(1990, 1, 1)),
        ("2100-12-31", CSV_FORMATS, dt.date(2100, 12, 31)),
    ],
)
def test_check_date_valid(raw, formats, expected):
    values, reasons = rules.check_date(ser(raw), label="de début", formats=formats)
    assert values.dtype == "datetime64[s]"
    assert list(values.dt.date) == [expected]
    assert values.iloc[0] == pd.Timestamp(expected)  # midnight
    assert py(reasons) == [None]


@pytest.mark.parametrize(
    ("raw", "formats"),
    [
        ("2024-02-30", CSV_FORMATS),
        ("2023-02-29", CSV_FORMATS),
        ("31/04/2024", CSV_FORMATS),
        ("0202-01-15", CSV_FORMATS),
        ("15/01/0202", CSV_FORMATS),
        ("1989-12-31", CSV_FORMATS),
        ("2101-01-01", CSV_FORMATS),
        ("15/01/2024", PE_FORMATS),
        ("2024-01-15 10:00", PE_FORMATS),
        ("2024-01-15 00:00:00", CSV_FORMATS),
        ("15/01/24", CSV_FORMATS),
        ("demain", CSV_FORMATS),
    ],
)
def test_check_date_invalid(raw, formats):
    values, reasons = rules.check_date(ser(raw), label="de fin", formats=formats)
    assert py(values) == [None]
    assert py(reasons) == [f"date de fin invalide : «{raw}»"]


def test_check_date_missing_and_index():
    s = ser("2024-01-15", None, "NULL", "2024-01-15", "bad", index=[4, 3, 2, 4, 0])
    values, reasons = rules.check_date(s, label="de début", formats=CSV_FORMATS)
    assert list(values.index) == list(reasons.index) == [4, 3, 2, 4, 0]
    assert py(values) == [pd.Timestamp("2024-01-15"), None, None, pd.Timestamp("2024-01-15"), None]
    assert py(reasons) == [
        None,
        "date de début manquante",
        "date de début manquante",
        None,
        "date de début invalide : «bad»",
    ]
    optional = rules.check_date(s, label="de début", formats=CSV_FORMATS, required=False)[1]
    assert py(optional) == [None, None, None, None, "date de début invalide : «bad»"]


def test_check_date_tries_formats_in_order():
    # "01/02/2024" is 1 February with "%d/%m/%Y" first, 2 January with "%m/%d/%Y" first.
    s = ser("01/02/2024")
    first = rules.check_date(s, label="x", formats=["%d/%m/%Y", "%m/%d/%Y"])[0]
    other = rules.check_date(s, label="x", formats=["%m/%d/%Y", "%d/%m/%Y"])[0]
    assert list(first.dt.date) == [dt.date(2024, 2, 1)]
    assert list(other.dt.date) == [dt.date(2024, 1, 2)]


def test_check_period():
    start = pd.Series(
        pd.to_datetime(["2024-01-10", "2024-01-10", "2024-01-10", None, "2024-01-10"]),
        index=list("vwxyz"),
    ).astype("datetime64[s]")
    end = pd.Series(
        pd.to_datetime(["2024-01-09", "2024-01-10", "2024-03-01", "2024-01-01", None]),
        index=list("vwxyz"),
    ).astype("datetime64[s]")
    reasons = rules.check_period(start, end)
    assert py(reasons) == ["la date de fin précède la date de début", None, None, None, None]
    assert list(reasons.index) == list("vwxyz")
    assert reasons.dtype == "str"


# --------------------------------------------------------------------------- funders


def test_funder_codes_and_labels():
    assert frozenset({0, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17}) == rules.FUNDER_CODES
    assert set(rules.FUNDER_LABELS) == set(rules.FUNDER_CODES)
    assert rules.FUNDER_LABELS[2] == "Conseil régional"
    assert rules.FUNDER_LABELS[4] == "France Travail"
    assert rules.FUNDER_LABELS[16] == "OPCA/OPCO"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2;4", "2;4"),
        ("4|2|4", "4;2"),
        (" 2 ; ; 4 ;", "2;4"),
        ("04", "4"),
        ("0", "0"),
        ("17|16;15", "17;16;15"),
    ],
)
def test_check_funders_valid(raw, expected):
    values, reasons = rules.check_funders(ser(raw))
    assert py(values) == [expected]
    assert py(reasons) == [None]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("99", "code financeur inconnu : «99»"),
        ("abc", "code financeur inconnu : «abc»"),
        ("1", "code financeur inconnu : «1»"),
        ("2;4.0", "code financeur inconnu : «4.0»"),
        ("4,2", "code financeur inconnu : «4,2»"),
        ("-4", "code financeur inconnu : «-4»"),
        ("2;99;abc;99", "codes financeurs inconnus : «99», «abc»"),
    ],
)
def test_check_funders_invalid(raw, reason):
    values, reasons = rules.check_funders(ser(raw))
    assert py(values) == [None]
    assert py(reasons) == [reason]


def test_check_funders_missing_and_custom_separators():
    values, reasons = rules.check_funders(ser(None, "NULL", ";|;"))
    assert py(values) == [None, None, None]
    assert py(reasons) == [None, None, None]
    assert py(rules.check_funders(ser("4,2, 4"), separators=",")[0]) == ["4;2"]


# --------------------------------------------------------------------------- code lists


def formacodes(*values):
    return rules.check_code_list(
        ser(*values), label="formacodes", pattern=rules.FORMACODE_PATTERN, max_items=5
    )


def test_check_code_list_formacodes():
    values, reasons = formacodes(
        "31054",
        "31054;22403",
        " 31054 | 22403 , 31054 ;;",
        "11111;22222;33333;44444;55555",
        "11111;22222;33333;44444;55555;66666",
        "3105",
        "31054;ABCDE;123456",
        "٣١٠٥٤",
        None,
        ";",
    )
    assert py(values) == [
        "31054",
        "31054;22403",
        "31054;22403",
        "11111;22222;33333;44444;55555",
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert py(reasons) == [
        None,
        None,
        None,
        None,
        "plus de 5 formacodes",
        "code invalide dans les formacodes : «3105»",
        "code invalide dans les formacodes : «ABCDE» ; "
        "code invalide dans les formacodes : «123456»",
        "code invalide dans les formacodes : «٣١٠٥٤»",
        None,
        None,
    ]


def test_check_code_list_counts_distinct_codes():
    values, reasons = formacodes("11111;22222;33333;44444;55555;11111")
    assert py(values) == ["11111;22222;33333;44444;55555"]
    assert py(reasons) == [None]


def test_check_code_list_certifinfos():
    values, reasons = rules.check_code_list(
        ser("1;1234567", "12345678", "54664|54664"),
        label="certifinfos",
        pattern=rules.CERTIFINFO_PATTERN,
        max_items=5,
    )
    assert py(values) == ["1;1234567", None, "54664"]
    assert py(reasons) == [None, "code invalide dans les certifinfos : «12345678»", None]


# --------------------------------------------------------------------------- required text


def test_check_required_text():
    values, reasons = rules.check_required_text(
        ser(" Soudeur ", "", None, "abcdef", "abcde", index=[5, 4, 3, 2, 1]),
        label="intitulé de la formation",
        max_length=5,
    )
    assert py(values) == [None, None, None, None, "abcde"]
    assert py(reasons) == [
        "intitulé de la formation trop long (plus de 5 caractères)",
        "intitulé de la formation manquant",
        "intitulé de la formation manquant",
        "intitulé de la formation trop long (plus de 5 caractères)",
        None,
    ]
    assert list(values.index) == list(reasons.index) == [5, 4, 3, 2, 1]


def test_check_required_text_strips_before_measuring():
    values, reasons = rules.check_required_text(ser("  abc  "), label="nom", max_length=3)
    assert py(values) == ["abc"]
    assert py(reasons) == [None]


# --------------------------------------------------------------------------- first_reason


def test_first_reason_joins_all_reasons_of_a_row():
    a = ser("a1", None, None, "a4", None, index=list("pqrst"))
    b = ser(None, "b2", None, "b4", None, index=list("pqrst"))
    c = ser("c1", None, None, "c4", None, index=list("pqrst"))
    out = rules.first_reason(a, b, c)
    assert py(out) == ["a1 ; c1", "b2", None, "a4 ; b4 ; c4", None]
    assert list(out.index) == list("pqrst")
    assert out.dtype == "str"
    assert py(a) == ["a1", None, None, "a4", None]  # inputs untouched


def test_first_reason_single_series_and_errors():
    assert py(rules.first_reason(ser("x", None))) == ["x", None]
    with pytest.raises(TypeError):
        rules.first_reason()
    with pytest.raises(ValueError, match="same length"):
        rules.first_reason(ser("x"), ser("x", "y"))


# --------------------------------------------------------------------------- index


@pytest.mark.parametrize(
    "rule",
    [
        lambda s: rules.check_email(s),
        lambda s: rules.check_siret(s, label="x", required=True),
        lambda s: rules.check_postcode(s),
        lambda s: rules.check_departement(s, required=True),
        lambda s: rules.check_insee(s),
        lambda s: rules.check_date(s, label="x", formats=CSV_FORMATS),
        lambda s: rules.check_funders(s),
        lambda s: rules.check_code_list(s, label="x", pattern=r"\d+", max_items=5),
        lambda s: rules.check_required_text(s, label="x", max_length=3),
    ],
)
def test_rules_keep_a_non_default_index(rule):
    index = pd.Index(["z", "z", "a", "m"])
    s = ser("44", None, "bad value", "44", index=index)
    values, reasons = rule(s)
    assert list(values.index) == list(index)
    assert list(reasons.index) == list(index)
    assert reasons.dtype == "str"
    assert isinstance(reasons.iloc[2], str)  # the bad value has a reason

