"""The JSON Schemas in schemas/, loaded once, with a validator per record kind."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@cache
def _registry() -> Registry:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text())))
        for path in SCHEMAS.glob("*.schema.json")
    ]
    return Registry().with_resources(resources)


@cache
def validator(kind: str) -> Draft202012Validator:
    """A validator for `raw_page`, `article`, `duplicate` or `rejected` (formats checked)."""
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(
        schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validate(kind: str, value: Any) -> None:
    """Raise jsonschema.ValidationError if value does not follow the kind's schema."""
    validator(kind).validate(value)
