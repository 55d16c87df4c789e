"""Query parameters of API v1, validated as ANOTEA validated them (its clients rely on
the same defaults, limits and error bodies): every problem is reported at once in
``details``, with ANOTEA's wording, and an unknown parameter is refused."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control_character(text: str) -> bool:
    """A NUL or another control character: never in a real value (and PostgreSQL refuses
    NUL in text)."""
    return _CONTROL.search(text) is not None


class ValidationFailed(Exception):
    """400 "Erreur de validation", with one detail per problem."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__("Erreur de validation")
        self.details = details


def _detail(name: str, message: str, kind: str, value: Any = None,
            **context: Any) -> dict[str, Any]:
    return {"message": f'"{name}" {message}', "path": [name], "type": kind,
            "context": {"label": name, "key": name,
                        **({"value": value} if value is not None else {}), **context}}


@dataclass(frozen=True)
class Integer:
    default: int
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, name: str, raw: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", raw.strip()):
            raise ValidationFailed([_detail(name, "must be a number", "number.base", raw)])
        value = int(raw)
        if self.minimum is not None and value < self.minimum:
            raise ValidationFailed([_detail(
                name, f"must be greater than or equal to {self.minimum}", "number.min", value,
                limit=self.minimum)])
        if self.maximum is not None and value > self.maximum:
            raise ValidationFailed([_detail(
                name, f"must be less than or equal to {self.maximum}", "number.max", value,
                limit=self.maximum)])
        return value


@dataclass(frozen=True)
class Boolean:
    default: bool | None = None

    def parse(self, name: str, raw: str) -> bool:
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise ValidationFailed([_detail(name, "must be a boolean", "boolean.base", raw)])


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]
    default: str | None = None

    def parse(self, name: str, raw: str) -> str:
        if raw not in self.choices:
            listed = ", ".join(self.choices)
            raise ValidationFailed([_detail(name, f"must be one of [{listed}]", "any.only", raw,
                                            valids=list(self.choices))])
        return raw


@dataclass(frozen=True)
class Digits:
    """A code made of digits: SIRET, postcode, formacode, Certif Info."""

    min_length: int
    max_length: int
    default: str | None = None

    def parse(self, name: str, raw: str) -> str:
        value = raw.strip()
        if len(value) < self.min_length:
            raise ValidationFailed([_detail(
                name, f"length must be at least {self.min_length} characters long",
                "string.min", raw, limit=self.min_length)])
        if len(value) > self.max_length:
            raise ValidationFailed([_detail(
                name, f"length must be less than or equal to {self.max_length} characters long",
                "string.max", raw, limit=self.max_length)])
        if not value.isascii() or not value.isdigit():
            raise ValidationFailed([_detail(
                name, "with value " + repr(raw) + " fails to match the required pattern: /^\\d+$/",
                "string.pattern.base", raw, regex="/^\\d+$/")])
        return value


@dataclass(frozen=True)
class Text:
    """Free text (an identifier, a list of numbers), bounded."""

    max_length: int
    default: str | None = None

    def parse(self, name: str, raw: str) -> str:
        if has_control_character(raw):
            raise ValidationFailed([_detail(
                name, "must not contain control characters", "string.control", raw[:40])])
        if len(raw) > self.max_length:
            raise ValidationFailed([_detail(
                name, f"length must be less than or equal to {self.max_length} characters long",
                "string.max", raw[:40], limit=self.max_length)])
        return raw.strip()


@dataclass(frozen=True)
class Fields:
    """``fields=a,b`` keeps those keys (and ``id``); ``fields=-a,-b`` drops them."""

    default: tuple[str, ...] = ()

    def parse(self, name: str, raw: str) -> tuple[str, ...]:
        parts = tuple(p.strip() for p in raw.split(",") if p.strip())
        excluded = [p.startswith("-") for p in parts]
        if parts and any(excluded) and not all(excluded):
            raise ValidationFailed([_detail(
                name, "cannot mix included and excluded fields", "fields.mixed", raw)])
        return parts


Parser = Integer | Boolean | Choice | Digits | Text | Fields

#: What every list accepts.
PAGINATION: dict[str, Parser] = {
    "page": Integer(default=0, minimum=0, maximum=100_000),
    "items_par_page": Integer(default=50, minimum=0, maximum=2000),
    "notes_decimales": Boolean(default=False),
    "fields": Fields(),
}
#: What a single resource accepts.
SINGLE: dict[str, Parser] = {"notes_decimales": Boolean(default=False), "fields": Fields()}
#: How review lists are ordered and filtered by comment.
REVIEW_LIST: dict[str, Parser] = {
    **PAGINATION,
    "tri": Choice(("date", "notes", "formation"), default="date"),
    "ordre": Choice(("asc", "desc"), default="desc"),
    "commentaires": Boolean(),
}


def validate(args: MultiDict[str, str], schema: Mapping[str, Parser]) -> dict[str, Any]:
    """The parameters of ``schema`` parsed (defaults for the missing ones); raises
    ``ValidationFailed`` with every problem found, unknown parameters included."""
    values: dict[str, Any] = {}
    details: list[dict[str, Any]] = []
    for name in args:
        if name not in schema:
            details.append(_detail(name, "is not allowed", "object.unknown", args[name],
                                   child=name))
    for name, parser in schema.items():
        raw = args.get(name)
        if raw is None or raw == "":
            values[name] = parser.default
            continue
        try:
            values[name] = parser.parse(name, raw)
        except ValidationFailed as failed:
            details.extend(failed.details)
    if details:
        raise ValidationFailed(details)
    return values


def project(document: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``document`` restricted by ``fields`` (top-level keys; ``id`` always kept)."""
    if not fields:
        return document
    if fields[0].startswith("-"):
        dropped = {f[1:] for f in fields}
        return {k: v for k, v in document.items() if k not in dropped or k == "id"}
    kept = set(fields) | {"id"}
    return {k: v for k, v in document.items() if k in kept}

