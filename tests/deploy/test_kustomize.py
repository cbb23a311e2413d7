"""The Kustomize subset renderer (tests/deploy/kustomize.py) on small kustomizations, with
values `kubectl kustomize` (kustomize v5.5.0) gave for the same input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.kustomize import build, config_map_hash, merge


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_hash_suffix_is_kustomizes() -> None:
    # kubectl kustomize: configMapGenerator [{name: x, literals: [A=b]}] -> x-b9t2424hkf
    assert config_map_hash({"metadata": {"name": "x"}, "data": {"A": "b"}}) == "b9t2424hkf"
    assert config_map_hash({"metadata": {"name": "x"}, "data": {"A": "c"}}) != "b9t2424hkf"


def test_generated_name_reaches_references_and_follows_merged_data(tmp_path: Path) -> None:
    """An overlay's merge changes the data, so the suffix, and every reference follows it."""
    root = _write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [pod.yaml]\n"
            "configMapGenerator: [{name: x, literals: [A=b]}]\n",
            "base/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
            "  containers: [{name: c, image: img, envFrom: [{configMapRef: {name: x}}]}]\n"
            "  volumes: [{name: v, configMap: {name: x}}]\n",
            "overlay/kustomization.yaml": "resources: [../base]\n"
            "configMapGenerator: [{name: x, behavior: merge, literals: [B=c]}]\n",
        },
    )
    base = {o["kind"]: o for o in build(root / "base")}
    overlay = {o["kind"]: o for o in build(root / "overlay")}
    assert base["ConfigMap"]["metadata"]["name"] == "x-b9t2424hkf"
    assert overlay["ConfigMap"]["data"] == {"A": "b", "B": "c"}
    name = overlay["ConfigMap"]["metadata"]["name"]
    assert name == "x-mb2td97bhm"  # kubectl kustomize overlay
    spec = overlay["Pod"]["spec"]
    assert spec["containers"][0]["envFrom"][0]["configMapRef"]["name"] == name
    assert spec["volumes"][0]["configMap"]["name"] == name


def test_patches_images_and_namespace(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "kustomization.yaml": "namespace: ns\nresources: [pods.yaml]\n"
            "images: [{name: img, newName: reg/img, newTag: '2'}]\n"
            "patches:\n- path: patch.yaml\n"
            "- patch: '{$patch: delete, apiVersion: v1, kind: Pod, metadata: {name: gone}}'\n",
            "pods.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
            "  containers: [{name: a, image: 'img:1'}, {name: b, image: other}]\n"
            "  restartPolicy: Always\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: gone}\n",
            "patch.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
            "  containers: [{name: b, args: [x]}]\n  restartPolicy: null\n",
        },
    )
    (pod,) = build(root)
    assert pod["metadata"]["namespace"] == "ns"
    assert pod["spec"] == {  # kubectl's order: patched containers first
        "containers": [
            {"name": "b", "image": "other", "args": ["x"]},
            {"name": "a", "image": "reg/img:2"},
        ]
    }


def test_merge_replaces_lists_without_names() -> None:
    assert merge({"args": ["a", "b"]}, {"args": ["c"]}) == {"args": ["c"]}
    assert merge({"env": [{"name": "A", "value": "1"}]}, {"env": [{"name": "B"}]}) == {
        "env": [{"name": "B"}, {"name": "A", "value": "1"}]
    }


@pytest.mark.parametrize(
    "field", ["commonLabels: {a: b}", "components: [c]", "replicas: [{name: x, count: 2}]"]
)
def test_unsupported_fields_raise(tmp_path: Path, field: str) -> None:
    """What the renderer does not implement fails loudly instead of rendering wrong."""
    _write(tmp_path, {"kustomization.yaml": f"resources: []\n{field}\n"})
    with pytest.raises(ValueError, match="unsupported"):
        build(tmp_path)
