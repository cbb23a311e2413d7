"""deploy/observability: the dashboard and the alerts name only metrics the worker exports, and
the alerts are a PrometheusRule that Prometheus Operator takes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from worker import metrics

FOLDER = Path(__file__).resolve().parents[2] / "deploy" / "observability"
METRIC = re.compile(r"\b(?:ingest|process)_[a-z0-9_]+")
SUFFIXES = {
    "counter": ["_total", "_created"],
    "histogram": ["_bucket", "_sum", "_count", "_created"],
    "summary": ["_sum", "_count", "_created"],
}


def exported() -> set[str]:
    """Every series name `/metrics` can show: each family's, with its type's suffixes (a labelled
    family has no sample until first used), and every sample's."""
    names: set[str] = set()
    for family in metrics.REGISTRY.collect():
        names |= {family.name, *(family.name + s for s in SUFFIXES.get(family.type, []))}
        names |= {sample.name for sample in family.samples}
    return names


def dashboard() -> dict[str, Any]:
    return json.loads((FOLDER / "dashboard.json").read_text())


def rules() -> list[dict[str, Any]]:
    rule = yaml.safe_load((FOLDER / "alerts.yaml").read_text())
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def queries(node: Any) -> Iterator[str]:
    """The PromQL of a dashboard: each target's `expr` and each variable's `definition`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"expr", "definition"} and isinstance(value, str):
                yield value
            else:
                yield from queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from queries(item)


def test_the_exported_names_include_the_suffixed_series_and_the_process_metrics() -> None:
    names = exported()
    assert {"ingest_outcomes_total", "ingest_latency_seconds_bucket", "ingest_cleaning_seconds_count"} <= names
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total"} <= names
    assert "ingest_outcomes" in names and "ingest_latency_seconds_total" not in names


def test_the_dashboard_names_only_exported_metrics() -> None:
    exprs = list(queries(dashboard()))
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert len(exprs) >= 15 and len(used) >= 15
    assert used - exported() == set()


@pytest.mark.parametrize(
    "metric",
    [
        "ingest_outcomes_total",
        "ingest_cleaning_seconds_bucket",
        "ingest_latency_seconds_bucket",
        "ingest_partition_lag_messages",
        "ingest_seconds_without_progress",
        "ingest_dedup_undecided_pages",
        "ingest_dedup_oldest_wait_seconds",
        "ingest_extractor_spares",
        "ingest_extractor_recycled_total",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "ingest_state_bytes",
    ],
)
def test_the_dashboard_shows(metric: str) -> None:
    assert any(metric in expr for expr in queries(dashboard()))


def test_every_panel_has_a_unique_id_a_title_and_a_query() -> None:
    panels = dashboard()["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(p["title"] and p["targets"] and p["datasource"]["uid"] == "${datasource}" for p in panels)


def test_the_alerts_are_a_prometheus_rule_with_complete_rules() -> None:
    rule = yaml.safe_load((FOLDER / "alerts.yaml").read_text())
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["name"]
    for alert in rules():
        assert {"alert", "expr", "for", "labels", "annotations"} <= set(alert), alert
        assert alert["labels"]["severity"] in {"warning", "critical"}
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
        assert re.fullmatch(r"\d+[smh]", alert["for"]), alert["for"]
    assert {a["alert"] for a in rules()} >= {
        "IngestLagGrowing",
        "IngestStalled",
        "IngestRejectionRateHigh",
        "IngestExtractorRecycling",
    }


def test_the_alerts_name_only_exported_metrics() -> None:
    used = {name for alert in rules() for name in METRIC.findall(alert["expr"])}
    assert used and used - exported() == set()


def test_the_kustomization_lists_the_rule_and_makes_the_dashboard_a_labelled_config_map() -> None:
    kustomization = yaml.safe_load((FOLDER / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["alerts.yaml"]
    [generated] = kustomization["configMapGenerator"]
    assert generated["files"] == ["dashboard.json"]
    assert generated["options"]["labels"] == {"grafana_dashboard": "1"}
