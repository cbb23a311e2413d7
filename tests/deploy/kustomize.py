"""A renderer for the subset of Kustomize that deploy/ uses, so the tests need no kubectl.

Supported, as `kubectl kustomize` does it: `resources` (files, and directories with their own
kustomization.yaml), `configMapGenerator` (`envs`, `files`, `literals`; `behavior` create or
merge; `options`/`generatorOptions` labels, annotations and `disableNameSuffixHash`) with the
content hash suffix and the references it renames (`configMapRef`, `configMapKeyRef`, volume
`configMap`), `patches` (strategic merge by kind and name, from a file or inline, including
`$patch: delete`; lists of containers, env and volumes merged by name in kubectl's order,
other lists replaced), `images` and `namespace`. Anything else in a kustomization raises, so
a manifest that grows past this subset fails the tests instead of rendering wrong.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

FIELDS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "configMapGenerator",
    "generatorOptions",
    "patches",
    "images",
}
GENERATOR_FIELDS = {"name", "behavior", "envs", "files", "literals", "options"}
NAMED_LISTS = {"containers", "initContainers", "env", "volumes"}
"""Lists a strategic merge patch merges item by item (their `name` is the patch merge key)."""
CONFIG_MAP_REFS = {"configMapRef", "configMapKeyRef", "configMap"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


@dataclass
class Item:
    """One resource on its way through a build: `hashed` ones get a content hash suffix."""

    obj: Obj
    hashed: bool = False


def build(root: Path) -> list[Obj]:
    """Render the kustomization in `root` as `kubectl kustomize root` would (same objects)."""
    items = _accumulate(root)
    renames = {}
    for item in items:
        if item.hashed:
            name = item.obj["metadata"]["name"]
            item.obj["metadata"]["name"] = renames[name] = f"{name}-{config_map_hash(item.obj)}"
    return [_rename_refs(item.obj, renames) if not item.hashed else item.obj for item in items]


def config_map_hash(config_map: Obj) -> str:
    """Kustomize's name suffix: sha256 of the Go JSON of kind, name and data, 10 characters.

    The name is always empty: kustomize looks it up as one field called "metadata/name"
    (api/hasher/hasher.go), which no ConfigMap has; kubectl's suffixes agree only so.
    """
    encoded = {"kind": "ConfigMap", "name": "", "data": config_map.get("data", {})}
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(char, escaped)  # Go's json.Marshal escapes them, Python's does not
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))  # kustomize avoids vowels, 0-3


def _accumulate(root: Path) -> list[Item]:
    """The resources of one kustomization, generated, patched and transformed."""
    spec = yaml.safe_load((root / "kustomization.yaml").read_text())
    unknown = set(spec) - FIELDS
    if unknown:
        raise ValueError(f"{root}: unsupported kustomization fields {sorted(unknown)}")
    items: list[Item] = []
    for entry in spec.get("resources", []):
        path = root / entry
        items += _accumulate(path) if path.is_dir() else [Item(o) for o in _load(path)]
    defaults = spec.get("generatorOptions", {})
    for generator in spec.get("configMapGenerator", []):
        items = _generate(items, generator, defaults, root)
    for patch in spec.get("patches", []):
        items = _patch(items, patch, root)
    for image in spec.get("images", []):
        for item in items:
            _set_images(item.obj, image)
    if "namespace" in spec:
        for item in items:
            if item.obj["kind"] not in CLUSTER_SCOPED:
                item.obj["metadata"]["namespace"] = spec["namespace"]
    return items


def _load(path: Path) -> list[Obj]:
    """The documents of one YAML file (empty ones left out)."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _generate(items: list[Item], generator: Obj, defaults: Obj, root: Path) -> list[Item]:
    """Add the generator's ConfigMap, or merge its data into the one of the same name."""
    unknown = set(generator) - GENERATOR_FIELDS
    if unknown:
        raise ValueError(f"{root}: unsupported configMapGenerator fields {sorted(unknown)}")
    options = {**defaults, **generator.get("options", {})}
    data = _generator_data(generator, root)
    meta = {k: dict(options[k]) for k in ("labels", "annotations") if k in options}
    behavior = generator.get("behavior", "create")
    if behavior == "merge":
        target = next(i for i in items if _is(i.obj, "ConfigMap", generator["name"]))
        target.obj.setdefault("data", {}).update(data)
        for key, values in meta.items():
            target.obj["metadata"].setdefault(key, {}).update(values)
        return items
    if behavior != "create":
        raise ValueError(f"{root}: unsupported configMapGenerator behavior {behavior!r}")
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": generator["name"], **meta},
        "data": data,
    }
    return [*items, Item(config_map, hashed=not options.get("disableNameSuffixHash", False))]


def _generator_data(generator: Obj, root: Path) -> dict[str, str]:
    """The ConfigMap data of a generator: env files, then files, then literals."""
    data: dict[str, str] = {}
    for name in generator.get("envs", []):
        for line in (root / name).read_text().splitlines():
            line = line.lstrip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                data[key] = value
    for entry in generator.get("files", []):
        key, _, path = entry.rpartition("=")
        data[key or Path(path).name] = (root / path).read_text()
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value.strip("\"'")
    return data


def _patch(items: list[Item], patch: Obj, root: Path) -> list[Item]:
    """Apply one strategic merge patch to the resource of its kind and name."""
    unknown = set(patch) - {"path", "patch"}
    if unknown:
        raise ValueError(f"{root}: unsupported patch fields {sorted(unknown)}")
    body = yaml.safe_load(patch["patch"]) if "patch" in patch else _load(root / patch["path"])[0]
    kind, name = body["kind"], body["metadata"]["name"]
    matches = [i for i in items if _is(i.obj, kind, name)]
    if len(matches) != 1:
        raise ValueError(f"{root}: patch of {kind}/{name} matches {len(matches)} resources")
    if body.get("$patch") == "delete":
        return [i for i in items if i is not matches[0]]
    matches[0].obj = merge(matches[0].obj, body)
    return items


def merge(base: Any, patch: Any, key: str = "") -> Any:
    """Strategic merge of `patch` into `base` (new objects; null deletes a field)."""
    if isinstance(patch, dict) and isinstance(base, dict):
        merged = dict(base)
        for field, value in patch.items():
            if value is None:
                merged.pop(field, None)
            else:
                merged[field] = merge(base[field], value, field) if field in base else value
        return merged
    if key in NAMED_LISTS and isinstance(patch, list) and isinstance(base, list):
        # as kubectl orders them: the patch's items (merged into the base's of their name),
        # then the base's other items
        originals = {entry["name"]: entry for entry in base}
        patched = [
            merge(originals.pop(e["name"]), e) if e["name"] in originals else e for e in patch
        ]
        return patched + [copy.deepcopy(e) for e in originals.values()]
    return copy.deepcopy(patch)


def _set_images(obj: Any, image: Obj) -> None:
    """Replace the image of every container (at any depth) whose image name is `image.name`."""
    if isinstance(obj, list):
        for value in obj:
            _set_images(value, image)
        return
    if not isinstance(obj, dict):
        return
    for key, value in obj.items():
        if key in ("containers", "initContainers"):
            for container in value:
                container["image"] = _new_image(container["image"], image)
        _set_images(value, image)


def _new_image(reference: str, image: Obj) -> str:
    """`reference` with the name, tag or digest of a kustomize `images:` entry, if it matches."""
    name, at, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    name, tag = (name[:colon], name[colon + 1 :]) if colon > slash else (name, "")
    if name != image["name"]:
        return reference
    name = image.get("newName", name)
    if "digest" in image:
        return f"{name}@{image['digest']}"
    tag = image.get("newTag", tag)
    return f"{name}:{tag}" if tag else f"{name}{at}{digest}"


def _rename_refs(obj: Any, renames: dict[str, str]) -> Any:
    """Point every ConfigMap reference at the hashed name of a generated ConfigMap."""
    if isinstance(obj, list):
        return [_rename_refs(value, renames) for value in obj]
    if not isinstance(obj, dict):
        return obj
    renamed = {key: _rename_refs(value, renames) for key, value in obj.items()}
    for key in CONFIG_MAP_REFS & renamed.keys():
        ref = renamed[key]
        if isinstance(ref, dict) and ref.get("name") in renames:
            renamed[key] = {**ref, "name": renames[ref["name"]]}
    return renamed


def _is(obj: Obj, kind: str, name: str) -> bool:
    """True if the object is of this kind and (unhashed) name."""
    return bool(obj["kind"] == kind and obj["metadata"]["name"] == name)
