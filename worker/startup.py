"""Before the worker starts: wait for the broker with backoff, answering probes meanwhile.

A broker that is down is waited for (liveness 200, readiness 503); credentials or TLS that
the broker refuses are a configuration error and stop the process at once.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from aiokafka.conn import create_conn
from aiokafka.errors import AuthenticationFailedError, KafkaError, SaslAuthenticationFailed

from worker.security import client_options
from worker.settings import Settings

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
CONNECT_TIMEOUT_MS = 10_000


class BrokerRefused(Exception):
    """The broker answered but refused our credentials or certificate: retrying won't help."""


async def wait_for_broker(settings: Settings) -> None:
    """Return once a bootstrap server accepts a connection; serve /healthz and /readyz meanwhile."""
    server = await _probe_server(settings) if settings.web_enabled else None
    try:
        delay = FIRST_BACKOFF_S
        while not await _any_reachable(settings):
            log.warning("Kafka at %s not reachable: not ready; retrying in %.0f s", settings.bootstrap_servers, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_S)
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()


async def _any_reachable(settings: Settings) -> bool:
    """True if one bootstrap server completes a connection (with TLS and SASL if configured)."""
    options = client_options(settings)
    del options["bootstrap_servers"]
    for server in settings.bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            conn = await create_conn(host, int(port), request_timeout_ms=CONNECT_TIMEOUT_MS, **options)
        except (SaslAuthenticationFailed, AuthenticationFailedError, ssl.SSLCertVerificationError) as exc:
            raise BrokerRefused(f"{server} refused the connection: {exc}") from None
        except (OSError, KafkaError, asyncio.TimeoutError):
            continue
        conn.close()
        return True
    return False


async def _probe_server(settings: Settings) -> asyncio.Server:
    """A minimal HTTP responder on the web port: alive (200) but not ready (503)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        ready_probe = b"/healthz" not in request
        status = b"503 Service Unavailable" if ready_probe else b"200 OK"
        body = b'{"status": "waiting for Kafka"}'
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)  # fmt: skip
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "0.0.0.0", settings.web_port, reuse_address=True)
