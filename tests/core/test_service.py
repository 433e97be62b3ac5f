"""CoreService with the real SRS broker: ack after commit, live messages, health, commands."""

from __future__ import annotations

import queue
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from broker.users import default_path
from core import store
from core.service import CoreService
from core.store.users import list_users
from srs.mqtt import ConnectionWatcher, make_client
from srs.wire import commands as cmd
from srs.wire import topics
from srs.wire.payloads import BBox, CoreStatus, PersonPosition, PublicKey, SightingBatch
from srs.wire.signing import SigningKey, Verifier, public_key_from_b64, sign
from srs.wire.site import SitePlan
from tests import postgres
from tests.brokers import fast_user_store
from tests.core.ingest_helpers import FakeCamera, batch, camera_key, core_config, face_data
from tests.waiting import wait_until

CAM1 = camera_key("cam1")


def drain(inbox: queue.Queue) -> list[tuple[str, bool]]:
    """(topic, retained) of everything received so far."""
    out: list[tuple[str, bool]] = []
    while True:
        try:
            topic, _, retained = inbox.get_nowait()
        except queue.Empty:
            return out
        out.append((topic, bool(retained)))


class Listener:
    """A subscriber that verifies what core signs (core's key pinned)."""

    def __init__(self, mqtt, client_id: str, filters: list[str], core_key_b64: str) -> None:
        key = public_key_from_b64(core_key_b64)
        self.verifier = Verifier(lambda iss: key if iss == "core" else None)
        self.inbox: queue.Queue = queue.Queue()
        self.watcher = ConnectionWatcher()
        self.client = make_client(mqtt, client_id)
        self.client.on_connect = self.watcher.on_connect
        self.client.on_message = lambda c, u, m: self.inbox.put((m.topic, m.payload, m.retain))
        self.client.connect(mqtt.host, mqtt.port)
        self.client.loop_start()
        assert self.watcher.connected.wait(10)
        done = []
        self.client.on_subscribe = lambda *a: done.append(1)
        self.client.subscribe([(f, 1) for f in filters])
        wait_until(lambda: done, timeout=10, interval=0.02, message=f"no SUBACK for {filters}")

    def next(self, model, *, topic_filter: str, timeout: float = 15.0, where=lambda p: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                topic, data, _ = self.inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            if topics.matches(topic_filter, topic) and data:
                payload = self.verifier.verify(topic, data, model).payload
                if where(payload):
                    return payload
        raise AssertionError(f"nothing on {topic_filter} within {timeout} s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def core_setup(tmp_path, srs_broker):
    cfg = core_config(tmp_path, srs_broker.client_config("core", "core"), status_interval_s=0.5)
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "cam1", CAM1.public_key_b64)
        obama, _ = store.get_or_create_person(s, "Barack Obama")
        store.add_encodings(s, obama, [np.array(face_data()["train/obama/obama.jpg"][0][1])])
    db.close()
    users = fast_user_store(default_path(cfg))
    users.add("alice", "operator")
    users.add("ivan", "integrator")  # the broker lets ivan in as operator; core says no
    with CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        yield cfg, svc, srs_broker


def test_detections_are_acked_after_commit_and_published(core_setup):
    cfg, svc, broker = core_setup
    key = svc.key.public_key_b64
    watch = Listener(
        broker.client_config("gui1", "operator"),
        "gui1",
        [topics.SIGHTINGS, topics.CORE_STATUS, topics.ALL_KEYS],
        key,
    )
    cam = FakeCamera(broker.client_config("cam1", "camera"), CAM1, "cam1", core_key_b64=key)
    try:
        published = watch.next(PublicKey, topic_filter=topics.ALL_KEYS)
        assert published.public_key == key
        cam.send(batch("cam1", 1, face_data()["test/obama1.jpg"]))
        cam.send(batch("cam1", 2, face_data()["test/kit_with_rose.jpg"]))
        cam.send(batch("cam1", 2, face_data()["test/kit_with_rose.jpg"]))  # re-send
        assert cam.wait_acked({1, 2}, resend_s=30)
        seen = watch.next(SightingBatch, topic_filter=topics.SIGHTINGS).sightings[0]
        assert (seen.identity, seen.label, seen.camera_id) == ("known", "Barack Obama", "cam1")
        # How sure: named by this big, close face itself (0.36 from his portrait).
        assert (seen.evidence, seen.evidence_age_s, seen.candidate) == ("matched", None, None)
        assert seen.confidence is not None and seen.confidence > 0.6
        status = watch.next(
            CoreStatus, topic_filter=topics.CORE_STATUS, where=lambda st: st.accepted == 2
        )
        assert status.state == "online" and status.duplicates == 1
        assert status.matched == 1 and status.unknown == 2
        assert status.latency_p50_ms is not None and status.latency_p99_ms is not None
    finally:
        cam.close()
        watch.close()
    db = store.open_store(cfg)
    with db.session() as s:
        assert len(store.query_sightings(s)) == 3
    db.close()


def test_core_vouches_for_enabled_cameras_keys_and_withdraws_them(core_setup):
    """The dashboard verifies camera status with these keys (gui/inbox.py)."""
    cfg, svc, broker = core_setup
    watch = Listener(
        broker.client_config("gui1", "operator"),
        "gui1",
        [topics.ALL_CAMERA_KEYS],
        svc.key.public_key_b64,
    )
    try:
        vouched = watch.next(PublicKey, topic_filter=topics.ALL_CAMERA_KEYS)
        assert (vouched.sender, vouched.public_key) == ("camera:cam1", CAM1.public_key_b64)
        db = store.open_store(cfg)
        with db.session() as s:  # as `srs camera disable cam1` does, from another process
            store.set_camera_enabled(s, "cam1", False)
        db.close()
        deadline = time.monotonic() + 15
        cleared = False
        while not cleared and time.monotonic() < deadline:
            try:
                topic, data, _ = watch.inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            cleared = topic == topics.camera_key("cam1") and data == b""
        assert cleared, "core did not withdraw the disabled camera's key"
    finally:
        watch.close()


def _request(user: str, key: SigningKey, command) -> tuple[str, bytes, str]:
    rid = uuid.uuid4().hex
    topic = topics.request(user)
    return topic, sign(cmd.Request(request_id=rid, command=command), topic, key), rid


def _ask(client, listener, user, key, command) -> cmd.Response:
    topic, data, rid = _request(user, key, command)
    client.publish(topic, data, qos=1)
    return listener.next(
        cmd.Response, topic_filter=topics.response(user), where=lambda r: r.request_id == rid
    )


def test_operator_commands_are_verified_role_checked_and_answered(core_setup):
    cfg, svc, broker = core_setup
    core_key = svc.key.public_key_b64
    alice = Listener(
        broker.client_config("alice", "operator"), "alice", [topics.response("alice")], core_key
    )
    ivan = Listener(
        broker.client_config("ivan", "operator"), "ivan", [topics.response("ivan")], core_key
    )
    cam = FakeCamera(broker.client_config("cam1", "camera"), CAM1, "cam1", core_key_b64=core_key)
    a_key = SigningKey.generate(topics.operator_issuer("alice"))
    i_key = SigningKey.generate(topics.operator_issuer("ivan"))
    try:
        denied = _ask(
            ivan.client, ivan, "ivan", i_key, cmd.RegisterKey(public_key=i_key.public_key_b64)
        )
        assert not denied.ok and "operator or admin" in (denied.error or "")
        # Alice's unregistered key is not trusted: counted as a rejection, and she is
        # told to sign in again (core forgets session keys when it restarts).
        unknown = _ask(alice.client, alice, "alice", a_key, cmd.ListPeople())
        assert not unknown.ok and "sign in again" in (unknown.error or "")
        assert _ask(
            alice.client, alice, "alice", a_key, cmd.RegisterKey(public_key=a_key.public_key_b64)
        ).ok
        assert svc.counters.rejected_total() >= 1
        people = _ask(alice.client, alice, "alice", a_key, cmd.ListPeople())
        assert isinstance(people.result, list)
        assert [p["name"] for p in people.result] == ["Barack Obama"]
        # An unknown man is seen, then named by the operator...
        cam.send(batch("cam1", 1, face_data()["train/kit_harington/john1.jpeg"]))
        assert cam.wait_acked({1}, resend_s=30)
        history = _ask(alice.client, alice, "alice", a_key, cmd.QueryHistory())
        assert isinstance(history.result, list)
        unknown_key = history.result[0]["person_key"]
        assert unknown_key.startswith("u")
        named = _ask(
            alice.client,
            alice,
            "alice",
            a_key,
            cmd.NameIdentity(person_key=unknown_key, name="Kit Harington"),
        )
        assert named.ok, named.error
        # ...and recognised by name from then on.
        cam.send(batch("cam1", 2, face_data()["test/johnsnow_test1.jpg"]))
        assert cam.wait_acked({2}, resend_s=30)
        history = _ask(
            alice.client, alice, "alice", a_key, cmd.QueryHistory(camera_id="cam1", limit=1)
        )
        assert isinstance(history.result, list)
        assert history.result[0]["label"] == "Kit Harington"
        off = _ask(
            alice.client,
            alice,
            "alice",
            a_key,
            cmd.SetCameraEnabled(camera_id="cam1", enabled=False),
        )
        assert off.ok
        db = store.open_store(cfg)
        with db.session() as s:
            actions = [a.action for a in store.audit_entries(s, 50)]
            users = list_users(s)
        db.close()
        assert {
            "denied_register_key",
            "register_key",
            "name_identity",
            "set_camera_enabled",
            "camera_disable",
        } <= set(actions)
        assert ("alice", "operator") in users and ("ivan", "integrator") in users
    finally:
        cam.close()
        alice.close()
        ivan.close()


def test_positions_site_and_home_assistant_with_the_real_locator(tmp_path, srs_broker):
    root = Path(__file__).resolve().parents[2]
    cfg = core_config(
        tmp_path,
        srs_broker.client_config("core", "core"),
        site_file=root / "config" / "demo-site.toml",
        homeassistant=True,
    )
    cam_key = camera_key("corridor")
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "corridor", cam_key.public_key_b64)
        obama, _ = store.get_or_create_person(s, "Barack Obama")
        store.add_encodings(s, obama, [np.array(face_data()["train/obama/obama.jpg"][0][1])])
    db.close()
    with CoreService(cfg) as svc:
        assert svc.wait_connected(10)
        key = svc.key.public_key_b64
        ha = Listener(
            srs_broker.client_config("ha", "integrator"),
            "ha",
            [topics.ALL_POSITIONS, topics.SITE, topics.HA_ALL],
            key,
        )
        cam = FakeCamera(
            srs_broker.client_config("corridor", "camera"), cam_key, "corridor", core_key_b64=key
        )
        try:
            plan = ha.next(SitePlan, topic_filter=topics.SITE)
            assert {z.zone_id for z in plan.zones} >= {"corridor", "server-room"}
            # Three views of one 28 px face: small faces name a track only together.
            enc = face_data()["test/obama1.jpg"][0][1]
            for seq in (1, 2, 3):
                face = [(BBox(x=225 + seq, y=110, w=28, h=28), enc)]
                cam.send(batch("corridor", seq, face, frame=(480, 270)))
            assert cam.wait_acked({1, 2, 3}, resend_s=30)
            pos = ha.next(
                PersonPosition,
                topic_filter=topics.ALL_POSITIONS,
                where=lambda p: p.label == "Barack Obama",
            )
            # The demo's corridor camera hangs at (17, 5.2) looking north across the
            # corridor (config/demo-site.toml): he stands in the corridor before it.
            assert pos.zone == "corridor" and 14 < pos.x < 20 and 5 < pos.y < 8
            deadline = time.monotonic() + 10
            state = None
            while state is None and time.monotonic() < deadline:
                try:
                    topic, data, _ = ha.inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                if topic == topics.ha_state(f"srs_{pos.person_key}"):
                    state = data.decode()
            assert state == "Corridor"
            # Home Assistant restarts: its birth message brings every tracker again,
            # live (no retained copy has to reach its wildcard subscription).
            drain(ha.inbox)  # what came before
            ha.client.publish(topics.HA_BIRTH, b"online", qos=1)
            config = topics.ha_discovery(f"srs_{pos.person_key}")
            again: list[tuple[str, bool]] = []

            def announced() -> bool:
                again.extend(drain(ha.inbox))
                return (config, False) in again

            wait_until(
                announced,
                timeout=10,
                message="core did not announce the tracker again on HA's birth message",
            )
            assert (topics.ha_state(f"srs_{pos.person_key}"), False) in again
        finally:
            cam.close()
            ha.close()


def test_the_running_service_purges_expired_sightings(tmp_path, srs_broker):
    from core.store.models import Sighting as SightingRow

    cfg = core_config(tmp_path, srs_broker.client_config("core", "core"), retention_days=7)
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "cam1", CAM1.public_key_b64)
        for seq, age_days in ((1, 8), (2, 1)):
            s.add(
                SightingRow(
                    camera_id="cam1",
                    seq=seq,
                    det_index=0,
                    seen_at=time.time() - age_days * 86400,
                    kind="face",
                    track_id=1,
                    bbox_x=0,
                    bbox_y=0,
                    bbox_w=5,
                    bbox_h=5,
                )
            )

    def kept() -> list[int]:
        with db.session() as s:
            return [r["seq"] for r in store.query_sightings(s)]

    with CoreService(cfg):
        wait_until(
            lambda: 1 not in kept(),
            timeout=15,
            interval=0.1,
            message="the expired sighting was not purged",
        )
        left = kept()
    db.close()
    assert left == [2]


def test_a_person_who_is_gone_leaves_no_retained_position(tmp_path, srs_broker):
    from core.locator import Locator
    from core.site import load_site

    root = Path(__file__).resolve().parents[2]
    cfg = core_config(
        tmp_path,
        srs_broker.client_config("core", "core"),
        site_file=root / "config" / "demo-site.toml",
        status_interval_s=0.5,
    )
    cam_key = camera_key("corridor")
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, "corridor", cam_key.public_key_b64)
        obama, _ = store.get_or_create_person(s, "Barack Obama")
        store.add_encodings(s, obama, [np.array(face_data()["train/obama/obama.jpg"][0][1])])
    db.close()
    site = load_site(root / "config" / "demo-site.toml")
    with CoreService(cfg, locator=Locator(site, stale_after_s=1.0)) as svc:
        assert svc.wait_connected(10)
        key = svc.key.public_key_b64
        watch = Listener(
            srs_broker.client_config("watch", "integrator"), "watch", [topics.ALL_POSITIONS], key
        )
        cam = FakeCamera(
            srs_broker.client_config("corridor", "camera"), cam_key, "corridor", core_key_b64=key
        )
        try:
            face = [(BBox(x=226, y=110, w=28, h=28), face_data()["test/obama1.jpg"][0][1])]
            cam.send(batch("corridor", 1, face, frame=(480, 270)))
            assert cam.wait_acked({1}, resend_s=30)
            pos = watch.next(PersonPosition, topic_filter=topics.ALL_POSITIONS)
            gone = watch.next(
                PersonPosition,
                topic_filter=topics.position(pos.person_key),
                where=lambda p: p.gone,
            )
            assert gone.person_key == pos.person_key
            cleared: list[str] = []
            while not cleared:  # after the signed "gone", the empty payload that clears it
                topic, data, _ = watch.inbox.get(timeout=15)
                if topic == topics.position(pos.person_key) and not data:
                    cleared.append(topic)
            # A subscriber arriving now gets core's retained status and no position: the
            # broker sends each filter's retained messages in the order subscribed.
            late = Listener(
                srs_broker.client_config("late", "integrator"),
                "late",
                [topics.position(pos.person_key), topics.CORE_STATUS],
                key,
            )
            try:
                before: list[str] = []
                topic = ""
                while topic != topics.CORE_STATUS:
                    topic, _, _ = late.inbox.get(timeout=15)
                    before.append(topic)
                assert before == [topics.CORE_STATUS]
            finally:
                late.close()
        finally:
            cam.close()
            watch.close()


def test_a_refused_subscription_stops_core_with_the_broker_sentence(
    tmp_path, srs_broker, monkeypatch, caplog
):
    # The broker's ACL lets core read what it needs; one filter more (the sightings
    # core itself publishes, which its role may not read) stands for a broker that
    # refuses a subscription (NATS refused every one of core's). Core must not run on
    # deaf: it stops, says why, and exits 1.
    import core.service

    monkeypatch.setattr(
        core.service, "SUBSCRIPTIONS", (*core.service.SUBSCRIPTIONS, (topics.SIGHTINGS, 1))
    )
    cfg = core_config(tmp_path, srs_broker.client_config("core", "core"))
    svc = CoreService(cfg)
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with caplog.at_level("ERROR", logger="core.service"):
        assert svc.run_forever() == 1
    # Its SIGTERM handler went with it: this process (and what it forks) is as before.
    assert signal.getsignal(signal.SIGTERM) is before
    sentence = f"core stops: the broker refused the subscription to '{topics.SIGHTINGS}'"
    assert svc.failure is not None and svc.failure.startswith(sentence)
    assert sentence in caplog.text
    assert not svc._worker.is_alive()


@pytest.mark.skipif(
    postgres.wanted() is not None,
    reason="holds SQLite's file lock; on PostgreSQL test_pump holds LOCK TABLE instead",
)
def test_a_camera_clock_ahead_hears_why_and_a_locked_database_is_waited_out(core_setup):
    """Over the real broker: a batch captured 3 h ahead is answered with a refused Ack
    (the offset, the reason), not stored; a batch sent while another writer holds the
    database is held, stored once the lock goes (no camera re-send needed), with one
    operational alert and its all-clear on the alerts topic."""
    import sqlite3

    from srs.wire.payloads import Alert

    cfg, svc, broker = core_setup
    key = svc.key.public_key_b64
    watch = Listener(broker.client_config("gui2", "operator"), "gui2", [topics.ALERTS], key)
    cam = FakeCamera(broker.client_config("cam1", "camera"), CAM1, "cam1", core_key_b64=key)
    obama = face_data()["test/obama1.jpg"]
    try:
        cam.send(batch("cam1", 1, obama, captured_at=time.time() + 3 * 3600))
        wait_until(lambda: cam.refused, timeout=15, message="no refused Ack")
        (refusal,) = cam.refused
        assert refusal.seqs == [1] and refusal.refused is not None
        assert refusal.refused.reason == "clock_ahead"
        assert refusal.refused.clock_offset_s is not None
        assert abs(refusal.refused.clock_offset_s - 3 * 3600) < 60
        # Another writer holds the database for a while: sent once, stored after.
        with sqlite3.connect(cfg.data_dir / "srs.db", timeout=30) as other:
            other.execute("BEGIN EXCLUSIVE")
            cam.send(batch("cam1", 2, obama))
            down = watch.next(Alert, topic_filter=topics.ALERTS, timeout=40)
            other.rollback()
        assert (down.kind, down.category, down.severity) == (
            "store_error",
            "operational",
            "critical",
        )
        assert "database locked" in down.message
        assert cam.wait_acked({2}, timeout=20, resend_s=60)  # no re-send: core held it
        up = watch.next(Alert, topic_filter=topics.ALERTS, timeout=20)
        assert (up.kind, up.severity) == ("store_error", "info")
        assert svc.counters.security_rejections() == 0
    finally:
        cam.close()
        watch.close()
