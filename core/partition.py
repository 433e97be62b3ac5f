"""Which cameras this core instance handles, when several run (docs/scale.md).

A *partition* is a group of cameras one instance handles whole: the cameras on the
site plan within ``fusion_distance_m`` of each other (transitively) are one, since
the locator fuses their views of one person and keeps that person's zone and
restricted-zone state; a camera not on the plan is one by itself. Per-camera order
and track state then live in one process by construction.

:class:`Partitioner` renews the leases (core/leases.py) every ``lease_renew_s`` and
says which detection topics to subscribe to and drop, and whether this instance is
the leader. It handles a camera only while its lease is surely its own: until half
the TTL after the last renewal that succeeded (a stalled database or a paused
process stops handling before any other instance may take over).
"""

from __future__ import annotations

import logging
import math
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.config import CoreConfig
from core.leases import LEADER, Holding, LeaseBook, LeaseLost
from core.site import Site
from core.store.db import Database
from srs.wire import topics

log = logging.getLogger(__name__)
# A worker that has not come back between batches for this long is stuck (a table
# locked for minutes, say): its leases are no longer extended, so they expire and
# its cameras move to an instance that works.
STUCK_S = 30.0
SINGLE = "core"  # the default instance id: one core, no leases, as before


def instance_id(configured: str) -> str:
    """``[core] instance``, with "auto" made into ``<hostname>-<pid>``."""
    if configured != "auto":
        return configured
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:32].strip("-.") or "host"
    return f"{host}-{os.getpid()}"


def client_id(instance: str, username: str | None = None) -> str:
    """The MQTT client id of an instance: ``<user>:<instance>`` (the embedded broker
    lets a user connect as ``user`` or ``user:<suffix>``), user ``core`` by default."""
    if instance == SINGLE:
        return SINGLE
    return f"{username or topics.CORE_SENDER}:{instance}"


def partitions(
    cameras: Iterable[str], site: Site | None, fusion_distance_m: float
) -> dict[str, str]:
    """Camera id -> partition name (the smallest camera id of its group)."""
    cams = sorted(set(cameras))
    placed = [c for c in cams if site is not None and site.camera(c) is not None]
    parent = {c: c for c in placed}

    def root(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            pa, pb = (site.camera(a), site.camera(b)) if site is not None else (None, None)
            assert pa is not None and pb is not None
            if fusion_distance_m <= 0 or math.hypot(pa.x - pb.x, pa.y - pb.y) <= fusion_distance_m:
                ra, rb = root(a), root(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)  # the smallest id names the group
    out = {c: c for c in cams}
    out.update({c: root(c) for c in placed})
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """What a renewal changed: topics to subscribe to and to drop, leadership."""

    subscribe: tuple[str, ...] = ()
    unsubscribe: tuple[str, ...] = ()
    leader: bool = False
    leader_changed: bool = False


class Partitioner:
    def __init__(
        self,
        db: Database,
        cfg: CoreConfig,
        site: Site | None,
        *,
        instance: str,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg, self.site = cfg, site
        self.instance = instance
        self.book = LeaseBook(db, instance, cfg.lease_ttl_s, clock)
        self._monotonic = monotonic
        self.cameras: frozenset[str] = frozenset()  # held, by the last renewal
        self.leader = False
        self.live: tuple[str, ...] = (instance,)
        self._valid_until = 0.0
        self._next = 0.0
        self._partitions: frozenset[str] = frozenset()  # lease names behind ``cameras``
        self._lease_of: dict[str, str] = {}  # held camera -> its partition's lease name
        self._worked_at = monotonic()
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    def start_keeper(self) -> None:
        """Extend the leases from a thread of their own, every ``lease_renew_s``: a batch
        that takes longer than the TTL (a loaded machine, a slow commit) must not lose
        this instance its cameras while the worker is still making progress."""
        self._keeper = threading.Thread(target=self._keep, name="core-leases", daemon=True)
        self._keeper.start()

    def worked(self) -> None:
        """The worker came back between batches (called every loop)."""
        self._worked_at = self._monotonic()

    def _keep(self) -> None:
        while not self._stop.wait(self.cfg.lease_renew_s):
            if self._monotonic() - self._worked_at > STUCK_S:
                continue  # stuck: let the leases run out
            started = self._monotonic()
            try:
                still = self.book.extend()
            except Exception:
                log.exception("could not extend core's leases")
                continue
            if self._partitions <= still:  # nothing taken from us meanwhile
                self._valid_until = max(self._valid_until, started + self.cfg.lease_ttl_s / 2)

    def due(self) -> bool:
        return self._monotonic() >= self._next

    def holds(self, camera_id: str) -> bool:
        """Handle this camera's messages now? (Held, and the lease surely still ours.)"""
        return camera_id in self.cameras and self._monotonic() < self._valid_until

    def fence(self, s: Session, cameras: Iterable[str]) -> None:
        """In a store transaction: raise :class:`LeaseLost` unless the leases of these
        cameras are still this instance's (core/leases.py ``confirm``). ``holds`` was
        checked when the batch arrived; this closes the gap of a batch stalled since
        (a slow commit, a paused process) whose cameras moved meanwhile."""
        lease_of = self._lease_of
        missing = sorted(c for c in set(cameras) if c not in lease_of)
        if missing:
            raise LeaseLost(f"no longer holds camera(s) {', '.join(missing)}")
        self.book.confirm(s, {lease_of[c] for c in cameras})

    def is_leader(self) -> bool:
        return self.leader and self._monotonic() < self._valid_until

    def renew(self, cameras: Iterable[str]) -> Change:
        """Renew the leases for the registered ``cameras``; what to (un)subscribe."""
        started = self._monotonic()
        self._next = started + self.cfg.lease_renew_s
        mapping = partitions(cameras, self.site, self.cfg.fusion_distance_m)
        try:
            held = self.book.renew(mapping.values())
        except Exception:
            log.exception(
                "could not renew core's leases; retrying in %.1f s", self.cfg.lease_renew_s
            )
            return self._expire_if_stale()
        self._valid_until = started + self.cfg.lease_ttl_s / 2
        return self._apply(held, mapping)

    def _expire_if_stale(self) -> Change:
        if self._monotonic() < self._valid_until or not (self.cameras or self.leader):
            return Change(leader=self.leader)
        log.warning("core's leases lapsed: handling no camera until they are renewed")
        return self._apply(Holding(), {})

    def _apply(self, held: Holding, mapping: dict[str, str]) -> Change:
        cameras = frozenset(c for c, p in mapping.items() if p in held.partitions)
        gained, lost = cameras - self.cameras, self.cameras - cameras
        changed = held.leader != self.leader
        if gained or lost or changed or held.live != self.live:
            log.info(
                "core instance %s: %d camera(s) in %d partition(s)%s, %d instance(s) live%s",
                self.instance,
                len(cameras),
                len(held.partitions),
                ", leader" if held.leader else "",
                len(held.live),
                f" (+{','.join(sorted(gained))} -{','.join(sorted(lost))})"
                if gained or lost
                else "",
            )
        self.cameras, self.leader, self.live = cameras, held.leader, held.live or self.live
        self._lease_of = {c: mapping[c] for c in cameras}
        self._partitions = held.partitions | ({LEADER} if held.leader else frozenset())
        return Change(
            tuple(topics.detections(c) for c in sorted(gained)),
            tuple(topics.detections(c) for c in sorted(lost)),
            held.leader,
            changed,
        )

    def subscriptions(self) -> list[str]:
        """Every topic this instance should hold now (after a (re)connect)."""
        out = [topics.detections(c) for c in sorted(self.cameras)]
        return out + (leader_topics() if self.leader else [])

    def leave(self) -> None:
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(10)
        try:
            self.book.leave()
        except Exception:
            log.exception(
                "could not give up core's leases; they expire in %.0f s", self.cfg.lease_ttl_s
            )
        self.cameras, self.leader, self._lease_of = frozenset(), False, {}


def leader_topics() -> list[str]:
    """What only the leader reads: camera statuses (camera-offline alerts) and
    operator requests (each answered once)."""
    return [topics.ALL_CAMERA_STATUS, topics.ALL_REQUESTS]
