"""The schemas' identities and references, and their fields against the records' dataclasses."""

from __future__ import annotations

import socket
import types
import typing
import urllib.request
from collections.abc import Iterator
from dataclasses import fields
from typing import Any, get_type_hints

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from tests.contract.schemas import BASE, SCHEMAS, files, load, registry
from worker import records
from worker.records import SCHEMA_VERSION, Article, Duplicate, RawPage, Rejected, Source

OUTPUTS = {"article": Article, "duplicate": Duplicate, "rejected": Rejected, "source": Source}
"""Records written whole by `codec.encode`: every field is a property, typed alike."""
JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        pytest.fail(f"tried to reach the network: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    yield


def refs(node: Any) -> Iterator[str]:
    """Every `$ref` in a schema."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


@pytest.mark.parametrize("path", files(), ids=lambda p: p.name)
def test_each_schema_has_an_absolute_id_named_after_its_file(path: Any) -> None:
    schema = load(path)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == BASE + path.name


@pytest.mark.usefixtures("no_network")
def test_every_ref_resolves_from_the_local_files() -> None:
    found = 0
    for path in files():
        schema = load(path)
        resolver = registry().resolver(base_uri=schema["$id"])
        for ref in refs(schema):
            resolved = resolver.lookup(ref)
            assert resolved.contents, f"{path.name}: {ref} resolved to nothing"
            found += 1
    assert found >= 3, "article, duplicate and rejected refer to source.schema.json"


@pytest.mark.usefixtures("no_network")
def test_a_ref_to_anything_else_fails_without_fetching() -> None:
    resolver = registry().resolver(base_uri=BASE + "article.schema.json")
    with pytest.raises(Unresolvable):
        resolver.lookup("missing.schema.json")
    with pytest.raises(Unresolvable):
        resolver.lookup("https://json-schema.example/elsewhere.json")


def json_types(annotation: Any) -> set[str] | None:
    """The JSON types a dataclass field's annotation allows (None: any)."""
    if annotation is Any:
        return None
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        allowed: set[str] = set()
        for member in typing.get_args(annotation):
            found = json_types(member)
            if found is None:
                return None
            allowed |= found
        return allowed
    origin = typing.get_origin(annotation) or annotation
    if origin in (list, tuple):
        return {"array"}
    if origin is dict or hasattr(origin, "__dataclass_fields__"):
        return {"object"}
    return {JSON_TYPES[origin]}


def schema_types(schema: dict[str, Any]) -> set[str] | None:
    """The JSON types a property schema allows (by type, enum, const or $ref; None: any)."""
    if "$ref" in schema:
        return {"object"}  # (each $ref names an object schema here)
    if "type" in schema:
        kind = schema["type"]
        return {kind} if isinstance(kind, str) else set(kind)
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if values is None:
        return None
    return {"null" if v is None else JSON_TYPES[type(v)] for v in values}


@pytest.mark.parametrize("kind", OUTPUTS)
def test_output_records_and_their_schemas_have_the_same_fields_and_types(kind: str) -> None:
    record, schema = OUTPUTS[kind], load(SCHEMAS / f"{kind}.schema.json")
    hints = get_type_hints(record, vars(records))
    names = {f.name for f in fields(record)}
    assert names == set(schema["properties"]), "a field without a property, or the reverse"
    assert set(schema["required"]) <= names
    for name in names:
        assert json_types(hints[name]) == schema_types(schema["properties"][name]), name


def test_the_raw_page_record_has_a_field_for_each_property_of_the_input() -> None:
    schema = load(SCHEMAS / "raw_page.schema.json")
    assert {f.name for f in fields(RawPage)} == set(schema["properties"])


@pytest.mark.parametrize("kind", ["article", "duplicate", "rejected"])
def test_schemas_carry_the_records_schema_version(kind: str) -> None:
    schema = load(SCHEMAS / f"{kind}.schema.json")
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
