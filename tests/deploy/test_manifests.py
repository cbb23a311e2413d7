"""deploy/k8s rendered (base and every overlay), validated against the Kubernetes API's JSON
schemas offline, and checked against what the worker reads and needs: settings, probes,
memory, shutdown, disruption, network, scaling, images."""

from __future__ import annotations

from pathlib import PurePosixPath

import kubernetes_validate
import pytest

from tests.deploy import crds
from tests.deploy.kustomize import build
from tests.deploy.manifests import (
    OVERLAYS,
    ROOT,
    SCALED,
    bytes_of,
    config,
    kustomization,
    named_port,
    one,
    pod_specs,
    render,
    secret_template,
    settings,
    worker,
)
from worker.memory import budget
from worker.settings import ENV

KUBERNETES_VERSION = "1.31"
"""The oldest Kubernetes minor the manifests are validated for (PDB policy/v1, HPA v2, Job
ttlSecondsAfterFinished, emptyDir sizeLimit are all older)."""
SECRET_VARS = {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"}
"""Settings that come from the Secret's files (<VAR>_FILE in the ConfigMap), never from it."""
FROM_POD = {"INGEST_GROUP_INSTANCE_ID"}
"""Settings set per pod in the StatefulSet (its name: static membership)."""
KEDA_SASL = {"SCRAM-SHA-512": "scram_sha512", "SCRAM-SHA-256": "scram_sha256", "PLAIN": "plaintext"}
"""KAFKA_SASL_MECHANISM as KEDA's kafka trigger names it (`sasl`)."""


@pytest.fixture(params=list(OVERLAYS))
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=SCALED)
def scaled(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_object_is_valid(overlay: str) -> None:
    """Built-in kinds against the API's schemas (strict: no unknown fields); CRDs, which the
    validator has no schemas for, against shape checks of their own."""
    for obj in render(overlay):
        if obj["kind"] in crds.CHECKS:
            crds.CHECKS[obj["kind"]](obj)
        else:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_secret_template_is_valid_and_a_placeholder() -> None:
    secret = secret_template()
    kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
    assert all("REPLACE-ME" in value for value in secret["stringData"].values())


def test_config_map_lists_every_setting_the_worker_reads(overlay: str) -> None:
    """Every variable of settings.ENV is in the ConfigMap, except the secret ones (given as
    <VAR>_FILE) and the pod's name; nothing else looks like a setting; all of them parse."""
    objs = render(overlay)
    data = config(objs, worker(objs))
    assert set(ENV) - data.keys() == SECRET_VARS | FROM_POD
    assert not (SECRET_VARS | FROM_POD) & data.keys()
    known = set(ENV) | {f"{var}_FILE" for var in ENV}
    assert data.keys() <= known, f"not settings of the worker: {sorted(data.keys() - known)}"
    assert {f"{var}_FILE" for var in SECRET_VARS} <= data.keys()
    settings(data)  # raises ValueError naming a variable whose value does not parse
    env = {e["name"]: e for e in worker(objs)["env"]}
    assert env.keys() == FROM_POD
    assert env["INGEST_GROUP_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_secret_files_are_keys_of_the_secret(overlay: str) -> None:
    """The files the ConfigMap names are in the mounted Secret, whose template has those keys."""
    objs = render(overlay)
    template = secret_template()
    for kind, pod in pod_specs(objs):
        (container,) = pod["containers"]
        data = config(objs, container)
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = container["volumeMounts"]
        (mount,) = [m for m in mounts if "secret" in volumes.get(m["name"], {})]
        assert volumes[mount["name"]]["secret"]["secretName"] == template["metadata"]["name"]
        assert mount["readOnly"] is True
        paths = [data[f"{var}_FILE"] for var in SECRET_VARS] + [data["KAFKA_SSL_CAFILE"]]
        for path in map(PurePosixPath, paths):
            assert path.parent == PurePosixPath(mount["mountPath"]), (kind, path)
            assert path.name in template["stringData"], (kind, path)


def test_probes_are_http_on_the_worker_endpoints(overlay: str) -> None:
    objs = render(overlay)
    container = worker(objs)
    data = config(objs, container)
    assert settings(data).web_enabled
    assert named_port(container, "web") == settings(data).web_port
    paths = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in paths.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "web"}, probe
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # a slow start is no crash


def test_pods_are_restricted(overlay: str) -> None:
    """Non-root, read-only root, no privilege escalation, no capabilities, no API token,
    limits on every container: the `restricted` Pod Security Standard and then some."""
    objs = render(overlay)
    accounts = {o["metadata"]["name"] for o in objs if o["kind"] == "ServiceAccount"}
    for kind, pod in pod_specs(objs):
        assert pod["automountServiceAccountToken"] is False, kind
        assert pod["serviceAccountName"] in accounts, kind
        assert pod["securityContext"]["runAsNonRoot"] is True, kind
        assert pod["securityContext"]["runAsUser"] != 0, kind
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", kind
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, kind
            assert context["readOnlyRootFilesystem"] is True, kind
            assert context["capabilities"]["drop"] == ["ALL"], kind
            assert "add" not in context["capabilities"], kind
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), kind
            (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert "emptyDir" in volumes[tmp["name"]], kind


def test_memory_limit_holds_the_worker_and_its_extraction_processes(overlay: str) -> None:
    """limit >= the worker process's allowance + (EXTRACT_WORKERS + EXTRACT_SPARES) x
    EXTRACT_MEMORY_BYTES, from the rendered ConfigMap: the check the worker makes at start."""
    objs = render(overlay)
    container = worker(objs)
    current = settings(config(objs, container))
    need = budget(current)
    parent, children = need.parent, need.children
    assert current.extract_memory_bytes > 0, "extraction processes must be capped"
    assert children == (current.extract_workers + current.extract_spares) * (
        current.extract_memory_bytes
    )
    limit = bytes_of(container["resources"]["limits"]["memory"])
    assert parent + children <= limit, f"{(parent + children) >> 20} MiB > {limit >> 20} MiB"
    assert bytes_of(container["resources"]["requests"]["memory"]) <= limit


def test_grace_period_outlasts_a_page_and_the_shutdown(overlay: str) -> None:
    objs = render(overlay)
    current = settings(config(objs, worker(objs)))
    grace = one(objs, "StatefulSet")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > current.extract_timeout_s + current.shutdown_grace_s


def test_disruption_budget_covers_the_workers_only(overlay: str) -> None:
    objs = render(overlay)
    pdb = one(objs, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    selector = pdb["spec"]["selector"]["matchLabels"].items()
    labels = {kind: pod["metadata"]["labels"].items() for kind, pod in _templates(objs)}
    assert selector <= labels["StatefulSet"]
    assert not selector <= labels["Job"]


def test_services_reach_the_workers_web_port(overlay: str) -> None:
    objs = render(overlay)
    labels = dict(_templates(objs))["StatefulSet"]["metadata"]["labels"].items()
    services = [o for o in objs if o["kind"] == "Service"]
    assert {s["metadata"]["name"] for s in services} == {"ingest-worker", "ingest-worker-metrics"}
    for service in services:
        assert service["spec"]["selector"].items() <= labels
        assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("web", 6066)]
    metrics = one(objs, "Service", "ingest-worker-metrics")["metadata"]["annotations"]
    assert metrics["prometheus.io/scrape"] == "true"
    assert metrics["prometheus.io/port"] == "6066"


def test_network_policy_allows_the_web_port_in_and_kafka_and_dns_out(overlay: str) -> None:
    objs = render(overlay)
    policy = one(objs, "NetworkPolicy")["spec"]
    data = config(objs, worker(objs))
    for _, template in _templates(objs):
        labels = template["metadata"]["labels"].items()
        assert policy["podSelector"]["matchLabels"].items() <= labels
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    ingress = {(p["port"], p["protocol"]) for rule in policy["ingress"] for p in rule["ports"]}
    assert ingress == {(settings(data).web_port, "TCP")}
    egress = {(p["port"], p["protocol"]) for rule in policy["egress"] for p in rule["ports"]}
    brokers = {int(s.rsplit(":", 1)[1]) for s in data["KAFKA_BOOTSTRAP_SERVERS"].split(",")}
    assert egress == {(port, "TCP") for port in brokers} | {(53, "UDP"), (53, "TCP")}


def test_topics_job_runs_the_topics_command_like_the_worker(overlay: str) -> None:
    """Same image, same ConfigMap, same Secret: it creates exactly the topics the worker checks."""
    objs = render(overlay)
    job = one(objs, "Job", "ingest-worker-topics")["spec"]["template"]["spec"]
    (topics,) = job["containers"]
    assert topics["args"] == ["topics"]
    assert job["restartPolicy"] == "Never"
    assert topics["image"] == worker(objs)["image"]
    assert topics["envFrom"] == worker(objs)["envFrom"]


def test_topics_job_can_be_applied_first(overlay: str) -> None:
    """`kubectl apply -k ... -l ingest-worker/topics=true` (deploy/README.md) applies the Job
    and everything it needs: its ServiceAccount and its ConfigMap, and nothing of the worker."""
    objs = render(overlay)
    selected = {
        (o["kind"], o["metadata"]["name"])
        for o in objs
        if o["metadata"].get("labels", {}).get("ingest-worker/topics") == "true"
    }
    job = one(objs, "Job", "ingest-worker-topics")["spec"]["template"]["spec"]
    (ref,) = job["containers"][0]["envFrom"]
    assert selected == {
        ("Job", "ingest-worker-topics"),
        ("ServiceAccount", job["serviceAccountName"]),
        ("ConfigMap", ref["configMapRef"]["name"]),
    }


def test_production_replicates_and_runs_a_real_image(scaled: str) -> None:
    objs = render(scaled)
    assert settings(config(objs, worker(objs))).replication_factor == 3
    (image,) = kustomization("production")["images"]
    expected = f"{image['newName']}:{image['newTag']}"
    for kind, pod in pod_specs(objs):
        for container in pod["containers"]:
            assert container["image"] == expected, kind  # the base's placeholder replaced


def test_one_autoscaler_owns_the_replica_count(scaled: str) -> None:
    """KEDA or an HPA, never both; the StatefulSet names no replica count for apply to reset."""
    objs = render(scaled)
    scalers = [o for o in objs if o["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")]
    assert len(scalers) == 1
    assert "replicas" not in one(objs, "StatefulSet")["spec"]
    target = scalers[0]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("StatefulSet", "ingest-worker")


def test_keda_scales_on_the_raw_topic_lag_up_to_the_partitions() -> None:
    objs = render("production")
    data = config(objs, worker(objs))
    current = settings(data)
    scaler = one(objs, "ScaledObject")["spec"]
    assert 1 <= scaler["minReplicaCount"] <= scaler["maxReplicaCount"] <= current.partitions
    (trigger,) = scaler["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["topic"] == current.topic_raw
    assert trigger["metadata"]["consumerGroup"] == current.app_id
    assert trigger["metadata"]["bootstrapServers"] == current.bootstrap_servers
    # KEDA connects as the worker does
    sasl = current.security_protocol.startswith("SASL_")
    assert trigger["metadata"].get("sasl") == (KEDA_SASL[current.sasl_mechanism] if sasl else None)
    tls = current.security_protocol in ("SSL", "SASL_SSL")
    assert trigger["metadata"].get("tls") == ("enable" if tls else None)
    auth = one(objs, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    keys = secret_template()["stringData"].keys()
    for ref in auth["spec"]["secretTargetRef"]:
        assert ref["name"] == secret_template()["metadata"]["name"]
        assert ref["key"] in keys


def test_hpa_alternative_is_capped_at_the_partitions() -> None:
    objs = render("production-hpa")
    hpa = one(objs, "HorizontalPodAutoscaler")["spec"]
    partitions = settings(config(objs, worker(objs))).partitions
    assert hpa["minReplicas"] <= hpa["maxReplicas"] <= partitions
    assert not [o for o in objs if o["kind"] == "TriggerAuthentication"]


def test_production_includes_the_observability_resources() -> None:
    """The alerts and the dashboard of deploy/observability, in the workers' namespace."""
    wanted = build(ROOT / "deploy" / "observability")
    assert wanted
    rendered = {(o["kind"], o["metadata"]["name"]): o for o in render("production")}
    for obj in wanted:
        placed = rendered[obj["kind"], obj["metadata"]["name"]]
        assert placed["metadata"]["namespace"] == kustomization("production")["namespace"]


def _templates(objs: list[dict]) -> list[tuple[str, dict]]:
    """(workload kind, pod template) of every workload."""
    return [(o["kind"], o["spec"]["template"]) for o in objs if o["kind"] in ("StatefulSet", "Job")]
