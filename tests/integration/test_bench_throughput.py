"""bench/throughput.py on the session's broker, with a few dozen messages: it completes and
accounts for every page in every scenario (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.integration.harness import REPO, Broker

MESSAGES = 24
SCENARIOS = "ABCDEF"
LABEL = 45
"""Width of the table's first column."""


@pytest.mark.timeout(900)
def test_the_throughput_bench_accounts_for_every_page(broker: Broker) -> None:
    command = [
        sys.executable, "-m", "bench.throughput", "--messages", str(MESSAGES),
        "--partitions", "2", "--workers", "2", "--bootstrap", broker.bootstrap,
        "--kafka-data", str(broker.state_dir / "data"),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=840)
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert re.match(rf".* UTC; \d+ CPUs, .*; N={MESSAGES} messages, P=2 partitions; ", lines[0])
    for name in SCENARIOS:
        [row] = [line for line in lines if line.startswith(f"{name} ")]
        assert row[LABEL:].split()[0] == str(MESSAGES), row  # the pages column
    for name in SCENARIOS[1:]:
        notes = [line for line in lines if line.startswith(f"{name}: ")]
        assert f"{name}: {MESSAGES} of {MESSAGES} messages with an output: " in notes[0], notes
        assert any("bytes per input message" in note for note in notes), notes
        assert any(re.search(r"RSS of a worker process: .*; second half: ", n) for n in notes), notes
        [records] = [note for note in notes if "Kafka records per input message" in note]
        assert re.search(r"\(raw 1\.0, |\(.*pages\.by-url 1\.0, ", records), records
    assert re.search(r"^D: re-fetches: \d+, as expected \d+$", done.stdout, re.M), done.stdout
    assert re.search(r"^E: marked pages: 1, .*: the hook applied$", done.stdout, re.M), done.stdout
    assert "mixed" not in done.stdout and "NOT" not in done.stdout, done.stdout
