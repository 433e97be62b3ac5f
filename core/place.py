"""The locate stage: recognised detections in, placements and the live view out.

No database and no MQTT: the locator (core/locator.py, or any object with
``observe``) turns each message's observations into placements on the floor plan
(stored with the sightings) and the live view (positions, zone events, alerts),
which the service publishes as soon as this stage returns, before the sightings
are written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.identify import Recognised
from core.locating import outgoing
from core.messages import Accepted, Outgoing
from core.observation import (
    Locator,
    LocatorResult,
    NullLocator,
    Observation,
    Placement,
)
from core.status import RepeatLog

log = logging.getLogger(__name__)
_say = RepeatLog(log)  # a locator failing on every batch: one line, then a summary


@dataclass(slots=True)
class Placed:
    """Where each detection was placed (per message, per detection) and the live view."""

    placements: list[list[Placement]] = field(default_factory=list)
    live: list[Outgoing] = field(default_factory=list)


def observations(acc: Accepted, mi: int, recognised: Recognised) -> list[Observation]:
    """What the locator takes of message ``mi`` of the batch: each detection and who."""
    b = acc.batch
    out = []
    for di, det in enumerate(b.detections):
        who = recognised.of(mi, di)
        out.append(
            Observation(
                b.camera_id,
                det.track_id,
                det.kind,
                det.bbox,
                b.frame_width,
                b.frame_height,
                b.captured_at,
                who.kind,
                who.key,
                who.label,
                who.confidence,
                evidence=who.evidence,
                evidence_age_s=who.evidence_age_s,
                candidate=who.candidate,
            )
        )
    return out


def place(new: Sequence[Accepted], recognised: Recognised, locator: Locator, now: float) -> Placed:
    """Locate every message of the batch, in order (the locator keeps state)."""
    out = Placed()
    for mi, acc in enumerate(new):
        res = locate(locator, observations(acc, mi, recognised), now)
        out.placements.append(res.placements)
        out.live.extend(outgoing(res))
    return out


def locate(locator: Locator, obs: list[Observation], now: float) -> LocatorResult:
    """The locator's answer, or (when it fails) every observation without a place."""
    try:
        res = locator.observe(obs, now)
        if len(res.placements) == len(obs):
            return res
        _say(
            "locator returned a wrong number of placements",
            logging.ERROR,
            "locator returned %d placements for %d observations; ignoring them",
            len(res.placements),
            len(obs),
        )
    except Exception:  # noqa: BLE001 - a locator's fault must not lose the sightings
        _say(
            "locator failed",
            logging.ERROR,
            "locator failed; sightings are stored without a position",
            exc_info=True,
        )
    return NullLocator().observe(obs, now)
