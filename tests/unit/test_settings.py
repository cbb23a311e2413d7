"""Settings from an explicit environment (worker/settings.py)."""

from __future__ import annotations

import os
from dataclasses import FrozenInstanceError, fields
from pathlib import Path

import pytest

from worker.cgroups import available_cpus
from worker.settings import ENV, MIB, Settings


def test_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.bootstrap_servers == "127.0.0.1:9092"
    assert settings.app_id == "ingest-worker"
    assert settings.topic_raw == "pages.raw"
    assert settings.topic_articles == "articles"
    assert settings.topic_duplicates == "articles.duplicates"
    assert settings.topic_rejected == "pages.rejected"
    assert settings.partitions == 4
    assert settings.max_page_bytes == 8 * MIB
    assert settings.rejected_payload_bytes == 0 and settings.rejected_payload_limit is None
    assert settings.extract_timeout_s == 30.0
    assert settings.web_enabled is True
    assert settings.extract_workers >= 1
    assert settings.reject_page_types == "listing,homepage,error"
    assert settings.listing_link_share == 0.5
    assert settings.short_text_words == 300


def test_page_rules_from_the_environment() -> None:
    env = {"INGEST_REJECT_PAGE_TYPES": "listing,paywall", "INGEST_LISTING_LINK_SHARE": "0.8", "INGEST_SHORT_TEXT_WORDS": "150"}
    settings = Settings.from_env(env)
    assert settings.reject_page_types == "listing,paywall"
    assert settings.listing_link_share == 0.8 and settings.short_text_words == 150


def test_from_env_ignores_unrelated_variables() -> None:
    assert Settings.from_env({"HOME": "/root", "PATH": "/bin", "INGEST_UNKNOWN": "x"}) == Settings()


def test_empty_value_means_default() -> None:
    assert Settings.from_env({"INGEST_PARTITIONS": "", "INGEST_APP_ID": ""}) == Settings()


def test_every_field_has_one_variable() -> None:
    assert sorted(ENV.values()) == sorted(f.name for f in fields(Settings))


def test_strings() -> None:
    settings = Settings.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092, k2:9092,",
            "INGEST_TOPIC_RAW": "crawl.raw",
            "INGEST_LOG_LEVEL": "debug",
        }
    )
    assert settings.bootstrap_servers == "k1:9092, k2:9092,"
    assert settings.broker_urls == ["kafka://k1:9092", "kafka://k2:9092"]
    assert settings.topic_raw == "crawl.raw"
    assert settings.log_level == "debug"


def test_ints() -> None:
    settings = Settings.from_env(
        {"INGEST_PARTITIONS": "12", "INGEST_MAX_PAGE_BYTES": "1048576", "INGEST_WEB_PORT": "8080"}
    )
    assert settings.partitions == 12 and isinstance(settings.partitions, int)
    assert settings.max_page_bytes == 1_048_576
    assert settings.web_port == 8080


def test_floats() -> None:
    env = {"INGEST_EXTRACT_TIMEOUT_S": "2.5", "INGEST_COMMIT_INTERVAL_S": "3"}
    settings = Settings.from_env(env)
    assert settings.extract_timeout_s == 2.5
    assert settings.commit_interval_s == 3.0 and isinstance(settings.commit_interval_s, float)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("yes", True), ("on", True),
     ("0", False), ("false", False), ("No", False), ("off", False)],
)  # fmt: skip
def test_bools(raw: str, expected: bool) -> None:
    assert Settings.from_env({"INGEST_WEB_ENABLED": raw}).web_enabled is expected


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("INGEST_PARTITIONS", "four"),
        ("INGEST_MAX_PAGE_BYTES", "8MiB"),
        ("INGEST_WEB_PORT", "80.5"),
        ("INGEST_EXTRACT_TIMEOUT_S", "30s"),
        ("INGEST_WEB_ENABLED", "maybe"),
    ],
)
def test_bad_value_names_the_variable(var: str, raw: str) -> None:
    with pytest.raises(ValueError) as info:
        Settings.from_env({var: raw})
    assert var in str(info.value)
    assert repr(raw) in str(info.value)


def test_derived_topic_names_follow_the_app_id() -> None:
    settings = Settings.from_env({"INGEST_APP_ID": "ingest-staging"})
    assert settings.topic_by_band == "ingest-staging-pages.by-band"
    assert settings.topic_verdicts == "ingest-staging-pages.verdicts"
    assert settings.topic_by_url == "ingest-staging-pages.by-url"
    assert settings.app_data_dir == Path(".ingest-data") / "ingest-staging"


def test_derived_names_with_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.topic_by_band == "ingest-worker-pages.by-band"
    assert settings.topic_by_url == "ingest-worker-pages.by-url"


def test_data_dir_override_reaches_app_data_dir() -> None:
    settings = Settings.from_env({"INGEST_DATA_DIR": "/var/lib/ingest", "INGEST_APP_ID": "a1"})
    assert settings.app_data_dir == Path("/var/lib/ingest/a1")


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(FrozenInstanceError):
        settings.app_id = "other"  # type: ignore[misc]


def test_any_variable_can_come_from_a_mounted_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    settings = Settings.from_env({"KAFKA_SASL_PASSWORD_FILE": str(secret), "INGEST_PARTITIONS_FILE": str(secret)} | {"INGEST_PARTITIONS": "3"})
    assert settings.sasl_password == "s3cret"
    assert settings.partitions == 3  # the variable itself wins over its _FILE


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="KAFKA_SASL_PASSWORD_FILE"):
        Settings.from_env({"KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "KAFKA_SASL_USERNAME"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p",
          "KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        ({"KAFKA_SSL_KEYFILE": "/k.pem"}, "KAFKA_SSL_CERTFILE"),
    ],
)  # fmt: skip
def test_security_settings_that_cannot_work_are_refused(env: dict[str, str], message: str) -> None:
    from worker.security import check

    with pytest.raises(ValueError, match=message):
        check(Settings.from_env(env))


def test_the_stall_limit_is_two_minutes_whatever_the_batch_unless_one_page_may_take_longer() -> None:
    assert Settings().stall_limit_s == 120
    assert Settings(batch_size=256, extract_workers=1).stall_limit_s == 120
    assert Settings(extract_timeout_s=90).stall_limit_s == 180
    assert Settings(stall_timeout_s=20).stall_limit_s == 20


def test_extraction_processes_default_to_the_cpus_the_cgroup_quota_allows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # a 1.5 CPU limit
    assert available_cpus(cpu_max) == min(2, len(os.sched_getaffinity(0)))
    cpu_max.write_text("50000 100000\n")
    assert available_cpus(cpu_max) == 1
    cpu_max.write_text("max 100000\n")
    assert available_cpus(cpu_max) == len(os.sched_getaffinity(0))
    assert available_cpus(tmp_path / "absent") == len(os.sched_getaffinity(0))
