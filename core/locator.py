"""The locator: observations in, placements, live positions, zone events and alerts out.

Pure logic, no MQTT and no database: the core service calls :meth:`Locator.observe`
for each accepted detection message, stores each :class:`Placement` with its
sighting, commits, then publishes the result's positions, zone events and alerts
(signed by core). :meth:`Locator.tick` is called periodically (e.g. every second)
for camera-offline alerts and for people who left the cameras' sight.

Identity comes decided: ingest (core/track_identity.py) says who each observation
is and how sure (``evidence``), including the profiles that continue a recognised
face for a bounded time. An observation without a person is an unidentified person
``t-<camera>-<track>`` with a position of its own; when that track is later
recognised the unidentified stand-in is retired (gone). The locator never lends a
track's name on its own.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from core import geometry
from core.alerts import CameraWatch, RejectionWatch, RestrictedStays, unknown_in_restricted
from core.fusion import fuse, view_weight
from core.observation import LocatorResult, Observation, Placement, unidentified_key
from core.site import Site, zone_polygon
from core.zones import ZoneIndex, ZoneShape
from srs.wire.payloads import (
    Alert,
    CameraStatus,
    Evidence,
    IdentityKind,
    PersonPosition,
    ZoneEvent,
)

log = logging.getLogger(__name__)

MAX_KEY = 64  # a person key is one topic level (srs.wire.topics.check_id)
# A new track this close to where a camera lost another one a moment ago is taken
# for the same person (a broken track): it continues their restricted-zone stay.
HANDOFF_M = 1.5
# Several core instances: a person not seen here this long is looked for on the other
# instances' cameras (core/scale_out.py), once a tick; seen there later, they are
# theirs. Short, so the zone here is left within about this of them arriving there;
# not shorter than a moment out of view.
HANDOVER_AFTER_S = 2.0


@dataclass(slots=True)
class _Track:
    person_key: str
    identity: IdentityKind
    label: str
    last_seen: float


@dataclass(slots=True)
class _View:
    estimate: geometry.ViewEstimate
    confidence: float
    seen_at: float


@dataclass(slots=True)
class _Person:
    key: str
    identity: IdentityKind
    label: str
    x: float = 0.0
    y: float = 0.0
    placed: bool = False
    zone: str | None = None
    confidence: float = 0.0
    last_seen: float = 0.0
    cameras: list[str] = field(default_factory=list)
    views: dict[str, _View] = field(default_factory=dict)
    evidence: Evidence | None = None  # of the latest observation
    evidence_age_s: float | None = None
    candidate: str | None = None
    # The zone the position has been in since ``pending_since`` (capture time), not
    # yet long enough to be the person's zone (``zone_dwell_s``); None: nothing pending.
    pending: str | None = None
    pending_since: float | None = None
    # Where the person last was with no zone change pending: while one is, views
    # that disagree are judged against it (see _last_place).
    settled: tuple[float, float] | None = None
    # When this person last left each restricted zone (for _urgent).
    left_restricted: dict[str, float] = field(default_factory=dict)


class Locator:
    """Turns observations into positions; see the module docstring.

    ``window_s``: views of one person from different cameras this close in time are
    fused. ``smoothing``: weight of a new position in the exponential average (1 =
    no smoothing). ``stale_after_s``: a person not seen this long is gone.
    ``zone_margin_m``: zone hysteresis. ``track_ttl_s``: how long a track's stand-in
    is remembered (to retire it when the track is recognised).
    ``stay_grace_s``: an unknown person back in a restricted zone within this long
    (or under a new key of the same track) continues the stay: no second alert.
    ``zone_dwell_s``: a placed person's zone changes only once their position has
    been in the new zone this long (an entry that may raise an alert is at once);
    positions go out at once.
    """

    def __init__(
        self,
        site: Site | None,
        *,
        window_s: float = 1.0,
        smoothing: float = 0.5,
        stale_after_s: float = 30.0,
        zone_margin_m: float = 0.3,
        track_ttl_s: float = 10.0,
        rejection_threshold: int = 20,
        rejection_window_s: float = 60.0,
        rejection_cooldown_s: float = 300.0,
        stay_grace_s: float = 30.0,
        zone_dwell_s: float = 1.0,
    ) -> None:
        if not 0.0 < smoothing <= 1.0:
            raise ValueError(f"smoothing must be in (0, 1], got {smoothing!r}")
        if not 0.0 <= zone_dwell_s < math.inf:
            raise ValueError(f"zone_dwell_s must be finite and >= 0, got {zone_dwell_s!r}")
        self.zone_dwell_s = zone_dwell_s
        self.site = site
        self.window_s = window_s
        self.smoothing = smoothing
        self.stale_after_s = stale_after_s
        self.track_ttl_s = track_ttl_s
        zones = site.plan.zones if site else []
        self._zone_info = {z.zone_id: z for z in zones}
        self._zones = ZoneIndex(
            [ZoneShape(z.zone_id, tuple(zone_polygon(z)), z.restricted) for z in zones],
            margin_m=zone_margin_m,
        )
        self._tracks: dict[tuple[str, int], _Track] = {}
        self._people: dict[str, _Person] = {}
        self._cameras = CameraWatch(tuple(c.camera_id for c in site.plan.cameras) if site else ())
        self._stays = RestrictedStays(stay_grace_s)
        self._rejections = RejectionWatch(
            rejection_threshold, rejection_window_s, rejection_cooldown_s
        )
        # Several core instances (docs/scale.md): {person key: time of their last
        # sighting here} -> of them, those another instance's cameras saw later, with
        # the latest such time. None: the only core.
        self.seen_elsewhere: Callable[[dict[str, float]], dict[str, float]] | None = None

    # --- public API ---------------------------------------------------------------

    def observe(self, observations: list[Observation], now: float) -> LocatorResult:
        """One Placement per observation (in order) plus the live messages they cause."""
        result = LocatorResult()
        moved: dict[str, _Person] = {}
        for obs in observations:
            self._cameras.heard(obs.camera_id, now)
            key, identity, label = self._identify(obs, result)
            pose = self.site.camera(obs.camera_id) if self.site else None
            if pose is None:
                result.placements.append(Placement(key, identity, label, None, None, None))
                continue
            person = self._people.get(key)
            if person is None:
                person = self._people[key] = _Person(key, identity, label)
            person.identity, person.label = identity, label
            person.evidence, person.evidence_age_s = obs.evidence, obs.evidence_age_s
            person.candidate = obs.candidate if obs.evidence == "possible" else None
            est = geometry.estimate(pose, obs.bbox, obs.frame_width, obs.kind)
            person.views[obs.camera_id] = _View(est, obs.confidence, obs.seen_at)
            recent = {
                cam: v
                for cam, v in person.views.items()
                if abs(obs.seen_at - v.seen_at) <= self.window_s
            }
            fused = fuse(
                [(v.estimate, view_weight(v.estimate, v.confidence)) for v in recent.values()],
                near=self._last_place(person, obs.seen_at),
            )
            self._move(person, fused.x, fused.y, obs.seen_at, result)
            person.confidence = max(v.confidence for v in recent.values())
            person.cameras = sorted(recent)
            moved[key] = person
            result.placements.append(
                Placement(key, identity, label, person.x, person.y, person.zone)
            )
        result.positions.extend(_position(p) for p in moved.values() if p.key in self._people)
        return result

    def camera_status(self, status: CameraStatus, now: float) -> list[Alert]:
        return self._cameras.status(status, now)

    def cameras_disabled(self, camera_ids: frozenset[str], now: float) -> None:
        """The cameras switched off now (no offline alert for them)."""
        self._cameras.set_disabled(camera_ids, now)

    def rejections(self, count_in_window: int, now: float) -> list[Alert]:
        return self._rejections.check(count_in_window, now)

    def tick(self, now: float) -> LocatorResult:
        """Camera-offline alerts; people unseen for ``stale_after_s`` become gone."""
        result = LocatorResult(alerts=self._cameras.tick(now))
        self._stays.tick(now)
        for person in list(self._people.values()):
            if person.pending_since is not None:
                # Last placed in a new zone and not seen since: it holds there.
                self._settle(person, person.pending, now, result)
        for key, at in self._seen_elsewhere(now).items():
            # Walked onto another core instance's cameras: that one places them now
            # and publishes their live position (a gone from here would wipe it). They
            # leave their zone here when they were seen there, as with one core.
            self._drop(key, at, result, gone=False)
        stale = [k for k, p in self._people.items() if now - p.last_seen > self.stale_after_s]
        for key in stale:
            self._drop(key, now, result)
        for tk, track in list(self._tracks.items()):
            if now - track.last_seen > self.track_ttl_s:
                del self._tracks[tk]
        return result

    def forget(self, person_key: str, now: float) -> LocatorResult:
        """Drop a person (e.g. erased): a gone position and a zone leave, if any."""
        result = LocatorResult()
        self._drop(person_key, now, result)
        for tk, track in list(self._tracks.items()):
            if track.person_key == person_key:
                del self._tracks[tk]
        return result

    def rename(
        self,
        old_key: str,
        new_key: str,
        label: str,
        now: float,
        identity: IdentityKind = "known",
    ) -> LocatorResult:
        """An operator named or merged ``old_key`` into ``new_key``: republish at once.

        The old key goes (gone position, zone leave); the person continues under the
        new key and label with its position, so subscribers converge without waiting
        for the next sighting. Merging into someone already placed keeps whichever
        was seen last. ``identity``: "unknown" when two anonymous identities merge.
        """
        result = LocatorResult()
        self._stays.carry(old_key, new_key, now)
        for track in self._tracks.values():
            if track.person_key == old_key:
                track.person_key, track.identity, track.label = new_key, identity, label
        person = self._people.get(old_key)
        target = self._people.get(new_key)
        if (
            person is None
            or old_key == new_key
            or (target is not None and target.last_seen >= person.last_seen)
        ):
            if old_key != new_key and person is not None:
                person.label = label
                self._drop(old_key, now, result)
            if target is not None:
                target.identity, target.label = identity, label
                result.positions.append(_position(target))
            return result
        self._drop(new_key, now, result)
        zone = person.zone
        person.label = label  # the old key's leave and gone already carry the new name
        self._drop(old_key, now, result)
        person.key, person.identity, person.label = new_key, identity, label
        self._people[new_key] = person
        if zone is not None:
            self._change_zone(person, zone, now, result)
        result.positions.append(_position(person))
        return result

    def people(self) -> list[PersonPosition]:
        """Current positions of everyone placed (for a fresh retained snapshot)."""
        return [_position(p) for p in self._people.values() if p.placed]

    # --- internals ----------------------------------------------------------------

    def _identify(self, obs: Observation, result: LocatorResult) -> tuple[str, IdentityKind, str]:
        tk = (obs.camera_id, obs.track_id)
        prev = self._tracks.get(tk)
        if prev is not None and obs.seen_at - prev.last_seen > self.track_ttl_s:
            prev = None  # too old: the edge may have reused the track id
        if obs.person_key is not None:
            if prev is not None and prev.person_key != obs.person_key:
                # The same track under a new key: the same person's restricted stay.
                self._stays.carry(prev.person_key, obs.person_key, obs.seen_at)
            if prev is not None and prev.identity == "unidentified":
                # The track we could not name is now recognised: retire the stand-in.
                self._drop(prev.person_key, obs.seen_at, result)
            self._tracks[tk] = _Track(obs.person_key, obs.identity, obs.label, obs.seen_at)
            return obs.person_key, obs.identity, obs.label
        # Nobody (or nobody any more): the track's own stand-in, never a lent name.
        key = _stand_in_key(obs.camera_id, obs.track_id)
        if prev is None or prev.person_key != key:
            if prev is not None:
                self._stays.carry(prev.person_key, key, obs.seen_at)
            prev = self._tracks[tk] = _Track(key, "unidentified", "Unidentified", obs.seen_at)
        prev.last_seen = max(prev.last_seen, obs.seen_at)
        return key, "unidentified", obs.label

    def _last_place(self, person: _Person, at: float) -> tuple[float, float] | None:
        """Where ``person`` was, if placed and not stale: it decides between views
        that disagree (core/fusion.py), so the person stays with the camera that
        has been placing them rather than jumping to another's reading. While a zone
        change is pending, where they last were in their zone: a camera that lost
        them for a moment and sees them again there wins back, and the change that
        only its absence caused is dropped."""
        if not person.placed or at - person.last_seen > self.stale_after_s:
            return None
        if person.pending_since is not None and person.settled is not None:
            return person.settled
        return person.x, person.y

    def _move(self, person: _Person, x: float, y: float, at: float, result: LocatorResult) -> None:
        fresh = not person.placed or at - person.last_seen > self.stale_after_s
        a = 1.0 if fresh else self.smoothing
        person.x += a * (x - person.x)
        person.y += a * (y - person.y)
        person.placed = True
        person.last_seen = max(person.last_seen, at)
        zone = self._zones.update(person.zone, person.x, person.y)
        self._settle(person, zone, at, result, at_once=fresh)

    def _settle(
        self,
        person: _Person,
        zone: str | None,
        at: float,
        result: LocatorResult,
        *,
        at_once: bool = False,
    ) -> None:
        """Dwell: ``zone`` (where the position is now) becomes the person's zone once
        the position has stayed in it for ``zone_dwell_s``. Two cameras that place one
        person on either side of a door, or a range estimate jittering across it,
        then give no stream of leave/enter pairs. ``at_once``: a person just placed
        (nothing to dither from). The events carry the time the position first got
        there."""
        if zone == person.zone:
            person.pending = person.pending_since = None
            person.settled = (person.x, person.y)
            return
        if person.pending_since is None or person.pending != zone:
            person.pending, person.pending_since = zone, at
        if at_once or self._urgent(person, zone) or at - person.pending_since >= self.zone_dwell_s:
            since = person.pending_since
            person.pending = person.pending_since = None
            person.settled = (person.x, person.y)
            self._change_zone(person, zone, since, result)

    def _urgent(self, person: _Person, zone: str | None) -> bool:
        """Whether entering ``zone`` may raise an alert, so it must not wait: a
        restricted zone entered by someone not known, who did not leave it within
        ``stay_grace_s`` (then it is the same stay, no alert, and the dwell applies).
        Not waiting also means a stranger whose rough position flickers in and out
        of the zone in stints shorter than the dwell is not missed."""
        shape = self._zones.get(zone)
        if shape is None or not shape.restricted or person.identity == "known":
            return False
        left = person.left_restricted.get(shape.zone_id)
        return left is None or person.last_seen - left > self._stays.grace_s

    def _change_zone(
        self, person: _Person, zone: str | None, at: float, result: LocatorResult
    ) -> None:
        if person.zone is not None:
            event = self._event(person, person.zone, "leave", at)
            result.zone_events.append(event)
            self._stays.leave(person.key, person.zone, at)
            if event.restricted:
                person.left_restricted[person.zone] = at
        person.zone = zone
        if zone is None:
            return
        event = self._event(person, zone, "enter", at)
        result.zone_events.append(event)
        if event.restricted and person.identity != "known":
            predecessor = self._broken_track(person, zone, at)
            if predecessor is not None:
                self._stays.carry(predecessor, person.key, at)
        new_stay = self._stays.enter(person.key, zone, at) if event.restricted else False
        if new_stay and person.identity != "known":
            name = self._zone_info[zone].name
            log.warning("%s (%s) entered restricted zone %s", person.label, person.key, zone)
            result.alerts.append(unknown_in_restricted(person.key, person.label, zone, name, at))

    def _broken_track(self, person: _Person, zone: str, at: float) -> str | None:
        """Someone not known in ``zone`` whom a camera that now sees ``person`` lost
        a moment ago (unseen for more than a frame window, less than a track's
        lifetime), within HANDOFF_M of where they were: the edge's tracker broke one
        person's track in two, so the new key continues their stay. Two people seen
        together are two stays."""
        for other in self._people.values():
            if (
                other.key != person.key
                and other.zone == zone
                and other.identity != "known"
                and self.window_s < at - other.last_seen <= self.track_ttl_s
                and other.views.keys() & person.views.keys()
                and math.hypot(other.x - person.x, other.y - person.y) <= HANDOFF_M
            ):
                return other.key
        return None

    def _event(
        self, person: _Person, zone: str, action: Literal["enter", "leave"], at: float
    ) -> ZoneEvent:
        info = self._zone_info.get(zone)
        return ZoneEvent(
            person_key=person.key,
            identity=person.identity,
            label=person.label,
            zone=zone,
            action=action,
            at=at,
            restricted=bool(info and info.restricted),
        )

    def _seen_elsewhere(self, now: float) -> dict[str, float]:
        """The people not seen here for ``HANDOVER_AFTER_S`` (a known or anonymous
        identity: a track's stand-in is one camera's) whom another instance saw since:
        by key, when. Asked at most once a tick, in one lookup."""
        if self.seen_elsewhere is None:
            return {}
        absent = {
            k: p.last_seen
            for k, p in self._people.items()
            if now - p.last_seen > HANDOVER_AFTER_S and p.identity != "unidentified"
        }
        return self.seen_elsewhere(absent) if absent else {}

    def _drop(self, key: str, at: float, result: LocatorResult, gone: bool = True) -> None:
        person = self._people.pop(key, None)
        if person is None:
            return
        if person.zone is not None:
            result.zone_events.append(self._event(person, person.zone, "leave", at))
            self._stays.leave(person.key, person.zone, at)
            person.zone = None
        if person.placed and gone:
            result.positions.append(_position(person, gone=True))


def _stand_in_key(camera_id: str, track_id: int) -> str:
    """``t-<camera>-<track>``, hashed when a long camera id would overflow a topic id."""
    key = unidentified_key(camera_id, track_id)
    if len(key) <= MAX_KEY:
        return key
    digest = hashlib.sha256(camera_id.encode()).hexdigest()[:16]
    return unidentified_key(digest, track_id)


def _position(p: _Person, gone: bool = False) -> PersonPosition:
    # Validated like every payload: pydantic-core does it in ~8 µs, less than
    # model_construct's Python (~11 µs), and a non-finite x or y fails here, where the
    # service reports it as a locator error, not at a receiver.
    return PersonPosition(
        person_key=p.key,
        identity=p.identity,
        label=p.label,
        x=p.x,
        y=p.y,
        zone=p.zone,
        confidence=min(max(p.confidence, 0.0), 1.0),
        last_seen=p.last_seen,
        cameras=p.cameras,
        gone=gone,
        evidence=p.evidence,
        evidence_age_s=p.evidence_age_s,
        candidate=p.candidate,
    )
