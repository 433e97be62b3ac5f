"""What ingest hands to the locator, and what the locator gives back.

Ingest (core/ingest) recognises each detection and builds an :class:`Observation`;
the locator (site geometry, fusion, zones, alerts) turns a message's observations
into a :class:`LocatorResult`: one :class:`Placement` per observation, stored with
the sighting, plus the live messages core publishes after the database commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from srs.wire.payloads import Alert, BBox, Evidence, IdentityKind, PersonPosition, ZoneEvent

# Two tracks of one camera seen this close in time were seen together (a face missed
# in a frame or two is still there); a track re-found later may be the same person.
TOGETHER_S = 0.2


def known_key(person_id: int) -> str:
    return f"p{person_id}"


def unknown_key(identity_id: int) -> str:
    return f"u{identity_id}"


def unidentified_key(camera_id: str, track_id: int) -> str:
    return f"t-{camera_id}-{track_id}"


@dataclass(frozen=True, slots=True)
class Observation:
    camera_id: str
    track_id: int
    kind: Literal["face", "profile"]
    bbox: BBox
    frame_width: int
    frame_height: int
    seen_at: float
    identity: IdentityKind  # "unidentified": no (or no longer any) evidence of who
    person_key: str | None  # p<id> / u<id>; None when unidentified
    label: str  # "Ada Lovelace", "Unknown 7"
    confidence: float  # 0..1: match closeness, decaying while carried
    sighting_id: int | None = None
    # How the identity was established (core/track_identity.py); the locator only
    # passes these on to the person's position.
    evidence: Evidence | None = None  # None: not told (e.g. a test's observation)
    evidence_age_s: float | None = None
    candidate: str | None = None  # label of the possible person (evidence "possible")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one observation puts its person (None when the camera has no pose)."""

    person_key: str  # may be inherited from the face track it continues
    identity: IdentityKind
    label: str
    x: float | None
    y: float | None
    zone: str | None


@dataclass(slots=True)
class LocatorResult:
    placements: list[Placement] = field(default_factory=list)
    positions: list[PersonPosition] = field(default_factory=list)
    zone_events: list[ZoneEvent] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


class Locator(Protocol):
    def observe(self, observations: list[Observation], now: float) -> LocatorResult: ...


class NullLocator:
    """No site model: every observation is placed nowhere."""

    def observe(self, observations: list[Observation], now: float) -> LocatorResult:
        return LocatorResult(
            placements=[
                Placement(
                    o.person_key or unidentified_key(o.camera_id, o.track_id),
                    o.identity,
                    o.label,
                    None,
                    None,
                    None,
                )
                for o in observations
            ]
        )
