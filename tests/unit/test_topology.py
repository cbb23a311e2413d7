"""The topic list the worker creates and checks at start."""

from __future__ import annotations

from worker.settings import Settings
from worker.topology import consumed, problems, specs


def test_every_topic_of_the_app_is_listed_with_its_partitions_and_config() -> None:
    settings = Settings(app_id="news", partitions=6, topic_raw="crawl.raw", max_message_bytes=1000)
    by_name = {spec.name: spec for spec in specs(settings)}
    assert list(by_name) == [
        "crawl.raw", "news-pages.by-url", "news-url-state-changelog", "news-pending-changelog",
        "news-pages.by-band", "news-band-lists-changelog", "news-band-members-changelog",
        "news-band-waits-changelog",
        "news-pages.verdicts", "articles", "articles.duplicates", "pages.rejected",
    ]  # fmt: skip
    assert all(spec.partitions == 6 for spec in by_name.values())
    assert by_name["news-url-state-changelog"].config == {"cleanup.policy": "compact", "max.message.bytes": "1000"}
    assert by_name["news-pages.by-url"].config == {"max.message.bytes": "1000"}
    assert [s.name for s in specs(settings) if not s.copartitioned] == ["articles", "articles.duplicates", "pages.rejected"]
    assert consumed(settings) == [
        "crawl.raw", "news-pages.by-url", "news-pages.by-band", "news-pages.verdicts",
    ]  # fmt: skip


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
