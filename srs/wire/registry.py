"""Which payload model a topic carries: the one topic-kind -> model map of SRS.

Every reader looks its model up here (the dashboard's inbox, core, the edge's acks,
the live view, the bench tools), so a kind cannot mean one model to a sender and
another to a reader, and a new kind is added in one place. The AsyncAPI document
(srs/wire/asyncapi.py) describes the same pairs; a test holds the two together.

The one topic with two payloads is the bootstrap user's request topic: it carries a
:class:`~srs.wire.commands.CreateAdmin`, every other operator's a
:class:`~srs.wire.commands.Request`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel

from srs.wire import commands, payloads, site, topics
from srs.wire.errors import Reason, WireError
from srs.wire.topics import ParsedTopic, TopicKind

MODELS: Mapping[TopicKind, type[BaseModel]] = MappingProxyType(
    {
        TopicKind.DETECTIONS: payloads.DetectionBatch,
        TopicKind.CAMERA_STATUS: payloads.CameraStatus,
        TopicKind.ACK: payloads.Ack,
        TopicKind.CAMERA_KEY: payloads.PublicKey,
        TopicKind.POSITION: payloads.PersonPosition,
        TopicKind.SIGHTINGS: payloads.SightingBatch,
        TopicKind.ZONE_EVENTS: payloads.ZoneEvent,
        TopicKind.ALERTS: payloads.Alert,
        TopicKind.CORE_STATUS: payloads.CoreStatus,
        TopicKind.BROKER_STATUS: payloads.BrokerStatus,
        TopicKind.KEY: payloads.PublicKey,
        TopicKind.SITE: site.SitePlan,
        TopicKind.REQUEST: commands.Request,
        TopicKind.RESPONSE: commands.Response,
    }
)


def model_of(parsed: ParsedTopic) -> type[BaseModel]:
    """The payload model of a parsed SRS topic."""
    if parsed.kind is TopicKind.REQUEST and parsed.subject == topics.BOOTSTRAP_USER:
        return commands.CreateAdmin
    return MODELS[parsed.kind]


def model_for(topic: str) -> type[BaseModel]:
    """The payload model of ``topic``; WireError (BAD_TOPIC) outside the SRS tree."""
    try:
        parsed = topics.parse(topic)
    except topics.TopicError as exc:
        raise WireError(Reason.BAD_TOPIC, str(exc)) from None
    return model_of(parsed)


def check_subject(parsed: ParsedTopic, payload: BaseModel) -> None:
    """Refuse a verified payload that speaks of another camera than its topic's.

    The signature proves who sent a message (the topic's sender), not that its
    ``camera_id`` is that sender's: camera A's status naming camera B would mark B
    online or offline. Raises WireError (WRONG_TOPIC).
    """
    if not isinstance(payload, payloads.DetectionBatch | payloads.CameraStatus | payloads.Ack):
        return
    if payload.camera_id != parsed.subject:
        raise WireError(
            Reason.WRONG_TOPIC,
            f"{type(payload).__name__} of camera {payload.camera_id!r} arrived on the "
            f"topic of {parsed.subject!r}",
        )
