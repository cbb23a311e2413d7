"""Is a new version of a JSON Schema backward compatible with an old one? A pure checker.

Compatible means: every value the old schema accepts, the new one accepts too (a reader of the
new version reads old records; a producer of old messages is still understood), and nothing a
consumer read under the old version disappears or changes type. So:

    breaks    removing a property; narrowing a type or an enum (const is an enum of one);
              making a property required; tightening a bound, pattern or format; making
              `additionalProperties` stricter; pointing a `$ref` at another schema
    passes    adding an optional property; widening a type or an enum; loosening a bound;
              any change of an annotation (title, description, examples, $comment); moving
              the `$id` to another base (same file name: relative `$ref`s still meet)

A keyword the checker does not understand (`oneOf`, `not`, ...) must stay as it was
(annotations excepted): what cannot be proved compatible counts as a break.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

ANNOTATIONS = frozenset({"title", "description", "examples", "$comment", "default", "deprecated"})
NUMBERS = frozenset({"integer", "number"})
LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
"""Bounds that may only go down (or go away)."""
UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
"""Bounds that may only go up (or go away)."""
EXACT = ("pattern", "format", "contentEncoding", "contentMediaType", "uniqueItems")
"""Constraints that may be dropped but not added or changed."""
HANDLED = frozenset(
    {"$id", "$schema", "$ref", "type", "enum", "const", "properties", "required"}
    | {"additionalProperties", "items", *LOWER, *UPPER, *EXACT}
)


def breaks(old: Any, new: Any, path: str = "") -> list[str]:
    """What in `new` breaks readers or producers of `old` (empty: compatible)."""
    return _compare(old, new, path or "#", _id(old), _id(new))


def _id(schema: Any) -> str:
    return schema.get("$id", "") if isinstance(schema, Mapping) else ""


def _compare(old: Any, new: Any, at: str, old_base: str, new_base: str) -> list[str]:
    if old is True or old == {}:
        return [] if new is True or _unconstrained(new) else [f"{at}: constrained (was anything)"]
    if new is True or _unconstrained(new):
        return []
    if old is False or new is False:
        return [] if old is False else [f"{at}: accepts nothing any more"]
    found = [
        *_identity(old, new, at),
        *_ref(old, new, at, old_base, new_base),
        *_types(old, new, at),
        *_values(old, new, at),
        *_bounds(old, new, at),
        *_objects(old, new, at, old_base, new_base),
        *_unknown(old, new, at),
    ]
    if "items" in old or "items" in new:
        found += _compare(old.get("items", True), new.get("items", True), f"{at}/items",
                          old_base, new_base)  # fmt: skip
    return found


def _unconstrained(schema: Any) -> bool:
    """True for a schema that accepts anything (annotations only)."""
    return isinstance(schema, Mapping) and not set(schema) - ANNOTATIONS - {"$id", "$schema"}


def _identity(old: Mapping[str, Any], new: Mapping[str, Any], at: str) -> list[str]:
    """`$id` may move to another base, keeping its file name; `$schema` may not change."""
    found = []
    if ("$id" in old or "$id" in new) and _name(old.get("$id", "")) != _name(new.get("$id", "")):
        found.append(f"{at}: $id names another schema ({old.get('$id')} -> {new.get('$id')})")
    if old.get("$schema") != new.get("$schema"):
        found.append(f"{at}: $schema changed ({old.get('$schema')} -> {new.get('$schema')})")
    return found


def _name(uri: str) -> str:
    """The file a URI names, with its fragment: what stays when the base moves."""
    parts = urlsplit(uri)
    return parts.path.rsplit("/", 1)[-1] + (f"#{parts.fragment}" if parts.fragment else "")


def _ref(
    old: Mapping[str, Any], new: Mapping[str, Any], at: str, old_base: str, new_base: str
) -> list[str]:
    """A `$ref` must name the same schema, each resolved against its own document's `$id`."""
    if "$ref" not in old and "$ref" not in new:
        return []
    before = _name(urljoin(old_base, old["$ref"])) if "$ref" in old else None
    after = _name(urljoin(new_base, new["$ref"])) if "$ref" in new else None
    if before == after or after is None:
        return []
    return [f"{at}: $ref points elsewhere ({before} -> {after})"]


def _type_set(schema: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a schema allows by `type` (None: any)."""
    if "type" not in schema:
        return None
    kind = schema["type"]
    return {kind} if isinstance(kind, str) else set(kind)


def _types(old: Mapping[str, Any], new: Mapping[str, Any], at: str) -> list[str]:
    """Every type the old schema allowed is still allowed (an integer is a number)."""
    before, after = _type_set(old), _type_set(new)
    if after is None:
        return []
    if before is None:
        return [f"{at}: type narrowed (was any, now {sorted(after)})"]
    allowed = after | ({"integer"} if "number" in after else set())
    lost = before - allowed
    return [f"{at}: type narrowed (lost {sorted(lost)})"] if lost else []


def _enum(schema: Mapping[str, Any]) -> list[Any] | None:
    """The values a schema allows by `enum` or `const` (None: any)."""
    if "const" in schema:
        return [schema["const"]]
    return list(schema["enum"]) if "enum" in schema else None


def _values(old: Mapping[str, Any], new: Mapping[str, Any], at: str) -> list[str]:
    """Every value the old enum (or const) allowed is still allowed."""
    before, after = _enum(old), _enum(new)
    if after is None:
        return []
    if before is None:
        return [f"{at}: values narrowed to {after} (was any)"]
    lost = [value for value in before if not any(_same(value, v) for v in after)]
    return [f"{at}: values narrowed (lost {lost})"] if lost else []


def _same(a: Any, b: Any) -> bool:
    """JSON equality (True is not 1)."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _bounds(old: Mapping[str, Any], new: Mapping[str, Any], at: str) -> list[str]:
    """Lower bounds may only fall, upper bounds only rise; exact constraints may only go."""
    found = []
    for key in LOWER:
        if key in new and (key not in old or new[key] > old[key]):
            found.append(f"{at}: {key} raised to {new[key]} (was {old.get(key, 'none')})")
    for key in UPPER:
        if key in new and (key not in old or new[key] < old[key]):
            found.append(f"{at}: {key} lowered to {new[key]} (was {old.get(key, 'none')})")
    for key in EXACT:
        if key in new and new[key] != old.get(key):
            found.append(f"{at}: {key} changed to {new[key]!r} (was {old.get(key, 'none')!r})")
    return found


def _objects(
    old: Mapping[str, Any], new: Mapping[str, Any], at: str, old_base: str, new_base: str
) -> list[str]:
    """Properties stay, keep their meaning, and become required only if they already were."""
    found = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_extra = old.get("additionalProperties", True)
    new_extra = new.get("additionalProperties", True)
    for name, schema in old_props.items():
        if name not in new_props:
            found.append(f"{at}/properties/{name}: removed")
        else:
            found += _compare(schema, new_props[name], f"{at}/properties/{name}",
                              old_base, new_base)  # fmt: skip
    for name, schema in new_props.items():
        if name not in old_props and old_extra is not True:
            found += _compare(old_extra, schema, f"{at}/properties/{name}", old_base, new_base)
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        found.append(f"{at}/required: {name} is required now")
    for name in sorted(set(old.get("required", [])) - set(new.get("required", []))):
        found.append(f"{at}/required: {name} may be missing now (consumers relied on it)")
    if old_extra is not True or new_extra is not True:
        found += _compare(old_extra, new_extra, f"{at}/additionalProperties", old_base, new_base)
    return found


def _unknown(old: Mapping[str, Any], new: Mapping[str, Any], at: str) -> list[str]:
    """Keywords the checker does not reason about must not change."""
    keys = (set(old) | set(new)) - HANDLED - ANNOTATIONS
    return [f"{at}: {key} changed (not provably compatible)" for key in sorted(keys)
            if old.get(key) != new.get(key)]  # fmt: skip
