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
    """What a topic carries, which decides how a token on it is verified.

    The kind names who must sign (``ParsedTopic.issuer``), the payload model
    (``srs.wire.registry``) and whether it is a fresh stream or retained state.
    """

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
    """Whether the broker may keep a retained PUBLISH on ``topic``.

    Only the kinds whose latest value is state (RETAINED_KINDS) and Home Assistant's
    discovery tree: streams, above all detections with their face encodings, are
    never kept by the broker.
    """
    if topic.startswith(HA_PREFIX + "/"):
        return True
    try:
        return parse(topic).kind in RETAINED_KINDS
    except TopicError:
        return False


# --- builders ---------------------------------------------------------------


def detections(camera_id: str) -> str:
    """A camera's DetectionBatch stream to core (QoS 1, never retained).

    Only core may read it: it carries face encodings and face crops.
    """
    return f"{PREFIX}/cameras/{check_id(camera_id, 'camera id')}/detections"


def camera_status(camera_id: str) -> str:
    """A camera's retained CameraStatus, also its last will.

    Re-sent every heartbeat interval: readers mark the camera offline when three
    intervals pass without one, whatever the broker says.
    """
    return f"{PREFIX}/cameras/{check_id(camera_id, 'camera id')}/status"


def ack(camera_id: str) -> str:
    """Core's Acks to one camera, sent after the database commit.

    The acked seqs may leave the camera's outbox; an Ack with ``refused`` names seqs
    core will never store, which the camera stops re-sending.
    """
    return f"{PREFIX}/cameras/{check_id(camera_id, 'camera id')}/ack"


def camera_key(camera_id: str) -> str:
    """Where core vouches for a registered, enabled camera's key (retained, core-signed).

    A reader that trusts core can then verify the camera's own messages (its status)
    without the registry; core clears the topic when the camera is removed or disabled.
    """
    return f"{PREFIX}/cameras/{check_id(camera_id, 'camera id')}/key"


def position(person_key: str) -> str:
    """The retained PersonPosition of one person key (``p3``, ``u7``, ``t-cam-17``).

    Cleared by an empty retained payload when the person is gone, so a new subscriber
    gets the people present, not everyone ever seen.
    """
    return f"{PREFIX}/people/{check_id(person_key, 'person key')}/position"


def sightings() -> str:
    """Core's SightingBatch stream: the sightings of one database commit per message."""
    return f"{PREFIX}/sightings"


def zone_events() -> str:
    """Core's ZoneEvent stream: a person entering or leaving a zone of the site plan."""
    return f"{PREFIX}/events/zone"


def alerts() -> str:
    """Core's Alert stream: security alerts and SRS's own operational trouble."""
    return f"{PREFIX}/events/alert"


def core_status() -> str:
    """Core's retained CoreStatus and last will.

    Its ``sent_at``, republished every heartbeat interval, is the clock cameras measure
    their skew against; a camera re-sends its backlog when core comes back online.
    """
    return f"{PREFIX}/core/status"


def broker_status() -> str:
    """The embedded broker's retained BrokerStatus (drops, queues), read by core only.

    Signed by the broker's own key; Mosquitto publishes nothing here.
    """
    return f"{PREFIX}/broker/status"


def key(sender: str) -> str:
    """A sender's retained, self-signed PublicKey.

    Self-signed proves possession, not identity: pin core's key from its file rather
    than trusting this topic on first use (docs/mqtt.md).
    """
    return f"{PREFIX}/keys/{check_id(sender, 'sender')}"


def site() -> str:
    """Core's retained SitePlan: the floor plan, zones and camera poses it locates with."""
    return f"{PREFIX}/site"


def request(user: str) -> str:
    """An operator's signed Requests to core.

    The broker lets only the user ``user`` publish here: the topic, not the token,
    says who asks (issuer ``operator:{user}``).
    """
    return f"{PREFIX}/operators/{check_id(user, 'user')}/request"


def response(user: str) -> str:
    """Core's Responses to ``user``; only that user may read them (they may hold faces)."""
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
    """A concrete topic of the tree: its kind and the one variable level it names."""

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
        """Whether tokens here must be fresh: an ``exp``, a recent ``iat``, a new ``jti``."""
        return self.kind in FRESH_KINDS


def camera_issuer(camera_id: str) -> str:
    """The signer id of a camera, as in the ``iss`` claim and the key ring."""
    return f"camera:{camera_id}"


def operator_issuer(user: str) -> str:
    """The signer id of an operator's session key, as in ``iss`` and the key ring."""
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
    """Whether ``topic`` matches ``topic_filter`` (``+`` one level, ``#`` the rest).

    For tests and routing; a shared filter (``$share/<group>/...``) matches what its
    inner filter matches.
    """
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
    """A camera publishes only its own detections and status: it speaks for itself."""
    return [f"{PREFIX}/cameras/%u/detections", f"{PREFIX}/cameras/%u/status"]


def acl_camera_subscribe() -> list[str]:
    """A camera reads its own acks and core's status.

    Core's status: a camera re-sends its backlog when core comes back, and measures
    its clock against core's heartbeat (issue 21).
    """
    return [f"{PREFIX}/cameras/%u/ack", CORE_STATUS]


def acl_operator_subscribe() -> list[str]:
    """What an operator's dashboard reads: core's output, cameras' status and keys.

    Never the detections (face encodings); face crops only on its own response topic.
    """
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
    """An operator publishes only on its own request topic (what names the issuer)."""
    return [f"{PREFIX}/operators/%u/request"]


def acl_integrator_subscribe() -> list[str]:
    """What an integrator reads: positions, sightings, events, status, keys, the site.

    Nothing from the cameras, and nothing that carries a face.
    """
    return [ALL_POSITIONS, SIGHTINGS, ALL_EVENTS, CORE_STATUS, ALL_KEYS, SITE]


def acl_core_publish() -> list[str]:
    """Every topic core signs for, and Home Assistant's plain-JSON tree."""
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
    """What core reads: detections, statuses, positions, requests, keys, HA's birth.

    No role publishes BROKER_STATUS: only the broker itself, from inside.
    """
    return [
        ALL_DETECTIONS,
        ALL_CAMERA_STATUS,
        ALL_POSITIONS,
        ALL_REQUESTS,
        ALL_KEYS,
        BROKER_STATUS,
        HA_BIRTH,
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


# Home Assistant's birth topic (its default): ``online`` whenever HA (re)starts. Core
# answers with every tracker's discovery and state, as HA's documentation asks, so
# discovery never depends on retained messages reaching HA's ``homeassistant/#``
# (RabbitMQ's MQTT plugin sends retained messages to exact filters only).
HA_BIRTH = f"{HA_PREFIX}/status"


def ha_availability() -> str:
    """Retained ``online``/``offline``: whether core (hence every SRS tracker) is up."""
    return f"{HA_PREFIX}/srs/availability"


# --- broker ACL: Home Assistant (added by broker/) -------------------------------
# Home Assistant connects as an `integrator`; it reads only the plain-JSON discovery
# tree core publishes (names and zones, nothing the signed positions do not show).


def acl_home_assistant_subscribe() -> list[str]:
    """Home Assistant (an integrator user) reads only the plain-JSON discovery tree."""
    return [HA_ALL]


def acl_home_assistant_publish() -> list[str]:
    """... and announces only its own start (the birth message, plain ``online``)."""
    return [HA_BIRTH]


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
    """The one-time bootstrap user's request topic, where its CreateAdmin goes."""
    return request(BOOTSTRAP_USER)


def bootstrap_response() -> str:
    """Where core answers the bootstrap user's CreateAdmin."""
    return response(BOOTSTRAP_USER)


def acl_bootstrap_publish() -> list[str]:
    """The bootstrap user may publish nothing but its CreateAdmin request."""
    return [bootstrap_request()]


def acl_bootstrap_subscribe() -> list[str]:
    """The bootstrap user may read nothing but core's answer to it."""
    return [bootstrap_response()]
