"""Naming an unknown person republishes their position under the new key at once."""

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
from tests.brokers import fast_user_store
from tests.core.ingest_helpers import FakeCamera, batch, camera_key, core_config, face_data
from tests.core.test_service import Listener, _ask

ROOT = Path(__file__).resolve().parents[2]


def test_named_unknown_moves_to_its_new_key_without_a_new_sighting(tmp_path, srs_broker):
    cfg = core_config(
        tmp_path,
        srs_broker.client_config("core", "core"),
        site_file=ROOT / "config" / "demo-site.toml",
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
        alice = Listener(
            srs_broker.client_config("alice", "operator"),
            "alice",
            [topics.ALL_POSITIONS, topics.response("alice")],
            core_key,
        )
        cam = FakeCamera(
            srs_broker.client_config("corridor", "camera"),
            cam_key,
            "corridor",
            core_key_b64=core_key,
        )
        try:
            face = [
                (
                    BBox(x=226, y=110, w=28, h=28),
                    face_data()["train/kit_harington/john1.jpeg"][0][1],
                )
            ]
            cam.send(batch("corridor", 1, face, frame=(480, 270)))
            assert cam.wait_acked({1}, resend_s=30)
            seen = alice.next(PersonPosition, topic_filter=topics.ALL_POSITIONS)
            assert seen.identity == "unknown" and not seen.gone
            key = SigningKey.generate(topics.operator_issuer("alice"))
            assert _ask(
                alice.client, alice, "alice", key, cmd.RegisterKey(public_key=key.public_key_b64)
            ).ok
            named = _ask(
                alice.client,
                alice,
                "alice",
                key,
                cmd.NameIdentity(person_key=seen.person_key, name="Kit Harington"),
            )
            assert named.ok and isinstance(named.result, dict)
            new_key = named.result["person_key"]
            # No further sighting: core republishes from the locator's state.
            pos = alice.next(PersonPosition, topic_filter=topics.position(new_key))
            assert (pos.label, pos.identity, pos.gone) == ("Kit Harington", "known", False)
            assert (pos.x, pos.y, pos.zone) == (seen.x, seen.y, seen.zone)
        finally:
            cam.close()
            alice.close()
        # A newcomer gets only the new key's retained position; the old key is empty.
        late = Listener(
            srs_broker.client_config("alice", "operator"),
            "alice:late",
            [topics.ALL_POSITIONS],
            core_key,
        )
        try:
            retained: dict[str, bytes] = {}
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    topic, data, _ = late.inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                retained[topic] = data
            assert topics.position(new_key) in retained
            assert not retained.get(topics.position(seen.person_key))
        finally:
            late.close()
