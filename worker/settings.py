"""Worker settings: the only module that reads the environment.

Every knob is an environment variable named in `ENV` below and documented in the README.
Derived names (internal topics, tables) are properties, so an override of `app_id` or a
topic name reaches everything derived from it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from worker.cgroups import available_cpus

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    """Frozen configuration of one worker process."""

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    """PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."""
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    ssl_check_hostname: bool = True
    app_id: str = "ingest-worker"
    topic_raw: str = "pages.raw"
    topic_articles: str = "articles"
    topic_duplicates: str = "articles.duplicates"
    topic_rejected: str = "pages.rejected"
    partitions: int = 4
    replication_factor: int = 1
    min_insync_replicas: int = 0
    """`min.insync.replicas` of every topic the worker creates (0: the broker's default). With
    acks=all, 2 of 3 replicas keep output going with one broker down, never on one copy."""
    internal_retention_s: float = 7 * 86400.0
    """`retention.ms` of the internal topics it creates: longer than any outage of the worker,
    or pages waiting in them are deleted before they are read."""
    store_url: str = "rocksdb://"
    """faust table store: `rocksdb://` (tables on disk under `data_dir`, reused after a
    restart) or `memory://` (tables rebuilt from their changelogs at every start)."""
    data_dir: str = ".ingest-data"
    standby_replicas: int = 0
    """Warm copies of each table partition kept by other workers, so a partition that moves
    is ready at once instead of recovered from its changelog."""
    group_instance_id: str = ""
    """Static group membership (Kafka `group.instance.id`, e.g. the pod name): a worker that
    restarts within the session timeout gets its partitions back without a rebalance."""
    extract_workers: int = field(default_factory=available_cpus)
    """Extraction processes: by default one per CPU the container may use."""
    extract_timeout_s: float = 30.0
    extract_tasks_per_child: int = 500
    extract_memory_bytes: int = 2048 * MIB
    extract_slow_s: float = 0.25
    """A page still cleaning after this long lets a spare child take its slot: slow pages
    never hold every slot. 0: no spares. (In the throughput benchmark's run with two busy
    children, 2 of 100 pages took more than 0.1 s and none more than 0.25 s but the first,
    which started the forkserver; each slow page costs its slot this long.)"""
    extract_spares: int = 8
    """Spare children at most at once, with the idle ones of ended slow pages. Slow pages come
    in bursts: at 55 pages/s with 1 in 100 taking 5 s, 2.75 run at once on average and 4
    spares were all taken often enough to cost 10-15% of the throughput (bench/throughput.py,
    E); 8 were not."""
    batch_size: int = 32
    refetch_cache_bytes: int = 64 * MIB
    """Compressed cleaned pages kept to recognize unchanged re-fetches (`refetch`); 0: none."""
    store_memory_bytes: int = 64 * MIB
    """Memory of all the table databases of the process together (RocksDB block cache and
    memtables; `streaming.tables.StoreMemory`)."""
    reject_page_types: str = "listing,homepage,error"
    """Comma-separated page types rejected instead of published (listing, homepage, error,
    paywall, other); see core/pagetype.py."""
    listing_link_share: float = 0.5
    short_text_words: int = 300
    max_page_bytes: int = 8 * MIB
    max_message_bytes: int = 10 * MIB
    rejected_payload_bytes: int = 0
    """Most bytes of a rejected message kept in its rejection (0: the whole message, so that
    `ingest-worker replay` can send it again; see `pipeline.rejected`)."""
    session_timeout_s: float = 30.0
    heartbeat_interval_s: float = 3.0
    commit_interval_s: float = 1.0
    send_timeout_s: float = 30.0
    """Longest wait for the broker to acknowledge an output record or a flush before exiting."""
    web_enabled: bool = True
    web_port: int = 6066
    health_interval_s: float = 5.0
    stall_timeout_s: float = 0.0
    """0: derived, see `stall_limit_s`."""
    topics_create: bool = True
    """Create missing topics at start (False: a missing topic is an error, for ACL-restricted
    deployments whose topics are made by `ingest-worker topics` or a platform tool)."""
    exit_on_stall: bool = True
    shutdown_grace_s: float = 45.0
    dedup_wait_s: float = 600.0
    """Longest a page waits at a band partition for an undecided near-copy before it is
    answered without it (see `core.dedup`)."""
    dedup_window_s: float = 30 * 86400.0
    """How long (in fetch time) a page's dedup state lasts after its URL's latest page: older
    state is no candidate and is deleted, locally and in the changelogs (0: never)."""
    log_level: str = "info"
    log_format: str = "auto"
    """`json` (one object a line), `text` (faust's lines), or `auto`: text when stderr is a
    terminal, JSON otherwise."""

    @property
    def topic_by_url(self) -> str:
        """Internal topic of cleaned pages keyed by article id (first dedup stage)."""
        return f"{self.app_id}-pages.by-url"

    @property
    def topic_by_band(self) -> str:
        """Internal topic of band-key queries, partitioned by band key (second stage)."""
        return f"{self.app_id}-pages.by-band"

    @property
    def topic_verdicts(self) -> str:
        """Internal topic of band partitions' answers, keyed by article id (third stage)."""
        return f"{self.app_id}-pages.verdicts"

    @property
    def stall_limit_s(self) -> float:
        """Seconds with lag and no progress after which the worker counts as stalled.

        Two minutes by default; longer only when one page may take over a minute (twice the
        per-page timeout), since a page finishing, even by timing out, is progress.
        """
        return self.stall_timeout_s or max(120.0, 2 * self.extract_timeout_s)

    @property
    def rejected_payload_limit(self) -> int | None:
        """Most payload bytes kept in a rejection (None: all that fits the message limit)."""
        return self.rejected_payload_bytes or None

    @property
    def app_data_dir(self) -> Path:
        """Faust's local state directory for this app id."""
        return Path(self.data_dir) / self.app_id

    @property
    def broker_urls(self) -> list[str]:
        """Bootstrap servers as faust broker URLs."""
        return [f"kafka://{h.strip()}" for h in self.bootstrap_servers.split(",") if h.strip()]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (see `ENV`).

        Any variable may instead be given as `<NAME>_FILE`, the path of a file holding the
        value (how Kubernetes and Docker mount secrets); the variable itself wins if both are set.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        types = {f.name: f.type for f in fields(cls)}
        for var, name in ENV.items():
            raw = env.get(var) or _read_file(env.get(f"{var}_FILE"), var)
            if raw:
                values[name] = _convert(raw, types[name], var)
        return cls(**values)  # type: ignore[arg-type]


SECRETS = frozenset({"KAFKA_SASL_PASSWORD"})
"""Variables whose values `describe` never shows."""


@dataclass(frozen=True, slots=True)
class Origin:
    """One setting as `ingest-worker config` shows it: value and where it came from."""

    var: str
    value: str
    source: str
    """`environment`, `file <path>` (from `<VAR>_FILE`) or `default`."""


def describe(environ: Mapping[str, str] | None = None) -> list[Origin]:
    """Every setting's effective value (secrets masked) and its source, in `ENV` order.

    Raises ValueError as `Settings.from_env` does for a value that is not valid.
    """
    env = os.environ if environ is None else environ
    settings = Settings.from_env(env)
    described = []
    for var, name in ENV.items():
        value = getattr(settings, name)
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        if var in SECRETS and shown:
            shown = "********"
        if env.get(var):
            source = "environment"
        elif env.get(f"{var}_FILE"):
            source = f"file {env[f'{var}_FILE']}"
        else:
            source = "default"
        described.append(Origin(var, shown, source))
    return described


def _read_file(path: str | None, var: str) -> str:
    """The stripped content of a `<VAR>_FILE` file, or '' when no file is named."""
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{var}_FILE={path!r} cannot be read: {exc.strerror}") from None


def _convert(raw: str, type_name: object, var: str) -> object:
    """Convert one environment value to the field's type, naming the variable on error."""
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
    except ValueError:
        raise ValueError(f"{var}={raw!r} is not a valid {type_name}") from None
    return raw


ENV: dict[str, str] = {
    "KAFKA_BOOTSTRAP_SERVERS": "bootstrap_servers",
    "KAFKA_SECURITY_PROTOCOL": "security_protocol",
    "KAFKA_SASL_MECHANISM": "sasl_mechanism",
    "KAFKA_SASL_USERNAME": "sasl_username",
    "KAFKA_SASL_PASSWORD": "sasl_password",
    "KAFKA_SSL_CAFILE": "ssl_cafile",
    "KAFKA_SSL_CERTFILE": "ssl_certfile",
    "KAFKA_SSL_KEYFILE": "ssl_keyfile",
    "KAFKA_SSL_CHECK_HOSTNAME": "ssl_check_hostname",
    "INGEST_APP_ID": "app_id",
    "INGEST_TOPIC_RAW": "topic_raw",
    "INGEST_TOPIC_ARTICLES": "topic_articles",
    "INGEST_TOPIC_DUPLICATES": "topic_duplicates",
    "INGEST_TOPIC_REJECTED": "topic_rejected",
    "INGEST_PARTITIONS": "partitions",
    "INGEST_REPLICATION_FACTOR": "replication_factor",
    "INGEST_MIN_INSYNC_REPLICAS": "min_insync_replicas",
    "INGEST_INTERNAL_RETENTION_S": "internal_retention_s",
    "INGEST_STORE_URL": "store_url",
    "INGEST_DATA_DIR": "data_dir",
    "INGEST_STANDBY_REPLICAS": "standby_replicas",
    "INGEST_GROUP_INSTANCE_ID": "group_instance_id",
    "INGEST_EXTRACT_WORKERS": "extract_workers",
    "INGEST_EXTRACT_TIMEOUT_S": "extract_timeout_s",
    "INGEST_EXTRACT_TASKS_PER_CHILD": "extract_tasks_per_child",
    "INGEST_EXTRACT_MEMORY_BYTES": "extract_memory_bytes",
    "INGEST_EXTRACT_SLOW_S": "extract_slow_s",
    "INGEST_EXTRACT_SPARES": "extract_spares",
    "INGEST_BATCH_SIZE": "batch_size",
    "INGEST_REFETCH_CACHE_BYTES": "refetch_cache_bytes",
    "INGEST_STORE_MEMORY_BYTES": "store_memory_bytes",
    "INGEST_REJECT_PAGE_TYPES": "reject_page_types",
    "INGEST_LISTING_LINK_SHARE": "listing_link_share",
    "INGEST_SHORT_TEXT_WORDS": "short_text_words",
    "INGEST_MAX_PAGE_BYTES": "max_page_bytes",
    "INGEST_MAX_MESSAGE_BYTES": "max_message_bytes",
    "INGEST_REJECTED_PAYLOAD_BYTES": "rejected_payload_bytes",
    "INGEST_SESSION_TIMEOUT_S": "session_timeout_s",
    "INGEST_HEARTBEAT_INTERVAL_S": "heartbeat_interval_s",
    "INGEST_COMMIT_INTERVAL_S": "commit_interval_s",
    "INGEST_SEND_TIMEOUT_S": "send_timeout_s",
    "INGEST_WEB_ENABLED": "web_enabled",
    "INGEST_WEB_PORT": "web_port",
    "INGEST_HEALTH_INTERVAL_S": "health_interval_s",
    "INGEST_STALL_TIMEOUT_S": "stall_timeout_s",
    "INGEST_EXIT_ON_STALL": "exit_on_stall",
    "INGEST_TOPICS_CREATE": "topics_create",
    "INGEST_SHUTDOWN_GRACE_S": "shutdown_grace_s",
    "INGEST_DEDUP_WAIT_S": "dedup_wait_s",
    "INGEST_DEDUP_WINDOW_S": "dedup_window_s",
    "INGEST_LOG_LEVEL": "log_level",
    "INGEST_LOG_FORMAT": "log_format",
}
