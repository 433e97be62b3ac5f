"""Two core instances (real `srs core` processes) share four cameras on a real
Mosquitto (and on the embedded broker) and one SQLite file: each message is stored
once, with the identities one core gives the same input; one instance killed
(kill -9) mid-stream loses nothing and its cameras move to the other within 10 s
(docs/scale.md)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from core import store
from core.ingest import Ingest
from core.messages import Incoming
from core.store.db import Database
from core.store.models import CoreLease, Person, ProcessedMessage, Sighting
from srs.app.config import load_config
from srs.wire import topics
from srs.wire.payloads import DetectionBatch
from srs.wire.signing import SigningKey, sign
from tests.core.ingest_helpers import FakeCamera, batch, camera_key, core_config, face_data
from tests.core.store.helpers import stored_identities
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
# obama is enrolled; the same stranger (two photos of biden, 0.40 apart) walks past
# cam2 and cam3, which end up on different instances; alex is another stranger.
FACES = {
    "cam1": "test/obama1.jpg",
    "cam2": "train/biden/biden.jpg",
    "cam3": "train/biden/biden2.jpg",
    "cam4": "test/alex_lacamoire1.jpg",
}
KEYS = {c: camera_key(c) for c in FACES}
HALF = 15  # messages per camera before the kill, and as many after


def _config(tmp_path: Path, broker, instance: str) -> Path:
    mqtt = broker.client_config(f"core-{instance}", "core")  # Mosquitto: client id = user
    assert mqtt.password is not None
    path = tmp_path / f"{instance}.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[mqtt]\nhost = "{mqtt.host}"\nport = {mqtt.port}\nusername = "{mqtt.username}"\n'
        f'password = "{mqtt.password.get_secret_value()}"\n'
        f'[core]\ninstance = "{instance}"\ncommit_window_ms = 5\nstatus_interval_s = 1\n'
    )
    return path


def _start(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "srs.app", "core", "--config", str(config)],
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _prepare(db: Database) -> None:
    with db.session() as s:
        for cam, key in KEYS.items():
            store.add_camera(s, cam, key.public_key_b64)
        obama, _ = store.get_or_create_person(s, "obama")
        store.add_encodings(s, obama, [np.array(face_data()["train/obama/obama.jpg"][0][1])])


def _owners(db: Database) -> dict[str, str | None]:
    with db.session() as s:
        rows = s.execute(select(CoreLease.name, CoreLease.owner, CoreLease.expires_at)).all()
    now = time.time()
    return {n: (o if e > now else None) for n, o, e in rows if n in FACES}


def _batches() -> list[DetectionBatch]:
    faces = face_data()
    return [
        batch(cam, seq, faces[photo]) for seq in range(2 * HALF) for cam, photo in FACES.items()
    ]


def _one_core(tmp_path: Path) -> dict[tuple[str, int, int], str]:
    """The reference: one core's ingest, in process, on the same messages. It keeps a
    database of its own (SQLite) even when the test's runs on PostgreSQL, where the
    instances under test share the test's one schema."""
    (tmp_path / "one").mkdir(parents=True, exist_ok=True)
    cfg = core_config(tmp_path / "one", database_url=f"sqlite:///{tmp_path / 'one' / 'srs.db'}")
    db = store.open_store(cfg)
    _prepare(db)
    ingest = Ingest(db, cfg)
    for b in _batches():
        topic = topics.detections(b.camera_id)
        ingest.process([Incoming(topic, sign(b, topic, KEYS[b.camera_id]))])
    out, _ = stored_identities(db)
    db.close()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["mosquitto_broker", "srs_broker"])
def test_two_instances_split_four_cameras_and_survive_one_killed(tmp_path, request, broker):
    mqtt_broker = request.getfixturevalue(broker)
    expected = _one_core(tmp_path)
    configs = {n: _config(tmp_path, mqtt_broker, n) for n in ("n1", "n2")}
    cfg = load_config(configs["n1"], environ={})
    db = store.open_store(cfg)
    _prepare(db)
    core_key = SigningKey.load_or_create(topics.CORE_SENDER, cfg.keys_dir / "core.key")
    log = tmp_path / "core.log"
    procs = {"n1": _start(configs["n1"], log)}
    cams: dict[str, FakeCamera] = {}
    try:
        assert wait_until(lambda: set(_owners(db).values()) == {"n1"}, 60), log.read_text()
        procs["n2"] = _start(configs["n2"], log)
        # n2 joins: n1 gives up half of the cameras, n2 takes them
        assert wait_until(
            lambda: sorted(map(str, _owners(db).values())) == ["n1", "n1", "n2", "n2"], 60
        ), log.read_text()[-3000:]
        for cam, key in KEYS.items():
            cams[cam] = FakeCamera(
                mqtt_broker.client_config(cam, "camera"),
                key,
                cam,
                core_key_b64=core_key.public_key_b64,
            )
        sent = _batches()
        for b in sent[: len(sent) // 2]:
            cams[b.camera_id].send(b)
        for fake in cams.values():
            assert fake.wait_acked(set(range(HALF)), timeout=60), log.read_text()[-3000:]
        owned_by_n2 = [c for c, o in _owners(db).items() if o == "n2"]
        procs["n2"].send_signal(signal.SIGKILL)  # mid-stream, no goodbye
        killed = time.monotonic()
        for b in sent[len(sent) // 2 :]:
            cams[b.camera_id].send(b)
        assert wait_until(lambda: set(_owners(db).values()) == {"n1"}, 30)
        moved_s = time.monotonic() - killed
        assert moved_s < 10.0, f"{owned_by_n2} moved after {moved_s:.1f} s"
        for fake in cams.values():
            assert fake.wait_acked(set(range(2 * HALF)), timeout=60, resend_s=2), log.read_text()[
                -3000:
            ]
        procs["n1"].send_signal(signal.SIGTERM)
        assert procs["n1"].wait(30) == 0
    finally:
        for fake in cams.values():
            fake.close()
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedMessage)) == len(sent)
        keys = s.execute(select(Sighting.camera_id, Sighting.seq)).all()
    assert sorted(keys) == sorted((b.camera_id, b.seq) for b in sent)  # once each
    got, _ = stored_identities(db)
    db.close()
    assert got == expected
    assert got[("cam2", 0, 0)] == got[("cam3", 0, 0)] != got[("cam4", 0, 0)]
    assert got[("cam1", 0, 0)] == "obama"


def test_the_single_core_has_no_scale_out_hooks(tmp_path):
    from core.scale_out import ScaleOut

    cfg = core_config(tmp_path)
    db = store.open_store(cfg)
    ingest = Ingest(db, cfg)
    assert ScaleOut.create(cfg, db, ingest, ingest.locator) is None
    assert ingest.allocate == ingest._allocate and ingest.merging and ingest.fence is None
    db.close()


def test_an_instance_handles_only_its_cameras_and_leaves_offline_alerts_to_the_leader(tmp_path):
    from core.alerts import camera_offline
    from core.messages import Outgoing
    from core.scale_out import ScaleOut

    cfg = core_config(tmp_path, instance="a")
    db = store.open_store(cfg)
    _prepare(db)
    ingest = Ingest(db, cfg)
    scale = ScaleOut.create(cfg, db, ingest, ingest.locator)
    assert scale is not None and not ingest.merging
    other = ScaleOut(cfg, db, Ingest(db, cfg), "b")
    scale.renew()  # "a" takes everything and leads ...
    other.renew()
    scale.renew()  # ... then gives "b" its half
    other.renew()
    mine, theirs = scale.partitioner.cameras, other.partitioner.cameras
    assert len(mine) == len(theirs) == 2 and not mine & theirs
    msgs = [Incoming(topics.detections(c), b"x") for c in sorted(FACES)]
    assert {topics.parse(m.topic).subject for m in scale.mine(msgs)} == mine
    assert scale.dropped == 2
    alert = [Outgoing(topics.alerts(), camera_offline("cam1", 0.0, "silent"))]
    assert scale.once() and scale.local_only(alert) == alert
    assert not other.once() and other.local_only(alert) == []
    db.close()


def test_the_leader_s_status_sums_every_live_instance_s_counters(tmp_path):
    from core.scale_out import ScaleOut

    cfg = core_config(tmp_path, instance="a")
    db = store.open_store(cfg)
    _prepare(db)
    ingest_a, ingest_b = Ingest(db, cfg), Ingest(db, cfg)
    a, b = ScaleOut(cfg, db, ingest_a, "a"), ScaleOut(cfg, db, ingest_b, "b")
    ingest_a.counters.add(received=3, accepted=2, matched=1)
    ingest_a.counters.reject("bad_signature")
    ingest_b.counters.add(received=5, accepted=4, duplicates=1, unknown=2, identities_limited=1)
    ingest_b.counters.reject("bad_signature")
    ingest_b.counters.reject("stale")
    a.renew()  # "a" leads
    b.renew()  # "b"'s heartbeat carries its counters ...
    a.renew()  # ... which the leader reads at its next renewal
    assert a.once() and not b.once()
    got = ingest_a.counters.status("online", 5.0)
    assert (got.received, got.accepted, got.duplicates) == (8, 6, 1)
    assert (got.matched, got.unknown, got.identities_limited) == (1, 2, 1)
    assert got.rejected == {"bad_signature": 2, "stale": 1}
    # a non-leader's status (never published) is its own
    assert ingest_b.counters.status("online", 5.0).received == 5
    b.leave()  # a clean stop deletes its row: its counts leave the sum
    a.renew()
    assert ingest_a.counters.status("online", 5.0).received == 3
    db.close()


class WallClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _message(cam: str, seq: int) -> Incoming:
    topic = topics.detections(cam)
    return Incoming(topic, sign(batch(cam, seq, face_data()[FACES[cam]]), topic, KEYS[cam]))


def _stored(db: Database) -> tuple[int, int]:
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Sighting)) or 0,
            s.scalar(select(func.count()).select_from(ProcessedMessage)) or 0,
        )


def test_a_batch_whose_camera_moved_meanwhile_is_not_stored_and_the_new_holder_stores_it(
    tmp_path, caplog
):
    """Instance a located a batch, then stalled past the lease TTL; b took its cameras.
    a's commit is fenced: nothing stored, nothing acked, no outage alert or store
    refusal (a hand-over, logged at info), memory rolled back; the camera's re-send
    is stored once by b."""
    from core.scale_out import ScaleOut

    cfg = core_config(tmp_path, instance="a")
    db = store.open_store(cfg)
    _prepare(db)
    clock = WallClock()
    ing_a, ing_b = Ingest(db, cfg), Ingest(db, cfg)
    a = ScaleOut.create(cfg, db, ing_a, ing_a.locator)
    assert a is not None
    b = ScaleOut(cfg, db, ing_b, "b")
    a.partitioner.book.clock = b.partitioner.book.clock = clock
    a.renew()
    assert ing_a.process([_message("cam1", 0)]).acks == {"cam1": [0]}  # held: stored
    located = ing_a.locate([_message("cam2", 1)])  # a new stranger: state in memory
    assert located.new and ing_a.clusters.ids
    clock.now += cfg.core.lease_ttl_s + 1  # a stalls; its leases lapse; b takes them
    b.renew()
    assert "cam2" in b.partitioner.cameras
    caplog.set_level("INFO", logger="core.ingest")
    result = ing_a.store(located)
    assert result.acks == {} and result.refused == [] and result.outgoing == []
    assert _stored(db) == (1, 1)
    assert ing_a.holding.outage is None and not ing_a.holding  # no store outage
    assert ing_a.counters.rejected == {}
    lines = [r for r in caplog.records if r.name == "core.ingest"]
    assert lines and all(r.levelname == "INFO" for r in lines)
    assert "cam2" in lines[0].getMessage()
    again = ing_b.process([_message("cam2", 1)])
    assert again.acks == {"cam2": [1]} and _stored(db) == (2, 2)
    db.close()


def test_a_person_seen_by_another_instance_is_not_gone_here(tmp_path):
    """The locator's ``seen_elsewhere`` (wired by ScaleOut) asks the database: obama,
    stored a moment ago by instance b, is seen; an identity nobody stored is not."""
    from core.locator import Locator
    from core.scale_out import ScaleOut, seen_elsewhere

    cfg = core_config(tmp_path, instance="a")
    db = store.open_store(cfg)
    _prepare(db)
    loc = Locator(None)
    ing_a = Ingest(db, cfg, loc)
    assert ScaleOut.create(cfg, db, ing_a, loc) is not None and loc.seen_elsewhere is not None
    ing_b = Ingest(db, cfg)
    b = ScaleOut(cfg, db, ing_b, "b")
    b.renew()
    assert ing_b.process([_message("cam1", 0)]).acks == {"cam1": [0]}
    with db.session() as s:
        obama = s.scalar(select(Person.id).where(Person.name == "obama"))
    since = time.time() - 30
    keys = {f"p{obama}": since, "u12345": since, "t-cam1-1": since}
    (latest,) = loc.seen_elsewhere(keys).values()
    assert list(loc.seen_elsewhere(keys)) == [f"p{obama}"] and latest > since
    later = dict.fromkeys(keys, time.time() + 60)
    assert loc.seen_elsewhere(later) == {}  # nobody since: gone
    # Instance a's own cameras never count as elsewhere (a camera without a pose,
    # a track named later): what cam1 saw is a's once a holds cam1.
    assert seen_elsewhere(db, keys, {"cam1"}) == {}
    db.close()
