"""Shape checks for the custom resources in deploy/ (KEDA, Prometheus Operator): the
Kubernetes schemas of kubernetes-validate do not include them. Only what a typo or a wrong
type would break: required fields and their types, as the operators read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]


def _strings(mapping: Any, where: str) -> None:
    """A mapping of strings to strings (KEDA trigger metadata, labels, annotations)."""
    assert isinstance(mapping, dict), where
    for key, value in mapping.items():
        assert isinstance(key, str) and isinstance(value, str), f"{where}: {key}={value!r}"


def _metadata(obj: Obj, api_version: str) -> Obj:
    """Check apiVersion and metadata; the spec."""
    assert obj["apiVersion"] == api_version, obj["apiVersion"]
    assert isinstance(obj["metadata"]["name"], str)
    _strings(obj["metadata"].get("labels", {}), "labels")
    _strings(obj["metadata"].get("annotations", {}), "annotations")
    assert isinstance(obj["spec"], dict)
    return dict(obj["spec"])


def scaled_object(obj: Obj) -> None:
    """keda.sh/v1alpha1 ScaledObject: a target, replica bounds, triggers of string metadata."""
    spec = _metadata(obj, "keda.sh/v1alpha1")
    assert isinstance(spec["scaleTargetRef"]["name"], str)
    low, high = spec.get("minReplicaCount", 0), spec["maxReplicaCount"]
    assert isinstance(low, int) and isinstance(high, int) and 0 <= low <= high
    for field in ("pollingInterval", "cooldownPeriod"):
        assert isinstance(spec.get(field, 0), int), field
    assert spec["triggers"]
    for trigger in spec["triggers"]:
        assert isinstance(trigger["type"], str)
        _strings(trigger["metadata"], f"trigger {trigger['type']}")  # KEDA refuses non-strings
        assert isinstance(trigger.get("authenticationRef", {}).get("name", ""), str)


def trigger_authentication(obj: Obj) -> None:
    """keda.sh/v1alpha1 TriggerAuthentication with secret references."""
    spec = _metadata(obj, "keda.sh/v1alpha1")
    assert spec.keys() <= {"secretTargetRef", "env", "podIdentity"}
    for ref in spec["secretTargetRef"]:
        assert ref.keys() == {"parameter", "name", "key"}
        _strings(ref, "secretTargetRef")


def prometheus_rule(obj: Obj) -> None:
    """monitoring.coreos.com/v1 PrometheusRule: groups of alerting or recording rules."""
    spec = _metadata(obj, "monitoring.coreos.com/v1")
    assert spec["groups"]
    for group in spec["groups"]:
        assert isinstance(group["name"], str) and group["rules"]
        for rule in group["rules"]:
            assert ("alert" in rule) != ("record" in rule), rule
            assert isinstance(rule["expr"], str | int), rule
            assert isinstance(rule.get("for", ""), str), rule
            _strings(rule.get("labels", {}), f"rule {rule.get('alert') or rule['record']}")
            _strings(rule.get("annotations", {}), f"rule {rule.get('alert') or rule['record']}")


def service_monitor(obj: Obj) -> None:
    """monitoring.coreos.com/v1 ServiceMonitor: a label selector and named-port endpoints."""
    spec = _metadata(obj, "monitoring.coreos.com/v1")
    _strings(spec["selector"]["matchLabels"], "selector")
    assert spec["endpoints"]
    for endpoint in spec["endpoints"]:
        assert isinstance(endpoint["port"], str)
        assert isinstance(endpoint.get("path", "/metrics"), str)


CHECKS: dict[str, Callable[[Obj], None]] = {
    "ScaledObject": scaled_object,
    "TriggerAuthentication": trigger_authentication,
    "PrometheusRule": prometheus_rule,
    "ServiceMonitor": service_monitor,
}
