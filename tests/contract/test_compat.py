"""Each schema stays backward compatible with its last released copy; the checker's own rules."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.contract.compat import breaks
from tests.contract.schemas import BASE, SCHEMAS, files, load

RELEASED = SCHEMAS / "released"


def releases() -> list[Path]:
    """The release folders, oldest first (by version number)."""
    folders = [p for p in RELEASED.iterdir() if p.is_dir()]
    return sorted(folders, key=lambda p: tuple(int(n) for n in p.name.split(".")))


def latest() -> Path:
    return releases()[-1]


OLD = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "thing.schema.json",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "kind"],
    "properties": {
        "schema_version": {"const": 2},
        "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "kind": {"enum": ["url", "content"]},
        "size": {"type": "integer", "minimum": 0, "maximum": 10},
        "note": {"type": ["string", "null"], "description": "old words"},
        "origin": {"$ref": "source.schema.json"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def changed(edit: Any) -> Any:
    """OLD with one edit applied to a deep copy."""
    new = copy.deepcopy(OLD)
    edit(new)
    return new


def props(new: Any) -> Any:
    return new["properties"]


COMPATIBLE = {
    "unchanged": lambda s: None,
    "absolute $id, same file": lambda s: s.update({"$id": BASE + "thing.schema.json"}),
    "optional property added": lambda s: props(s).update({"extra": {"type": "string"}}),
    "type widened": lambda s: props(s)["note"].update({"type": ["string", "null", "integer"]}),
    "integer to number": lambda s: props(s)["size"].update({"type": "number"}),
    "enum widened": lambda s: props(s)["kind"].update({"enum": ["url", "content", "near"]}),
    "enum dropped": lambda s: props(s)["kind"].pop("enum"),
    "const dropped": lambda s: props(s)["schema_version"].pop("const"),
    "description changed": lambda s: props(s)["note"].update({"description": "new words"}),
    "title added": lambda s: s.update({"title": "Thing"}),
    "bound loosened": lambda s: props(s)["size"].update({"maximum": 100}),
    "pattern dropped": lambda s: props(s)["id"].pop("pattern"),
    "extra properties allowed": lambda s: s.update({"additionalProperties": True}),
    "items widened": lambda s: props(s)["tags"]["items"].update({"type": ["string", "null"]}),
}
BREAKING = {
    "property removed": lambda s: props(s).pop("note"),
    "retyped": lambda s: props(s)["size"].update({"type": "string"}),
    "type narrowed": lambda s: props(s)["note"].update({"type": "string"}),
    "enum narrowed": lambda s: props(s)["kind"].update({"enum": ["url"]}),
    "const changed": lambda s: props(s)["schema_version"].update({"const": 3}),
    "new required property": lambda s: (
        props(s).update({"extra": {"type": "string"}}),
        s["required"].append("extra"),
    ),
    "optional made required": lambda s: s["required"].append("note"),
    "required made optional": lambda s: s["required"].remove("kind"),
    "bound tightened": lambda s: props(s)["size"].update({"minimum": 1}),
    "pattern changed": lambda s: props(s)["id"].update({"pattern": "^[0-9a-f]{64}$"}),
    "format added": lambda s: props(s)["note"].update({"format": "date-time"}),
    "type added to an any": lambda s: props(s).update({"origin": {"type": "object"}}),
    "$ref elsewhere": lambda s: props(s)["origin"].update({"$ref": "other.schema.json"}),
    "$id of another file": lambda s: s.update({"$id": BASE + "other.schema.json"}),
    "items narrowed": lambda s: props(s)["tags"].update({"items": {"enum": ["a"]}}),
    "oneOf added": lambda s: s.update({"oneOf": [{"required": ["note"]}]}),
}


@pytest.mark.parametrize("name", COMPATIBLE)
def test_compatible_changes_pass(name: str) -> None:
    assert breaks(OLD, changed(COMPATIBLE[name])) == []


@pytest.mark.parametrize("name", BREAKING)
def test_breaking_changes_fail(name: str) -> None:
    assert breaks(OLD, changed(BREAKING[name])) != []


def test_narrowing_a_number_to_an_integer_fails_and_widening_passes() -> None:
    number, integer = {"type": "number"}, {"type": "integer"}
    assert breaks(number, integer) and not breaks(integer, number)


def test_a_break_names_where_it_is() -> None:
    (found,) = breaks(OLD, changed(lambda s: props(s).pop("note")))
    assert found == "#/properties/note: removed"


def test_a_new_property_must_fit_what_old_extra_properties_allowed() -> None:
    old = {"type": "object", "additionalProperties": {"type": "string"}}
    fitting = {**old, "properties": {"a": {"type": "string", "maxLength": 9}}}
    assert breaks(old, fitting) != []  # narrower than "any string"
    assert breaks(old, {**old, "properties": {"a": {"type": ["string", "null"]}}}) == []


def test_refs_are_compared_by_what_they_resolve_to() -> None:
    old = {"$id": "a.schema.json", "properties": {"o": {"$ref": "source.schema.json"}}}
    moved = {
        "$id": BASE + "a.schema.json",
        "properties": {"o": {"$ref": BASE + "source.schema.json"}},
    }
    assert breaks(old, moved) == []


def test_released_copies_are_unchanged() -> None:
    for folder in releases():
        lines = (folder / "SHA256SUMS").read_text().splitlines()
        sums = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
        stored = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.json")}
        assert stored == sums, f"{folder.name}: a released schema was edited, added or removed"


def test_every_released_schema_still_exists() -> None:
    current = {p.name for p in files()}
    for folder in releases():
        assert {p.name for p in folder.glob("*.schema.json")} <= current, folder.name


@pytest.mark.parametrize("name", [p.name for p in files()])
def test_each_schema_is_compatible_with_the_last_release(name: str) -> None:
    released = latest() / name
    if not released.exists():
        return  # new since the release: nothing to be compatible with
    assert breaks(load(released), load(SCHEMAS / name)) == []
