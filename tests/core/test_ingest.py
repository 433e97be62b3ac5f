"""The ingest pipeline without a broker: real SQLite, real faces, signed messages."""

from __future__ import annotations

import time
import uuid

import jwt
import numpy as np
import pytest
from sqlalchemy import func, select

from core import store
from core.ingest import Ingest
from core.messages import Incoming
from core.observation import LocatorResult, Observation, Placement
from core.store.models import AuditEntry, ProcessedMessage, Sighting, UnknownIdentity
from srs.wire import topics
from srs.wire.payloads import CameraStatus, PersonPosition, SightingBatch
from srs.wire.payloads import Sighting as SightingMsg
from srs.wire.signing import SigningKey, Verifier, sign
from tests.core.ingest_helpers import batch, camera_key, core_config, face_data

CAM1, CAM2 = camera_key("cam1"), camera_key("cam2")


@pytest.fixture
def db(tmp_path):
    faces = face_data()
    database = store.open_store(core_config(tmp_path))
    with database.session() as s:
        store.add_camera(s, "cam1", CAM1.public_key_b64)
        store.add_camera(s, "cam2", CAM2.public_key_b64)
        for name in ("alex_lacamoire", "biden", "obama"):
            person, _ = store.get_or_create_person(s, name)
            vecs = [np.array(f[0][1]) for k, f in faces.items() if k.startswith(f"train/{name}/")]
            store.add_encodings(s, person, vecs)
    yield database
    database.close()


@pytest.fixture
def ingest(tmp_path, db):
    return Ingest(db, core_config(tmp_path))


def msg(key, cam: str, seq: int, photo: str | None = None, **kw) -> Incoming:
    faces = face_data()[photo] if photo else []
    topic = topics.detections(cam)
    return Incoming(topic, sign(batch(cam, seq, faces, **kw), topic, key))


def stored(db) -> tuple[int, int]:
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Sighting)) or 0,
            s.scalar(select(func.count()).select_from(ProcessedMessage)) or 0,
        )


def sightings_messages(result) -> list[SightingBatch]:
    out = [o.payload for o in result.outgoing if o.topic == topics.sightings()]
    assert all(isinstance(p, SightingBatch) for p in out)
    return out


def sightings_out(result) -> list[SightingMsg]:
    return [s for b in sightings_messages(result) for s in b.sightings]


def test_known_and_unknown_people_across_cameras_and_restarts(tmp_path, db, ingest):
    r = ingest.process(
        [
            msg(CAM1, "cam1", 1, "test/obama_and_biden.jpg"),
            msg(CAM1, "cam1", 2, "test/kit_with_rose.jpg"),
        ]
    )
    assert r.acks == {"cam1": [1, 2]}
    labels = [(s.identity, s.label) for s in sightings_out(r)]
    assert labels[:2] == [("known", "biden"), ("known", "obama")]
    stranger, rose, kit = (s.person_key for s in sightings_out(r)[2:])
    assert len({stranger, rose, kit}) == 3 and all(k.startswith("u") for k in (rose, kit))
    # The same unknown man, seen by another camera, is the same anonymous identity.
    r2 = ingest.process([msg(CAM2, "cam2", 1, "test/johnsnow_test1.jpg")])
    assert [s.person_key for s in sightings_out(r2)] == [kit]
    # ...and stays so after a restart (identities are persisted).
    restarted = Ingest(db, core_config(tmp_path))
    r3 = restarted.process([msg(CAM1, "cam1", 3, "train/kit_harington/john2.jpeg")])
    assert [s.person_key for s in sightings_out(r3)] == [kit]
    assert ingest.counters.matched == 2 and ingest.counters.unknown == 4
    with db.session() as s:  # seen three times; last seen on the latest message
        row = s.get(UnknownIdentity, int(kit[1:]))
        assert row is not None and row.count == 3
        assert row.last_seen == max(x.seen_at for x in sightings_out(r3))
    with db.session() as s:
        rows = store.query_sightings(s, person="obama")
    assert [r["camera_id"] for r in rows] == ["cam1"] and rows[0]["distance"] < 0.6


def test_duplicates_are_acked_again_and_stored_once(db, ingest):
    first = ingest.process([msg(CAM1, "cam1", 5, "test/obama1.jpg")])
    # Edge re-send (fresh signature) and a duplicate inside one batch.
    again = ingest.process(
        [msg(CAM1, "cam1", 5, "test/obama1.jpg"), msg(CAM1, "cam1", 5, "test/obama1.jpg")]
    )
    assert first.acks == {"cam1": [5]} and again.acks == {"cam1": [5, 5]}
    assert sightings_out(again) == []
    assert stored(db) == (1, 1)
    assert ingest.counters.duplicates == 2 and ingest.counters.accepted == 1


def _nan_message() -> Incoming:
    topic = topics.detections("cam1")
    data = batch("cam1", 9, face_data()["test/obama1.jpg"]).model_dump(mode="json")
    data["detections"][0]["encoding"][0] = float("nan")
    now = time.time()
    claims = {
        "iss": "camera:cam1",
        "aud": "srs",
        "topic": topic,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        "data": data,
    }
    return Incoming(topic, jwt.encode(claims, CAM1.private_key, algorithm="EdDSA").encode())


def _cases() -> dict[str, tuple[str, object]]:
    topic1 = topics.detections("cam1")
    ok = batch("cam1", 9, face_data()["test/obama1.jpg"])
    big = batch("cam1", 9, face_data()["test/obama1.jpg"]).model_copy(
        update={"snapshot_jpeg_b64": "A" * 48_000}
    )
    return {
        "forged": ("bad_signature", Incoming(topic1, sign(ok, topic1, camera_key("cam1")))),
        "oversize": ("oversize", Incoming(topic1, b"x" * 70_000)),
        "nan": ("invalid_payload", _nan_message()),
        "wrong_topic": (
            "wrong_topic",
            Incoming(topic1, sign(ok, topics.camera_status("cam1"), CAM1)),
        ),
        "other_camera": (
            "bad_signature",
            Incoming(topics.detections("cam2"), sign(ok, topics.detections("cam2"), CAM1)),
        ),
        "id_mismatch": (
            "invalid_payload",
            Incoming(topics.detections("cam2"), sign(ok, topics.detections("cam2"), CAM2)),
        ),
        "unknown_camera": (
            "unknown_sender",
            Incoming(
                topics.detections("cam9"), sign(ok, topics.detections("cam9"), camera_key("cam9"))
            ),
        ),
        "not_detections": ("bad_topic", Incoming(topics.sightings(), sign(ok, topic1, CAM1))),
        "garbage": ("malformed", Incoming(topic1, b"not a token")),
        "too_big_to_sign": ("oversize", Incoming(topic1, sign(big, topic1, CAM1) * 2)),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_bad_messages_are_rejected_counted_audited_and_store_nothing(db, ingest, case):
    reason, bad = _cases()[case]
    result = ingest.process([bad])
    assert result.acks == {} and result.outgoing == []
    assert stored(db) == (0, 0)
    assert ingest.counters.rejected == {reason: 1}
    with db.session() as s:
        assert s.scalars(
            select(AuditEntry.action).where(AuditEntry.category == "security")
        ).all() == [f"reject_{reason}"]
    # The service goes on: a good message right after is stored.
    assert ingest.process([msg(CAM1, "cam1", 1, "test/obama1.jpg")]).acks == {"cam1": [1]}


def test_replay_is_rejected_but_a_broker_redelivery_is_a_duplicate(db, ingest):
    good = msg(CAM1, "cam1", 1, "test/obama1.jpg")
    ingest.process([good])
    ingest.process([good])
    ingest.process([Incoming(good.topic, good.data, dup=True)])
    assert ingest.counters.rejected == {"replayed": 1}
    assert ingest.counters.duplicates == 1
    assert stored(db) == (1, 1)


def test_disabled_camera_is_refused_until_enabled(db, ingest):
    with db.session() as s:
        store.set_camera_enabled(s, "cam1", False)
    ingest.refresh(force=True)
    assert ingest.process([msg(CAM1, "cam1", 1, "test/obama1.jpg")]).acks == {}
    assert ingest.counters.rejected == {"camera_disabled": 1}
    with db.session() as s:
        store.set_camera_enabled(s, "cam1", True)
    ingest.refresh(force=True)
    assert ingest.process([msg(CAM1, "cam1", 1, "test/obama1.jpg")]).acks == {"cam1": [1]}


def test_a_disabled_cameras_queue_is_not_a_forgery_alarm(db, ingest):
    """Its outbox drains after the operator switched it off: refused, counted under
    its own reason, and no "someone is sending forged messages" alert."""
    from core.locating import LocatorLink
    from core.locator import Locator
    from srs.wire.payloads import CameraStatus

    with db.session() as s:
        store.set_camera_enabled(s, "cam1", False)
    ingest.refresh(force=True)
    queued = [msg(CAM1, "cam1", seq) for seq in range(1, 41)]
    status_topic = topics.camera_status("cam1")
    status = CameraStatus(camera_id="cam1", state="online", sent_at=time.time())
    ingest.process(queued)
    assert ingest.camera_status(Incoming(status_topic, sign(status, status_topic, CAM1))) is None
    assert ingest.counters.rejected == {"camera_disabled": 41}
    assert ingest.counters.security_rejections() == 0
    link = LocatorLink(Locator(None, rejection_threshold=20))
    now = time.time()
    link.tick(now, 0)
    assert link.tick(now + 1, ingest.counters.security_rejections()) == []
    # A forged message still counts.
    ingest.process([msg(CAM1, "cam2", 1)])  # signed with the wrong camera's key
    assert ingest.counters.security_rejections() == 1


class PlacingLocator:
    """A locator that puts everyone at (1, 2) in zone "hall" and reports positions."""

    def __init__(self) -> None:
        self.seen: list[Observation] = []

    def observe(self, observations: list[Observation], now: float) -> LocatorResult:
        self.seen += observations
        res = LocatorResult()
        for o in observations:
            key = o.person_key or f"t-{o.camera_id}-{o.track_id}"
            res.placements.append(Placement(key, o.identity, o.label, 1.0, 2.0, "hall"))
            res.positions.append(
                PersonPosition(
                    person_key=key,
                    identity=o.identity,
                    label=o.label,
                    x=1.0,
                    y=2.0,
                    zone="hall",
                    confidence=o.confidence,
                    last_seen=o.seen_at,
                    cameras=[o.camera_id],
                )
            )
        return res


def test_placements_are_stored_and_positions_published(tmp_path, db):
    locator = PlacingLocator()
    ing = Ingest(db, core_config(tmp_path), locator)
    r = ing.process([msg(CAM1, "cam1", 1, "test/obama1.jpg", profiles=1)])
    assert [o.identity for o in locator.seen] == ["known", "unidentified"]
    positions = [o for o in r.outgoing if o.retain]
    assert {o.topic for o in positions} == {
        topics.position(locator.seen[0].person_key or ""),
        topics.position("t-cam1-100"),
    }
    with db.session() as s:
        rows = store.query_sightings(s)
    assert {(r["kind"], r["x"], r["y"], r["zone"]) for r in rows} == {
        ("face", 1.0, 2.0, "hall"),
        ("profile", 1.0, 2.0, "hall"),
    }


class BrokenLocator:
    def observe(self, observations: list[Observation], now: float) -> LocatorResult:
        raise RuntimeError("site model bug")


def test_one_commit_publishes_its_sightings_as_one_message_after_the_positions(tmp_path, db):
    ing = Ingest(db, core_config(tmp_path), PlacingLocator())
    faces = face_data()
    sent = [
        ("cam1", 1, "test/obama_and_biden.jpg", 3),
        ("cam2", 1, "test/obama1.jpg", 2),
        ("cam1", 2, None, 4),
    ]
    keys = {"cam1": CAM1, "cam2": CAM2}
    r = ing.process([msg(keys[cam], cam, seq, photo, profiles=p) for cam, seq, photo, p in sent])
    (message,) = sightings_messages(r)
    # One item per detection, in the order the detections came.
    assert [s.camera_id for s in message.sightings] == [
        cam for cam, _, photo, p in sent for _ in range(len(faces[photo] if photo else []) + p)
    ]
    assert [s.label for s in message.sightings][:2] == ["biden", "obama"]
    ids = [s.sighting_id for s in message.sightings]
    with db.session() as s:
        stored_ids = {row["id"] for row in store.query_sightings(s)}
    assert len(set(ids)) == len(ids) and set(ids) == stored_ids
    kinds = [o.topic == topics.sightings() for o in r.outgoing]
    assert len(kinds) > 1 and kinds[-1] and not any(kinds[:-1])  # positions etc. go first


def test_a_commit_too_big_for_one_message_is_split(tmp_path, db, ingest):
    msgs = [msg(CAM1, "cam1", seq, profiles=30) for seq in range(1, 11)]  # 300 sightings
    r = ingest.process(msgs)
    messages = sightings_messages(r)
    assert len(messages) == 2 and sum(len(m.sightings) for m in messages) == 300
    ids = [s.sighting_id for m in messages for s in m.sightings]
    assert len(set(ids)) == 300
    core = SigningKey.generate(topics.CORE_SENDER)
    verifier = Verifier(
        lambda iss: core.public_key, max_bytes=core_config(tmp_path).security.max_payload_bytes
    )
    for m in messages:  # each fits the payload limit of the broker and of every reader
        verifier.verify(topics.sightings(), sign(m, topics.sightings(), core), SightingBatch)


def test_a_failing_locator_does_not_stop_ingest(tmp_path, db):
    ing = Ingest(db, core_config(tmp_path), BrokenLocator())
    r = ing.process([msg(CAM1, "cam1", 1, "test/obama1.jpg")])
    assert r.acks == {"cam1": [1]}
    assert [(s.label, s.x) for s in sightings_out(r)] == [("obama", None)]


def test_small_faces_need_a_closer_match(db, ingest):
    """A small face at 0.55 from obama is not named; the same encoding from a large face
    is a weak match: "possibly obama", not obama (one weak view does not name)."""
    from srs.wire.payloads import BBox

    faces = face_data()
    enrolled = [np.array(f[0][1]) for k, f in faces.items() if k.startswith("train/obama/")]
    obama = enrolled[0]
    other = np.array(faces["train/kit_harington/john1.jpeg"][0][1])  # not enrolled here

    def nearest(t: float) -> float:
        return min(float(np.linalg.norm(obama + t * (other - obama) - e)) for e in enrolled)

    # Move from obama towards another face until obama is 0.55 away: inside 0.6, not 0.5.
    lo, hi = 0.0, 1.0
    for _ in range(40):
        lo, hi = ((lo + hi) / 2, hi) if nearest((lo + hi) / 2) < 0.55 else (lo, (lo + hi) / 2)
    near = [float(v) for v in obama + lo * (other - obama)]
    small = (BBox(x=10, y=10, w=24, h=24), near)
    large = (BBox(x=10, y=10, w=120, h=120), near)
    # Two cameras, so no track carries one face's identity over to the other.
    t1, t2 = topics.detections("cam1"), topics.detections("cam2")
    r = ingest.process(
        [
            Incoming(t1, sign(batch("cam1", 1, [small]), t1, CAM1)),
            Incoming(t2, sign(batch("cam2", 1, [large]), t2, CAM2)),
        ]
    )
    assert [(s.camera_id, s.identity, s.evidence, s.candidate) for s in sightings_out(r)] == [
        ("cam1", "unknown", "matched", None),
        ("cam2", "unidentified", "possible", "obama"),
    ]


def test_the_live_view_is_located_before_anything_is_stored_and_sightings_after(tmp_path, db):
    ing = Ingest(db, core_config(tmp_path), PlacingLocator())
    located = ing.locate([msg(CAM1, "cam1", 1, "test/obama_and_biden.jpg")])
    assert located.live and all(isinstance(o.payload, PersonPosition) for o in located.live)
    assert stored(db) == (0, 0)  # the live view is out before any sighting is written
    r = ing.store(located)
    assert r.acks == {"cam1": [1]}
    assert [o.topic for o in r.outgoing] == [topics.sightings()]
    assert stored(db) == (len(sightings_out(r)), 1)


def test_a_camera_status_naming_another_camera_is_refused(ingest):
    """cam1's own signature on a status of cam2 must not mark cam2 offline (or online)."""
    ingest.refresh(force=True)
    topic = topics.camera_status("cam1")
    now = time.time()
    own = CameraStatus(camera_id="cam1", state="online", sent_at=now)
    assert ingest.camera_status(Incoming(topic, sign(own, topic, CAM1))) == own
    forged = CameraStatus(camera_id="cam2", state="offline", sent_at=now)
    assert ingest.camera_status(Incoming(topic, sign(forged, topic, CAM1))) is None
    assert ingest.counters.rejected == {"wrong_topic": 1}
    assert "cam2" not in ingest.camera_states


class FailingSession:
    """A database whose next transaction fails at its commit (with ``error``: by
    default not a database error, which leaves the messages to their cameras)."""

    def __init__(self, db, error: Exception | None = None) -> None:
        self.db, self.armed = db, True
        self.error = error or RuntimeError("disk full")

    def session(self):
        from contextlib import contextmanager

        @contextmanager
        def failing():
            with self.db.session() as s:
                yield s
                if self.armed:
                    self.armed = False
                    raise self.error

        return failing()


def test_a_failed_store_leaves_nothing_ahead_of_the_database(tmp_path, db):
    """The live view already named a new stranger; the store fails. The identity was
    allocated in a transaction of its own, so its key stays his; the tracks forget
    the batch, nothing is acked, and the re-sent message is stored as if first seen."""
    ing = Ingest(db, core_config(tmp_path), PlacingLocator())
    stranger = msg(CAM1, "cam1", 1, "test/kit_with_rose.jpg")
    located = ing.locate([stranger])
    live_keys = {
        o.payload.person_key for o in located.live if isinstance(o.payload, PersonPosition)
    }
    ing.db = FailingSession(db)  # type: ignore[assignment]
    assert ing.store(located).acks == {}
    ing.db = db
    assert stored(db) == (0, 0) and ing.counters.rejected == {}  # no rejection, no forgery
    with db.session() as s:
        allocated = {f"u{i}" for i in s.scalars(select(UnknownIdentity.id))}
    assert len(live_keys) == 2 and live_keys == allocated  # two strangers, both allocated
    again = ing.process([msg(CAM1, "cam1", 1, "test/kit_with_rose.jpg")])
    assert again.acks == {"cam1": [1]} and stored(db) == (2, 1)
    assert {s.person_key for s in sightings_out(again)} == live_keys  # the keys shown live


def test_new_identities_over_a_cameras_rate_stay_unidentified_and_are_counted(tmp_path, db):
    """Real strangers (kit, rose) from one camera with a budget of one a minute."""
    ing = Ingest(db, core_config(tmp_path, max_new_identities_per_min=1))
    r = ing.process([msg(CAM1, "cam1", 1, "test/kit_with_rose.jpg")])
    assert sorted(s.identity for s in sightings_out(r)) == ["unidentified", "unknown"]
    assert ing.counters.identities_limited == 1
    assert ing.counters.status("online", 10.0).identities_limited == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(UnknownIdentity)) == 1
    # Another camera has its own budget: the same two, one joins, one is new.
    r2 = ing.process([msg(CAM2, "cam2", 1, "test/kit_with_rose.jpg")])
    assert [s.identity for s in sightings_out(r2)] == ["unknown", "unknown"]
    assert ing.counters.identities_limited == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(UnknownIdentity)) == 2
