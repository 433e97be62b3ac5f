"""SRS end to end on a clustered broker: three NATS nodes (its MQTT gateway, from `srs
broker export --format nats`). A real edge node on one node detects and encodes a real
face in a photo and publishes signed detections; core on another stores them and
publishes positions; an integrator on the third verifies them; and NATS, running SRS's
rules, refuses what each role may not do."""

from __future__ import annotations

import queue
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core import store
from core.service import CoreService
from edge.config import EdgeConfig
from edge.node import EdgeNode, key_path
from srs.app.config import SrsConfig
from srs.mqtt import ConnectionWatcher, make_client
from srs.wire import topics
from srs.wire.signing import SigningKey
from tests.broker.probe import Probe
from tests.brokers import BrokerHandle
from tests.core.ingest_helpers import core_config
from tests.core.test_integrator import Checker, encoding_of

pytestmark = [pytest.mark.nats, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
CAM = "corridor"  # a camera of config/demo-site.toml
NAME = "Barack Obama"
WAIT_S = 60.0  # an upper bound for failures only; nothing asserts on elapsed time


def _sightings(cfg: SrsConfig) -> list[dict[str, object]]:
    db = store.open_store(cfg)
    try:
        with db.session() as s:
            return list(store.query_sightings(s, camera=CAM, limit=1000))
    finally:
        db.close()


def test_edge_core_and_integrator_on_three_nats_nodes(
    tmp_path: Path, media: Path, nats_cluster: list[BrokerHandle]
) -> None:
    core_node, edge_node, integrator_node = nats_cluster
    frames = tmp_path / "frames"
    frames.mkdir()
    shutil.copy(media / "faces" / "test" / "obama1.jpg", frames / "obama1.jpg")
    server = core_config(
        tmp_path / "server",
        core_node.client_config("core", "core"),
        site_file=ROOT / "config" / "demo-site.toml",
    )
    pi = SrsConfig(
        data_dir=tmp_path / "pi",
        mqtt=edge_node.client_config(CAM, "camera"),
        edge=EdgeConfig(camera_id=CAM, source=str(frames), once_timeout_s=WAIT_S),
    )
    cam_key = SigningKey.load_or_create(topics.camera_issuer(CAM), key_path(pi, CAM))
    db = store.open_store(server)
    with db.session() as s:
        store.add_camera(s, CAM, cam_key.public_key_b64)
        person, _ = store.get_or_create_person(s, NAME)
        enc = encoding_of(media / "faces" / "train" / "obama" / "obama.jpg")
        store.add_encodings(s, person, [np.array(enc)])
    db.close()
    ha = integrator_node.client_config("ha", "integrator")
    # Every user before anything connects: a user added later reloads every node, and
    # NATS 2.9 can lose a CONNECT that lands during a reload (docs/broker.md, "NATS").
    lobby = edge_node.client_config("lobby", "camera")

    with CoreService(server) as core:
        assert core.wait_connected(10)
        # The edge pins core's key, as `srs camera provision` installs it.
        (pi.keys_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(server.keys_dir / "core.key.pub", pi.keys_dir / "core.key.pub")

        checker = Checker(server)
        inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        client = make_client(ha, "ha:e2e")
        watcher = ConnectionWatcher()
        codes: dict[int, list[bool]] = {}
        subacked = threading.Event()

        def on_subscribe(c: object, u: object, mid: int, rcs: list, p: object = None) -> None:
            codes[mid] = [not rc.is_failure for rc in rcs]
            subacked.set()

        client.on_connect = watcher.on_connect
        client.on_subscribe = on_subscribe
        client.on_message = lambda c, u, m: inbox.put((m.topic, bytes(m.payload)))
        client.connect(ha.host, ha.port)
        client.loop_start()
        try:
            assert watcher.connected.wait(WAIT_S), watcher.last_error
            wanted = [topics.ALL_POSITIONS, topics.key(topics.CORE_SENDER)]
            forbidden = ["#", topics.EVERYTHING, topics.ALL_DETECTIONS, topics.ALL_CAMERA_STATUS]
            _, mid = client.subscribe([(f, 1) for f in wanted + forbidden])
            assert mid is not None and subacked.wait(WAIT_S)
            # NATS, with the exported permissions, grants exactly the integrator's rules.
            assert codes[mid] == [True] * len(wanted) + [False] * len(forbidden)

            with EdgeNode(pi) as node:
                assert node.run(once=True) == 0  # every message acknowledged by core
            assert _sightings(server), "the camera's detections were not stored"

            deadline = time.monotonic() + WAIT_S
            while not any(p.label == NAME for p in checker.positions):
                assert time.monotonic() < deadline, f"no position of {NAME}: {checker.topics}"
                try:
                    checker.check(*inbox.get(timeout=0.2))
                except queue.Empty:
                    continue
            while not inbox.empty():  # whatever else arrived must pass too (no detection)
                checker.check(*inbox.get_nowait())
        finally:
            client.disconnect()
            client.loop_stop()
        pos = next(p for p in checker.positions if p.label == NAME)
        assert pos.cameras == [CAM] and pos.identity == "known"
        assert checker.published_key == core.key.public_key_b64

        # A camera may not speak for another camera, nor read what is not its own.
        intruder = Probe(lobby, "lobby")
        assert intruder.connect()
        try:
            assert not intruder.subscribe(topics.ALL_DETECTIONS)
            assert not intruder.subscribe(topics.ack(CAM))
            # NATS keeps its JetStream deliveries to itself: no MQTT client may read them.
            assert not intruder.subscribe("$MQTT/sub/#")
        finally:
            intruder.close()
