"""Leases that let several core instances share the work (docs/scale.md).

Each instance renews, in one transaction every ``lease_renew_s``: its own
heartbeat row (``core_instances``), the leases it holds (``core_leases``), and
then takes or gives up leases so that every live instance holds a fair share:

- a partition (a group of cameras, core/partition.py) whose lease is free, expired
  or held by an instance that stopped renewing is taken by an instance holding
  fewer than ``ceil(partitions / live instances)``;
- an instance holding more than that, or more than ``floor(...)`` while another
  live instance holds less than ``floor(...)`` and nothing is free, releases one
  (so a new instance gets cameras within two renewals);
- ``LEADER`` is one more lease, held by whoever finds it free: the leader runs the
  duties that must happen once (status, key publication, retention, camera-offline
  alerts, operator requests).

Every take is a compare-and-set (``UPDATE ... WHERE owner IS old AND expires_at =
old``), so two instances racing for one lease cannot both win, on SQLite (where the
first write serialises the transaction anyway) or PostgreSQL (row locks).

Time is the wall clock (``time.time``), compared across hosts: an instance keeps
handling a partition only for half the TTL after its last successful renewal
(core/partition.py), so clocks may differ by up to ``ttl / 2`` before two instances
could both believe they hold one camera.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.store.db import Database
from core.store.models import CoreInstance, CoreLease

log = logging.getLogger(__name__)
LEASES = cast(Table, CoreLease.__table__)
INSTANCES = cast(Table, CoreInstance.__table__)
# Lease names that are not partitions: they start with "_", which no camera id does.
LEADER = "_leader"
UNKNOWNS_LOCK = "_unknowns"
# A dead instance's row is deleted this long after it stopped renewing.
FORGET_INSTANCE_S = 3600.0


class LeaseLost(Exception):
    """A batch's camera is no longer this instance's (its lease moved or lapsed while
    the batch was on its way): the batch is not stored and not acked, and the camera
    sends it again to the instance that holds it now. A normal hand-over, not a fault."""


@dataclass(frozen=True, slots=True)
class Holding:
    """What one renewal left this instance holding."""

    partitions: frozenset[str] = frozenset()
    leader: bool = False
    live: tuple[str, ...] = ()  # the live instances, this one included
    taken: tuple[str, ...] = ()  # partitions newly taken by this renewal
    released: tuple[str, ...] = ()


@dataclass(slots=True)
class _Row:
    owner: str | None
    expires_at: float


@dataclass(slots=True)
class LeaseBook:
    """One instance's side of the leases; ``renew`` is the only call that writes."""

    db: Database
    instance: str
    ttl_s: float = 6.0
    clock: Callable[[], float] = time.time
    started_at: float = field(default=0.0)
    # What this instance writes into its row with each heartbeat (its counters as
    # JSON, core/shared_counters.py); None writes nothing.
    report: Callable[[], str] | None = None
    # What the other live instances wrote, as read by this instance's last renewal
    # as leader (empty otherwise: only the leader's status sums them).
    peer_reports: tuple[str | None, ...] = ()

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    def renew(self, partitions: Iterable[str]) -> Holding:
        """Heartbeat, renew, rebalance: one transaction; what this instance now holds."""
        wanted = sorted(set(partitions))
        now = self.clock()
        with self.db.session() as s:
            self._heartbeat(s, now)
            _ensure_rows(s, [LEADER, *wanted])
            live = self._live(s, now)
            rows = self._rows(s)
            self._renew_mine(s, rows, now)
            leader = self._leader(s, rows, live, now)
            taken, released = self._balance(s, rows, wanted, live, now)
            self.peer_reports = self._peer_reports(s, now) if leader else ()
            mine = frozenset(
                n for n in wanted if rows[n].owner == self.instance and rows[n].expires_at > now
            )
        return Holding(mine, leader, tuple(live), tuple(taken), tuple(released))

    def extend(self) -> frozenset[str]:
        """Heartbeat and extend the leases this instance still holds, nothing else (no
        take, no release: those happen between batches, core/partition.py); the
        names of the leases still held."""
        now = self.clock()
        t = LEASES.c
        with self.db.session() as s:
            self._heartbeat(s, now)
            s.execute(
                update(LEASES).where(t.owner == self.instance).values(expires_at=now + self.ttl_s)
            )
            return frozenset(s.execute(select(t.name).where(t.owner == self.instance)).scalars())

    def confirm(self, s: Session, names: Iterable[str]) -> None:
        """Fence a store transaction: raise :class:`LeaseLost` unless this instance
        holds every lease in ``names``, unexpired, now. Called in the caller's
        transaction, whose write it is (a no-op update): the rows stay locked until
        it commits (PostgreSQL row locks; SQLite's one write lock), so no other
        instance can take them between this check and the batch's commit."""
        wanted = sorted(set(names))
        if not wanted:
            return
        t = LEASES.c
        done = s.execute(
            update(LEASES)
            .where(and_(t.name.in_(wanted), t.owner == self.instance, t.expires_at > self.clock()))
            .values(expires_at=t.expires_at)
        )
        if cast(Any, done).rowcount != len(wanted):
            raise LeaseLost(f"no longer holds the lease of {', '.join(wanted)}")

    def leave(self) -> None:
        """Give up every lease at once (a clean stop): the others take them at their
        next renewal instead of after the TTL."""
        with self.db.session() as s:
            s.execute(
                update(LEASES)
                .where(LEASES.c.owner == self.instance)
                .values(owner=None, expires_at=0.0)
            )
            s.execute(delete(INSTANCES).where(INSTANCES.c.id == self.instance))

    # --- steps of a renewal (all in the caller's transaction) ---------------------

    def _heartbeat(self, s: Session, now: float) -> None:
        t = INSTANCES.c
        values: dict[str, Any] = {"expires_at": now + self.ttl_s}
        if self.report is not None:
            values["counters"] = self.report()
        # The first write of the transaction: on SQLite it takes the write lock, so
        # whole renewals of different instances never interleave.
        done = s.execute(update(INSTANCES).where(t.id == self.instance).values(**values))
        if cast(Any, done).rowcount == 0:
            s.execute(
                insert(INSTANCES).values(id=self.instance, started_at=self.started_at, **values)
            )
        s.execute(delete(INSTANCES).where(t.expires_at < now - FORGET_INSTANCE_S))

    def _live(self, s: Session, now: float) -> list[str]:
        t = INSTANCES.c
        return sorted(s.execute(select(t.id).where(t.expires_at > now)).scalars())

    def _peer_reports(self, s: Session, now: float) -> tuple[str | None, ...]:
        # Live rows only: a dead instance's counters leave the sum when its row expires.
        t = INSTANCES.c
        return tuple(
            s.execute(
                select(t.counters).where(t.expires_at > now, t.id != self.instance).order_by(t.id)
            ).scalars()
        )

    def _rows(self, s: Session) -> dict[str, _Row]:
        t = LEASES.c
        return {n: _Row(o, e) for n, o, e in s.execute(select(t.name, t.owner, t.expires_at))}

    def _renew_mine(self, s: Session, rows: dict[str, _Row], now: float) -> None:
        # Also a lease of ours that expired while nobody took it: nobody else has
        # handled its cameras since, so it is still safely ours.
        t = LEASES.c
        s.execute(
            update(LEASES).where(t.owner == self.instance).values(expires_at=now + self.ttl_s)
        )
        for row in rows.values():
            if row.owner == self.instance:
                row.expires_at = now + self.ttl_s

    def _free(self, row: _Row, live: list[str], now: float) -> bool:
        return row.owner is None or row.expires_at <= now or row.owner not in live

    def _take(self, s: Session, name: str, row: _Row, now: float) -> bool:
        t = LEASES.c
        owner_was = t.owner.is_(None) if row.owner is None else t.owner == row.owner
        done = s.execute(
            update(LEASES)
            .where(and_(t.name == name, owner_was, t.expires_at == row.expires_at))
            .values(owner=self.instance, expires_at=now + self.ttl_s)
        )
        if cast(Any, done).rowcount != 1:
            return False  # another instance took it first
        row.owner, row.expires_at = self.instance, now + self.ttl_s
        return True

    def _release(self, s: Session, name: str, row: _Row) -> None:
        t = LEASES.c
        s.execute(
            update(LEASES)
            .where(and_(t.name == name, t.owner == self.instance))
            .values(owner=None, expires_at=0.0)
        )
        row.owner, row.expires_at = None, 0.0

    def _leader(self, s: Session, rows: dict[str, _Row], live: list[str], now: float) -> bool:
        row = rows[LEADER]
        if row.owner == self.instance:
            return True
        return self._free(row, live, now) and self._take(s, LEADER, row, now)

    def _balance(
        self, s: Session, rows: dict[str, _Row], wanted: list[str], live: list[str], now: float
    ) -> tuple[list[str], list[str]]:
        if not wanted:
            return [], []
        n_live = max(1, len(live))
        ceiling = math.ceil(len(wanted) / n_live)
        floor = len(wanted) // n_live
        held: dict[str, int] = {i: 0 for i in live}
        free: list[str] = []
        for name in wanted:
            row = rows[name]
            if self._free(row, live, now):
                free.append(name)
            elif row.owner is not None:
                held[row.owner] = held.get(row.owner, 0) + 1
        mine = sorted(n for n in wanted if rows[n].owner == self.instance and n not in free)
        taken: list[str] = []
        for name in free:
            if len(mine) + len(taken) >= ceiling:
                break
            if self._take(s, name, rows[name], now):
                taken.append(name)
        released: list[str] = []
        count = len(mine) + len(taken)
        starving = not free and any(n < floor for i, n in held.items() if i != self.instance)
        give = count - ceiling if count > ceiling else (1 if starving and count > floor else 0)
        # Give back the last ones taken in name order: deterministic, easy to read in logs.
        for name in sorted(mine, reverse=True)[: max(0, give)]:
            self._release(s, name, rows[name])
            released.append(name)
        return taken, released


def _ensure_rows(s: Session, names: list[str]) -> None:
    """A lease row for every name (free), without failing when another instance
    inserts the same row at the same moment."""
    t = LEASES.c
    have = set(s.execute(select(t.name).where(t.name.in_(names))).scalars())
    for name in names:
        if name in have:
            continue
        try:
            with s.begin_nested():  # a savepoint: a concurrent insert undoes only this row
                s.execute(insert(LEASES).values(name=name, owner=None, expires_at=0.0))
        except IntegrityError:  # it exists now, as wanted
            log.debug("lease %s was created by another instance meanwhile", name)
