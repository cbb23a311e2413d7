"""Before faust starts: wait for the broker, then make sure every topic exists and fits.

A broker that is down or restarting is waited for with backoff (liveness 200, readiness 503);
credentials or TLS that the broker refuses, and topics that are missing or have the wrong
partition count (`kafka_tools.TopologyError`), are configuration errors that stop the process.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from aiokafka.conn import create_conn
from aiokafka.errors import AuthenticationFailedError, KafkaError, SaslAuthenticationFailed

from worker.kafka_tools import ensure_topics
from worker.security import client_options
from worker.settings import Settings

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
CONNECT_TIMEOUT_MS = 10_000
TOPICS_TIMEOUT_S = 60.0
# what a broker answers to credentials or a certificate it will not accept, however often asked
REFUSALS = (SaslAuthenticationFailed, AuthenticationFailedError, ssl.SSLCertVerificationError)


class BrokerRefused(Exception):
    """The broker answered but refused our credentials or certificate: retrying won't help."""


async def prepare(settings: Settings) -> None:
    """Wait for the broker and every topic; serve /healthz and /readyz meanwhile."""
    server = await _probe_server(settings) if settings.web_enabled else None
    try:
        delay = FIRST_BACKOFF_S
        while not await _ready(settings):
            log.warning(
                "Kafka at %s not reachable: not ready; retrying in %.0f s",
                settings.bootstrap_servers,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_S)
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()


async def _ready(settings: Settings) -> bool:
    """True once a broker accepts a connection and the topics are made and checked."""
    if not await _any_reachable(settings):
        return False
    try:
        made = await asyncio.wait_for(
            ensure_topics(settings, settings.topics_create), TOPICS_TIMEOUT_S
        )
    except (TimeoutError, OSError, KafkaError) as exc:  # restarting, no controller yet...
        log.warning("topics not checked yet: %r", exc)
        return False
    if made:
        log.info("created topics: %s", ", ".join(made))
    return True


async def _any_reachable(settings: Settings) -> bool:
    """True if one bootstrap server completes a connection (with TLS and SASL if configured)."""
    options = client_options(settings)
    del options["bootstrap_servers"]
    for server in settings.bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            conn = await create_conn(
                host, int(port), request_timeout_ms=CONNECT_TIMEOUT_MS, **options
            )
        except REFUSALS as exc:
            raise BrokerRefused(f"{server} refused the connection: {exc}") from None
        except (TimeoutError, OSError, KafkaError):
            continue
        conn.close()
        return True
    return False


async def _probe_server(settings: Settings) -> asyncio.Server:
    """A minimal HTTP responder on the web port: alive (200) but not ready (503)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        ready_probe = b"/healthz" not in request
        status = "503 Service Unavailable" if ready_probe else "200 OK"
        body = b'{"status": "waiting for Kafka"}'
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    try:
        return await asyncio.start_server(answer, "0.0.0.0", settings.web_port, reuse_address=True)
    except OSError as exc:
        port = settings.web_port
        raise ValueError(f"INGEST_WEB_PORT={port} cannot be served: {exc.strerror}") from None
