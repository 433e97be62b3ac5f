"""broker.session_queue: one session's queued and in-flight messages, bounded together."""

from __future__ import annotations

import pytest

from broker.session_queue import DropTally, Pending, QueueBound, SessionQueue


def _item(n: int, size: int = 10, qos: int = 1) -> Pending:
    return Pending("t", b"%0*d" % (size - 1, n), qos)  # topic "t" + payload = size bytes


def _payloads(queue: SessionQueue) -> list[bytes]:
    out = []
    while (item := queue.next_ready()) is not None:
        out.append(item.data)
    return out


def test_over_the_count_the_oldest_queued_messages_are_dropped_and_counted() -> None:
    tally = DropTally()
    queue = SessionQueue("core", QueueBound(max_messages=3, max_bytes=10**6), tally)
    dropped = [queue.put(_item(n)) for n in range(5)]
    assert dropped == [0, 0, 0, 1, 1]
    assert (queue.dropped, queue.dropped_bytes) == (2, 20)
    assert (tally.messages, tally.bytes, tally.by_client) == (2, 20, {"core": 2})
    assert len(queue) == 3 and queue.inflight == 0


def test_the_newest_messages_are_kept_in_order() -> None:
    queue = SessionQueue("core", QueueBound(max_messages=3, max_bytes=10**6, inflight=10))
    for n in range(6):
        queue.put(_item(n))
    assert [int(p) for p in _payloads(queue)] == [3, 4, 5]


def test_the_byte_bound_counts_topic_and_payload() -> None:
    queue = SessionQueue("core", QueueBound(max_messages=100, max_bytes=25))
    assert queue.put(_item(0, size=10)) == 0
    assert queue.put(_item(1, size=10)) == 0
    assert queue.put(_item(2, size=10)) == 1  # 30 bytes > 25: the oldest goes
    assert (queue.bytes, queue.dropped_bytes) == (20, 10)


def test_in_flight_messages_count_but_are_never_dropped() -> None:
    queue = SessionQueue("core", QueueBound(max_messages=2, max_bytes=10**6, inflight=2))
    for n in range(2):
        queue.put(_item(n))
        item = queue.next_ready()
        assert item is not None
        queue.sent(n + 1, item)
    assert (queue.inflight, queue.queued) == (2, 0)
    # The bound is full of in-flight messages: a new one cannot stay.
    assert queue.put(_item(9)) == 1
    assert (queue.inflight, queue.queued, queue.inflight_bytes) == (2, 0, 20)
    assert queue.acknowledged(1) and not queue.acknowledged(1)
    assert queue.put(_item(10)) == 0 and len(queue) == 2


def test_the_window_holds_qos1_back_until_a_puback_frees_a_slot() -> None:
    queue = SessionQueue("core", QueueBound(max_messages=10, max_bytes=10**6, inflight=1))
    queue.put(_item(1))
    queue.put(_item(2))
    first = queue.next_ready()
    assert first is not None
    queue.sent(7, first)
    assert queue.next_ready() is None and not queue.ready.is_set()
    assert queue.acknowledged(7)
    assert queue.ready.is_set()
    second = queue.next_ready()
    assert second is not None and second.data.endswith(b"2")


def test_qos0_is_not_held_by_the_window() -> None:
    queue = SessionQueue("core", QueueBound(max_messages=10, max_bytes=10**6, inflight=1))
    queue.put(_item(1))
    item = queue.next_ready()
    assert item is not None
    queue.sent(1, item)
    queue.put(_item(2, qos=0))
    assert queue.next_ready() is not None  # QoS 0 needs no slot


def test_clear_forgets_without_counting() -> None:
    queue = SessionQueue("core", QueueBound(max_messages=10, max_bytes=10**6))
    queue.put(_item(1))
    queue.clear()
    assert (len(queue), queue.bytes, queue.dropped) == (0, 0, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"max_messages": 0},
        {"max_bytes": 0},
        {"inflight": 0},
        {"inflight": 70_000},
    ],
)
def test_a_bound_refuses_nonsense(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="positive limits"):
        QueueBound(**bad)
