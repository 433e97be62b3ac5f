"""Home Assistant MQTT discovery: each person as a ``device_tracker`` whose state is
their zone.

Pure functions returning ``(topic, payload, retain)`` tuples; the core service
publishes them (when enabled) after it publishes the signed position. These
payloads are plain JSON, *not* signed: Home Assistant cannot verify JWS. They
therefore carry only what HA needs (a display name, the zone name, x/y and last
seen), never encodings, images or confidences, and by default only known people
(unknown and unidentified people stay inside the signed SRS topics).

State is sent on change only: a tracker's state is its zone, so a person walking
inside one zone costs Home Assistant nothing (the signed positions carry every
step). Every tracker names one availability topic, ``online`` while core runs.
When Home Assistant says ``online`` on its birth topic (it restarted), core sends
every tracker's discovery and state again: HA finds SRS's people whether or not its
broker hands retained messages to HA's ``homeassistant/#`` subscription.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from srs.wire import topics
from srs.wire.payloads import PersonPosition

Message = tuple[str, bytes, bool]

NOT_HOME = "not_home"  # HA's state for "not in any zone"
ONLINE, OFFLINE = b"online", b"offline"  # payloads of the availability topic (and HA's birth)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def object_id(person_key: str) -> str:
    """HA object id of a person: ``srs_<key>`` with anything HA dislikes as '_'."""
    return "srs_" + _UNSAFE.sub("_", person_key)


def wanted(position: PersonPosition, include_unknown: bool = False) -> bool:
    """Whether this person is exposed to HA at all."""
    return include_unknown or position.identity == "known"


def discovery(position: PersonPosition, *, device_name: str = "SRS") -> Message:
    """Retained discovery config announcing the person's tracker."""
    oid = object_id(position.person_key)
    config = {
        "name": position.label,
        "unique_id": oid,
        "object_id": oid,
        "state_topic": topics.ha_state(oid),
        "availability_topic": topics.ha_availability(),
        "payload_available": ONLINE.decode(),
        "payload_not_available": OFFLINE.decode(),
        "json_attributes_topic": topics.ha_attributes(oid),
        "source_type": "router",
        "icon": "mdi:account",
        "device": {"identifiers": ["srs"], "name": device_name, "manufacturer": "SRS"},
    }
    return topics.ha_discovery(oid), _json(config), True


def state(position: PersonPosition, zone_names: Mapping[str, str]) -> list[Message]:
    """Retained state (zone name, or ``not_home`` when outside every zone or gone)
    and attributes of the person's tracker."""
    oid = object_id(position.person_key)
    zone = None if position.gone or position.zone is None else position.zone
    value = zone_names.get(zone, zone) if zone else NOT_HOME
    attrs = {
        "zone_id": zone,
        "x": round(position.x, 2),
        "y": round(position.y, 2),
        "last_seen": position.last_seen,
        "identity": position.identity,
    }
    return [
        (topics.ha_state(oid), value.encode("utf-8"), True),
        (topics.ha_attributes(oid), _json(attrs), True),
    ]


def messages(
    position: PersonPosition,
    zone_names: Mapping[str, str],
    *,
    announced: set[str],
    last_state: dict[str, bytes] | None = None,
    include_unknown: bool = False,
) -> list[Message]:
    """What to publish for one position update: nothing unless the state changed.

    ``announced`` holds the object ids already announced (discovery is sent once
    per person); ``last_state`` the state last published per object id (None: send
    every update). Both are updated. The attributes go with each state change, so
    their x, y and last seen say where the person was when the zone changed.
    """
    if not wanted(position, include_unknown):
        return []
    oid = object_id(position.person_key)
    out: list[Message] = []
    if oid not in announced:
        out.append(discovery(position))
        announced.add(oid)
    current = state(position, zone_names)
    if last_state is not None:
        if not out and last_state.get(oid) == current[0][1]:
            return []
        last_state[oid] = current[0][1]
    return out + current


def availability(online: bool) -> Message:
    """Retained availability of every SRS tracker (core says offline as it stops)."""
    return topics.ha_availability(), ONLINE if online else OFFLINE, True


def remove(person_key: str) -> list[Message]:
    """Empty retained payloads that delete the tracker from HA (on erasure)."""
    oid = object_id(person_key)
    return [
        (topics.ha_discovery(oid), b"", True),
        (topics.ha_state(oid), b"", True),
        (topics.ha_attributes(oid), b"", True),
    ]


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
