"""The topic list the worker creates and checks at start."""

from __future__ import annotations

from worker.settings import Settings
from worker.topology import consumed, problems, specs


def test_every_topic_of_the_app_is_listed_with_its_partitions_and_config() -> None:
    settings = Settings(app_id="news", partitions=6, topic_raw="crawl.raw", max_message_bytes=1000)
    by_name = {spec.name: spec for spec in specs(settings)}
    assert list(by_name) == [
        "crawl.raw", "news-pages.by-url", "news-url-state-changelog", "news-pending-changelog",
        "news-pending-replies-changelog",
        "news-pages.by-band", "news-band-lists-changelog", "news-band-members-changelog",
        "news-band-waits-changelog",
        "news-pages.verdicts", "articles", "articles.duplicates", "pages.rejected",
    ]  # fmt: skip
    assert all(spec.partitions == 6 for spec in by_name.values())
    assert by_name["news-url-state-changelog"].config == {"cleanup.policy": "compact", "max.message.bytes": "1000"}
    assert by_name["news-pages.by-url"].config == {"max.message.bytes": "1000", "retention.ms": "604800000"}
    assert by_name["crawl.raw"].config == {"max.message.bytes": "1000"}  # the producers' topic
    assert [s.name for s in specs(settings) if not s.copartitioned] == ["articles", "articles.duplicates", "pages.rejected"]
    assert consumed(settings) == [
        "crawl.raw", "news-pages.by-url", "news-pages.by-band", "news-pages.verdicts",
    ]  # fmt: skip


def test_topics_get_min_insync_replicas_and_internal_ones_a_retention_when_set() -> None:
    settings = Settings(app_id="news", min_insync_replicas=2, internal_retention_s=3600)
    for spec in specs(settings):
        assert spec.config["min.insync.replicas"] == "2", spec.name
        assert ("retention.ms" in spec.config) == (spec.role == "internal"), spec.name
        assert spec.config.get("retention.ms", "3600000") == "3600000"
    assert all("min.insync.replicas" not in s.config for s in specs(Settings()))  # the broker's


def test_problems_name_missing_topics_and_wrong_partition_counts_of_copartitioned_ones() -> None:
    settings = Settings(app_id="news", partitions=4)
    actual = {spec.name: 4 for spec in specs(settings)}
    assert problems(specs(settings), actual) == []
    actual.update({"pages.raw": 8, "articles": 12})  # outputs may have any count
    del actual["news-url-state-changelog"]
    assert problems(specs(settings), actual) == [
        "topic pages.raw (input) has 8 partitions, INGEST_PARTITIONS is 4",
        "topic news-url-state-changelog (changelog) does not exist",
    ]


def test_a_topic_the_worker_writes_must_take_its_largest_record() -> None:
    """An output created with the broker's default 1 MiB under 10 MiB pages: named at start, not
    found when a decided article cannot be written. The input's own limit is the producers'."""
    settings = Settings(app_id="news", partitions=4, max_message_bytes=10_485_760)
    actual = {spec.name: 4 for spec in specs(settings)}
    limits = {spec.name: 10_485_760 for spec in specs(settings)}
    assert problems(specs(settings), actual, limits) == []
    limits.update({"articles": 1_048_588, "pages.raw": 1_048_588})
    del limits["news-pages.by-url"]  # not readable (no DescribeConfigs permission): not judged
    assert problems(specs(settings), actual, limits) == [
        "topic articles (output) takes records up to 1048588 bytes, INGEST_MAX_MESSAGE_BYTES is "
        "10485760: raise its max.message.bytes"
    ]
