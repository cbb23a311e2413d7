"""deploy/ACLS.md: its kafka-acls.sh commands cover every topic and the group of the worker,
for the production overlay's settings."""

from __future__ import annotations

import re

from tests.deploy.manifests import ROOT, config, render, settings, worker
from worker import topology

ACLS = ROOT / "deploy" / "ACLS.md"


def _placeholders() -> dict[str, str]:
    """The shell variables the commands use (APP, RAW, OUTPUTS), as the document sets them."""
    text = ACLS.read_text()
    return {m[1]: m[2].strip("'\"") for m in re.finditer(r"^(\w+)=('[^']*'|\S+)", text, re.M)}


def test_placeholders_are_the_production_settings() -> None:
    objs = render("production")
    current = settings(config(objs, worker(objs)))
    values = _placeholders()
    assert values["APP"] == current.app_id
    assert values["RAW"] == current.topic_raw
    outputs = [current.topic_articles, current.topic_duplicates, current.topic_rejected]
    assert values["OUTPUTS"].split() == outputs


def test_commands_cover_every_topic_of_the_topology() -> None:
    """Each topic is the raw one, an output, or under the app id's prefix (faust's topics)."""
    objs = render("production")
    current = settings(config(objs, worker(objs)))
    text = ACLS.read_text()
    assert '--resource-pattern-type prefixed --topic "$APP-"' in text
    assert '--operation Read --group "$APP"' in text
    assert "--operation IdempotentWrite --cluster" in text
    for spec in topology.specs(current):
        if spec.role == "input":
            assert spec.name == current.topic_raw
        elif spec.role == "output":
            assert spec.name in _placeholders()["OUTPUTS"].split()
        else:  # internal stages and changelogs: the prefixed ACL
            assert spec.name.startswith(f"{current.app_id}-"), spec
