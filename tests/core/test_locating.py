"""Core sends everyone's position again when a dashboard announces its key, so a
dashboard on a broker that sends retained messages only to subscriptions without
wildcards (RabbitMQ 3.10's rule; docs/broker.md) still sees who is where."""

from __future__ import annotations

import queue
import time
from pathlib import Path

from broker.users import default_path
from core import store
from core.service import CoreService
from srs.wire import commands as cmd
from srs.wire import topics
from srs.wire.payloads import BBox, PersonPosition
from srs.wire.signing import SigningKey
from tests.brokers import BrokerHandle, fast_user_store
from tests.core.ingest_helpers import FakeCamera, batch, camera_key, core_config, face_data
from tests.core.test_service import Listener, _ask

ROOT = Path(__file__).resolve().parents[2]
QUIET_S = 2.0  # how long the late dashboard listens for a retained replay first


def test_a_dashboard_signing_in_late_gets_every_position(
    tmp_path: Path, exact_retained_broker: BrokerHandle
) -> None:
    broker = exact_retained_broker
    cfg = core_config(
        tmp_path, broker.client_config("core", "core"), site_file=ROOT / "config" / "demo-site.toml"
    )
    cam_key = camera_key("corridor")
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "corridor", cam_key.public_key_b64)
    db.close()
    fast_user_store(default_path(cfg)).add("alice", "operator")
    with CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        core_key = svc.key.public_key_b64
        cam = FakeCamera(
            broker.client_config("corridor", "camera"), cam_key, "corridor", core_key_b64=core_key
        )
        face = [
            (BBox(x=226, y=110, w=28, h=28), face_data()["train/kit_harington/john1.jpeg"][0][1])
        ]
        try:
            cam.send(batch("corridor", 1, face, frame=(480, 270)))
            assert cam.wait_acked({1}, resend_s=30)
        finally:
            cam.close()
        # A dashboard arrives after the person was placed: the broker replays nothing
        # to its wildcard subscription.
        alice = Listener(
            broker.client_config("alice", "operator"),
            "alice",
            [topics.ALL_POSITIONS, topics.response("alice")],
            core_key,
        )
        try:
            deadline = time.monotonic() + QUIET_S
            while time.monotonic() < deadline:
                try:
                    topic, _, _ = alice.inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                assert not topics.matches(topics.ALL_POSITIONS, topic), "a wildcard replay"
            key = SigningKey.generate(topics.operator_issuer("alice"))
            registered = cmd.RegisterKey(public_key=key.public_key_b64)
            assert _ask(alice.client, alice, "alice", key, registered).ok
            pos = alice.next(PersonPosition, topic_filter=topics.ALL_POSITIONS)
            assert pos.identity == "unknown" and pos.zone == "corridor" and not pos.gone
        finally:
            alice.close()
