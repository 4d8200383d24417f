"""LogService on a real SQLite file: groups, streams, PutLogEvents rules, reading, filtering."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from cronbridge.clock import FakeClock
from cronbridge.errors import AwsError
from cronbridge.logs.metric_filters import MetricFilters
from cronbridge.logs.service import LogService
from cronbridge.model.logs import Position, StreamOrder
from cronbridge.model.metrics import MetricId
from cronbridge.scope import HOME
from cronbridge.store.database import open_database
from cronbridge.store.documents import Documents
from cronbridge.store.metrics import MetricStore

NOW_MS = 1_700_000_000_000


@pytest.fixture
def logs(database_location: str) -> LogService:
    db = open_database(database_location)
    filters = MetricFilters(Documents(db), MetricStore(db, HOME), HOME)
    service = LogService(db, FakeClock(NOW_MS / 1000), filters, HOME)
    service.create_group("/ecs/app")
    service.create_stream("/ecs/app", "s1")
    return service


@contextmanager
def raises(code: str, message: str | None = None) -> Iterator[None]:
    """Expect an AwsError with this code (and this exact message, when given)."""
    with pytest.raises(AwsError) as caught:
        yield
    assert caught.value.code == code
    if message is not None:
        assert caught.value.message == message


def test_a_group_is_created_once_and_described_with_its_creation_time(logs: LogService) -> None:
    with raises("ResourceAlreadyExistsException", "The specified log group already exists"):
        logs.create_group("/ecs/app")
    groups, token = logs.describe_groups(prefix="/ecs")
    assert [(g.name, g.creation_time) for g in groups] == [("/ecs/app", NOW_MS)] and token is None


@pytest.mark.parametrize("name", ["a b", "x:y", "é", "*"])
def test_group_names_outside_the_pattern_are_invalid(logs: LogService, name: str) -> None:
    with raises("InvalidParameterException"):
        logs.create_group(name)


def test_describing_groups_pages_by_name_with_a_token(logs: LogService) -> None:
    for i in range(5):
        logs.create_group(f"/g/{i}")
    first, token = logs.describe_groups(prefix="/g/", limit=2)
    second, token2 = logs.describe_groups(prefix="/g/", limit=2, token=token)
    third, token3 = logs.describe_groups(prefix="/g/", limit=2, token=token2)
    names = [g.name for g in first + second + third]
    assert names == [f"/g/{i}" for i in range(5)] and token3 is None


def test_deleting_a_group_deletes_its_streams_and_events(logs: LogService) -> None:
    logs.put_events("/ecs/app", "s1", [(NOW_MS, "hello")])
    logs.delete_group("/ecs/app")
    assert not logs.group_exists("/ecs/app")
    logs.create_group("/ecs/app")
    with raises("ResourceNotFoundException", "The specified log stream does not exist."):
        logs.get_events("/ecs/app", "s1")
    with raises("ResourceNotFoundException", "The specified log group does not exist."):
        logs.delete_group("/nope")


def test_streams_are_unique_per_group_and_need_their_group(logs: LogService) -> None:
    with raises("ResourceAlreadyExistsException", "The specified log stream already exists"):
        logs.create_stream("/ecs/app", "s1")
    with raises("ResourceNotFoundException", "The specified log group does not exist."):
        logs.create_stream("/nope", "s1")
    logs.ensure_stream("/ecs/app", "s1")
    logs.ensure_stream("/ecs/app", "s2")
    streams, _ = logs.describe_streams("/ecs/app")
    assert [s.name for s in streams] == ["s1", "s2"]


def test_stream_aggregates_follow_each_batch(logs: LogService) -> None:
    logs.put_events("/ecs/app", "s1", [(NOW_MS - 10, "ab"), (NOW_MS - 5, "cde")])
    logs.put_events("/ecs/app", "s1", [(NOW_MS - 20, "é")])
    stream = logs.get_stream("/ecs/app", "s1")
    assert (stream.first_event_timestamp, stream.last_event_timestamp) == (NOW_MS - 20, NOW_MS - 5)
    assert stream.last_ingestion_time == NOW_MS
    assert stream.stored_bytes == 2 + 3 + 2 + 3 * 26
    assert logs.get_group("/ecs/app").stored_bytes == stream.stored_bytes


def test_streams_order_by_last_event_time_descending(logs: LogService) -> None:
    for name, ts in [("a", 3), ("b", 1), ("c", 2)]:
        logs.create_stream("/ecs/app", name)
        logs.put_events("/ecs/app", name, [(NOW_MS - ts, "x")])
    streams, token = logs.describe_streams(
        "/ecs/app", order_by=StreamOrder.LAST_EVENT_TIME, descending=True, limit=2
    )
    rest, last = logs.describe_streams(
        "/ecs/app", order_by=StreamOrder.LAST_EVENT_TIME, descending=True, limit=2, token=token
    )
    assert [s.name for s in streams + rest] == ["b", "c", "a", "s1"] and last is None
    with raises("InvalidParameterException"):
        logs.describe_streams("/ecs/app", prefix="a", order_by=StreamOrder.LAST_EVENT_TIME)


def test_events_out_of_chronological_order_fail_the_whole_batch(logs: LogService) -> None:
    with raises(
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    ):
        logs.put_events("/ecs/app", "s1", [(NOW_MS, "b"), (NOW_MS - 1, "a")])
    assert logs.get_events("/ecs/app", "s1").events == []


@pytest.mark.parametrize(
    ("count", "size"),
    [(10_001, 1), (1, 1_048_576 - 26 + 1), (2, (1_048_576 - 52) // 2 + 1)],
)
def test_batches_over_the_size_or_count_limit_are_invalid(
    logs: LogService, count: int, size: int
) -> None:
    with raises("InvalidParameterException"):
        logs.put_events("/ecs/app", "s1", [(NOW_MS, "x" * size)] * count)


def test_a_batch_at_exactly_the_byte_limit_is_accepted(logs: LogService) -> None:
    size = (1_048_576 - 2 * 26) // 2
    logs.put_events("/ecs/app", "s1", [(NOW_MS, "x" * size)] * 2)
    assert logs.get_stream("/ecs/app", "s1").stored_bytes == 1_048_576


def test_too_old_and_too_new_events_are_rejected_and_the_rest_kept(logs: LogService) -> None:
    day = 86_400_000
    batch = [(NOW_MS - 15 * day, "old"), (NOW_MS - 1, "ok"), (NOW_MS + 3 * 3_600_000, "new")]
    with raises("InvalidParameterException"):  # spans more than 24 hours
        logs.put_events("/ecs/app", "s1", batch)
    rejected, _ = logs.put_events("/ecs/app", "s1", batch[1:])
    assert rejected.too_new_start == 1 and rejected.too_old_end is None
    hour = 3_600_000
    old = [(NOW_MS - 14 * day - hour, "old"), (NOW_MS - 14 * day + hour, "ok")]
    rejected, _ = logs.put_events("/ecs/app", "s1", old)
    assert rejected.too_old_end == 1
    kept = logs.get_events("/ecs/app", "s1", start_from_head=True).events
    assert [e.message for e in kept] == ["ok", "ok"]


def test_events_older_than_the_retention_are_reported_expired(logs: LogService) -> None:
    logs.put_retention("/ecs/app", 1)
    batch = [(NOW_MS - 25 * 3_600_000, "gone"), (NOW_MS - 2 * 3_600_000, "kept")]
    rejected, _ = logs.put_events("/ecs/app", "s1", batch)
    assert rejected.expired_end == 1
    with raises("InvalidParameterException"):
        logs.put_retention("/ecs/app", 2)


def fill(logs: LogService, n: int) -> None:
    logs.append("/ecs/app", "s1", [(NOW_MS + i // 3, f"line {i}") for i in range(n)])


def test_reading_forward_from_the_head_pages_through_everything_once(logs: LogService) -> None:
    fill(logs, 25)
    page = logs.get_events("/ecs/app", "s1", limit=10, start_from_head=True)
    seen = [e.message for e in page.events]
    while page.events:
        page = logs.get_events("/ecs/app", "s1", limit=10, after=page.forward)
        seen += [e.message for e in page.events]
    assert seen == [f"line {i}" for i in range(25)]
    again = logs.get_events("/ecs/app", "s1", limit=10, after=page.forward)
    assert again.forward == page.forward and again.events == []


def test_the_default_read_is_the_tail_and_backward_tokens_walk_back(logs: LogService) -> None:
    fill(logs, 25)
    page = logs.get_events("/ecs/app", "s1", limit=10)
    assert [e.message for e in page.events] == [f"line {i}" for i in range(15, 25)]
    page = logs.get_events("/ecs/app", "s1", limit=10, before=page.backward)
    page = logs.get_events("/ecs/app", "s1", limit=10, before=page.backward)
    assert [e.message for e in page.events] == [f"line {i}" for i in range(5)]
    empty = logs.get_events("/ecs/app", "s1", limit=10, before=page.backward)
    assert empty.events == [] and empty.backward == page.backward


def test_a_time_window_bounds_the_read_with_an_exclusive_end(logs: LogService) -> None:
    fill(logs, 30)
    page = logs.get_events("/ecs/app", "s1", start=NOW_MS + 2, end=NOW_MS + 4, start_from_head=True)
    assert [e.message for e in page.events] == [f"line {i}" for i in range(6, 12)]


def test_filtering_matches_terms_across_streams_in_timestamp_order(logs: LogService) -> None:
    logs.create_stream("/ecs/app", "s2")
    logs.append("/ecs/app", "s1", [(NOW_MS, "ERROR one"), (NOW_MS + 2, "INFO two")])
    logs.append("/ecs/app", "s2", [(NOW_MS + 1, "ERROR three"), (NOW_MS + 3, "ERROR four")])
    page = logs.filter_events("/ecs/app", pattern="ERROR")
    assert [(e.stream_name, e.message) for e in page.events] == [
        ("s1", "ERROR one"), ("s2", "ERROR three"), ("s2", "ERROR four"),
    ]
    only = logs.filter_events("/ecs/app", stream_names=["s2"], pattern="-four", end=NOW_MS + 3)
    assert [e.message for e in only.events] == ["ERROR three"]


def test_filter_pages_with_a_next_position_until_the_end(logs: LogService) -> None:
    fill(logs, 50)
    seen: list[str] = []
    after: Position | None = None
    while True:
        page = logs.filter_events("/ecs/app", pattern='"line 1"', limit=4, after=after)
        seen += [e.message for e in page.events]
        if page.next is None:
            break
        after = page.next
    assert seen == ["line 1"] + [f"line {i}" for i in range(10, 20)]


def test_json_patterns_are_checked_in_python_over_chunks(logs: LogService) -> None:
    logs.append("/ecs/app", "s1", [(NOW_MS + i, f'{{"n": {i}}}') for i in range(5000)])
    page = logs.filter_events("/ecs/app", pattern="{ $.n >= 4998 }")
    assert [e.message for e in page.events] == ['{"n": 4998}', '{"n": 4999}']


def test_a_bad_filter_pattern_is_an_invalid_parameter(logs: LogService) -> None:
    with raises("InvalidParameterException", "Invalid filter pattern"):
        logs.filter_events("/ecs/app", pattern='"unclosed')


def test_tags_merge_and_untag(logs: LogService) -> None:
    logs.tag("/ecs/app", {"a": "1", "b": "2"})
    logs.untag("/ecs/app", ["a"])
    assert logs.tags("/ecs/app") == {"b": "2"}
    assert logs.group_name(logs.group_arn("/ecs/app") + ":*") == "/ecs/app"


def test_a_python_checked_filter_stops_after_a_bounded_scan_with_a_token(logs: LogService) -> None:
    fill(logs, 45_000)
    page = logs.filter_events("/ecs/app", pattern="[a, b, c, d]")
    assert page.events == [] and page.next is not None
    rest = logs.filter_events("/ecs/app", pattern="[a, b, c, d]", after=page.next)
    assert rest.events == [] and rest.next is None


def test_every_stored_event_updates_the_metric_of_a_matching_filter(logs: LogService) -> None:
    logs.filters.put("/ecs/app", "errors", "ERROR", [{"metricName": "Errors", "metricNamespace": "Batch",
                                                      "metricValue": "1"}], NOW_MS)
    logs.put_events("/ecs/app", "s1", [(NOW_MS - 2000, "INFO ok"), (NOW_MS - 1000, "ERROR disk full")])
    logs.append("/ecs/app", "s1", [(NOW_MS, "ERROR again")])
    samples = logs.filters.samples.samples(MetricId("Batch", "Errors"), 0, NOW_MS / 1000 + 1)
    assert [(s.timestamp, s.total) for s in samples] == [(NOW_MS / 1000 - 1, 1.0), (NOW_MS / 1000, 1.0)]
    logs.delete_group("/ecs/app")
    assert logs.filters.describe("/ecs/app") == []


def test_a_costly_filter_ends_its_page_early_with_a_token_and_misses_nothing(logs: LogService) -> None:
    """Each call does bounded work (AWS's searches too return short pages with a token); paging finds every match."""
    line = "a" * 3000 + "c"
    logs.append("/ecs/app", "s1", [(NOW_MS - 10_000 + i, line if i % 7 == 0 else line[:-1]) for i in range(3000)])
    pages, found, after = 0, 0, None
    while True:
        page = logs.filter_events("/ecs/app", pattern="%a.{130}c%", after=after)
        pages, found = pages + 1, found + len(page.events)
        if page.next is None:
            break
        after = page.next
    assert found == len(range(0, 3000, 7))
    assert pages > 1
