"""The rendered Kubernetes manifests of deploy/k8s, and what the tests read out of them."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.kustomize import Obj, build
from worker.settings import ENV, Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = {
    "base": K8S / "base",
    "production": K8S / "overlays" / "production",
    "production-hpa": K8S / "overlays" / "production-hpa",
}
SCALED = ("production", "production-hpa")
"""The overlays with an autoscaler (production ones)."""
SECRET_TEMPLATE = K8S / "kafka-secret.template.yaml"
WORKLOADS = ("StatefulSet", "Job")

UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9}


@functools.cache
def _rendered(name: str) -> tuple[Obj, ...]:
    return tuple(build(OVERLAYS[name]))


def render(name: str) -> list[Obj]:
    """The objects of an overlay (or the base), as `kubectl kustomize` renders them."""
    return list(_rendered(name))


def one(objs: list[Obj], kind: str, name: str | None = None) -> Obj:
    """The single object of this kind (and name)."""
    found = [o for o in objs if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"{len(found)} objects {kind}/{name or '*'}"
    return found[0]


def pod_specs(objs: list[Obj]) -> Iterator[tuple[str, Obj]]:
    """(workload kind, pod spec) of every workload."""
    for obj in objs:
        if obj["kind"] in WORKLOADS:
            yield obj["kind"], obj["spec"]["template"]["spec"]


def worker(objs: list[Obj]) -> Obj:
    """The worker container of the StatefulSet."""
    return one(objs, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]


def config(objs: list[Obj], container: Obj) -> dict[str, str]:
    """The data of the ConfigMap a container reads through envFrom (by its rendered name)."""
    (ref,) = container["envFrom"]
    return dict(one(objs, "ConfigMap", ref["configMapRef"]["name"])["data"])


def settings(data: dict[str, str]) -> Settings:
    """The worker's Settings from ConfigMap data (its <VAR>_FILE entries need the Secret)."""
    return Settings.from_env({var: value for var, value in data.items() if var in ENV})


def secret_template() -> Obj:
    """The Secret template (kept out of every kustomization)."""
    return yaml.safe_load(SECRET_TEMPLATE.read_text())


def bytes_of(quantity: str) -> int:
    """A Kubernetes memory quantity in bytes ("2Gi", "1536Mi", "512M", "1073741824")."""
    match = re.fullmatch(r"(\d+)([KMGT]i|[kMG])?", quantity)
    assert match, f"unsupported quantity {quantity!r}"
    return int(match[1]) * UNITS.get(match[2] or "", 1)


def named_port(container: Obj, name: str) -> int:
    """The container port of this name."""
    (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    return int(port)


def kustomization(name: str) -> dict[str, Any]:
    """The kustomization.yaml of an overlay, as written."""
    return dict(yaml.safe_load((OVERLAYS[name] / "kustomization.yaml").read_text()))
