"""The ingest pipeline: bytes in, the live view, committed sightings and acks out.

Pure: no MQTT here, so it is tested without a broker. A batch of messages goes
through the stages in two calls, so that the live view leaves before the store:

- :meth:`Ingest.locate`: verify (signature, topic, freshness, payload) ->
  de-duplicate by (camera, seq) (core/dedupe.py) -> recognise (core/identify.py:
  one matrix product for every face, each track's evidence, anonymous identities)
  -> locate (core/place.py). Returns a :class:`Located` whose ``live`` (positions,
  zone events, alerts) the caller publishes at once.
- :meth:`Ingest.store`: store (core/writer.py) -> commit, in one transaction.
  Returns the acks and the sightings messages, for after the commit.

:meth:`Ingest.process` runs both (tests, tools). A batch that fails to store leaves
no trace in memory: the tracks' evidence and the anonymous clusters are rolled back
to what they were (new identities allocated in a transaction of their own stay, so
the keys the live view showed stay theirs; provisional ones go), without reloading
the gallery. On a database error (locked, disk full) its messages are held and tried
again every second (core/holding.py), with one operational alert per outage; the
cameras hear why in a refused Ack. With several core instances, a batch whose
camera moved to another instance while it was on its way is not stored either
(``fence``, core/partition.py): rolled back the same way, not acked, logged at info
(a hand-over, not an outage). Authentic messages at the wrong time (a stale
copy, a camera clock that is off) are sorted out by core/clocks.py, not counted as
forgery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core import writer
from core.anonymous import Allocate, Row, insert_identities
from core.clocks import ClockCheck, Late
from core.dedupe import Dedupe
from core.holding import Holding, Item
from core.identify import Recognised, recognise
from core.identity_limit import NewIdentityLimit
from core.keyring import CameraKeyring
from core.leases import LeaseLost
from core.merging import merge_identities
from core.messages import Accepted, BatchResult, Incoming, Outgoing
from core.observation import Locator, NullLocator
from core.place import Placed, place
from core.recognition import DIM, Gallery, UnknownClusters
from core.srs_config import SrsConfig
from core.status import (
    CAMERA_DISABLED,
    CLOCK_AHEAD,
    BurstLog,
    Counters,
    RepeatLog,
)
from core.store.audit import CAMERAS, GALLERY, audit, revisions
from core.store.db import Database
from core.store.models import Person
from core.track_identity import EvidenceRules, TrackBook
from srs.wire import registry, topics
from srs.wire.payloads import Ack, CameraStatus, DetectionBatch
from srs.wire.reading import verifier_for
from srs.wire.signing import Reason, WireError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Located:
    """A batch verified, de-duplicated, recognised and located, not yet stored."""

    new: list[Accepted] = field(default_factory=list)
    recognised: Recognised = field(default_factory=Recognised)
    placed: Placed = field(default_factory=Placed)
    acks: dict[str, list[int]] = field(default_factory=dict)  # duplicates are acked again
    received_at: list[float] = field(default_factory=list)  # of the messages to ack
    verified: int = 0  # messages that passed verification
    now: float = 0.0
    failed: bool = False  # recognising failed: nothing to store, nothing to ack
    held: bool = False  # the store is out and not due a try: all was held
    work: list[Item] = field(default_factory=list)  # what this try stores (held first)
    refused: list[Ack] = field(default_factory=list)  # for the cameras (core/clocks.py)
    alerts: list[Outgoing] = field(default_factory=list)  # the store's outage, its end

    @property
    def live(self) -> list[Outgoing]:
        """Positions, zone events, alerts: for the caller to publish now."""
        return self.placed.live


class Ingest:
    def __init__(
        self,
        db: Database,
        cfg: SrsConfig,
        locator: Locator | None = None,
        *,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.cfg = cfg
        self.locator: Locator = locator or NullLocator()
        self.counters = counters or Counters()
        self.clock = clock
        self.keyring = CameraKeyring()
        self.verifier = verifier_for(cfg.security, self.keyring.lookup, clock=clock)
        self._pending_audit: list[tuple[str, str]] = []
        self.burst = BurstLog(lambda a, d: self._pending_audit.append((a, d)))
        self.gallery = Gallery(np.empty(0), np.empty((0, DIM)))
        self.names: dict[int, str] = {}
        self.clusters = UnknownClusters(cfg.core.unknown_threshold)
        self.tracks = TrackBook(EvidenceRules.from_config(cfg.core))
        self.new_identities = NewIdentityLimit(cfg.core.max_new_identities_per_min)
        self._merged_at = time.monotonic()  # first merge one interval after start
        self._expired_at = time.monotonic()
        self._revs: dict[str, int] | None = None
        self._checked = 0.0
        self._forced = 0.0
        self.camera_states: dict[str, CameraStatus] = {}
        # Sees every verified detection batch (core.flood watches capture rates).
        self.on_verified: Callable[[DetectionBatch], None] | None = None
        self.dedupe = Dedupe(db)
        self.holding = Holding(cfg.core.queue_size)
        self.clocks = ClockCheck(cfg.security.clock_skew_s, self.counters, self._stored_keys)
        self.errors = RepeatLog(log)  # one line per repeating failure, then a summary
        # Hooks for several core instances (core/partition.py, docs/scale.md): how new
        # anonymous identities get their ids, and whether this one merges identities.
        self.allocate: Allocate = self._allocate
        self.merging = True
        # Called in each store transaction with the cameras it writes for: raises
        # LeaseLost when one of them moved to another instance (core/partition.py).
        self.fence: Callable[[Session, set[str]], None] | None = None
        self.refresh(force=True)

    # --- state from the database ------------------------------------------------

    def refresh(
        self, force: bool = False, check_now: bool = False, keep_votes: bool = False
    ) -> None:
        """Reload gallery / cameras if another process (CLI, command) changed them.

        ``check_now`` compares the change counters at once; ``force`` reloads all.
        ``keep_votes``: the change touched only anonymous identities (core's own
        merge), so the tracks' votes for enrolled people stay valid.
        """
        now = time.monotonic()
        if not (force or check_now) and now - self._checked < 0.5:
            return
        self._checked = now
        with self.db.session() as s:
            revs = revisions(s)
            old = self._revs or {}
            if force or revs.get(CAMERAS) != old.get(CAMERAS):
                self.keyring.load(s)
            if force or revs.get(GALLERY) != old.get(GALLERY):
                self.gallery = Gallery.load(s)
                self.names = dict(s.execute(select(Person.id, Person.name)).all())
                self.clusters = UnknownClusters.load(s, self.cfg.core.unknown_threshold)
                changed = revs.get(GALLERY) != old.get(GALLERY) and not keep_votes
                self.tracks.regallery(set(self.clusters.ids), gallery_changed=changed)
                log.info(
                    "gallery: %d encodings of %d people, %d anonymous identities",
                    len(self.gallery),
                    len(self.names),
                    len(self.clusters.ids),
                )
            self._revs = revs

    # --- rejection ---------------------------------------------------------------

    def reject(self, reason: str, sentence: str, where: str) -> None:
        self.counters.reject(reason)
        self.burst.record(reason, sentence, where)

    def _verify(
        self, msg: Incoming, late: list[tuple[Incoming, WireError]]
    ) -> DetectionBatch | None:
        """The message's batch if it is authentic and in time; an authentic one at the
        wrong time goes to ``late`` (core/clocks.py), anything else is rejected."""
        self.counters.add(received=1)
        try:
            parsed = topics.parse(msg.topic)
        except topics.TopicError as exc:
            self.reject(Reason.BAD_TOPIC.value, str(exc), msg.topic[:120])
            return None
        if parsed.kind is not topics.TopicKind.DETECTIONS:
            self.reject(Reason.BAD_TOPIC.value, "not a detections topic", msg.topic)
            return None
        cam = parsed.subject or ""
        if cam not in self.keyring.known and time.monotonic() - self._forced > 1.0:
            self._forced = time.monotonic()  # at most once a second, even under a flood
            self.refresh(check_now=True)  # a camera registered a moment ago
        if self._disabled(cam, msg.topic):
            return None
        try:
            batch = self.verifier.verify(msg.topic, msg.data, DetectionBatch).payload
        except WireError as exc:
            if exc.reason is Reason.REPLAYED and msg.dup:
                self.counters.add(duplicates=1)  # broker redelivery of what we have
            elif exc.signed is not None and isinstance(exc.signed.payload, DetectionBatch):
                late.append((msg, exc))
            else:
                self.reject(exc.reason.value, exc.message, msg.topic)
            return None
        return self._on_its_topic(batch, cam, msg.topic)

    def _on_its_topic(self, batch: DetectionBatch, cam: str, topic: str) -> DetectionBatch | None:
        if batch.camera_id != cam:
            self.reject(
                Reason.INVALID_PAYLOAD.value,
                f"camera_id {batch.camera_id!r} does not match the topic's camera {cam!r}",
                topic,
            )
            return None
        return batch

    def _in_time(
        self, fresh: list[Item], late: list[tuple[Incoming, WireError]], out: Located
    ) -> list[Item]:
        """Of authentic messages, those to store (core/clocks.py sorts out the rest:
        stale copies dropped, clocks ahead or behind refused to their camera)."""
        checked = []
        for msg, exc in late:
            cam = topics.parse(msg.topic).subject or ""
            batch = self._on_its_topic(exc.signed.payload, cam, msg.topic)
            if batch is not None:
                checked.append(Late(batch, exc.signed.issued_at, exc.reason is Reason.FUTURE))
        ok, refused = self.clocks.sort(fresh, checked, self.clock())
        out.refused += refused
        return ok

    def flush_audit(self) -> None:
        """Write rejections noted outside a detection batch (statuses, requests)."""
        self.burst.flush()
        self.errors.flush()
        if not self._pending_audit or self.holding.outage is not None:
            return  # in an outage they wait for the store (bounded: BurstLog)
        with self.db.session() as s:
            for action, detail in self._pending_audit:
                audit(s, "security", "core", action, detail)
        self._pending_audit.clear()

    def _disabled(self, camera_id: str, topic: str) -> bool:
        """Refuse (as ``camera_disabled``, not a security rejection) what a disabled
        camera sends: its outbox drains after the operator switched it off."""
        if camera_id not in self.keyring.known or camera_id in self.keyring.enabled:
            return False
        self.reject(CAMERA_DISABLED, f"camera {camera_id} is disabled", topic)
        return True

    def camera_status(self, msg: Incoming) -> CameraStatus | None:
        try:
            parsed = topics.parse(msg.topic)
        except topics.TopicError:
            parsed = None
        if parsed is not None and self._disabled(parsed.subject or "", msg.topic):
            return None
        try:
            try:
                status = self.verifier.verify(msg.topic, msg.data, CameraStatus).payload
            except WireError as exc:
                if exc.reason is not Reason.FUTURE or exc.signed is None:
                    raise
                # Authentic, from a clock ahead: the camera is alive all the same (its
                # detections are refused with the reason, core/clocks.py).
                self.counters.reject(CLOCK_AHEAD)
                status = exc.signed.payload
            registry.check_subject(topics.parse(msg.topic), status)  # A may not speak for B
        except WireError as exc:
            self.reject(exc.reason.value, exc.message, msg.topic)
            return None
        if not msg.retained:  # a retained status was sent a while ago: no measure of skew
            self.clocks.status(status.camera_id, status.sent_at, self.clock())
        self.camera_states[status.camera_id] = status
        return status

    # --- the pipeline --------------------------------------------------------------

    def process(self, messages: list[Incoming]) -> BatchResult:
        """Every stage in one call; the live view comes first in ``outgoing``."""
        located = self.locate(messages)
        result = self.store(located)
        if result.acks:  # stored: the live view first, as the service publishes it
            result.outgoing[:0] = located.live
        return result

    def locate(self, messages: list[Incoming]) -> Located:
        """Verify, de-duplicate, recognise and locate; nothing is stored yet."""
        out = Located()
        late: list[tuple[Incoming, WireError]] = []
        fresh = [(m, b) for m in messages if (b := self._verify(m, late)) is not None]
        fresh = self._in_time(fresh, late, out)
        out.verified = len(fresh)
        if self.on_verified is not None:
            for _, batch in fresh:
                self.on_verified(batch)
        if not self.holding.due():  # the store is out: hold, try again at its time
            self.holding.hold(fresh)
            out.held = True
            return out
        out.work = self.holding.take(fresh, self.cfg.core.max_batch_messages)
        if not out.work:
            return out
        try:
            self.clusters.begin()
            self.new_identities.begin()
            seen = self.dedupe.stored({(b.camera_id, b.seq) for _, b in out.work})
            for msg, batch in out.work:
                key = (batch.camera_id, batch.seq)
                out.acks.setdefault(batch.camera_id, []).append(batch.seq)
                out.received_at.append(msg.received_at)
                if key in seen:
                    self.counters.add(duplicates=1)
                    continue
                seen.add(key)
                out.new.append(Accepted(batch, msg.received_at))
            out.recognised = recognise(self, out.new, self.allocate)
            out.now = self.clock()
            out.placed = place(out.new, out.recognised, self.locator, out.now)
        except Exception as exc:  # noqa: BLE001 - whatever failed, memory must roll back
            self._not_stored(out, exc)
            return Located(failed=True, refused=out.refused, alerts=out.alerts)
        return out

    def store(self, located: Located) -> BatchResult:
        """Store a located batch in one transaction; the acks and sightings to publish."""
        if located.failed or located.held:
            return BatchResult(outgoing=located.alerts, refused=located.refused)
        sec, broker = self.cfg.security, self.cfg.broker
        try:
            with self.db.session() as s:
                if self.fence is not None and located.new:
                    self.fence(s, {a.batch.camera_id for a in located.new})
                stored = writer.store(
                    s,
                    located.new,
                    located.recognised,
                    located.placed,
                    located.now,
                    min(sec.max_payload_bytes, broker.max_payload_bytes),
                )
                for action, detail in self._pending_audit:
                    audit(s, "security", "core", action, detail)
                self._pending_audit.clear()
        except Exception as exc:  # noqa: BLE001 - whatever failed, memory must roll back
            self._not_stored(located, exc)
            return BatchResult(outgoing=located.alerts, refused=located.refused)
        self.tracks.commit()
        self.clusters.commit()
        # Only a batch that wrote something proves the store works again (an empty
        # transaction succeeds on a full disk too).
        recovered = self.holding.stored() if located.work else None
        if time.monotonic() - self._expired_at >= 1.0:  # a scan of every track: not per batch
            self._expired_at = time.monotonic()
            self.tracks.expire()
        self.dedupe.committed((a.batch.camera_id, a.batch.seq) for a in located.new)
        matched = located.recognised.matched
        unknown = len(located.recognised.identities) - matched
        self.counters.add(
            accepted=len(located.new),
            matched=matched,
            unknown=unknown,
            identities_limited=located.recognised.limited,
        )
        result = BatchResult(located.acks, stored.outgoing, located.received_at, located.refused)
        if recovered is not None:
            result.outgoing.append(Outgoing(topics.alerts(), recovered))
        self.burst.flush()
        # After the batch, not before it: a change counter check is a query and a
        # commit (~1.5 ms, every 0.5 s), and before the batch it delayed every live
        # position of one message in ~25 at 50 messages/s. A gallery edited meanwhile
        # applies from the next batch.
        self.refresh()
        self._merge_identities(result)
        return result

    def _stored_keys(self, keys: set[tuple[str, int]]) -> set[tuple[str, int]]:
        return self.dedupe.stored(keys)

    def _allocate(self, rows: list[Row]) -> list[int]:
        """New anonymous identities, committed at once: the live view names them."""
        with self.db.session() as s:
            return insert_identities(s, rows)

    def _not_stored(self, located: Located, exc: Exception) -> None:
        """A batch was not stored: memory goes back to what the database holds (no
        reload). A database error (locked, full, gone) holds the messages for the
        next try; anything else leaves them to the cameras, which send them again."""
        self.tracks.rollback()
        self.clusters.rollback()
        self.new_identities.rollback()
        self.dedupe.forget()
        if isinstance(exc, LeaseLost):  # a camera moved to another instance meanwhile
            log.info(
                "a batch of %d message(s) not stored: this core instance %s; the cameras "
                "send them again to the instance that holds them now",
                len(located.work),
                exc,
            )
            return
        if not isinstance(exc, OperationalError):
            self.errors(
                f"could not store a batch ({type(exc).__name__})",
                logging.ERROR,
                "could not store a batch of %d message(s); they are not acked and the "
                "cameras will send them again",
                len(located.work),
                exc_info=True,
            )
            return
        self.holding.hold(located.work)
        alert = self.holding.failed(exc)
        if alert is not None:
            located.alerts.append(Outgoing(topics.alerts(), alert))
        by_camera: dict[str, list[int]] = {}
        for _, batch in located.work:
            by_camera.setdefault(batch.camera_id, []).append(batch.seq)
        for cam, seqs in by_camera.items():
            ack = self.clocks.refuse(cam, "store_error", seqs, None)
            if ack is not None:
                located.refused.append(ack)

    def _merge_identities(self, result: BatchResult) -> None:
        """Every ``merge_interval_s`` (core/merging.py); the renamed live view goes out
        with the batch's sightings."""
        core = self.cfg.core
        now = time.monotonic()
        if not self.merging or core.merge_interval_s <= 0:
            return
        if now - self._merged_at < core.merge_interval_s:
            return
        self._merged_at = now
        result.outgoing.extend(merge_identities(self))
