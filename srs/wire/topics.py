"""The SRS topic tree: every topic string is built or matched here, nowhere else.

Layout (version 1)::

    srs/v1/cameras/{camera_id}/detections   camera -> core     stream, QoS 1
    srs/v1/cameras/{camera_id}/status       camera -> all      retained, LWT + heartbeat
    srs/v1/cameras/{camera_id}/ack          core   -> camera   stream, end-to-end acks
    srs/v1/cameras/{camera_id}/key          core   -> operator retained, camera key core vouches for
    srs/v1/people/{person_key}/position     core   -> all      retained latest position
    srs/v1/sightings                        core   -> all      stream
    srs/v1/events/zone                      core   -> all      stream, enter/leave
    srs/v1/events/alert                     core   -> all      stream
    srs/v1/core/status                      core   -> all      retained, LWT + heartbeat
    srs/v1/broker/status                    broker -> core     retained, drops and queues
    srs/v1/keys/{sender}                    anyone -> all      retained public key
    srs/v1/site                             core   -> all      retained floor plan + cameras
    srs/v1/operators/{user}/request         operator -> core   stream, signed commands
    srs/v1/operators/{user}/response        core -> operator   stream
    homeassistant/...                       core -> HA         discovery (see core)

Each topic has a *kind* that says who may sign it (the issuer is derived from the
topic, never from the token) and whether it is a fresh stream (iat window + unique
jti) or retained state (delivered late by design, so only signature, audience,
topic and "not from the future" are checked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

PREFIX = "srs/v1"
CORE_SENDER = "core"
# The embedded broker signs its own status with a key of its own (broker/status.py).
BROKER_SENDER = "broker"

# Ids that appear as one topic level: no wildcards, no separators, bounded. No '.'
# either: RabbitMQ and NATS map MQTT topics onto their own subjects, where '.' is the
# level separator, so `cam.1` would become two levels there (docs/broker.md).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)


class TopicError(ValueError):
    """A topic or id that does not belong to the SRS tree."""


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it can be one topic level, else raise TopicError."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        if isinstance(value, str) and "." in value:
            raise TopicError(
                f"{what} {value!r} contains '.', which clustered MQTT brokers (RabbitMQ, "
                f"NATS) read as a topic separator: use '-' or '_' instead, e.g. "
                f"{value.replace('.', '-')!r}"
            )
        raise TopicError(
            f"{what} {value!r} is not valid: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return value


class TopicKind(StrEnum):
    DETECTIONS = "detections"
    CAMERA_STATUS = "camera_status"
    ACK = "ack"
    CAMERA_KEY = "camera_key"
    POSITION = "position"
    SIGHTINGS = "sightings"
    ZONE_EVENTS = "zone_events"
    ALERTS = "alerts"
    CORE_STATUS = "core_status"
    BROKER_STATUS = "broker_status"
    KEY = "key"
    SITE = "site"
    REQUEST = "request"
    RESPONSE = "response"


# Fresh streams carry a replay-checked jti and an iat inside the skew window.
FRESH_KINDS = frozenset(
    {TopicKind.DETECTIONS, TopicKind.ACK, TopicKind.REQUEST, TopicKind.RESPONSE}
)
RETAINED_KINDS = frozenset(
    {
        TopicKind.CAMERA_STATUS,
        TopicKind.CAMERA_KEY,
        TopicKind.POSITION,
        TopicKind.CORE_STATUS,
        TopicKind.BROKER_STATUS,
        TopicKind.KEY,
        TopicKind.SITE,
    }
)


def may_retain(topic: str) -> bool:
    """Whether a retained PUBLISH on ``topic`` is allowed: the kinds whose latest value
    is state (RETAINED_KINDS) and Home Assistant's discovery tree. Streams, above all
    detections with their face encodings, are never kept by the broker."""
    if topic.startswith(HA_PREFIX + "/"):
        return True
    try:
        return parse(topic).kind in RETAINED_KINDS
    except TopicError:
        return False


# --- builders ---------------------------------------------------------------


def detections(camera_id: str) -> str:
    return f"{PREFIX}/cameras/{check_id(camera_id, 'camera id')}/detections"


def camera_status(camera_id: str) -> str:
    return f"{PREFIX}/cameras/{check_id(camera_id, 'camera id')}/status"


def ack(camera_id: str) -> str:
    return f"{PREFIX}/cameras/{check_id(camera_id, 'camera id')}/ack"


def camera_key(camera_id: str) -> str:
    """Core vouches here for a registered, enabled camera's key (signed by core), so
    readers can verify the camera's own messages (its status) without the registry."""
    return f"{PREFIX}/cameras/{check_id(camera_id, 'camera id')}/key"


def position(person_key: str) -> str:
    return f"{PREFIX}/people/{check_id(person_key, 'person key')}/position"


def sightings() -> str:
    return f"{PREFIX}/sightings"


def zone_events() -> str:
    return f"{PREFIX}/events/zone"


def alerts() -> str:
    return f"{PREFIX}/events/alert"


def core_status() -> str:
    return f"{PREFIX}/core/status"


def broker_status() -> str:
    return f"{PREFIX}/broker/status"


def key(sender: str) -> str:
    return f"{PREFIX}/keys/{check_id(sender, 'sender')}"


def site() -> str:
    return f"{PREFIX}/site"


def request(user: str) -> str:
    return f"{PREFIX}/operators/{check_id(user, 'user')}/request"


def response(user: str) -> str:
    return f"{PREFIX}/operators/{check_id(user, 'user')}/response"


# --- subscription filters ---------------------------------------------------
# Each filter matches exactly the topics of one builder (tests prove it).

ALL_DETECTIONS = f"{PREFIX}/cameras/+/detections"
ALL_CAMERA_STATUS = f"{PREFIX}/cameras/+/status"
ALL_ACKS = f"{PREFIX}/cameras/+/ack"
ALL_CAMERA_KEYS = f"{PREFIX}/cameras/+/key"
ALL_POSITIONS = f"{PREFIX}/people/+/position"
SIGHTINGS = f"{PREFIX}/sightings"
ZONE_EVENTS = f"{PREFIX}/events/zone"
ALERTS = f"{PREFIX}/events/alert"
# Every event kind, present and future (zone, alert...): readers may take them all
# with one subscription (it matches exactly the topics of zone_events and alerts).
ALL_EVENTS = f"{PREFIX}/events/#"
CORE_STATUS = f"{PREFIX}/core/status"
BROKER_STATUS = f"{PREFIX}/broker/status"
ALL_KEYS = f"{PREFIX}/keys/+"
SITE = f"{PREFIX}/site"
ALL_REQUESTS = f"{PREFIX}/operators/+/request"
ALL_RESPONSES = f"{PREFIX}/operators/+/response"
EVERYTHING = f"{PREFIX}/#"


# --- shared subscriptions (MQTT 5) ---------------------------------------------
# ``$share/<group>/<filter>``: the broker hands each matching message to one member
# of the group, not to all (how several core instances can split one stream).
# MQTT 5 only (Mosquitto 2, and many 3.1.1 brokers as an extension; not amqtt 0.12).

SHARE_PREFIX = "$share"


def shared(group: str, topic_filter: str) -> str:
    """The shared form of one of the tree's filters; ``group`` is checked like an id."""
    check_id(group, "share group")
    if topic_filter.startswith(SHARE_PREFIX + "/"):
        raise TopicError(f"filter {topic_filter!r} is shared already")
    if not (topic_filter.startswith(PREFIX + "/") or topic_filter.startswith(HA_PREFIX + "/")):
        raise TopicError(f"filter {topic_filter!r} is not part of the SRS {PREFIX} tree")
    return f"{SHARE_PREFIX}/{group}/{topic_filter}"


def unshared(topic_filter: str) -> str:
    """The filter a shared subscription matches topics with (itself when not shared)."""
    if topic_filter.startswith(SHARE_PREFIX + "/"):
        parts = topic_filter.split("/", 2)
        if len(parts) == 3 and parts[1] and parts[2]:
            return parts[2]
        raise TopicError(f"shared filter {topic_filter!r} needs a group and a filter")
    return topic_filter


# --- parsing -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    kind: TopicKind
    subject: str | None  # camera id, person key, sender or user; None for singletons

    @property
    def issuer(self) -> str:
        """Who must have signed a payload on this topic (never read from the token)."""
        if self.kind in (TopicKind.DETECTIONS, TopicKind.CAMERA_STATUS):
            return camera_issuer(self.subject or "")
        if self.kind is TopicKind.REQUEST:
            return operator_issuer(self.subject or "")
        if self.kind is TopicKind.KEY:
            return self.subject or ""
        if self.kind is TopicKind.BROKER_STATUS:
            return BROKER_SENDER
        return CORE_SENDER

    @property
    def fresh(self) -> bool:
        return self.kind in FRESH_KINDS


def camera_issuer(camera_id: str) -> str:
    """The signer id of a camera, as in the ``iss`` claim and the key ring."""
    return f"camera:{camera_id}"


def operator_issuer(user: str) -> str:
    return f"operator:{user}"


_PATTERNS: tuple[tuple[re.Pattern[str], TopicKind], ...] = tuple(
    (re.compile("^" + re.escape(PREFIX) + pattern + "$"), kind)
    for pattern, kind in (
        (r"/cameras/([^/#+]+)/detections", TopicKind.DETECTIONS),
        (r"/cameras/([^/#+]+)/status", TopicKind.CAMERA_STATUS),
        (r"/cameras/([^/#+]+)/ack", TopicKind.ACK),
        (r"/cameras/([^/#+]+)/key", TopicKind.CAMERA_KEY),
        (r"/people/([^/#+]+)/position", TopicKind.POSITION),
        (r"/sightings()", TopicKind.SIGHTINGS),
        (r"/events/zone()", TopicKind.ZONE_EVENTS),
        (r"/events/alert()", TopicKind.ALERTS),
        (r"/core/status()", TopicKind.CORE_STATUS),
        (r"/broker/status()", TopicKind.BROKER_STATUS),
        (r"/keys/([^/#+]+)", TopicKind.KEY),
        (r"/site()", TopicKind.SITE),
        (r"/operators/([^/#+]+)/request", TopicKind.REQUEST),
        (r"/operators/([^/#+]+)/response", TopicKind.RESPONSE),
    )
)


@lru_cache(maxsize=4096)  # every message in and out parses its topic, often twice
def parse(topic: str) -> ParsedTopic:
    """Classify a concrete topic; raise TopicError for anything outside the tree."""
    for pattern, kind in _PATTERNS:
        m = pattern.match(topic)
        if m:
            subject = m.group(1) or None
            if subject is not None:
                check_id(subject, "topic level")
            return ParsedTopic(kind, subject)
    raise TopicError(f"topic {topic!r} is not part of the SRS {PREFIX} tree")


def matches(topic_filter: str, topic: str) -> bool:
    """MQTT filter semantics (``+`` one level, ``#`` the rest), for tests and routing;
    a shared filter (``$share/<group>/...``) matches what its inner filter matches."""
    f_parts = unshared(topic_filter).split("/")
    t_parts = topic.split("/")
    for i, part in enumerate(f_parts):
        if part == "#":
            return i == len(f_parts) - 1
        if i >= len(t_parts):
            return False
        if part != "+" and part != t_parts[i]:
            return False
    return len(f_parts) == len(t_parts)


# --- broker ACL patterns ------------------------------------------------------
# Used by broker/ for amqtt and the Mosquitto export. "%u" is the connected
# user name (a camera's user name is its camera id; the broker binds client id to
# user name), substituted by SRS's amqtt plugin or by Mosquitto's `pattern`.


def acl_camera_publish() -> list[str]:
    return [f"{PREFIX}/cameras/%u/detections", f"{PREFIX}/cameras/%u/status"]


def acl_camera_subscribe() -> list[str]:
    # Core's status: a camera re-sends its backlog when core comes back, and measures
    # its clock against core's heartbeat (issue 21).
    return [f"{PREFIX}/cameras/%u/ack", CORE_STATUS]


def acl_operator_subscribe() -> list[str]:
    return [
        ALL_POSITIONS,
        SIGHTINGS,
        ALL_EVENTS,
        CORE_STATUS,
        ALL_CAMERA_STATUS,
        ALL_CAMERA_KEYS,
        ALL_KEYS,
        SITE,
        f"{PREFIX}/operators/%u/response",
    ]


def acl_operator_publish() -> list[str]:
    return [f"{PREFIX}/operators/%u/request"]


def acl_integrator_subscribe() -> list[str]:
    return [ALL_POSITIONS, SIGHTINGS, ALL_EVENTS, CORE_STATUS, ALL_KEYS, SITE]


def acl_core_publish() -> list[str]:
    return [
        ALL_ACKS,
        ALL_CAMERA_KEYS,
        ALL_POSITIONS,
        SIGHTINGS,
        ZONE_EVENTS,
        ALERTS,
        CORE_STATUS,
        key(CORE_SENDER),
        SITE,
        ALL_RESPONSES,
        HA_ALL,
    ]


def acl_core_subscribe() -> list[str]:
    # No role publishes BROKER_STATUS: only the broker itself, from inside.
    return [
        ALL_DETECTIONS,
        ALL_CAMERA_STATUS,
        ALL_POSITIONS,
        ALL_REQUESTS,
        ALL_KEYS,
        BROKER_STATUS,
    ]


# --- Home Assistant MQTT discovery (added for core/homeassistant.py) -----------
# Outside the signed SRS tree: Home Assistant cannot verify JWS, so core publishes
# plain JSON here (a zone name per person, never encodings or images).

HA_PREFIX = "homeassistant"
HA_ALL = f"{HA_PREFIX}/#"


def ha_discovery(object_id: str) -> str:
    """Retained discovery config of one SRS person as an HA ``device_tracker``."""
    return f"{HA_PREFIX}/device_tracker/{check_id(object_id, 'object id')}/config"


def ha_state(object_id: str) -> str:
    """Retained state of that tracker: the zone name, or ``not_home``."""
    return f"{HA_PREFIX}/device_tracker/{check_id(object_id, 'object id')}/state"


def ha_attributes(object_id: str) -> str:
    """Retained JSON attributes of that tracker (x, y, zone id, last seen)."""
    return f"{HA_PREFIX}/device_tracker/{check_id(object_id, 'object id')}/attributes"


def ha_availability() -> str:
    """Retained ``online``/``offline``: whether core (hence every SRS tracker) is up."""
    return f"{HA_PREFIX}/srs/availability"


# --- broker ACL: Home Assistant (added by broker/) -------------------------------
# Home Assistant connects as an `integrator`; it reads only the plain-JSON discovery
# tree core publishes (names and zones, nothing the signed positions do not show).


def acl_home_assistant_subscribe() -> list[str]:
    return [HA_ALL]


# --- first administrator (added for the bootstrap flow; see docs/gui.md) ----------
# On a fresh install `srs init` creates the broker user "bootstrap" (role
# "bootstrap") whose password is a one-time code valid 15 minutes. It may only
# publish on its own request topic and read its own response topic: the operator
# topics of the user "bootstrap", so parse() and the issuer rule hold unchanged
# (issuer operator:bootstrap). Core checks the request's signature against the key
# the request itself announces (proof of possession, as RegisterKey) and the code
# against the broker's user store.

BOOTSTRAP_USER = "bootstrap"


def bootstrap_request() -> str:
    return request(BOOTSTRAP_USER)


def bootstrap_response() -> str:
    return response(BOOTSTRAP_USER)


def acl_bootstrap_publish() -> list[str]:
    return [bootstrap_request()]


def acl_bootstrap_subscribe() -> list[str]:
    return [bootstrap_response()]
