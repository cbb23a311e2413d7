"""The worker over SASL_SSL with SCRAM-SHA-512, against the local broker's opt-in SASL_SSL listener.

The module starts a broker of its own (deploy/local/kafka with KAFKA_SASL_SSL_PORT, in a temporary
state directory), so the session broker keeps its plain configuration. Every client here talks to
the SASL_SSL port only, verifying the broker certificate against the generated CA (hostname
checks on: the certificate is for 127.0.0.1).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

from tests.fixtures.synthetic import article_html, message
from tests.integration.harness import REPO, Broker, Names, WorkerProcess, free_port

USER = "ingest-it"
PASSWORD = "it-Secret-42"
AUTH_ERROR = "SaslAuthenticationFailed"  # aiokafka's log line for Kafka error 58


@dataclass
class SecureBroker(Broker):
    """The local broker with its opt-in SASL_SSL listener next to PLAINTEXT."""

    sasl_ssl_port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.env = {
            "KAFKA_SASL_SSL_PORT": str(self.sasl_ssl_port),
            "KAFKA_SCRAM_USER": USER,
            "KAFKA_SCRAM_PASSWORD": PASSWORD,
            **self.env,
        }

    @property
    def sasl_ssl(self) -> str:
        return f"127.0.0.1:{self.sasl_ssl_port}"

    @property
    def ca_file(self) -> Path:
        return self.state_dir / "tls" / "ca.pem"


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    broker = SecureBroker(tmp_path_factory.mktemp("kafka-sasl"))
    started = broker.start()  # PLAINTEXT bootstrap last on stdout, SASL_SSL address and CA on stderr
    assert f"SASL_SSL listener {broker.sasl_ssl}" in started.stderr, started.stderr
    assert str(broker.ca_file) in started.stderr, started.stderr
    assert broker.ca_file.is_file()
    try:
        yield broker
    finally:
        broker.stop()


def client_env(broker: SecureBroker, names: Names, tmp_path: Path, password: str | None = None) -> dict[str, str]:
    """The worker environment over SASL_SSL; without `password`, the right one from a _FILE."""
    env = {
        **names.env(broker.sasl_ssl, 2, tmp_path / "data"),
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": USER,
        "KAFKA_SSL_CAFILE": str(broker.ca_file),
        "KAFKA_SSL_CHECK_HOSTNAME": "true",
        "KAFKA_SASL_PASSWORD": password or "",  # empty: the _FILE below is read
    }
    if password is None:
        secret = tmp_path / "sasl-password"
        secret.write_text(PASSWORD + "\n")  # mounted secrets often end with a newline
        env["KAFKA_SASL_PASSWORD_FILE"] = str(secret)
    return env


def cli(args: list[str], env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    """`ingest-worker ARGS` (as `python -m worker`) with this environment."""
    return subprocess.run(
        [sys.executable, "-m", "worker", *args], env={**os.environ, **env}, cwd=REPO,
        capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip


def test_worker_over_sasl_ssl_with_scram(secure_broker: SecureBroker, tmp_path: Path) -> None:
    names = Names()
    env = client_env(secure_broker, names, tmp_path)

    topics = cli(["topics"], env, 60)
    assert topics.returncode == 0, topics.stderr
    assert names.raw in topics.stderr, topics.stderr

    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        urls = [f"https://secure.example.com/story-{n}" for n in range(2)]
        pages = tmp_path / "pages.jsonl"
        pages.write_bytes(b"".join(orjson.dumps(message(u, article_html(500 + n))) + b"\n" for n, u in enumerate(urls)))
        fed = cli(["feed", str(pages)], env, 60)
        assert fed.returncode == 0, fed.stderr

        dumped = cli(["dump", "--expect", "2", "--idle", "90"], env, 150)
        assert dumped.returncode == 0, f"{dumped.stderr}\n--- worker log\n{worker.log()[-4000:]}"
        records = [orjson.loads(line) for line in dumped.stdout.splitlines() if line.strip()]
        assert [r["topic"] for r in records] == [names.articles] * 2, records
        assert {r["value"]["url"] for r in records} == set(urls)
    finally:
        code = worker.stop()
    assert code == 0, worker.log()[-4000:]
    assert AUTH_ERROR not in worker.log()


def test_wrong_password_fails_fast(secure_broker: SecureBroker, tmp_path: Path) -> None:
    env = client_env(secure_broker, Names(), tmp_path, password="not-the-password")

    t0 = time.monotonic()
    topics = cli(["topics"], env, 60)
    elapsed = time.monotonic() - t0
    output = topics.stdout + topics.stderr
    assert topics.returncode != 0, output
    assert AUTH_ERROR in output and "invalid credentials" in output, output
    print(f"`ingest-worker topics` with a wrong password: exit {topics.returncode} after {elapsed:.1f} s")

    # The worker must not hang silently: it exits non-zero, or at least logs the auth failure.
    worker = WorkerProcess(env, tmp_path / "worker.log")
    t0 = time.monotonic()
    deadline = t0 + 90
    try:
        while time.monotonic() < deadline and worker.process.poll() is None:
            time.sleep(0.25)
        code = worker.process.poll()
        elapsed = time.monotonic() - t0
        log = worker.log()
    finally:
        worker.kill()
    if code is not None:
        print(f"worker with a wrong password: exit {code} after {elapsed:.1f} s")
        assert code != 0, log[-4000:]
    else:
        print(f"worker with a wrong password: still running after {elapsed:.0f} s")
        assert AUTH_ERROR in log, log[-4000:]
    # Either way the reason is in the log, not only a generic connection error.
    assert AUTH_ERROR in log, log[-4000:]


def test_untrusted_certificate_is_rejected(secure_broker: SecureBroker, tmp_path: Path) -> None:
    """Without the CA the broker certificate does not verify: TLS is really checked."""
    env = {**client_env(secure_broker, Names(), tmp_path), "KAFKA_SSL_CAFILE": ""}
    topics = cli(["topics"], env, 60)
    output = topics.stdout + topics.stderr
    assert topics.returncode != 0, output
    assert "CERTIFICATE_VERIFY_FAILED" in output, output
