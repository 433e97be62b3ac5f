"""The hooks the core service calls when it is one of several instances (docs/scale.md).

``ScaleOut.create`` returns None for the single instance (``[core] instance =
"core"``, the default): the service then runs exactly as it always did. Otherwise
it binds the partitioner (core/partition.py) and the shared anonymous identities
(core/shared_unknowns.py) to the service's ingest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.exc import SQLAlchemyError

from core.anonymous import Travel
from core.ingest import Ingest
from core.messages import Incoming, Outgoing
from core.observation import Locator
from core.partition import SINGLE, Change, Partitioner, instance_id, leader_topics
from core.shared_counters import read_snapshots
from core.shared_unknowns import SharedUnknowns
from core.srs_config import SrsConfig
from core.store.db import Database
from core.store.models import Sighting
from srs.wire import topics
from srs.wire.payloads import Alert

log = logging.getLogger(__name__)
SIGHTINGS = cast(Table, Sighting.__table__)
_KEY = re.compile(r"([pu])([0-9]+)")  # core/observation.py: known_key, unknown_key


class ScaleOut:
    def __init__(self, cfg: SrsConfig, db: Database, ingest: Ingest, instance: str) -> None:
        self.instance = instance
        self.ingest = ingest
        site = getattr(ingest.locator, "site", None)  # the real locator's site plan
        self.partitioner = Partitioner(db, cfg.core, site, instance=instance)
        core = cfg.core
        self.unknowns = SharedUnknowns(
            db, lambda: ingest.clusters, Travel(core.walking_speed_mps, core.travel_slack_m)
        )
        ingest.allocate = self.unknowns.allocate
        ingest.merging = False  # the leader merges (one merge, not one per instance)
        # Every heartbeat carries this instance's counters; the leader's status sums them.
        self.partitioner.book.report = lambda: ingest.counters.snapshot().model_dump_json()
        # A batch stores only while its cameras' leases are still this instance's.
        ingest.fence = self.partitioner.fence
        locator: Any = ingest.locator
        # How a database wait runs (the service lends it the broker connection meanwhile).
        self.lend: Callable[..., Any] = lambda fn, *args: fn(*args)
        if hasattr(locator, "seen_elsewhere"):  # the real locator (core/locator.py)
            locator.seen_elsewhere = lambda since: self.lend(
                seen_elsewhere, db, since, self.partitioner.cameras
            )
        self.dropped = 0  # detections read for a camera this instance no longer holds

    @classmethod
    def create(
        cls, cfg: SrsConfig, db: Database, ingest: Ingest, locator: Locator
    ) -> ScaleOut | None:
        instance = instance_id(cfg.core.instance)
        return None if instance == SINGLE else cls(cfg, db, ingest, instance)

    def due(self) -> bool:
        self.partitioner.worked()  # asked once per loop of the worker
        return self.partitioner.due()

    def start(self) -> None:
        self.partitioner.start_keeper()

    def renew(self) -> Change:
        change = self.partitioner.renew(self.ingest.keyring.known)
        self.ingest.merging = change.leader
        if change.subscribe:
            # A camera that comes (back) here may have had seqs stored by another
            # instance meanwhile: ask the store, not this process's memory.
            self.ingest.dedupe.forget()
        if self.unknowns.sync():
            log.debug("took in or re-read anonymous identities of other core instances")
        self.ingest.counters.set_peers(read_snapshots(self.partitioner.book.peer_reports))
        return change

    def subscriptions(self) -> list[tuple[str, int]]:
        return [(t, 1) for t in self.partitioner.subscriptions()]

    def leader_topics(self) -> list[str]:
        return leader_topics()

    def mine(self, detections: list[Incoming]) -> list[Incoming]:
        """The detections of cameras this instance holds now. The others were read
        before a camera moved (or from a lapsed lease): not handled, not acked; the
        camera sends them again and the instance that holds it now stores them."""
        out = []
        for item in detections:
            try:
                cam = topics.parse(item.topic).subject or ""
            except topics.TopicError:
                out.append(item)  # rejected by the ingest as usual
                continue
            if self.partitioner.holds(cam):
                out.append(item)
            else:
                self.dropped += 1
        return out

    def once(self) -> bool:
        """Run the once-only duties (status, keys, retention, requests, offline alerts)?"""
        return self.partitioner.is_leader()

    def alone(self) -> bool:
        return self.partitioner.live in ((), (self.instance,))

    def local_only(self, out: list[Outgoing]) -> list[Outgoing]:
        """A non-leader's locator tick without the camera-offline alerts: the leader
        reads every camera's status and raises them once."""
        if self.once():
            return out
        return [
            o
            for o in out
            if not (isinstance(o.payload, Alert) and o.payload.kind == "camera_offline")
        ]

    def leave(self) -> None:
        self.partitioner.leave()


def seen_elsewhere(db: Database, since: dict[str, float], mine: Iterable[str]) -> dict[str, float]:
    """Of these person keys (``p<id>``, ``u<id>``), those another instance stored a
    sighting of after the time given for each (their last sighting here): the latest
    such time, by key. Only other cameras than ``mine`` count, so a sighting this
    instance stored itself (a camera without a pose, a track named later) never
    looks like one from elsewhere. Two grouped, indexed queries, whatever the number
    of keys. On a database error: none (the person stays here until stale, then goes,
    as with one core)."""
    ids: dict[str, dict[int, str]] = {"p": {}, "u": {}}
    for key in since:
        m = _KEY.fullmatch(key)
        if m is not None:
            ids[m.group(1)][int(m.group(2))] = key
    c = SIGHTINGS.c
    out: dict[str, float] = {}
    try:
        with db.session() as s:
            for kind, column in (("p", c.person_id), ("u", c.unknown_id)):
                keys = ids[kind]
                if not keys:
                    continue
                rows = s.execute(
                    select(column, func.max(c.seen_at))
                    .where(
                        column.in_(list(keys)),
                        c.seen_at > min(since[k] for k in keys.values()),
                        c.camera_id.not_in(sorted(mine)),
                    )
                    .group_by(column)
                )
                for ident, latest in rows:
                    key = keys[int(ident)]
                    if latest is not None and latest > since[key]:
                        out[key] = float(latest)
    except SQLAlchemyError:
        log.warning("could not ask whether %s were seen elsewhere", ", ".join(since), exc_info=True)
        return {}
    return out
