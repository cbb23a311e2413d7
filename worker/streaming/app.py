"""The faust application, configured from Settings; the only place faust settings are chosen."""

from __future__ import annotations

import faust

from worker.settings import Settings


def create_app(settings: Settings) -> faust.App:
    """A faust App for these settings (no agents yet: see `agents.register`)."""
    return faust.App(
        settings.app_id,
        broker=settings.broker_urls,
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
        consumer_max_fetch_size=settings.max_message_bytes,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_interval=settings.commit_interval_s,
        broker_max_poll_interval=max(300.0, settings.extract_timeout_s * 4),
        stream_recovery_delay=0.0,
        table_standby_replicas=0,
        web_enabled=settings.web_enabled,
        web_port=settings.web_port,
        web_host="0.0.0.0",
    )
