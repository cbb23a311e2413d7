"""The JSON Schemas in schemas/, loaded once, with a validator per record kind.

Every schema's `$id` is absolute (`BASE` + its file name, a reserved `.example` host: nothing
is served there) and its `$ref`s are relative to it. They resolve from the local files only:
the registry's `retrieve` refuses any URI it was not given, so nothing is ever fetched.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
BASE = "https://ingest-worker.example/schemas/"
"""Where the schemas' `$id`s live: an identifier, not a download location."""
ASYNCAPI = SCHEMAS / "asyncapi.yaml"


class Offline(LookupError):
    """A `$ref` named a resource that is not among the local schema files."""


def offline(uri: str) -> Resource[Any]:
    """The registry's `retrieve`: never fetches, refuses every URI it is asked for."""
    raise Offline(f"{uri} is not a local schema (nothing is fetched)")


def files() -> list[Path]:
    """The current schema files (the released copies under schemas/released/ are not)."""
    return sorted(SCHEMAS.glob("*.schema.json"))


def load(path: Path) -> Any:
    """A schema file's JSON."""
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def registry() -> Registry[Any]:
    """The current schemas by their `$id`, and nothing else: unknown URIs fail (`offline`)."""
    resources = []
    for path in files():
        resource = Resource.from_contents(load(path))
        resources.append((resource.id() or path.name, resource))
    return Registry(retrieve=offline).with_resources(resources)


@cache
def asyncapi() -> Any:
    """The AsyncAPI document of the worker's topics."""
    return yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))


@cache
def validator(kind: str) -> Draft202012Validator:
    """A validator for `raw_page`, `article`, `duplicate` or `rejected` (formats checked)."""
    schema = load(SCHEMAS / f"{kind}.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(
        schema, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validate(kind: str, value: Any) -> None:
    """Raise jsonschema.ValidationError if value does not follow the kind's schema."""
    validator(kind).validate(value)
