"""schemas/asyncapi.yaml against the code: topics, roles, keys, payloads and headers.

No AsyncAPI validator ships in a Python package we can install offline (the official JSON
Schema of AsyncAPI 3.0 ships in an npm package), so the structural rules this document relies
on are checked here: known fields at each level, every reference resolving, operations naming
messages of their own channel.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import orjson
import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Resource
from referencing.jsonschema import DRAFT7

from tests.contract.schemas import ASYNCAPI, BASE, SCHEMAS, asyncapi, load, registry
from tests.unit.core.test_dedup import A, B, page, story
from tests.unit.streaming.test_stages import PARTITIONS, Pipeline
from worker import codec, records
from worker.core import dedup
from worker.errors import Reason
from worker.records import SCHEMA_VERSION, Rejected, Source
from worker.settings import ENV, Settings
from worker.streaming.agents import BandStage, GatherStage, Output, Send, UrlStage
from worker.streaming.tables import Tables
from worker.topology import (
    TABLE_BANDS,
    TABLE_MEMBERS,
    TABLE_PENDING,
    TABLE_REPLIES,
    TABLE_URLS,
    TABLE_WAITS,
    changelog,
    consumed,
    specs,
)

DOC_URI = BASE + "asyncapi.yaml"
"""Where the document's relative `$ref`s start from: beside the schemas, as in the repository."""
INTERNAL_ROLES = {"internal", "changelog"}
EXTENSION = "x-"
FIELDS = {
    "root": {"asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations",
             "components"},
    "channel": {"address", "messages", "title", "summary", "description", "servers", "parameters",
                "tags", "externalDocs", "bindings"},
    "operation": {"action", "channel", "title", "summary", "description", "security", "tags",
                  "externalDocs", "bindings", "traits", "messages", "reply"},
    "message": {"headers", "payload", "correlationId", "contentType", "name", "title", "summary",
                "description", "tags", "externalDocs", "bindings", "examples", "traits"},
    "kafka channel": {"topic", "partitions", "replicas", "topicConfiguration", "bindingVersion"},
    "kafka message": {"key", "schemaIdLocation", "schemaIdPayloadEncoding", "schemaLookupStrategy",
                      "bindingVersion"},
}  # fmt: skip
"""The fields AsyncAPI 3.0.0 (and its Kafka bindings 0.5.0) defines at each level used."""
OUTPUT_SCHEMAS = {"raw": "raw_page", "articles": "article", "duplicates": "duplicate",
                  "rejected": "rejected"}  # fmt: skip
"""Channel -> the JSON Schema of its values."""
INTERNAL_RECORDS = {
    "Extracted": records.Extracted, "Sketched": records.Sketched, "Member": dedup.Member,
    "Hit": dedup.Hit, "Candidate": dedup.Candidate, "BandQuery": dedup.BandQuery,
    "Lookup": dedup.Lookup, "BandSettle": dedup.BandSettle, "BandRelease": dedup.BandRelease,
    "BandReply": dedup.BandReply, "LookupAnswer": dedup.LookupAnswer,
    "Revision": dedup.Revision, "Decision": dedup.Decision, "UrlState": dedup.UrlState,
}  # fmt: skip
"""Component schema -> the dataclass whose fields it requires."""
TABLE_CHANNELS = {
    "urls": (TABLE_URLS, "urlStateChangelog"),
    "pending": (TABLE_PENDING, "pendingChangelog"),
    "replies": (TABLE_REPLIES, "pendingRepliesChangelog"),
    "bands": (TABLE_BANDS, "bandListsChangelog"),
    "members": (TABLE_MEMBERS, "bandMembersChangelog"),
    "waits": (TABLE_WAITS, "bandWaitsChangelog"),
}
"""`Tables` field -> its table's name (`tables.declare`) and the channel of its changelog."""
STAGE_CHANNELS = {"by_url": "byUrl", "by_band": "byBand", "verdicts": "verdicts"}


def channels() -> dict[str, Any]:
    return dict(asyncapi()["channels"])


def pointer(ref: str) -> Any:
    """The node a local `#/...` reference names."""
    node = asyncapi()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def message_ref(channel: str) -> str:
    """The reference of a channel's one message (under components/messages)."""
    (ref,) = channels()[channel]["messages"].values()
    return str(ref["$ref"])


def message(channel: dict[str, Any]) -> dict[str, Any]:
    """The one message of a channel, its reference followed."""
    (ref,) = channel["messages"].values()
    return dict(pointer(ref["$ref"]))


def internal(node: dict[str, Any]) -> bool:
    return "internal" in {pointer(t["$ref"])["name"] if "$ref" in t else t["name"]
                          for t in node.get("tags", [])}  # fmt: skip


def walk_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from walk_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk_refs(item)


def known(node: dict[str, Any], level: str) -> set[str]:
    """The fields of a node AsyncAPI does not define at that level (extensions allowed)."""
    return {key for key in node if key not in FIELDS[level] and not key.startswith(EXTENSION)}


# --- the document itself ------------------------------------------------------------------------


def test_the_document_is_asyncapi_3_with_the_projects_version() -> None:
    doc = asyncapi()
    project = tomllib.loads((SCHEMAS.parent / "pyproject.toml").read_text())["project"]
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["version"] == project["version"]
    assert doc["info"]["license"]["name"] == project["license"]
    assert known(doc, "root") == set()


def test_channels_operations_and_messages_use_only_fields_asyncapi_defines() -> None:
    doc = asyncapi()
    for name, channel in doc["channels"].items():
        assert known(channel, "channel") == set(), name
        assert known(channel["bindings"]["kafka"], "kafka channel") == set(), name
        assert isinstance(channel["address"], str) and channel["messages"], name
    for name, operation in doc["operations"].items():
        assert known(operation, "operation") == set(), name
        assert operation["action"] in {"send", "receive"}, name
    for name, msg in doc["components"]["messages"].items():
        assert known(msg, "message") == set(), name
        assert known(msg["bindings"]["kafka"], "kafka message") == set(), name
        assert msg["bindings"]["kafka"]["bindingVersion"] == "0.5.0", name


def test_every_local_reference_resolves() -> None:
    for ref in walk_refs(asyncapi()):
        if ref.startswith("#/"):
            assert pointer(ref) is not None, ref


def test_every_file_reference_is_a_schema_with_a_matching_id() -> None:
    files = [ref for ref in walk_refs(asyncapi()) if not ref.startswith("#")]
    assert files
    for ref in files:
        path = ref.partition("#")[0]
        local = ASYNCAPI.parent / path
        assert local.is_file(), ref
        assert load(local)["$id"] == urljoin(DOC_URI, path), ref
        assert registry().resolver(base_uri=DOC_URI).lookup(ref).contents is not None, ref


def test_every_operation_sends_or_receives_a_message_of_its_own_channel() -> None:
    for name, operation in asyncapi()["operations"].items():
        channel_ref = operation["channel"]["$ref"]
        channel = pointer(channel_ref)
        assert operation["messages"], name
        for ref in operation["messages"]:
            assert ref["$ref"].startswith(channel_ref + "/messages/"), name
            assert pointer(ref["$ref"]) is channel["messages"][ref["$ref"].rsplit("/", 1)[1]]


KEYWORDS = set(Draft7Validator.META_SCHEMA["properties"])
"""Draft 7's keywords: AsyncAPI Schema Objects use these (and a few more we do not need)."""


def schema_keys(schema: Any, at: str) -> Iterator[str]:
    """Every key of a schema that is not a draft 7 keyword, where it is."""
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key not in KEYWORDS and not key.startswith(EXTENSION):
            yield f"{at}/{key}"
        if key in {"properties", "patternProperties", "definitions"}:
            for name, sub in value.items():
                yield from schema_keys(sub, f"{at}/{key}/{name}")
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                yield from schema_keys(sub, f"{at}/{key}/{i}")
        elif isinstance(value, dict):
            yield from schema_keys(value, f"{at}/{key}")


def test_component_schemas_are_valid_draft_7_with_no_unknown_keyword() -> None:
    """(A YAML flow mapping cut at a comma makes a key no validator would notice.)"""
    for name, schema in asyncapi()["components"]["schemas"].items():
        Draft7Validator.check_schema(schema)
        assert list(schema_keys(schema, name)) == []
    for name, msg in asyncapi()["components"]["messages"].items():
        payload = msg["payload"].get("schema", msg["payload"])
        assert list(schema_keys(payload, name)) == []
        assert list(schema_keys(msg["bindings"]["kafka"]["key"], f"{name} key")) == []


# --- the document against the code ------------------------------------------------------------


def by_address() -> dict[str, tuple[str, Any]]:
    return {c["address"]: (name, c) for name, c in channels().items()}


def test_every_topic_of_the_worker_is_a_channel_and_nothing_else() -> None:
    assert set(by_address()) == {spec.name for spec in specs(Settings())}


def test_internal_topics_and_changelogs_are_marked_internal_and_the_others_are_not() -> None:
    found = by_address()
    for spec in specs(Settings()):
        name, channel = found[spec.name]
        hidden = spec.role in INTERNAL_ROLES
        assert channel.get("x-internal", False) is hidden, name
        assert internal(channel) is hidden, name
        assert internal(message(channel)) is hidden, name


def addresses(settings: Settings) -> dict[str, str]:
    """Each channel's `x-address-from` filled in from these settings."""
    values = {var: str(getattr(settings, attr)) for var, attr in ENV.items()}
    return {name: c["x-address-from"].format(**values) for name, c in channels().items()}


def test_names_derive_from_the_variables_the_document_says() -> None:
    assert addresses(Settings()) == {name: c["address"] for name, c in channels().items()}
    env = {"INGEST_APP_ID": "acme", "INGEST_TOPIC_RAW": "in", "INGEST_TOPIC_ARTICLES": "out.a",
           "INGEST_TOPIC_DUPLICATES": "out.d", "INGEST_TOPIC_REJECTED": "out.r"}  # fmt: skip
    settings = Settings.from_env(env)
    assert set(addresses(settings).values()) == {spec.name for spec in specs(settings)}
    for var in env:
        assert f"`{var}`" in asyncapi()["info"]["description"], f"{var} is not documented"


def test_kafka_bindings_hold_the_default_topic_configuration() -> None:
    found = by_address()
    for spec in specs(Settings()):
        name, channel = found[spec.name]
        binding = channel["bindings"]["kafka"]
        assert binding["partitions"] == spec.partitions, name
        assert binding["replicas"] == Settings().replication_factor, name
        config = {
            key: ",".join(value) if isinstance(value, list) else str(value)
            for key, value in binding["topicConfiguration"].items()
        }
        assert config == dict(spec.config), name


def test_the_worker_receives_what_it_consumes_or_restores_and_sends_everything_else() -> None:
    settings = Settings()
    received, sent = set(), set()
    for operation in asyncapi()["operations"].values():
        address = pointer(operation["channel"]["$ref"])["address"]
        (received if operation["action"] == "receive" else sent).add(address)
        assert internal(operation) == internal(pointer(operation["channel"]["$ref"]))
    changelogs = {s.name for s in specs(settings) if s.role == "changelog"}
    assert received == set(consumed(settings)) | changelogs
    assert sent == {s.name for s in specs(settings)} - {settings.topic_raw}


@pytest.mark.parametrize("channel", OUTPUT_SCHEMAS)
def test_input_and_output_payloads_are_the_json_schemas(channel: str) -> None:
    payload = message(channels()[channel])["payload"]
    assert payload["schemaFormat"] == "application/schema+json;version=2020-12"
    ref = payload["schema"]["$ref"]
    assert ref == f"./{OUTPUT_SCHEMAS[channel]}.schema.json"
    assert load(SCHEMAS / ref)["$id"] == urljoin(DOC_URI, ref)


def test_no_schema_file_is_left_out_of_the_document() -> None:
    named = {Path(r.partition("#")[0]).name for r in walk_refs(asyncapi()) if r[:2] != "#/"}
    assert {p.name for p in SCHEMAS.glob("*.schema.json")} - named <= {"source.schema.json"}


# --- rejected records' headers ------------------------------------------------------------------


def header_schema() -> dict[str, Any]:
    headers = message(channels()["rejected"])["headers"]
    assert headers["schemaFormat"] == "application/schema+json;version=2020-12"
    return dict(headers["schema"])


def header_validator() -> Draft202012Validator:
    schema = {"$id": DOC_URI, **header_schema()}
    return Draft202012Validator(schema, registry=registry())


def test_the_rejected_headers_are_the_ones_the_worker_writes() -> None:
    assert tuple(header_schema()["properties"]) == codec.REJECTION_HEADERS


@pytest.mark.parametrize("timestamp_ms", [1_746_000_000_000, None])
def test_a_rejections_headers_follow_the_document(timestamp_ms: int | None) -> None:
    origin = Source("pages.raw", 3, 42, timestamp_ms)
    record = Rejected(SCHEMA_VERSION, Reason.TIMEOUT.value, "took\ntoo long", origin)
    headers = {name: value.decode("utf-8") for name, value in codec.rejection_headers(record)}
    header_validator().validate(headers)
    assert set(header_schema()["required"]) <= set(headers)


def test_the_reason_header_allows_exactly_the_reasons() -> None:
    reason = header_schema()["properties"]["ingest.error.reason"]["$ref"]
    enum = registry().resolver(base_uri=DOC_URI).lookup(reason).contents["enum"]
    assert sorted(enum) == sorted(r.value for r in Reason)


# --- internal payloads: what the stages really write --------------------------------------------


@pytest.mark.parametrize("name", INTERNAL_RECORDS)
def test_internal_schemas_require_exactly_the_fields_of_their_records(name: str) -> None:
    schema = asyncapi()["components"]["schemas"][name]
    names = {f.name for f in fields(INTERNAL_RECORDS[name])}
    assert set(schema["required"]) == names
    assert set(schema["properties"]) == names


class Recorded(dict[str, Any]):
    """A table that remembers every write, as its changelog would carry it (None: deleted)."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[tuple[str, Any]] = []

    def __setitem__(self, key: str, value: Any) -> None:
        self.changes.append((key, value))
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.changes.append((key, None))
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self.changes.append((key, None))
        return super().pop(key, *default)


class Traced(Pipeline):
    """The three stages over recording tables, keeping every record they send."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(wait_s)
        self.tables = Tables(**{f.name: Recorded() for f in fields(Tables)})
        settings = Settings(partitions=PARTITIONS, dedup_wait_s=wait_s)
        self.stages = {
            "by_url": UrlStage(self.topics, self.tables, settings, None),  # type: ignore[arg-type]
            "by_band": BandStage(self.topics, self.tables, settings, None),  # type: ignore[arg-type]
            "verdicts": GatherStage(self.topics, self.tables, settings, None),  # type: ignore[arg-type]
        }
        self.sent: list[Send] = []

    def send(self, sends: list[Send]) -> None:
        self.sent += sends
        super().send(sends)


def traced() -> Traced:
    """Two copies in flight at once, one waiting for the other past the wait limit (released),
    then an update of the first URL: every internal message kind and every table written."""
    flow = Traced(wait_s=0.0)
    original, copy = page(A, story(1), 0), page(B, story(1), 1)
    for p in (original, copy):
        flow.intake(p)
    flow.drain("by_url", "by_band")
    flow.looked_up_first(copy)
    band: BandStage = flow.stages["by_band"]
    for release in band.overdue(set(range(PARTITIONS))):
        flow.send([release])
    flow.run()
    flow.intake(page(A, story(2), 2, "2025-05-02T10:00:00.000Z"))
    flow.run()
    return flow


@pytest.fixture(scope="module")
def flow() -> Traced:
    return traced()


def doc_validator(ref: str) -> Draft7Validator:
    """A validator for the schema at `ref` in the document (AsyncAPI schemas are draft 7)."""
    doc = Resource.from_contents(asyncapi(), default_specification=DRAFT7)
    return Draft7Validator({"$ref": DOC_URI + ref}, registry=registry().with_resource(DOC_URI, doc))


def test_internal_records_follow_their_channels_payload_and_key(flow: Traced) -> None:
    output = Output(flow.topics, Settings(partitions=PARTITIONS), list, None)  # type: ignore[arg-type]
    tags: set[str] = set()
    for send in output.bundle([s for s in flow.sent if s.topic in STAGE_CHANNELS]):
        name = STAGE_CHANNELS[send.topic]  # type: ignore[index]
        msg = message_ref(name)
        key = None if send.key is None else send.key.decode()
        doc_validator(msg + "/bindings/kafka/key").validate(key)
        for line in send.value.split(b"\n"):
            value = orjson.loads(line)
            doc_validator(msg + "/payload").validate(value)
            tags |= set(value) if send.topic != "by_url" else set()
    assert tags == {"query", "lookup", "settle", "release", "reply", "answer"}


def test_table_changes_follow_their_changelogs_payload_and_key(flow: Traced) -> None:
    for table, (_, name) in TABLE_CHANNELS.items():
        changes = getattr(flow.tables, table).changes
        assert changes, f"{table}: never written"
        msg = message_ref(name)
        for key, value in changes:
            doc_validator(msg + "/bindings/kafka/key").validate(json.dumps(key))
            doc_validator(msg + "/payload").validate(codec.plain(value))


def test_changelog_channels_are_the_tables_changelogs() -> None:
    assert set(TABLE_CHANNELS) == {f.name for f in fields(Tables)}
    for table, channel in TABLE_CHANNELS.values():
        assert channels()[channel]["address"] == changelog(Settings(), table)
