"""What a third party with integrator credentials sees of a running core: positions it can
verify with core's published key, and never a detection or a face encoding.

Real broker (the embedded SRS broker, and Mosquitto from the export where installed), a
real CoreService on the demo site, a camera signing real face encodings. Negative checks
never sleep: the subscriber must first receive a position core published *after* the
camera's detection, so a detection that leaked would already have arrived.
"""

from __future__ import annotations

import base64
import functools
import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core import store
from core.service import CoreService
from srs.app.config import SrsConfig
from srs.mqtt import ConnectionWatcher, make_client
from srs.wire import registry, topics
from srs.wire.payloads import (
    BBox,
    Detection,
    DetectionBatch,
    PersonPosition,
    PublicKey,
)
from srs.wire.signing import SigningKey, Verifier, public_key_from_b64
from tests.brokers import BrokerHandle
from tests.core.ingest_helpers import FakeCamera, core_config

ROOT = Path(__file__).resolve().parents[2]
CAMERA = "corridor"  # a camera of config/demo-site.toml (480x270, looking east)
NAME = "Barack Obama"
ANY_TOPIC = "#"  # MQTT's root wildcard, not an SRS topic: the widest thing one can ask
WAIT_S = 20.0  # an upper bound for failures only; nothing asserts on elapsed time


@functools.lru_cache(maxsize=4)
def encoding_of(path: Path) -> list[float]:
    """The encoding of the one face in a real photo (scaled down: HOG on 2000 px is slow)."""
    import face_recognition
    from PIL import Image

    with Image.open(path) as raw:
        img = raw.convert("RGB")
        img.thumbnail((800, 800))
        rgb = np.asarray(img)
    (enc,) = face_recognition.face_encodings(rgb, face_recognition.face_locations(rgb))
    return [float(v) for v in enc]


@pytest.fixture(
    params=[
        "amqtt",
        pytest.param("mosquitto", marks=pytest.mark.mosquitto),
        pytest.param("nats", marks=pytest.mark.nats),
    ]
)
def any_broker(request: pytest.FixtureRequest) -> BrokerHandle:
    name = {"amqtt": "srs_broker", "mosquitto": "mosquitto_broker", "nats": "nats_broker"}
    handle: BrokerHandle = request.getfixturevalue(name[request.param])
    return handle


@dataclass
class Running:
    cfg: SrsConfig
    broker: BrokerHandle
    camera: FakeCamera
    core_key: str
    face: list[float]
    seq: int = 0

    def detect(self) -> float:
        """The camera sees Obama in the middle of its picture; returns when it sent it.

        Three views of one track: a 28 px face votes at 28/60 of a full view, and
        core names a track only when its agreeing views add up to one
        (core/track_identity.py)."""
        sent = time.time()
        for i in range(3):
            self.seq += 1
            det = Detection(
                kind="face",
                bbox=BBox(x=226 + i, y=110, w=28, h=28),
                track_id=1,
                score=1.0,
                encoding=self.face,
            )
            self.camera.send(
                DetectionBatch(
                    camera_id=CAMERA,
                    seq=self.seq,
                    captured_at=time.time(),
                    frame_width=480,
                    frame_height=270,
                    detections=[det],
                )
            )
            assert self.camera.wait_acked({self.seq}, resend_s=30)
        return sent


@pytest.fixture
def running(tmp_path: Path, any_broker: BrokerHandle, media: Path) -> Iterator[Running]:
    cfg = core_config(
        tmp_path,
        any_broker.client_config("core", "core"),
        site_file=ROOT / "config" / "demo-site.toml",
    )
    cam_key = SigningKey.generate(topics.camera_issuer(CAMERA))
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, CAMERA, cam_key.public_key_b64)
        person, _ = store.get_or_create_person(s, NAME)
        store.add_encodings(
            s, person, [np.array(encoding_of(media / "faces" / "train" / "obama" / "obama.jpg"))]
        )
    db.close()
    camera_mqtt = any_broker.client_config(CAMERA, "camera")
    any_broker.client_config("ha", "integrator")
    with CoreService(cfg) as svc:
        assert svc.wait_connected(WAIT_S)
        key = svc.key.public_key_b64
        camera = FakeCamera(camera_mqtt, cam_key, CAMERA, core_key_b64=key)
        face = encoding_of(media / "faces" / "train" / "obama" / "obama2.jpg")
        try:
            yield Running(cfg, any_broker, camera, key, face)
        finally:
            camera.close()


def integrator_filters() -> list[str]:
    return [
        topics.ALL_POSITIONS,
        topics.ALL_KEYS,
        topics.EVERYTHING,
        ANY_TOPIC,
        topics.ALL_DETECTIONS,
    ]


def claims_of(data: bytes) -> dict[str, Any]:
    """The JWS claims, unverified: to look for what must never be there."""
    middle = data.split(b".")[1]
    padded = middle + b"=" * (-len(middle) % 4)
    parsed: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return parsed


def keys_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


class Checker:
    """Verifies everything an integrator receives with core's key, as published retained."""

    def __init__(self, cfg: SrsConfig) -> None:
        self.file_key = (cfg.keys_dir / "core.key.pub").read_text().strip()
        core = public_key_from_b64(self.file_key)
        self.verifier = Verifier(
            lambda iss: core if iss == topics.CORE_SENDER else None, audience=cfg.security.audience
        )
        self.positions: list[PersonPosition] = []
        self.published_key: str | None = None
        self.topics: list[str] = []

    def check(self, topic: str, data: bytes) -> None:
        self.topics.append(topic)
        assert not topics.matches(topics.ALL_DETECTIONS, topic), f"a detection leaked: {topic}"
        if not data:
            return  # a cleared retained topic
        assert b"encoding" not in data
        if not topic.startswith(topics.PREFIX + "/"):
            assert "encoding" not in keys_in(json.loads(data)), topic  # HA: plain JSON
            return
        assert "encoding" not in keys_in(claims_of(data)), topic
        model = registry.model_for(topic)
        payload = self.verifier.verify(topic, data, model).payload
        if isinstance(payload, PersonPosition):
            self.positions.append(payload)
        elif isinstance(payload, PublicKey) and payload.sender == topics.CORE_SENDER:
            self.published_key = payload.public_key

    def placed_since(self, t: float) -> PersonPosition | None:
        return next((p for p in self.positions if p.label == NAME and p.last_seen >= t), None)


def test_paho_integrator_gets_verifiable_positions_and_no_encodings(running: Running) -> None:
    checker = Checker(running.cfg)
    assert checker.file_key == running.core_key
    inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
    mqtt = running.broker.client_config("ha", "integrator")
    client = make_client(mqtt, "ha:paho")
    watcher = ConnectionWatcher()
    subacked = threading.Event()
    client.on_connect = watcher.on_connect
    client.on_subscribe = lambda *a: subacked.set()
    client.on_message = lambda c, u, m: inbox.put((m.topic, bytes(m.payload)))
    client.connect(mqtt.host, mqtt.port)
    client.loop_start()
    try:
        assert watcher.connected.wait(WAIT_S), watcher.last_error
        # One SUBSCRIBE: the broker answers each filter; refused ones (amqtt refuses the
        # widening ones outright, Mosquitto grants and filters) must simply deliver nothing.
        client.subscribe([(f, 1) for f in integrator_filters()])
        assert subacked.wait(WAIT_S)
        sent = running.detect()
        deadline = time.monotonic() + WAIT_S
        while checker.placed_since(sent) is None or checker.published_key is None:
            assert time.monotonic() < deadline, "no position and core key reached the integrator"
            try:
                checker.check(*inbox.get(timeout=0.2))
            except queue.Empty:
                continue
        while not inbox.empty():  # whatever else already arrived must pass too
            checker.check(*inbox.get_nowait())
    finally:
        client.disconnect()
        client.loop_stop()
    assert checker.published_key == running.core_key
    pos = checker.placed_since(sent)
    assert pos is not None and pos.zone == "corridor" and pos.cameras == [CAMERA]
    # It says how the name was established: by the track's encodings, just now.
    assert (pos.evidence, pos.evidence_age_s, pos.candidate) == ("matched", None, None)
    assert 0.5 < pos.confidence <= 1.0


def test_mosquitto_sub_integrator_gets_verifiable_positions(running: Running) -> None:
    binary = shutil.which("mosquitto_sub")
    if binary is None:
        pytest.skip("mosquitto_sub is not installed (apt-get install mosquitto-clients)")
    checker = Checker(running.cfg)
    running.detect()  # a retained position is waiting before the subscriber arrives
    mqtt = running.broker.client_config("ha", "integrator")
    assert mqtt.password is not None
    cmd = [
        binary,
        "-h",
        mqtt.host,
        "-p",
        str(mqtt.port),
        "-u",
        "ha",
        "-P",
        mqtt.password.get_secret_value(),
        "-i",
        "ha",
        "-q",
        "1",
        "-v",
        "-C",
        "1000",
        "-W",
        str(int(WAIT_S)),
    ]
    for f in integrator_filters():
        cmd += ["-t", f]
    lines: queue.Queue[str] = queue.Queue()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None

    def read() -> None:
        for line in proc.stdout or ():
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent: float | None = None
    deadline = time.monotonic() + 2 * WAIT_S
    try:
        while sent is None or checker.placed_since(sent) is None:
            assert time.monotonic() < deadline and proc.poll() is None, (
                f"mosquitto_sub got no fresh position: {proc.stderr.read() if proc.stderr else ''}"
            )
            try:
                topic, _, payload = lines.get(timeout=0.2).rstrip("\n").partition(" ")
            except queue.Empty:
                continue
            checker.check(topic, payload.encode())
            if sent is None and checker.positions:
                sent = running.detect()  # subscribed (retained arrived): now a live one
    finally:
        proc.terminate()
        proc.wait(10)
        reader.join(10)
    while not lines.empty():
        topic, _, payload = lines.get_nowait().rstrip("\n").partition(" ")
        checker.check(topic, payload.encode())
    assert checker.published_key == running.core_key
