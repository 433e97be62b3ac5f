"""Payload models: every value checks itself where it enters.

All models forbid unknown fields, reject NaN/Infinity, bound every list and string,
and carry ``schema_version`` so a reader can refuse what it does not understand.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from srs.wire.topics import ID_PATTERN

SCHEMA_VERSION: Literal[1] = 1
ENCODING_SIZE = 128
MAX_DETECTIONS = 32
MAX_SIGHTINGS = 256  # per SightingBatch; core also keeps each message under the size limit
MAX_SNAPSHOT_B64 = 48 * 1024
# A face crop (about 112 px square JPEG) rides on a detection that carries an encoding.
MAX_FACE_B64 = 6 * 1024
MAX_FACES_PER_BATCH = 4  # keeps a batch with crops well under the 64 KiB payload limit

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


def _no_dot(value: object) -> object:
    """A sentence for the one mistake the pattern's message would not explain."""
    if isinstance(value, str) and "." in value:
        raise ValueError(
            "'.' is not allowed in an id: clustered MQTT brokers (RabbitMQ, NATS) read it "
            "as a topic separator; use '-' or '_'"
        )
    return value


# One topic level (srs.wire.topics.ID_PATTERN: no '.', which clustered brokers split on).
Id = Annotated[str, Field(pattern=ID_PATTERN), BeforeValidator(_no_dot)]
Label = Annotated[str, Field(min_length=1, max_length=128)]
Timestamp = Annotated[float, Field(allow_inf_nan=False, ge=0, le=4.0e9)]  # epoch seconds
Count = Annotated[int, Field(ge=0, le=2**53)]
GateReason = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,31}$")]
Encoding = Annotated[list[FiniteFloat], Field(min_length=ENCODING_SIZE, max_length=ENCODING_SIZE)]


class Payload(BaseModel):
    """Base of every payload: strict shape, a schema version."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    schema_version: Literal[1] = SCHEMA_VERSION


class BBox(BaseModel):
    """A box in frame pixels: left, top, width, height."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    x: Annotated[int, Field(ge=0, le=16384)]
    y: Annotated[int, Field(ge=0, le=16384)]
    w: Annotated[int, Field(gt=0, le=16384)]
    h: Annotated[int, Field(gt=0, le=16384)]


class Detection(BaseModel):
    """One face or profile a camera's tracker follows, in one frame.

    ``track_id`` ties the detections of one continuous track together across frames
    (core lends a track's identity to its encoding-less frames); ``encoding`` is the
    128-d dlib face encoding, sent for frontal faces only and not on every frame.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    kind: Literal["face", "profile"]
    bbox: BBox
    track_id: Annotated[int, Field(ge=0, le=2**31)]
    score: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
    encoding: Encoding | None = None
    # Quality (0..1: sharpness x frontality x size, edge/quality.py) of the face the
    # encoding was computed from; sent with the encoding, for weighing it.
    quality: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    # Optional: the best face of this track so far, a small square JPEG (base64), for
    # operators to recognise the person by; only with an encoding. Core keeps a few
    # per identity and never forwards them to integrators (docs/mqtt.md).
    face_jpeg_b64: Annotated[str, Field(min_length=4, max_length=MAX_FACE_B64)] | None = None

    @model_validator(mode="after")
    def _profiles_have_no_encoding(self) -> Detection:
        if self.kind == "profile" and self.encoding is not None:
            raise ValueError("a profile detection carries no encoding")
        if self.face_jpeg_b64 is not None and self.encoding is None:
            raise ValueError("a face crop comes only with an encoding")
        return self


class DetectionBatch(Payload):
    """One analysed frame of one camera (topic: cameras/{id}/detections)."""

    camera_id: Id
    seq: Annotated[int, Field(ge=0, le=2**53)]
    captured_at: Timestamp
    frame_width: Annotated[int, Field(gt=0, le=16384)]
    frame_height: Annotated[int, Field(gt=0, le=16384)]
    detections: Annotated[list[Detection], Field(max_length=MAX_DETECTIONS)]
    snapshot_jpeg_b64: Annotated[str, Field(max_length=MAX_SNAPSHOT_B64)] | None = None

    @model_validator(mode="after")
    def _few_face_crops(self) -> DetectionBatch:
        if sum(d.face_jpeg_b64 is not None for d in self.detections) > MAX_FACES_PER_BATCH:
            raise ValueError(f"at most {MAX_FACES_PER_BATCH} face crops per batch")
        return self


# Why core did not store a camera's messages (issue 21): the camera's clock is too far
# from core's, or core cannot write its database. Neither is a security event.
RefusalReason = Literal["clock_behind", "clock_ahead", "store_error"]


class Refusal(BaseModel):
    """Why the seqs of an Ack were *not* stored, so the node can say so and act."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    reason: RefusalReason
    message: Annotated[str, Field(min_length=1, max_length=256)]
    # The camera's clock minus core's, in seconds, when core could measure it.
    clock_offset_s: Annotated[float, Field(ge=-4.0e9, le=4.0e9, allow_inf_nan=False)] | None = None


class Ack(Payload):
    """End-to-end acknowledgement from core after the database commit.

    With ``refused`` set, the same message says the opposite: these seqs were not
    stored, and why (optional, issue 21; absent from older cores).
    """

    camera_id: Id
    seqs: Annotated[
        list[Annotated[int, Field(ge=0, le=2**53)]], Field(min_length=1, max_length=1024)
    ]
    refused: Refusal | None = None


class CameraStatus(Payload):
    """Retained camera state; ``online`` messages double as the heartbeat."""

    camera_id: Id
    state: Literal["online", "offline"]
    sent_at: Timestamp
    heartbeat_interval_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 10.0
    version: Annotated[str, Field(max_length=32)] = ""
    fps: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = 0.0
    frames_analysed: Count = 0
    frames_skipped: Count = 0
    frames_dropped: Count = 0
    outbox_depth: Count = 0
    outbox_dropped: Count = 0  # dropped by the outbox's bounds, never stored
    encoder_backlog: Count = 0
    encoder_restarts: Count = 0  # encoder pools replaced because a worker died
    source_ok: bool = True
    message: Annotated[str, Field(max_length=256)] = ""
    # Faces the quality gate refused to encode since the node started, by reason
    # ("small", "blur", "pose"; a newer node may add reasons).
    gated: Annotated[dict[GateReason, Count], Field(max_length=16)] = Field(default_factory=dict)
    # Optional (issue 21; absent from older nodes): messages given up because core
    # refused them for good (made while the clock was fine, out of time anyway);
    # seconds nothing was acknowledged while messages waited (only past the node's
    # not_heard_after_s); the node's clock minus core's, measured from core's live
    # status heartbeat (core refuses everything beyond the allowed clock skew).
    outbox_refused: Count = 0
    unacked_s: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = None
    clock_offset_s: Annotated[float, Field(ge=-4.0e9, le=4.0e9, allow_inf_nan=False)] | None = None


IdentityKind = Literal["known", "unknown", "unidentified"]
# How a position's or sighting's identity was established (docs/mqtt.md, "Evidence"):
# "matched": by this person's encodings now; "carried": lent from the same continuous
# track's last supporting encoding, ``evidence_age_s`` ago; "possible": one weak match
# only (not named: ``candidate`` says whom it resembles); "unidentified": no evidence.
Evidence = Literal["matched", "carried", "possible", "unidentified"]
EvidenceAge = Annotated[float, Field(ge=0, le=86400, allow_inf_nan=False)]


class PersonPosition(Payload):
    """Retained latest position of one person (known, unknown or unidentified)."""

    person_key: Id
    identity: IdentityKind
    label: Label
    x: FiniteFloat
    y: FiniteFloat
    zone: Annotated[str, Field(max_length=64)] | None = None
    confidence: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    last_seen: Timestamp
    cameras: Annotated[list[Id], Field(max_length=64)]
    gone: bool = False  # True on erasure or when the person has not been seen for long
    # Optional (absent from cores before issue 15): how the identity was established.
    evidence: Evidence | None = None
    evidence_age_s: EvidenceAge | None = None
    candidate: Label | None = None  # only with evidence "possible"


class Sighting(Payload):
    """One person seen by one camera at one moment, as core stored it.

    ``sighting_id`` is the database row (unique, never reused: the key to
    de-duplicate by); ``distance`` is the face match's distance (lower is closer);
    ``x``/``y``/``zone`` are on the site plan when core could locate the person.
    """

    person_key: Id
    identity: IdentityKind
    label: Label
    camera_id: Id
    seen_at: Timestamp
    sighting_id: Annotated[int, Field(ge=0)] | None = None
    distance: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None = None
    x: FiniteFloat | None = None
    y: FiniteFloat | None = None
    zone: Annotated[str, Field(max_length=64)] | None = None
    # Optional (absent from cores before issue 15): how the identity was established.
    evidence: Evidence | None = None
    evidence_age_s: EvidenceAge | None = None
    candidate: Label | None = None  # only with evidence "possible"
    confidence: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None


class SightingBatch(Payload):
    """The sightings core stored in one commit, in storing order (topic: sightings).

    A commit with more than MAX_SIGHTINGS sightings, or more than fit in one message
    under the payload size limit, is sent as several batches.
    """

    sightings: Annotated[list[Sighting], Field(min_length=1, max_length=MAX_SIGHTINGS)]


class ZoneEvent(Payload):
    """A person entered or left a zone of the site plan, at ``at``.

    ``restricted`` repeats the zone's flag, so a reader need not keep the site plan
    to know whether the entry matters.
    """

    person_key: Id
    identity: IdentityKind
    label: Label
    zone: Annotated[str, Field(min_length=1, max_length=64)]
    action: Literal["enter", "leave"]
    at: Timestamp
    restricted: bool = False


# "security": someone may be where they should not, or sending what they should not;
# "operational": SRS itself is in trouble (a camera offline, the database). Absent
# from cores before issue 21 (a reader then goes by the kind).
AlertCategory = Literal["security", "operational"]


class Alert(Payload):
    """Something an operator should look at: a security event or SRS in trouble.

    ``alert_id`` identifies the alert (de-duplicate by it); ``category`` says whether
    it is about people or about SRS itself (absent from older cores: go by ``kind``).
    """

    alert_id: Annotated[str, Field(min_length=1, max_length=64)]
    # "store_error" (issue 21): core cannot write its database, or can again (info).
    kind: Literal[
        "unknown_in_restricted", "camera_offline", "rejection_burst", "camera_flood", "store_error"
    ]
    severity: Literal["info", "warning", "critical"]
    message: Annotated[str, Field(min_length=1, max_length=512)]
    at: Timestamp
    person_key: Id | None = None
    camera_id: Id | None = None
    zone: Annotated[str, Field(max_length=64)] | None = None
    category: AlertCategory | None = None


class CoreStatus(Payload):
    """Core's retained state and heartbeat, with its counters since it started.

    ``sent_at`` is core's clock: cameras measure their skew against it. ``rejected``
    counts refused messages by reason (the security reasons of the verifier, and
    ``camera_disabled``, ``stale``, ``clock_ahead``, ``clock_behind``).
    """

    state: Literal["online", "offline"]
    sent_at: Timestamp
    heartbeat_interval_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 10.0
    version: Annotated[str, Field(max_length=32)] = ""
    received: Count = 0
    accepted: Count = 0
    duplicates: Count = 0
    rejected: Annotated[dict[str, Count], Field(max_length=32)] = Field(default_factory=dict)
    matched: Count = 0
    unknown: Count = 0
    # Optional (issue 17; absent from older cores): new faces core left unidentified
    # because their camera created new anonymous identities faster than allowed.
    identities_limited: Count = 0
    latency_p50_ms: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    latency_p99_ms: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    # Optional (issue 17; absent from older cores): what the embedded broker dropped or
    # refused since it started, copied from its signed BrokerStatus (core/broker_status.py),
    # and when the broker sent those counts. None/0 where no broker status was
    # verified (Mosquitto and NATS publish none; core without the broker's key).
    broker_status_at: Timestamp | None = None
    broker_oversize_dropped: Count = 0
    broker_retain_refused: Count = 0
    broker_queue_dropped: Count = 0
    broker_queue_dropped_bytes: Count = 0
    broker_publishes_slowed: Count = 0
    broker_connections_refused: Count = 0


class BrokerStatus(Payload):
    """The embedded broker's counters (broker/status.py), published when they change.

    Signed by the broker's own key and retained. Every counter is optional (0), so a
    counter added later leaves older readers valid. Mosquitto publishes no such thing.
    """

    sent_at: Timestamp
    # Since the broker started: what it refused or dropped...
    oversize_dropped: Count = 0  # publishes over max_payload_bytes, acknowledged, dropped
    retain_refused: Count = 0  # retained publishes on stream topics (detections...)
    queue_dropped: Count = 0  # oldest queued messages dropped: a session over its bound
    queue_dropped_bytes: Count = 0
    # ...what it slowed (a camera over camera_rate, by not reading its socket)...
    publishes_slowed: Count = 0
    connections_refused: Count = 0
    # ...and what it holds now, over every session.
    clients_connected: Count = 0
    queued: Count = 0
    inflight: Count = 0
    queued_bytes: Count = 0
    # Drops by client id (the sessions that lost messages), at most 64 named.
    queue_dropped_by_client: Annotated[dict[Id, Count], Field(max_length=64)] = Field(
        default_factory=dict
    )


# BrokerStatus's counters (every field but its time and the named drops), and those an
# operator acts on (what the broker dropped, refused or slowed), which CoreStatus
# carries as ``broker_<name>``; derived, so a counter added to both models is in both.
BROKER_COUNTERS = tuple(
    n
    for n in BrokerStatus.model_fields
    if n not in Payload.model_fields and n not in {"sent_at", "queue_dropped_by_client"}
)
BROKER_COUNTS = tuple(n for n in BROKER_COUNTERS if f"broker_{n}" in CoreStatus.model_fields)


class PublicKey(Payload):
    """A sender's Ed25519 public key (raw 32 bytes, base64url), published retained."""

    sender: Annotated[str, Field(min_length=1, max_length=80)]
    algorithm: Literal["EdDSA"] = "EdDSA"
    public_key: Annotated[str, Field(min_length=43, max_length=44)]
