"""The OpenAPI 3.1 description of API v1, served at ``/api/v1/openapi.json`` and kept true
by a schemathesis test that checks real responses against it."""

from __future__ import annotations

from typing import Any

from avis.scores.aggregate import PRIOR_WEIGHT

MAX_ITEMS = 2000


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


_DIGITS = {"type": "string", "pattern": "^[0-9]+$"}
#: A number of the catalogue: no "/" (a path separator), no "|" (the separator of
#: action and session identifiers), no control character.
_NUMBER = "[^/|\\u0000-\\u001f\\u007f]+"
#: Free text: anything but control characters.
_TEXT = "^[^\\u0000-\\u001f\\u007f]*$"

PARAMETERS: dict[str, dict[str, Any]] = {
    "page": _query("page", {"type": "integer", "minimum": 0, "maximum": 100000, "default": 0},
                   "Numéro de la page, à partir de 0."),
    "items_par_page": _query(
        "items_par_page", {"type": "integer", "minimum": 0, "maximum": MAX_ITEMS,
                           "default": 50}, "Éléments par page (2000 au plus)."),
    "notes_decimales": _query(
        "notes_decimales", {"type": "boolean", "default": False},
        "true : notes à une décimale ; false (défaut) : notes arrondies à l'entier."),
    "fields": _query(
        "fields", {"type": "string", "maxLength": 200},
        "Champs à renvoyer (`fields=score`) ou à exclure (`fields=-avis`), séparés par "
        "des virgules ; `id` est toujours renvoyé."),
    "tri": _query("tri", {"type": "string", "enum": ["date", "notes", "formation"],
                          "default": "date"},
                  "Tri des avis : par date de réponse, par note globale, par intitulé."),
    "ordre": _query("ordre", {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
                    "Ordre du tri."),
    "commentaires": _query(
        "commentaires", {"type": "boolean"},
        "true : seulement les avis avec un commentaire publié ; false : seulement les "
        "autres."),
    "organisme_formateur": _query(
        "organisme_formateur", {**_DIGITS, "minLength": 9, "maxLength": 14},
        "SIRET de l'organisme formateur, ou son SIREN (9 chiffres) pour tous ses "
        "établissements."),
    "lieu_de_formation_avis": _query(
        "lieu_de_formation", {**_DIGITS, "minLength": 5, "maxLength": 5},
        "Code postal du lieu de formation."),
    "certif_info": _query("certif_info", {**_DIGITS, "minLength": 1, "maxLength": 7},
                          "Numéro Certif Info de la certification."),
    "formacode": _query(
        "formacode", {**_DIGITS, "minLength": 1, "maxLength": 5},
        "Formacode, ou son début pour un domaine (152 : langues) ; ancré au début."),
    "siret": _query("siret", {**_DIGITS, "minLength": 14, "maxLength": 14},
                    "SIRET de l'organisme."),
    "numero": _query("numero", {"type": "string", "maxLength": 500, "pattern": _TEXT},
                     "Numéro(s), séparés par des virgules."),
    "lieu_de_formation_organisme": _query(
        "lieu_de_formation", {**_DIGITS, "minLength": 2, "maxLength": 5},
        "Code postal (5 chiffres) ou code INSEE de région (2 chiffres)."),
    "nb_avis": _query("nb_avis", {"type": "integer", "minimum": 0, "maximum": 10 ** 9},
                      "Nombre minimum d'avis."),
    "id_catalogue": _query("id", {"type": "string", "maxLength": 500, "pattern": _TEXT},
                           "Identifiant(s), séparés par des virgules."),
    "region": _query("region", {**_DIGITS, "minLength": 2, "maxLength": 2},
                     "Code INSEE de la région."),
}


def _params(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


_PAGINATION = ("page", "items_par_page", "notes_decimales", "fields")
_REVIEW_LIST = (*_PAGINATION, "tri", "ordre", "commentaires")


def _id_param(name: str, description: str, pattern: str = "^[^/]+$") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "pattern": pattern, "maxLength": 250}}





def _responses(ok: str, *, not_found: bool = False) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": _ref("Erreur")}}}
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": _ref(ok)}}},
        "304": {"description": "Inchangé depuis l'ETag donné (If-None-Match)."},
        "400": {"description": "Paramètres invalides (« Erreur de validation ») ou "
                               "identifiant mal formé", **error},
        "401": {"description": "Signature ANOTEA-HMAC-SHA256 présente mais invalide",
                **error},
        "429": {"description": "Trop de requêtes : voir Retry-After", **error},
    }
    if not_found:
        responses["404"] = {"description": "Identifiant inconnu", **error}
    return responses


def _get(summary: str, ok: str, parameters: list[Any], *, not_found: bool = False,
         tag: str = "Avis") -> dict[str, Any]:
    return {"get": {"summary": summary, "tags": [tag], "parameters": parameters,
                    "responses": _responses(ok, not_found=not_found)}}


NOTE = {"type": "number", "minimum": 1, "maximum": 5}
RATE = _nullable("number", minimum=0, maximum=1)

SCHEMAS: dict[str, Any] = {
    "Erreur": {"type": "object", "required": ["statusCode", "error", "message"],
               "properties": {"statusCode": {"type": "integer"}, "error": {"type": "string"},
                              "message": {"type": "string"},
                              "details": {"type": "array", "items": {"type": "object"}}}},
    "Pagination": {"type": "object", "required": ["pagination"], "properties": {
        "pagination": {"type": "object", "required": ["page", "items_par_page", "total_items",
                                                      "total_pages"],
                       "properties": {k: {"type": "integer", "minimum": 0} for k in (
                           "page", "items_par_page", "total_items", "total_pages")}}}},
    "Notes": {"type": "object", "required": ["accueil", "contenu_formation",
                                             "equipe_formateurs", "moyen_materiel",
                                             "accompagnement", "global"],
              "properties": {k: NOTE for k in ("accueil", "contenu_formation",
                                               "equipe_formateurs", "moyen_materiel",
                                               "accompagnement", "global")}},
    "Score": {
        "type": "object", "required": ["nb_avis"],
        "description": "Les notes (moyennes simples, comme ANOTEA) ne sont données qu'à "
                       "partir du seuil d'avis et pour un groupe d'au moins le nombre "
                       "minimum de stagiaires. `note_ajustee` : moyenne bayésienne vers la "
                       f"moyenne régionale, comme si {PRIOR_WEIGHT} avis à cette moyenne "
                       "s'ajoutaient, avec son intervalle à 90 %.",
        "properties": {
            "nb_avis": {"type": "integer", "minimum": 0},
            "notes": _ref("Notes"),
            "aggregation": {"type": "object", "properties": {"global": {
                "type": "object", "properties": {"max": NOTE, "min": NOTE}}}},
            "note_ajustee": {"type": "object", "properties": {
                "valeur": _nullable("number"),
                "intervalle_90": {"type": ["object", "null"], "properties": {
                    "min": {"type": "number"}, "max": {"type": "number"}}},
                "moyenne_regionale": _nullable("number"),
                "poids_a_priori": {"type": "integer"}}},
            "repartition": {"type": "object", "additionalProperties": {
                "type": ["object", "null"],
                "additionalProperties": {"type": "integer", "minimum": 0}}},
            "taux_satisfaction": RATE, "taux_recommandation": RATE,
            # Above 1 only when sessions moved in the catalogue after their answers.
            "taux_de_reponse": _nullable("number", minimum=0),
            "insertion": {"type": "object", "properties": {
                "nb_reponses": {"type": "integer", "minimum": 0},
                "taux_en_emploi": RATE}},
        }},
    "Avis": {
        # Only ``id`` is always there: ``fields`` may leave out any other key.
        "type": "object", "required": ["id"],
        "properties": {
            "id": {"type": "string"},
            "date": {"type": "string", "format": "date",
                     "description": "Premier jour du mois de la réponse (jamais le jour)."},
            "commentaire": {"type": "object", "required": ["texte"], "properties": {
                "titre": {"type": "string"}, "texte": {"type": "string"}}},
            "reponse": {"type": "object", "properties": {"texte": {"type": "string"}}},
            "notes": _ref("Notes"),
            "formation": {"type": "object", "properties": {
                "numero": {"type": "string"}, "intitule": {"type": "string"},
                "domaine_formation": {"type": "object", "properties": {
                    "formacodes": {"type": "array", "items": {"type": "string"}}}},
                "certifications": {"type": "array", "items": {
                    "type": "object", "properties": {"certif_info": {"type": "string"}}}},
                "action": {"type": "object", "properties": {
                    "numero": {"type": "string"},
                    "lieu_de_formation": {"type": "object", "properties": {
                        "code_postal": {"type": "string"}, "ville": {"type": "string"}}},
                    "organisme_financeurs": {"type": "array", "items": {
                        "type": "object", "properties": {
                            "code_financeur": {"type": "string"}}}},
                    "organisme_formateur": {"type": "object", "properties": {
                        "raison_sociale": {"type": "string"}, "siret": {"type": "string"},
                        "numero": _nullable("string")}},
                    "session": {"type": "object", "properties": {
                        "numero": {"type": "string"},
                        "periode": {"type": "object", "properties": {
                            "debut": {"type": "string", "format": "date"},
                            "fin": {"type": "string", "format": "date"}}}}}}}}},
        }},
    "ListeAvis": {"type": "object", "required": ["avis", "meta"], "properties": {
        "avis": {"type": "array", "items": _ref("Avis")}, "meta": _ref("Pagination")}},
    "OrganismeFormateur": {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string"}, "numero": _nullable("string"),
        "siret": {"type": "string"}, "raison_sociale": {"type": "string"},
        "region": {"type": "array", "items": {"type": "string"}},
        "lieux_de_formation": {"type": "array", "items": {"type": "object", "properties": {
            "adresse": {"type": "object", "properties": {
                "code_postal": {"type": "string"}, "ville": {"type": "string"},
                "region": {"type": "string"}}}}}},
        "score": _ref("Score")}},
    "ListeOrganismes": {"type": "object", "required": ["organismes_formateurs", "meta"],
                        "properties": {"organismes_formateurs": {
                            "type": "array", "items": _ref("OrganismeFormateur")},
                            "meta": _ref("Pagination")}},
}


def _catalogue_schema(name: str, *, region: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "string"}, "numero": {"type": "string"},
        "avis": {"type": "array", "items": _ref("Avis"),
                 "description": "Les 50 avis les plus récents ; tous à …/{id}/avis."},
        "score": _ref("Score"),
        "meta": {"type": "object", "properties": {
            "reconciliation": {"type": "object"}, "source": {"type": "object"}}}}
    if region:
        properties["region"] = _nullable("string")
    else:
        properties["intitule"] = {"type": "string"}
    return {"type": "object", "required": ["id"], "properties": properties}


for _name, _plural, _region in (("Formation", "formations", False),
                                ("Action", "actions", True), ("Session", "sessions", True)):
    SCHEMAS[_name] = _catalogue_schema(_name, region=_region)
    SCHEMAS[f"Liste{_name}s"] = {"type": "object", "required": [_plural, "meta"],
                                 "properties": {_plural: {"type": "array",
                                                          "items": _ref(_name)},
                                                "meta": _ref("Pagination")}}


def _catalogue_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name, plural, shape, parts, filters in (
            ("formation", "formations", "numero de formation", 1,
             ("id_catalogue", "numero", "nb_avis")),
            ("action", "actions", "numero_formation|numero_action", 2,
             ("id_catalogue", "numero", "region", "nb_avis")),
            ("session", "sessions", "numero_formation|numero_action|numero_session", 3,
             ("id_catalogue", "numero", "region", "nb_avis"))):
        model = name.capitalize()
        pattern = "^" + r"\|".join([_NUMBER] * parts) + "$"
        identifier = _id_param("id", f"Identifiant : `{shape}`.", pattern)
        paths[f"/{plural}"] = _get(f"Les {plural}, avec leur score et leurs avis",
                                   f"Liste{model}s", _params(*_PAGINATION, *filters),
                                   tag="Catalogue")
        paths[f"/{plural}/{{id}}"] = _get(
            f"Une {name} (schema.org Course en application/ld+json)", model,
            [identifier, *_params("notes_decimales", "fields")], not_found=True,
            tag="Catalogue")
        paths[f"/{plural}/{{id}}/avis"] = _get(
            f"Les avis d'une {name}", "ListeAvis", [identifier, *_params(*_REVIEW_LIST)],
            not_found=True, tag="Catalogue")
    return paths


def document() -> dict[str, Any]:
    siret = _id_param("siret", "SIRET (14 chiffres).", "^[0-9]{14}$")
    return {
        "openapi": "3.1.0",
        "info": {"title": "avis — API publique v1", "version": "1.0.0",
                 "description": "Compatible avec l'API v1 d'ANOTEA (chemins, paramètres, "
                                "valeurs par défaut, formes JSON, erreurs). Avis publiés "
                                "seulement ; dates au mois ; notes à partir des seuils. "
                                "Appels signés facultatifs : `Authorization: "
                                "ANOTEA-HMAC-SHA256 <clé>:<horodatage ms>:<HMAC-SHA256 "
                                "hex de horodatage+MÉTHODE+chemin+corps>`."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/avis": _get("Les avis", "ListeAvis", _params(
                *_REVIEW_LIST, "organisme_formateur", "lieu_de_formation_avis",
                "certif_info", "formacode")),
            "/avis/{id}": _get("Un avis", "Avis", [
                _id_param("id", "Identifiant de l'avis.", "^[0-9]{1,18}$"),
                *_params("notes_decimales", "fields")], not_found=True),
            "/organismes-formateurs": _get(
                "Les organismes formateurs et leur score", "ListeOrganismes", _params(
                    *_PAGINATION, "siret", "numero", "lieu_de_formation_organisme",
                    "nb_avis"), tag="Organismes"),
            "/organismes-formateurs/{siret}": _get(
                "Un organisme formateur (schema.org Organization en application/ld+json)",
                "OrganismeFormateur", [siret, *_params("notes_decimales", "fields")],
                not_found=True, tag="Organismes"),
            "/organismes-formateurs/{siret}/avis": _get(
                "Les avis d'un organisme formateur", "ListeAvis",
                [siret, *_params(*_REVIEW_LIST)], not_found=True, tag="Organismes"),
            **_catalogue_paths(),
            "/ping/anonymous": {"get": {"summary": "Vérifier l'accès", "tags": ["Accès"],
                                        "responses": {"200": {"description": "OK"}}}},
        },
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS},
    }
