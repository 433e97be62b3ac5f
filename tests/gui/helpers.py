"""A stand-in for core in GUI tests: a real MQTT client publishing signed messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import paho.mqtt.client as paho
from pydantic import BaseModel

from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.mqtt import ConnectionWatcher, make_client
from srs.wire import (
    SigningKey,
    Verifier,
    commands,
    payloads,
    public_key_from_b64,
    sign,
    site,
    topics,
)
from tests.brokers import BrokerHandle

OPERATOR = "alice-op"
OPERATOR_PASSWORD = "correct horse"


def gui_config(
    tmp_path: Path, core_key: SigningKey | None, broker: BrokerHandle, **gui: Any
) -> SrsConfig:
    """Config whose [gui] pins ``core_key`` (None: nothing pinned, trust on first use).

    The timeline starts empty (``recent_history_s`` 0) unless a test asks otherwise:
    the stand-in core answers requests only when a test tells it how."""
    gui = {"recent_history_s": 0, **gui}
    if core_key is not None:
        pub = tmp_path / "pinned-core.key.pub"
        pub.write_text(core_key.public_key_b64 + "\n")
        gui["core_public_key_file"] = str(pub)
    return SrsConfig.model_validate(
        {
            "data_dir": str(tmp_path / "var"),
            "mqtt": {"host": broker.host, "port": broker.port},
            "gui": gui,
        }
    )


def operator_password(broker: BrokerHandle) -> str:
    cfg = broker.client_config(OPERATOR, "operator")
    return cfg.password.get_secret_value() if cfg.password else ""


class FakeCore:
    """Publishes as core (signed with ``key``); optionally answers operator requests."""

    def __init__(self, mqtt_cfg: MqttConfig, key: SigningKey) -> None:
        self.key = key
        self.requests: list[commands.Request] = []
        self.operator_keys: dict[str, Any] = {}
        self.on_request: Callable[[str, commands.Request], None] | None = None
        # The dashboard asks for faces in the background (gui/face_cache.py): answered
        # here from ``faces`` (key -> get_faces items), kept out of ``requests``.
        self.faces: dict[str, list[dict[str, Any]]] = {}
        self.face_requests: list[commands.GetFaces] = []
        self._watch = ConnectionWatcher()
        self.client = make_client(mqtt_cfg, topics.CORE_SENDER)
        self.client.on_connect = self._watch.on_connect
        self.client.on_message = self._on_message
        self.client.connect(mqtt_cfg.host, mqtt_cfg.port)
        self.client.loop_start()
        if not self._watch.connected.wait(10):
            raise RuntimeError("fake core could not connect")
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a, **k: subscribed.set()
        self.client.subscribe(topics.ALL_REQUESTS, qos=1)
        if not subscribed.wait(10):
            raise RuntimeError("fake core could not subscribe")

    def publish(
        self, topic: str, payload: BaseModel, *, retain: bool = False, key: SigningKey | None = None
    ) -> None:
        data = sign(payload, topic, key or self.key)
        self.publish_raw(topic, data, retain=retain)

    def publish_raw(self, topic: str, data: bytes, *, retain: bool = False) -> None:
        self.client.publish(topic, data, qos=1, retain=retain).wait_for_publish(5)

    def publish_key(self) -> None:
        self.publish(
            topics.key(topics.CORE_SENDER),
            payloads.PublicKey(sender="core", public_key=self.key.public_key_b64),
            retain=True,
        )

    def vouch_for_camera(self, camera_id: str, key: SigningKey) -> None:
        """Publish the camera's key as core does for a registered, enabled camera."""
        self.publish(
            topics.camera_key(camera_id),
            payloads.PublicKey(sender=key.issuer, public_key=key.public_key_b64),
            retain=True,
        )

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        user = topics.parse(msg.topic).subject or ""
        issuer = topics.operator_issuer(user)
        claims = jwt.decode(bytes(msg.payload), options={"verify_signature": False})
        announced = claims["data"]["command"]
        if announced.get("action") == "register_key":
            # Proof of possession: the RegisterKey request is signed with the key it carries.
            candidate = public_key_from_b64(announced["public_key"])
            Verifier(lambda i: candidate if i == issuer else None).verify(
                msg.topic, bytes(msg.payload), commands.Request
            )
            self.operator_keys[issuer] = candidate
            return
        verified = Verifier(self.operator_keys.get).verify(
            msg.topic, bytes(msg.payload), commands.Request
        )
        if isinstance(verified.payload.command, commands.GetFaces):
            self.face_requests.append(verified.payload.command)
            threading.Thread(
                target=self._answer_faces, args=(user, verified.payload), daemon=True
            ).start()
            return
        self.requests.append(verified.payload)
        if self.on_request is not None:
            # Off paho's thread: publishing and waiting for PUBACK inside it would deadlock.
            threading.Thread(
                target=self.on_request, args=(user, verified.payload), daemon=True
            ).start()

    def _answer_faces(self, user: str, request: commands.Request) -> None:
        key = getattr(request.command, "person_key", "")
        faces = self.faces.get(key, [])
        self.reply(user, request, ok=True, result={"person_key": key, "faces": faces})

    def reply(self, user: str, request: commands.Request, **fields: Any) -> None:
        self.publish(
            topics.response(user), commands.Response(request_id=request.request_id, **fields)
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def demo_plan() -> site.SitePlan:
    return site.SitePlan(
        name="Test floor",
        width_m=20,
        height_m=10,
        zones=[
            site.Zone(
                zone_id="lab",
                name="Lab",
                restricted=True,
                polygon=[
                    site.Point(x=12, y=0),
                    site.Point(x=20, y=0),
                    site.Point(x=20, y=10),
                    site.Point(x=12, y=10),
                ],
            )
        ],
        cameras=[
            site.CameraPose(camera_id="cam1", x=0.5, y=5, yaw_deg=0),
            site.CameraPose(camera_id="cam2", x=19.5, y=5, yaw_deg=180),
        ],
    )


def position(
    key: str,
    x: float,
    y: float,
    *,
    identity: str = "known",
    label: str = "Alice",
    zone: str | None = None,
    gone: bool = False,
) -> payloads.PersonPosition:
    return payloads.PersonPosition(
        person_key=key,
        identity=identity,  # type: ignore[arg-type]
        label=label,
        x=x,
        y=y,
        zone=zone,
        confidence=0.9,
        last_seen=time.time(),
        cameras=["cam1"],
        gone=gone,
    )


def publish_as_camera(
    broker: BrokerHandle, camera_id: str, payload: BaseModel, key: SigningKey
) -> None:
    """Publish ``payload`` retained on the camera's status topic, as that camera."""
    cfg = broker.client_config(camera_id, "camera")
    watch = ConnectionWatcher()
    client = make_client(cfg, camera_id)
    client.on_connect = watch.on_connect
    client.connect(cfg.host, cfg.port)
    client.loop_start()
    try:
        if not watch.connected.wait(10):
            raise RuntimeError(f"camera {camera_id} could not connect: {watch.last_error}")
        topic = topics.camera_status(camera_id)
        client.publish(topic, sign(payload, topic, key), qos=1, retain=True).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()
