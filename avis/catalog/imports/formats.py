"""The trainee file formats avis reads: their columns, and how they map to ours.

``pe`` is the France Travail export (pipe-delimited, 38 or 39 columns, ``NULL``
for empty). ``csv`` and ``xlsx`` are our generic format, documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The France Travail export, in file order. Newer exports append ``dc_cofinanceuropca``.
PE_COLUMNS: tuple[str, ...] = (
    "c_nomcorrespondance",
    "c_prenomcorrespondance",
    "c_adresseemail",
    "c_telephone1",
    "c_telephone2",
    "c_validitemail_id",
    "dn_individu_national",
    "dn_session_id",
    "c_individulocal",
    "dc_formation_id",
    "dc_lblformation",
    "dd_datedebutplanformation",
    "dd_datefinplanformation",
    "dc_organisme_id",
    "dc_cp_lieuformation",
    "dc_insee_lieuformation",
    "dc_ville_lieuformation",
    "dc_formacode_ppal_id",
    "dc_formacode_secondaire1_id",
    "dc_formacode_secondaire2_id",
    "dc_formacode_secondaire3_id",
    "dc_formacode_secondaire4_id",
    "dn_certifinfo_1_id",
    "dn_certifinfo_2_id",
    "dn_certifinfo_3_id",
    "dn_certifinfo_4_id",
    "dn_certifinfo_5_id",
    "dc_siret",
    "dc_lblorganisme",
    "dc_raisonsociale",
    "departement",
    "dc_numeroicsession",
    "dc_numeroicaction",
    "liste_financeur",
    "c_dispositifformation",
    "dc_siretorganismeformateur",
    "dc_lblorganismeorganismeformateur",
    "dc_raisonsocialeorganismeformateur",
)
PE_OPTIONAL_COLUMNS: tuple[str, ...] = ("dc_cofinanceuropca",)

#: Our generic format. Lists inside a cell are separated by ``;`` or ``|``.
GENERIC_COLUMNS: tuple[str, ...] = (
    "email",
    "nom",
    "prenom",
    "session_id",
    "formation_numero",
    "formation_intitule",
    "action_numero",
    "session_numero",
    "date_debut",
    "date_fin",
    "siret_formateur",
    "raison_sociale_formateur",
    "siret_responsable",
    "raison_sociale_responsable",
    "code_postal",
    "ville",
    "formacodes",
    "certifinfos",
    "financeurs",
    "dispositif",
)
#: Columns of the generic format a file may leave out entirely.
GENERIC_OPTIONAL_COLUMNS: tuple[str, ...] = (
    "nom",
    "prenom",
    "action_numero",
    "session_numero",
    "siret_responsable",
    "raison_sociale_responsable",
    "formacodes",
    "certifinfos",
    "financeurs",
    "dispositif",
)


@dataclass(frozen=True)
class FileFormat:
    #: name given on the command line
    name: str
    #: every column, in the documented order
    columns: tuple[str, ...]
    #: columns a file may omit
    optional: tuple[str, ...]
    #: delimiters tried, in order
    delimiters: tuple[str, ...]
    #: whether cells may be quoted (the France Travail export never quotes)
    quoted: bool
    #: date formats accepted, tried in order
    date_formats: tuple[str, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.optional)


PE = FileFormat(
    name="pe",
    columns=PE_COLUMNS + PE_OPTIONAL_COLUMNS,
    optional=PE_OPTIONAL_COLUMNS,
    delimiters=("|",),
    quoted=False,
    date_formats=("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"),
)
GENERIC_CSV = FileFormat(
    name="csv",
    columns=GENERIC_COLUMNS,
    optional=GENERIC_OPTIONAL_COLUMNS,
    delimiters=(";", ","),
    quoted=True,
    date_formats=("%Y-%m-%d", "%d/%m/%Y"),
)
GENERIC_XLSX = FileFormat(
    name="xlsx",
    columns=GENERIC_COLUMNS,
    optional=GENERIC_OPTIONAL_COLUMNS,
    delimiters=(),
    quoted=False,
    date_formats=("%Y-%m-%d", "%d/%m/%Y"),
)

FORMATS = {f.name: f for f in (PE, GENERIC_CSV, GENERIC_XLSX)}
