"""Leases of several core instances (core/leases.py): real SQLite, a fake clock."""

from __future__ import annotations

import pytest

from core.leases import LeaseBook, LeaseLost
from core.store.db import Database, make_engine, migrate

CAMS = [f"cam{i}" for i in range(6)]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'srs.db'}")
    migrate(engine)
    database = Database(engine)
    yield database
    database.close()


def book(db: Database, name: str, clock: Clock) -> LeaseBook:
    return LeaseBook(db, name, ttl_s=6.0, clock=clock)


def settle(books: list[LeaseBook], rounds: int = 3) -> dict[str, frozenset[str]]:
    held = {}
    for _ in range(rounds):
        for b in books:
            held[b.instance] = b.renew(CAMS).partitions
    return held


def test_one_instance_takes_every_partition_and_leads(db):
    clock = Clock()
    a = book(db, "a", clock)
    h = a.renew(CAMS)
    assert h.partitions == frozenset(CAMS)
    assert h.leader
    assert h.live == ("a",)


def test_a_second_instance_gets_half_within_two_renewals_and_nothing_is_held_twice(db):
    clock = Clock()
    a, b = book(db, "a", clock), book(db, "b", clock)
    a.renew(CAMS)
    held = settle([b, a])  # b joins; a gives up its surplus; b takes it
    assert len(held["a"]) == len(held["b"]) == 3
    assert held["a"] | held["b"] == frozenset(CAMS)
    assert not held["a"] & held["b"]
    assert a.renew(CAMS).leader and not b.renew(CAMS).leader  # the leader stays


def test_uneven_shares_still_give_every_instance_something(db):
    clock = Clock()
    books = [book(db, n, clock) for n in "abc"]
    cams = CAMS[:4]
    held: dict[str, frozenset[str]] = {}
    for _ in range(4):
        for bk in books:
            held[bk.instance] = bk.renew(cams).partitions
    assert sorted(len(v) for v in held.values()) == [1, 1, 2]
    assert frozenset().union(*held.values()) == frozenset(cams)


def test_a_dead_instance_partitions_and_leadership_move_after_the_ttl(db):
    clock = Clock()
    a, b = book(db, "a", clock), book(db, "b", clock)
    settle([a, b])
    clock.now += 5.0  # a stops renewing (killed); b keeps going
    assert len(b.renew(CAMS).partitions) == 3  # a's leases still run
    clock.now += 1.5  # a's leases have expired (6 s)
    h = b.renew(CAMS)
    assert h.partitions == frozenset(CAMS)
    assert h.leader
    assert h.live == ("b",)


def test_a_clean_leave_frees_everything_at_once(db):
    clock = Clock()
    a, b = book(db, "a", clock), book(db, "b", clock)
    settle([a, b])
    a.leave()
    h = b.renew(CAMS)
    assert h.partitions == frozenset(CAMS) and h.leader


def test_a_stalled_instance_does_not_get_back_what_another_took(db):
    clock = Clock()
    a, b = book(db, "a", clock), book(db, "b", clock)
    settle([a, b])
    clock.now += 7.0
    assert b.renew(CAMS).partitions == frozenset(CAMS)  # b took a's expired leases
    h = a.renew(CAMS)  # a wakes up: its rows belong to b now
    assert not h.leader
    assert not h.partitions & b.renew(CAMS).partitions
    held = settle([a, b])
    assert len(held["a"]) == len(held["b"]) == 3


def test_partitions_that_disappear_are_not_reported(db):
    clock = Clock()
    a = book(db, "a", clock)
    a.renew(CAMS)
    assert a.renew(CAMS[:2]).partitions == frozenset(CAMS[:2])


def test_extend_keeps_what_is_held_and_takes_nothing(db):
    clock = Clock()
    a, b = book(db, "a", clock), book(db, "b", clock)
    settle([a, b])
    clock.now += 5.0
    held = a.extend()  # a's worker is busy; its lease thread keeps its leases alive
    assert len(held - {"_leader"}) == 3
    clock.now += 2.0  # b missed its renewal: a's extension does not take b's partitions
    assert a.extend() == held
    assert len(a.renew(CAMS).partitions) == 6  # the worker's renewal between batches does


def test_the_leader_reads_the_live_instances_reports_and_a_dead_one_drops_out(db):
    clock = Clock()
    a, b = book(db, "a", clock), book(db, "b", clock)
    a.report, b.report = (lambda: '{"received": 1}'), (lambda: '{"received": 2}')
    assert a.renew(CAMS).leader and a.peer_reports == ()  # nobody else yet
    b.renew(CAMS)
    assert b.peer_reports == ()  # not the leader: reads nothing
    a.renew(CAMS)
    assert a.peer_reports == ('{"received": 2}',)
    clock.now += 7.0  # b stopped renewing: its row expired
    a.renew(CAMS)
    assert a.peer_reports == ()


def test_extending_the_leases_writes_the_report_too(db):
    clock = Clock()
    a, b = book(db, "a", clock), book(db, "b", clock)
    said = ["{}"]
    b.report = lambda: said[0]
    a.renew(CAMS)
    b.renew(CAMS)
    said[0] = '{"received": 9}'
    b.extend()  # the keeper thread's heartbeat
    a.renew(CAMS)
    assert a.peer_reports == ('{"received": 9}',)


def test_a_store_is_fenced_by_the_leases_it_writes_for(db):
    """``confirm`` in a store's transaction: passes while this instance holds the
    leases unexpired; raises once one lapsed or moved, and rolls nothing of theirs."""
    clock = Clock()
    a, b = book(db, "a", clock), book(db, "b", clock)
    a.renew(CAMS)
    with db.session() as s:
        a.confirm(s, ["cam0", "cam1"])
        a.confirm(s, [])
    clock.now += 7.0  # a stalled past the TTL: its leases lapsed, nobody took them yet
    with pytest.raises(LeaseLost), db.session() as s:
        a.confirm(s, ["cam0"])
    b.renew(CAMS)  # b takes what lapsed
    a.renew(CAMS)
    with pytest.raises(LeaseLost, match="cam"), db.session() as s:
        a.confirm(s, sorted(CAMS))  # some of them are b's now
    with db.session() as s:
        b.confirm(s, [n for n in CAMS if n in b.renew(CAMS).partitions])
