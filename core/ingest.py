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
no trace in memory: the tracks' evidence is rolled back, the anonymous identities
are reloaded from the database (new ones were allocated there in a transaction of
their own, so the keys the live view showed stay theirs), and the cameras re-send.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from core import writer
from core.anonymous import Allocate, Row, insert_identities
from core.dedupe import Dedupe
from core.identify import Recognised, recognise
from core.identity_limit import NewIdentityLimit
from core.keyring import CameraKeyring
from core.merging import merge_identities
from core.messages import Accepted, BatchResult, Incoming, Outgoing
from core.observation import Locator, NullLocator
from core.place import Placed, place
from core.recognition import DIM, Gallery, UnknownClusters
from core.srs_config import SrsConfig
from core.status import CAMERA_DISABLED, STORE_ERROR, BurstLog, Counters
from core.store.audit import CAMERAS, GALLERY, audit, revisions
from core.store.db import Database
from core.store.models import Person
from core.track_identity import EvidenceRules, TrackBook
from srs.wire import registry, topics
from srs.wire.payloads import CameraStatus, DetectionBatch
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
        # Hooks for several core instances (core/partition.py, docs/scale.md): how new
        # anonymous identities get their ids, and whether this one merges identities.
        self.allocate: Allocate = self._allocate
        self.merging = True
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

    def _verify(self, msg: Incoming) -> DetectionBatch | None:
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
            else:
                self.reject(exc.reason.value, exc.message, msg.topic)
            return None
        if batch.camera_id != cam:
            self.reject(
                Reason.INVALID_PAYLOAD.value,
                f"camera_id {batch.camera_id!r} does not match the topic's camera {cam!r}",
                msg.topic,
            )
            return None
        return batch

    def flush_audit(self) -> None:
        """Write rejections noted outside a detection batch (statuses, requests)."""
        self.burst.flush()
        if not self._pending_audit:
            return
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
            status = self.verifier.verify(msg.topic, msg.data, CameraStatus).payload
            registry.check_subject(topics.parse(msg.topic), status)  # A may not speak for B
        except WireError as exc:
            self.reject(exc.reason.value, exc.message, msg.topic)
            return None
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
        fresh = [(m, b) for m in messages if (b := self._verify(m)) is not None]
        out.verified = len(fresh)
        if self.on_verified is not None:
            for _, batch in fresh:
                self.on_verified(batch)
        if not fresh:
            return out
        try:
            seen = self.dedupe.stored({(b.camera_id, b.seq) for _, b in fresh})
            for msg, batch in fresh:
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
        except Exception:
            self._forget(out.verified)
            return Located(failed=True)
        return out

    def store(self, located: Located) -> BatchResult:
        """Store a located batch in one transaction; the acks and sightings to publish."""
        if located.failed:
            return BatchResult()
        sec, broker = self.cfg.security, self.cfg.broker
        try:
            with self.db.session() as s:
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
        except Exception:
            self._forget(located.verified)
            return BatchResult()
        self.tracks.commit()
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
        result = BatchResult(located.acks, stored.outgoing, located.received_at)
        self.burst.flush()
        # After the batch, not before it: a change counter check is a query and a
        # commit (~1.5 ms, every 0.5 s), and before the batch it delayed every live
        # position of one message in ~25 at 50 messages/s. A gallery edited meanwhile
        # applies from the next batch.
        self.refresh()
        self._merge_identities(result)
        return result

    def _allocate(self, rows: list[Row]) -> list[int]:
        """New anonymous identities, committed at once: the live view names them."""
        with self.db.session() as s:
            return insert_identities(s, rows)

    def _forget(self, verified: int) -> None:
        """A batch was not stored: memory goes back to what the database holds."""
        self.tracks.rollback()
        log.exception(
            "could not store a batch of %d message(s); they are not acked "
            "and the cameras will send them again",
            verified,
        )
        for _ in range(verified):
            self.counters.reject(STORE_ERROR)
        self.refresh(force=True)  # anonymous identities may be ahead of the database
        self.dedupe.forget()

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
