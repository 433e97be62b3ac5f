"""The ingest pipeline: bytes in, committed sightings and messages to publish out.

Pure: no MQTT here, so it is tested without a broker. Per batch of messages:
verify (signature, topic, freshness, payload) -> de-duplicate by (camera, seq) ->
recognise every face of the batch in one matrix product -> weigh the evidence of
each track (core/track_identity.py) -> group the unnamed tracks into anonymous
identities (core/anonymous.py) -> locate -> store -> commit. Only then does the
caller ack. A batch that fails to commit leaves no trace in memory: the tracks'
evidence is rolled back and the anonymous identities reloaded from the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from core.keyring import CameraKeyring
from core.messages import Accepted, BatchResult, Incoming, Outgoing
from core.observation import Locator, NullLocator
from core.recognition import DIM, Gallery, UnknownClusters
from core.srs_config import SrsConfig
from core.status import CAMERA_DISABLED, STORE_ERROR, BurstLog, Counters
from core.store.audit import CAMERAS, GALLERY, audit, revisions
from core.store.db import Database
from core.store.identities import merge_close_identities
from core.store.models import Person, ProcessedMessage
from core.track_identity import EvidenceRules, TrackBook
from core.writer import write_batch
from srs.wire import registry, topics
from srs.wire.payloads import CameraStatus, DetectionBatch
from srs.wire.reading import verifier_for
from srs.wire.signing import Reason, WireError

log = logging.getLogger(__name__)


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
        self._merged_at = time.monotonic()  # first merge one interval after start
        self._expired_at = time.monotonic()
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
            self.tracks.rollback()
            log.exception(
                "could not store a batch of %d message(s); they are not acked "
                "and the cameras will send them again",
                len(fresh),
            )
            for _ in fresh:
                self.counters.reject(STORE_ERROR)
            self.refresh(force=True)  # anonymous identities may be ahead of the database
            self._top_seq.clear()
            return BatchResult()
        self.burst.flush()
        # After the batch, not before it: a change counter check is a query and a
        # commit (~1.5 ms, every 0.5 s), and before the batch it delayed every live
        # position of one message in ~25 at 50 messages/s. A gallery edited meanwhile
        # applies from the next batch.
        self.refresh()
        self._merge_identities(result)
        return result

    def _merge_identities(self, result: BatchResult) -> None:
        """Every ``merge_interval_s``: anonymous identities that turned out to be one
        person (core.store.identities.merge_close_identities) become one, and the live
        view republishes the merged key at once."""
        core = self.cfg.core
        now = time.monotonic()
        if core.merge_interval_s <= 0 or now - self._merged_at < core.merge_interval_s:
            return
        self._merged_at = now
        try:
            with self.db.session() as s:
                merged = merge_close_identities(
                    s,
                    core.merge_distance,
                    core.walking_speed_mps,
                    core.travel_slack_m,
                    # identities seen lately: only their centroids can have moved
                    seen_since=self.clock() - 2 * core.merge_interval_s - 60.0,
                )
        except Exception:
            log.exception("merging close anonymous identities failed; next time, then")
            return
        if not merged:
            return
        log.info(
            "merged anonymous identities: %s",
            ", ".join(f"{m.old_key} into {m.new_key}" for m in merged),
        )
        # Tracks holding a merged identity continue as the identity it merged into.
        self.tracks.remap_unknown({int(m.old_key[1:]): int(m.new_key[1:]) for m in merged})
        self.refresh(force=True, keep_votes=True)
        rename = getattr(self.locator, "rename", None)
        if rename is None:
            return
        from core.locating import outgoing

        for m in merged:
            try:  # the batch is committed: nothing here may cost it its acks
                res = rename(m.old_key, m.new_key, m.label, self.clock(), m.identity)
            except Exception:
                log.exception(
                    "the locator could not rename %s; it shows on the next sighting", m.old_key
                )
                continue
            result.outgoing.extend(outgoing(res))

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
        self.tracks.commit()
        if time.monotonic() - self._expired_at >= 1.0:  # a scan of every track: not per batch
            self._expired_at = time.monotonic()
            self.tracks.expire()
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
