"""The wire contract as an AsyncAPI 3.0 document, generated from its own code.

    python -m srs.wire.asyncapi > docs/asyncapi.json      # regenerate after a change

Every channel comes from a topic builder of ``srs.wire.topics`` (its address is the
builder called with ``{parameter}`` placeholders), every payload schema from the
pydantic model the receivers validate with, and every example is validated by that
model while the document is built. tests/srs/wire/test_asyncapi.py fails when the
committed document differs from what this module generates, or when a topic kind
or builder has no channel here.

An SRS message is a compact JWS (``application/jwt``); the schemas describe its
claims, with the payload model under ``data`` (docs/mqtt.md says how to verify).
Home Assistant's discovery topics are plain JSON (Home Assistant cannot verify JWS).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from srs.wire import commands, payloads, site, topics
from srs.wire.topics import TopicKind

NOW = 1764061200.125
# A real Ed25519 public key (of the private key 32 bytes of 0x01), for the examples.
EXAMPLE_KEY = "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w"


@dataclass(frozen=True)
class Channel:
    """One topic family of the document: its builder, payload, sender and readers."""

    name: str
    builder: Callable[..., str]
    params: dict[str, str]  # builder argument -> description
    model: type[BaseModel] | None
    sender: str
    retained: bool
    readers: str
    summary: str
    example: dict[str, Any] | None
    kind: TopicKind | None = None
    # Another payload on the same topics: (model, example, summary).
    also: tuple[tuple[type[BaseModel], dict[str, Any], str], ...] = ()


def _sighting(**extra: Any) -> dict[str, Any]:
    return {
        "person_key": "p3",
        "identity": "known",
        "label": "Ada Lovelace",
        "camera_id": "corridor",
        "seen_at": NOW,
        "sighting_id": 4811,
        "distance": 0.41,
        "x": 12.5,
        "y": 3.2,
        "zone": "corridor",
        **extra,
    }


CAM = {"camera_id": "camera id (1-64 letters, digits, '_', '-'); the camera's user name"}
USER = {"user": "the operator's broker user name"}

CHANNELS: tuple[Channel, ...] = (
    Channel(
        "cameraDetections",
        topics.detections,
        CAM,
        payloads.DetectionBatch,
        "camera:{camera_id}",
        False,
        "core only (face encodings)",
        "One analysed frame's faces and profiles, QoS 1, until core acks it.",
        {
            "camera_id": "corridor",
            "seq": 812,
            "captured_at": NOW,
            "frame_width": 640,
            "frame_height": 480,
            "detections": [
                {
                    "kind": "profile",
                    "bbox": {"x": 210, "y": 96, "w": 64, "h": 64},
                    "track_id": 17,
                    "score": 3.0,
                }
            ],
        },
        TopicKind.DETECTIONS,
    ),
    Channel(
        "cameraStatus",
        topics.camera_status,
        CAM,
        payloads.CameraStatus,
        "camera:{camera_id}",
        True,
        "core, operator, admin",
        "Heartbeat and last will of a camera node.",
        {"camera_id": "corridor", "state": "online", "sent_at": NOW, "fps": 4.8},
        TopicKind.CAMERA_STATUS,
    ),
    Channel(
        "cameraAck",
        topics.ack,
        CAM,
        payloads.Ack,
        "core",
        False,
        "that camera",
        "Sequence numbers core has stored: the camera drops them from its outbox.",
        {"camera_id": "corridor", "seqs": [810, 811, 812]},
        TopicKind.ACK,
    ),
    Channel(
        "cameraKey",
        topics.camera_key,
        CAM,
        payloads.PublicKey,
        "core",
        True,
        "operator, admin",
        "The key of a registered, enabled camera, vouched for by core (cleared when "
        "the camera is removed, disabled or revoked).",
        {"sender": "camera:corridor", "public_key": EXAMPLE_KEY},
        TopicKind.CAMERA_KEY,
    ),
    Channel(
        "personPosition",
        topics.position,
        {"person_key": "p<id> (enrolled), u<id> (anonymous) or t-<camera>-<track>"},
        payloads.PersonPosition,
        "core",
        True,
        "core, operator, integrator, admin",
        "Where a person is now; an empty retained payload clears a person who is gone.",
        {
            "person_key": "p3",
            "identity": "known",
            "label": "Ada Lovelace",
            "x": 12.5,
            "y": 3.2,
            "zone": "corridor",
            "confidence": 0.82,
            "last_seen": NOW,
            "cameras": ["corridor"],
        },
        TopicKind.POSITION,
    ),
    Channel(
        "sightings",
        topics.sightings,
        {},
        payloads.SightingBatch,
        "core",
        False,
        "operator, integrator, admin",
        "Every sighting of one database commit, as a list (1-256 items).",
        {"sightings": [_sighting()]},
        TopicKind.SIGHTINGS,
    ),
    Channel(
        "zoneEvents",
        topics.zone_events,
        {},
        payloads.ZoneEvent,
        "core",
        False,
        "operator, integrator, admin (also through srs/v1/events/#)",
        "A person entered or left a zone.",
        {
            "person_key": "u7",
            "identity": "unknown",
            "label": "Unknown 7",
            "zone": "server-room",
            "action": "enter",
            "at": NOW,
            "restricted": True,
        },
        TopicKind.ZONE_EVENTS,
    ),
    Channel(
        "alerts",
        topics.alerts,
        {},
        payloads.Alert,
        "core",
        False,
        "operator, integrator, admin (also through srs/v1/events/#)",
        "Something needs a person's attention.",
        {
            "alert_id": "a-118",
            "kind": "unknown_in_restricted",
            "severity": "critical",
            "message": "Unknown 7 entered the restricted zone server-room",
            "at": NOW,
            "person_key": "u7",
            "zone": "server-room",
        },
        TopicKind.ALERTS,
    ),
    Channel(
        "coreStatus",
        topics.core_status,
        {},
        payloads.CoreStatus,
        "core",
        True,
        "operator, integrator, admin",
        "Core's heartbeat, counters and last will.",
        {"state": "online", "sent_at": NOW, "received": 1200, "accepted": 1190},
        TopicKind.CORE_STATUS,
    ),
    Channel(
        "brokerStatus",
        topics.broker_status,
        {},
        payloads.BrokerStatus,
        "broker",
        True,
        "core",
        "The embedded broker's counters: what it dropped (oversize, over a session's "
        "queue bound) or refused, and what its sessions hold; published when they change. "
        "Signed by the broker's own key (keys/broker.key.pub in its data dir). Mosquitto "
        "does not publish it.",
        {
            "sent_at": NOW,
            "oversize_dropped": 1,
            "queue_dropped": 1200,
            "queue_dropped_bytes": 2436000,
            "clients_connected": 4,
            "queue_dropped_by_client": {"core": 1200},
        },
        TopicKind.BROKER_STATUS,
    ),
    Channel(
        "publicKey",
        topics.key,
        {"sender": "the signer: core, camera:<id> or operator:<user>"},
        payloads.PublicKey,
        "{sender}",
        True,
        "everyone",
        "A sender's Ed25519 public key (base64url, 32 bytes).",
        {"sender": "core", "public_key": EXAMPLE_KEY},
        TopicKind.KEY,
    ),
    Channel(
        "site",
        topics.site,
        {},
        site.SitePlan,
        "core",
        True,
        "operator, integrator, admin",
        "The floor plan, zones and camera poses core locates people with (metres).",
        {
            "name": "Ground floor",
            "width_m": 30.0,
            "height_m": 12.0,
            "zones": [
                {
                    "zone_id": "server-room",
                    "name": "Server room",
                    "polygon": [{"x": 0, "y": 0}, {"x": 5, "y": 0}, {"x": 5, "y": 4}],
                    "restricted": True,
                }
            ],
        },
        TopicKind.SITE,
    ),
    Channel(
        "operatorRequest",
        topics.request,
        USER,
        commands.Request,
        "operator:{user}",
        False,
        "core",
        "A signed command from a dashboard (the bootstrap user's is a CreateAdmin).",
        {
            "request_id": "r-42",
            "command": {"action": "name_identity", "person_key": "u7", "name": "Grace Hopper"},
        },
        TopicKind.REQUEST,
        (
            (
                commands.CreateAdmin,
                {
                    "request_id": "r-1",
                    "public_key": EXAMPLE_KEY,
                    "code": "one-time-code",
                    "name": "root",
                    "password": "a long admin password",
                },
                "First run only, user bootstrap: create the first administrator with the "
                "one-time code from `srs init`.",
            ),
        ),
    ),
    Channel(
        "operatorResponse",
        topics.response,
        USER,
        commands.Response,
        "core",
        False,
        "that operator",
        "Core's answer to one request.",
        {"request_id": "r-42", "ok": True, "result": {"person_key": "p9"}},
        TopicKind.RESPONSE,
    ),
    Channel(
        "homeAssistantDiscovery",
        topics.ha_discovery,
        {"object_id": "srs_<person_key>"},
        None,
        "core (plain JSON, not signed)",
        True,
        "integrator (Home Assistant)",
        "Home Assistant MQTT discovery config of one person's device_tracker.",
        None,
    ),
    Channel(
        "homeAssistantState",
        topics.ha_state,
        {"object_id": "srs_<person_key>"},
        None,
        "core (plain text, not signed)",
        True,
        "integrator (Home Assistant)",
        "The person's zone name, or not_home.",
        None,
    ),
    Channel(
        "homeAssistantAttributes",
        topics.ha_attributes,
        {"object_id": "srs_<person_key>"},
        None,
        "core (plain JSON, not signed)",
        True,
        "integrator (Home Assistant)",
        "x, y, zone id and last seen of the person's tracker.",
        None,
    ),
    Channel(
        "homeAssistantAvailability",
        topics.ha_availability,
        {},
        None,
        "core (plain text, not signed)",
        True,
        "integrator (Home Assistant)",
        "online while core runs, offline after a clean stop (every tracker names it).",
        None,
    ),
)


def address(channel: Channel) -> str:
    """The builder's topic with ``{parameter}`` placeholders, checked by re-parsing."""
    sample = {p: f"X{i}x" for i, p in enumerate(channel.params)}
    topic = channel.builder(**sample)
    for p, value in sample.items():
        topic = topic.replace(value, "{" + p + "}")
    return topic


def _schemas() -> dict[str, Any]:
    models = sorted(
        {c.model for c in CHANNELS if c.model is not None}
        | {model for c in CHANNELS for model, _, _ in c.also},
        key=lambda m: m.__name__,
    )
    _, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    return {name: _asyncapi_schema(schema) for name, schema in sorted(top["$defs"].items())}


def _asyncapi_schema(node: Any) -> Any:
    """The schema ``node`` with each discriminator as AsyncAPI wants it.

    Pydantic writes OpenAPI's discriminator object; AsyncAPI's schema format wants
    the property name alone.
    """
    if isinstance(node, dict):
        out = {k: _asyncapi_schema(v) for k, v in node.items()}
        if isinstance(out.get("discriminator"), dict):
            out["discriminator"] = out["discriminator"]["propertyName"]
        return out
    if isinstance(node, list):
        return [_asyncapi_schema(v) for v in node]
    return node


def _envelope(channel: Channel, model: type[BaseModel]) -> dict[str, Any]:
    fresh = channel.kind in topics.FRESH_KINDS
    claims: dict[str, Any] = {
        "iss": {"type": "string", "description": f"the sender: {channel.sender}"},
        "aud": {"type": "string", "description": "the deployment's audience (default srs)"},
        "topic": {"type": "string", "description": "the exact topic it was published on"},
        "iat": {"type": "number", "description": "issued at, epoch seconds"},
        "jti": {"type": "string", "maxLength": 64, "description": "unique per sender"},
        "data": {"$ref": f"#/components/schemas/{model.__name__}"},
    }
    required = ["iss", "aud", "topic", "iat", "jti", "data"]
    if fresh:
        claims["exp"] = {"type": "number", "description": "iat + max age (streams only)"}
        required.insert(4, "exp")
    return {
        "type": "object",
        "description": "The claims of the compact JWS (EdDSA / Ed25519) the MQTT "
        "payload carries; verify the signature with the sender's key first.",
        "properties": claims,
        "required": required,
    }


def _message(
    channel: Channel,
    model: type[BaseModel] | None,
    example: dict[str, Any] | None,
    summary: str,
) -> dict[str, Any]:
    if model is None:
        return {
            "name": channel.name,
            "title": channel.name,
            "summary": summary,
            "contentType": "application/json",
            "payload": {"type": ["object", "string"]},
        }
    assert example is not None
    data = model.model_validate(example).model_dump(mode="json", exclude_none=True)
    topic = address(channel)
    example_topic = re.sub(r"\{[a-z_]+\}", lambda m: _sample_value(m.group(0)), topic)
    claims = {
        "iss": re.sub(r"\{[a-z_]+\}", lambda m: _sample_value(m.group(0)), channel.sender),
        "aud": "srs",
        "topic": example_topic,
        "iat": NOW,
        "jti": "9f3c2a17d4e5b6a81",
        **({"exp": NOW + 120.0} if channel.kind in topics.FRESH_KINDS else {}),
        "data": data,
    }
    return {
        "name": model.__name__,
        "title": model.__name__,
        "summary": summary,
        "contentType": "application/jwt",
        "payload": _envelope(channel, model),
        "examples": [{"name": f"{model.__name__}Claims", "payload": claims}],
    }


def _sample_value(placeholder: str) -> str:
    return {
        "{camera_id}": "corridor",
        "{person_key}": "p3",
        "{sender}": "core",
        "{user}": "desk1",
        "{object_id}": "srs_p3",
    }[placeholder]


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the whole contract, as a JSON-ready dict."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for c in CHANNELS:
        channels[c.name] = {
            "address": address(c),
            "title": c.name,
            "summary": c.summary,
            "description": f"Sent by {c.sender}; "
            f"{'retained' if c.retained else 'not retained'}; readable by {c.readers}.",
            "messages": {
                (c.model.__name__ if c.model else c.name): _message(
                    c, c.model, c.example, c.summary
                ),
                **{m.__name__: _message(c, m, ex, summary) for m, ex, summary in c.also},
            },
            **(
                {"parameters": {p: {"description": d} for p, d in c.params.items()}}
                if c.params
                else {}
            ),
            "bindings": {"mqtt": {"bindingVersion": "0.2.0"}},
        }
        operations[f"receive_{c.name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{c.name}"},
            "summary": f"Subscribe: {c.summary}",
            "bindings": {"mqtt": {"qos": 1, "retain": c.retained, "bindingVersion": "0.2.0"}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "SRS MQTT contract",
            "version": f"{topics.PREFIX} schema {payloads.SCHEMA_VERSION}",
            "description": "Generated by `python -m srs.wire.asyncapi` from srs/wire "
            "(do not edit by hand). Every SRS payload is a compact JWS signed with the "
            "sender's Ed25519 key; see docs/mqtt.md for verification, the client-id "
            "rule and the key format.",
        },
        "defaultContentType": "application/jwt",
        "servers": {
            "site": {
                "host": "{server}:8883",
                "protocol": "mqtts",
                "protocolVersion": "3.1.1",
                "description": "The site's broker over TLS (its CA: the site CA from "
                "`srs init`); plaintext 1883 only on the server's loopback. The client "
                "id must equal the user name, or start with it and a colon.",
                "variables": {"server": {"description": "the server's name or address"}},
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": _schemas()},
    }


def render() -> str:
    """The document as docs/asyncapi.json holds it (the drift test compares the two)."""
    return json.dumps(document(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
