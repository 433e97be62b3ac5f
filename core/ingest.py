"""The ingest pipeline: bytes in, committed sightings and messages to publish out.

Pure: no MQTT here, so it is tested without a broker. Per batch of messages:
verify (signature, topic, freshness, payload) -> de-duplicate by (camera, seq) ->
recognise every face of the batch in one matrix product -> group the unnamed into
anonymous identities -> locate -> store -> commit. Only then does the caller ack.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from pydantic import BaseModel
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from core.keyring import CameraKeyring
from core.observation import LocatorResult, Observation, Placement
from core.recognition import DIM, Gallery, UnknownClusters
from core.srs_config import SrsConfig
from core.status import BurstLog, Counters
from core.store.audit import CAMERAS, GALLERY, audit, revisions
from core.store.db import Database
from core.store.models import Person, ProcessedMessage
from core.writer import Accepted, write_batch
from srs.wire import topics
from srs.wire.payloads import CameraStatus, DetectionBatch
from srs.wire.signing import Reason, Verifier, WireError

log = logging.getLogger(__name__)
STORE_ERROR = "store_error"


class Locator(Protocol):
    def observe(self, observations: list[Observation], now: float) -> LocatorResult: ...


class NullLocator:
    """No site model: every observation is placed nowhere."""

    def observe(self, observations: list[Observation], now: float) -> LocatorResult:
        return LocatorResult(
            placements=[
                Placement(
                    o.person_key or f"t-{o.camera_id}-{o.track_id}",
                    o.identity,
                    o.label,
                    None,
                    None,
                    None,
                )
                for o in observations
            ]
        )


@dataclass(frozen=True, slots=True)
class Incoming:
    topic: str
    data: bytes
    dup: bool = False
    received_at: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    payload: BaseModel
    retain: bool = False


@dataclass(slots=True)
class BatchResult:
    acks: dict[str, list[int]] = field(default_factory=dict)
    outgoing: list[Outgoing] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)  # of the acked messages


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
        sec = cfg.security
        self.verifier = Verifier(
            self.keyring.lookup,
            audience=sec.audience,
            clock_skew_s=sec.clock_skew_s,
            max_age_s=sec.max_message_age_s,
            max_bytes=sec.max_payload_bytes,
            clock=clock,
        )
        self._pending_audit: list[tuple[str, str]] = []
        self.burst = BurstLog(lambda a, d: self._pending_audit.append((a, d)))
        self.gallery = Gallery(np.empty(0), np.empty((0, DIM)))
        self.names: dict[int, str] = {}
        self.clusters = UnknownClusters(cfg.core.unknown_threshold)
        self._revs: dict[str, int] | None = None
        self._checked = 0.0
        self._forced = 0.0
        self.camera_states: dict[str, CameraStatus] = {}
        # Publishes the live view (positions, zone events, alerts) of a batch before
        # its commit; None: they are returned in BatchResult.outgoing with the rest.
        self.on_live: Callable[[list[Outgoing]], None] | None = None
        # Sees every verified detection batch (core.flood watches capture rates).
        self.on_verified: Callable[[DetectionBatch], None] | None = None
        # Highest sequence number stored per camera (single writer: this service).
        self._top_seq: dict[str, int] = {}
        self.refresh(force=True)

    # --- state from the database ------------------------------------------------

    def refresh(self, force: bool = False, check_now: bool = False) -> None:
        """Reload gallery / cameras if another process (CLI, command) changed them.

        ``check_now`` compares the change counters at once; ``force`` reloads all.
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
        if cam in self.keyring.known and cam not in self.keyring.enabled:
            self.reject(Reason.UNKNOWN_SENDER.value, f"camera {cam} is disabled", msg.topic)
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

    def camera_status(self, msg: Incoming) -> CameraStatus | None:
        try:
            status = self.verifier.verify(msg.topic, msg.data, CameraStatus).payload
        except WireError as exc:
            self.reject(exc.reason.value, exc.message, msg.topic)
            return None
        self.camera_states[status.camera_id] = status
        return status

    # --- the pipeline --------------------------------------------------------------

    def process(self, messages: list[Incoming]) -> BatchResult:
        result = BatchResult()
        fresh: list[tuple[Incoming, DetectionBatch]] = []
        for msg in messages:
            batch = self._verify(msg)
            if batch is not None:
                fresh.append((msg, batch))
                if self.on_verified is not None:
                    self.on_verified(batch)
        try:
            self._store(fresh, result)
        except Exception:
            log.exception(
                "could not store a batch of %d message(s); they are not acked "
                "and the cameras will send them again",
                len(fresh),
            )
            for _ in fresh:
                self.counters.reject(STORE_ERROR)
            self.refresh(force=True)  # in-memory identities may be ahead of the database
            self._top_seq.clear()
            return BatchResult()
        self.burst.flush()
        # After the batch, not before it: a change counter check is a query and a
        # commit (~1.5 ms, every 0.5 s), and before the batch it delayed every live
        # position of one message in ~25 at 50 messages/s. A gallery edited meanwhile
        # applies from the next batch.
        self.refresh()
        return result

    def _store(self, fresh: list[tuple[Incoming, DetectionBatch]], result: BatchResult) -> None:
        with self.db.session() as s:
            seen = self._already_stored(s, {(b.camera_id, b.seq) for _, b in fresh})
            new: list[Accepted] = []
            for msg, batch in fresh:
                key = (batch.camera_id, batch.seq)
                result.acks.setdefault(batch.camera_id, []).append(batch.seq)
                result.received_at.append(msg.received_at)
                if key in seen:
                    self.counters.add(duplicates=1)
                    continue
                seen.add(key)
                new.append(Accepted(batch, msg.received_at))
            stats = write_batch(s, self, new, result.outgoing)
            for action, detail in self._pending_audit:
                audit(s, "security", "core", action, detail)
            self._pending_audit.clear()
        for acc in new:  # committed: these sequence numbers are now stored
            cam = acc.batch.camera_id
            self._top_seq[cam] = max(self._top_seq[cam], acc.batch.seq)
        self.counters.add(accepted=len(new), **stats)

    def _already_stored(self, s: Session, keys: set[tuple[str, int]]) -> set[tuple[str, int]]:
        """Which (camera, seq) keys the store already holds.

        Cameras number their messages upwards, so nearly every message is above the
        highest sequence stored for its camera and needs no query; only re-sends and
        out-of-order messages are looked up (by the unique key).
        """
        for cam in {c for c, _ in keys} - self._top_seq.keys():
            top = s.scalar(
                select(func.max(ProcessedMessage.seq)).where(ProcessedMessage.camera_id == cam)
            )
            self._top_seq[cam] = -1 if top is None else top
        doubtful = {(c, n) for c, n in keys if n <= self._top_seq[c]}
        if not doubtful:
            return set()
        pair = tuple_(ProcessedMessage.camera_id, ProcessedMessage.seq)
        return {
            (c, n)
            for c, n in s.execute(
                select(ProcessedMessage.camera_id, ProcessedMessage.seq).where(pair.in_(doubtful))
            )
        }
