"""The faust application, configured from Settings; the only place faust settings are chosen."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types.auth import CredentialsT
from faust.web.drivers.aiohttp import Web as AiohttpWeb

from worker.security import check, ssl_context
from worker.settings import Settings
from worker.streaming import exits
from worker.streaming.offsets import SettlingConsumer
from worker.streaming.tables import DurableTable


class IdempotentProducer(faust_aiokafka.Producer):
    """faust's producer with idempotence always on and a flush that cannot hang.

    faust turns on idempotence only in exactly-once mode. aiokafka has no delivery timeout, and
    faust flushes before every commit: a record the broker never takes would hold the commit
    (and so the whole worker) forever, so a flush longer than the send timeout exits instead.
    """

    send_timeout_s: float = 30.0

    def _settings_extra(self) -> dict[str, Any]:
        return {"acks": "all", "enable_idempotence": True}

    async def flush(self) -> None:
        """faust's flush (its buffer, then aiokafka's), bounded by the send timeout."""
        try:
            await asyncio.wait_for(super().flush(), self.send_timeout_s)
        except TimeoutError:
            exits.output_failed(TimeoutError(f"producer flush took over {self.send_timeout_s:g} s"))


class IngestTransport(faust_aiokafka.Transport):
    """The aiokafka transport with the idempotent producer and the settling consumer."""

    Consumer = SettlingConsumer
    Producer = IdempotentProducer


class ProbeWeb(AiohttpWeb):
    """faust's web server with none of faust's own pages, only the worker's (`web.register`:
    /healthz, /readyz, /metrics): faust's /table and /router would let anyone who reaches the
    probes' port read the dedup tables, and its index answers "OK" whatever the worker's state."""

    default_blueprints = debug_blueprints = optional_blueprints = production_blueprints = ()


class IngestApp(faust.App):
    """faust.App whose consumer and producer use IngestTransport."""

    send_timeout_s: float = 30.0

    def _new_producer(self) -> IdempotentProducer:
        # IngestTransport makes every producer of the app an IdempotentProducer
        producer = cast(IdempotentProducer, super()._new_producer())
        producer.send_timeout_s = self.send_timeout_s
        return producer

    def _new_transport(self) -> IngestTransport:
        return IngestTransport(self.conf.broker_consumer, self)

    def _new_web(self) -> ProbeWeb:
        return ProbeWeb(self)

    def _new_producer_transport(self) -> IngestTransport:
        return IngestTransport(self.conf.broker_producer, self)


def credentials(settings: Settings) -> CredentialsT | None:
    """faust credentials for the configured security protocol (None for PLAINTEXT)."""
    check(settings)
    if settings.security_protocol.startswith("SASL_"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context(settings),
        )
    if settings.security_protocol == "SSL":
        return faust.SSLCredentials(ssl_context(settings))
    return None


STREAM_BUFFER = 256
"""Messages faust buffers per topic ahead of its agent (faust's default, 4,096 raw pages of a
few hundred KB, is over a gigabyte): as many as a dedup stage decides at once."""


FETCH_BYTES_PER_PARTITION = 2**20
"""Bytes the consumer fetches per partition at a time (aiokafka's default; faust makes it the
largest message, so a backlog of raw pages kept up to 10 MiB per partition, hundreds of MiB in
the parent). A larger message still arrives: the broker returns a whole first batch when its
partition is the first with data in a fetch, and the consumer orders partitions anew each time."""

PRODUCER_LINGER_S = 0.005
"""How long the producer waits for more records before sending a partition's batch (faust's
default: 0, a produce request per record or two, each a socket write: 12% of B's worker process
in BENCHMARKS.md). 5 ms per hop against seconds of cleaning; alternated runs at 2,000 messages:
the worker process -12% CPU per page, the broker -20%, the dedup stages alone +10-15% pages/s."""
PRODUCER_BATCH_BYTES = 2**20
"""The most a partition's batch holds (faust's default, 16 KiB, is one cleaned page), at most
the largest message a topic takes."""


def create_app(settings: Settings) -> faust.App:
    """A faust App for these settings (no agents yet: see `agents.register`)."""
    app = IngestApp(
        settings.app_id,
        broker=settings.broker_urls,
        broker_credentials=credentials(settings),
        store=settings.store_url,
        datadir=str(settings.app_data_dir),
        autodiscover=False,
        key_serializer="json",  # tables; every topic declares raw bytes itself
        value_serializer="json",
        processing_guarantee="at_least_once",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_disable_leader=True,
        producer_acks=-1,
        producer_max_request_size=settings.max_message_bytes,
        producer_linger=PRODUCER_LINGER_S,
        producer_max_batch_size=min(PRODUCER_BATCH_BYTES, settings.max_message_bytes),
        consumer_max_fetch_size=FETCH_BYTES_PER_PARTITION,
        stream_buffer_maxsize=STREAM_BUFFER,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_interval=settings.commit_interval_s,
        broker_max_poll_interval=max(300.0, settings.extract_timeout_s * 4),
        stream_recovery_delay=0.0,
        table_standby_replicas=settings.standby_replicas,
        consumer_group_instance_id=settings.group_instance_id or None,
        web_enabled=settings.web_enabled,
        web_port=settings.web_port,
        web_host="0.0.0.0",
        Table=DurableTable,
    )
    app.send_timeout_s = settings.send_timeout_s
    return app
