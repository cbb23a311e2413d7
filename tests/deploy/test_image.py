"""deploy/Dockerfile, read (no Docker here): the worker runs under an init that reaps."""

from __future__ import annotations

import json
import re

from tests.deploy.manifests import ROOT, pod_specs, render

DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def _runtime_stage() -> str:
    """The instructions of the last stage (the image that runs)."""
    return DOCKERFILE.read_text().rsplit("\nFROM ", 1)[1]


def test_worker_runs_under_tini() -> None:
    """PID 1 is tini, which reaps the extraction processes the worker kills; the CLI follows."""
    stage = _runtime_stage()
    (entrypoint,) = re.findall(r"^ENTRYPOINT (.+)$", stage, re.M)
    assert json.loads(entrypoint) == ["tini", "--", "ingest-worker"]
    assert re.search(r"apt-get install [^\n]*--no-install-recommends tini", stage)
    assert json.loads(re.findall(r"^CMD (.+)$", stage, re.M)[0]) == ["run"]


def test_image_user_is_the_pods_user() -> None:
    """The pods' runAsUser/runAsGroup own the image's /var/lib/ingest (and the volume)."""
    (user, group) = re.findall(r"^USER (\d+):(\d+)$", _runtime_stage(), re.M)[0]
    for _, pod in pod_specs(render("production")):
        context = pod["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"]) == (int(user), int(group))
