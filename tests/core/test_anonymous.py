"""Anonymous identities through the ingest pipeline: real faces, real SQLite, a site.

One anonymous identity must mean one person: never two faces of one frame, never
two places nobody could walk between in the time; a rolled-back batch leaves none
in memory; a track's name never crosses onto the face it continues on after a cut.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import func, select

from core import store
from core.ingest import Ingest
from core.locator import Locator
from core.messages import Incoming
from core.site import parse_site
from core.store.models import Sighting, UnknownIdentity
from srs.wire import topics
from srs.wire.payloads import BBox, Detection, DetectionBatch, PersonPosition, SightingBatch
from srs.wire.payloads import Sighting as SightingMsg
from srs.wire.signing import sign
from tests.core.ingest_helpers import camera_key, clip_faces, core_config, face_data

WOMAN = "head-pose-face-detection-female.gif"
CAMERAS = ("near1", "near2", "far")
KEYS = {c: camera_key(c) for c in CAMERAS}
# near1 and near2 look into one room from 3 m apart; far is 80 m down the site.
SITE = parse_site(
    {
        "name": "two wings",
        "width_m": 100.0,
        "height_m": 10.0,
        "cameras": [
            {"id": "near1", "x": 1, "y": 1, "yaw_deg": 45, "hfov_deg": 90, "image_width": 800},
            {"id": "near2", "x": 4, "y": 1, "yaw_deg": 90, "hfov_deg": 90, "image_width": 800},
            {"id": "far", "x": 90, "y": 1, "yaw_deg": 90, "hfov_deg": 90, "image_width": 800},
        ],
    }
)
# Captured times, a little in the past: core refuses a captured_at beyond its clock
# skew in the future, and the tests step up to 90 s from T0. The tokens are signed
# (and checked) at wall time.
T0 = time.time() - 120


@pytest.fixture
def db(tmp_path):
    database = store.open_store(core_config(tmp_path))
    with database.session() as s:
        for cam in CAMERAS:
            store.add_camera(s, cam, KEYS[cam].public_key_b64)
        obama, _ = store.get_or_create_person(s, "obama")
        vecs = [
            np.array(face_data()[f"train/obama/{f}"][0][1]) for f in ("obama.jpg", "obama2.jpg")
        ]
        store.add_encodings(s, obama, vecs)
    yield database
    database.close()


def make_ingest(tmp_path, db, **core) -> Ingest:
    return Ingest(db, core_config(tmp_path, **core), Locator(SITE))


def message(cam: str, seq: int, at: float, dets: list[Detection]) -> Incoming:
    b = DetectionBatch(
        camera_id=cam,
        seq=seq,
        captured_at=at,
        frame_width=800,
        frame_height=600,
        detections=dets,
    )
    topic = topics.detections(cam)
    return Incoming(topic, sign(b, topic, KEYS[cam]))


def face(vec: list[float], track: int, box: BBox | None = None) -> Detection:
    box = box or BBox(x=300 + 150 * track, y=200, w=100, h=100)
    return Detection(kind="face", bbox=box, track_id=track, score=1.0, encoding=vec)


def profile(track: int, box: BBox | None = None) -> Detection:
    box = box or BBox(x=300 + 150 * track, y=200, w=100, h=100)
    return Detection(kind="profile", bbox=box, track_id=track, score=1.0)


def woman(i: int) -> list[float]:
    return clip_faces(WOMAN)[i][1]


def keys_of(result) -> list[str]:
    return [
        s.person_key
        for o in result.outgoing
        if o.topic == topics.sightings()
        for s in o.payload.sightings
    ]


def test_two_faces_of_one_frame_are_two_identities_even_when_close(tmp_path, db):
    kit, rose = (v for _, v in face_data()["test/kit_with_rose.jpg"])
    # Threshold 1.0: by distance alone (0.85 apart) they would be one identity.
    ing = make_ingest(tmp_path, db, unknown_threshold=1.0)
    r = ing.process([message("near1", 1, T0, [face(kit, 1), face(rose, 2)])])
    a, b = keys_of(r)
    assert a.startswith("u") and b.startswith("u") and a != b
    # Seen together again a frame later: still two, each on its own track.
    r = ing.process([message("near1", 2, T0 + 0.04, [face(kit, 1), face(rose, 2)])])
    assert keys_of(r) == [a, b]


def test_two_tracks_seen_together_on_one_camera_are_two_identities(tmp_path, db):
    kit, rose = (v for _, v in face_data()["test/kit_with_rose.jpg"])
    ing = make_ingest(tmp_path, db, unknown_threshold=1.0)
    (a,) = keys_of(ing.process([message("near1", 1, T0, [face(kit, 1)])]))
    # Rose's first encoding comes while Kit's track is still in view (he was missed
    # in this frame): she is not Kit's identity.
    (b,) = keys_of(ing.process([message("near1", 2, T0 + 0.1, [face(rose, 2)])]))
    assert a != b


def test_the_same_stranger_on_two_near_cameras_keeps_one_identity(tmp_path, db):
    ing = make_ingest(tmp_path, db)
    (a,) = keys_of(ing.process([message("near1", 1, T0, [face(woman(0), 1)])]))
    (b,) = keys_of(ing.process([message("near2", 1, T0 + 1.0, [face(woman(3), 1)])]))
    assert a == b and a.startswith("u")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(UnknownIdentity)) == 1


def test_no_identity_is_in_two_places_nobody_could_walk_between(tmp_path, db):
    kit, rose = (v for _, v in face_data()["test/kit_with_rose.jpg"])
    ing = make_ingest(tmp_path, db, unknown_threshold=1.0)
    # Two strangers at the same time 80 m apart: two identities however alike.
    (a,) = keys_of(ing.process([message("near1", 1, T0, [face(kit, 1)])]))
    (b,) = keys_of(ing.process([message("far", 1, T0, [face(rose, 1)])]))
    assert a != b
    # Even one face seen there a second later is not the identity of near1.
    ing2 = make_ingest(tmp_path / "other", db)
    (c,) = keys_of(ing2.process([message("near2", 2, T0 + 10, [face(woman(0), 3)])]))
    (d,) = keys_of(ing2.process([message("far", 2, T0 + 11, [face(woman(2), 3)])]))
    assert c != d
    # A minute later she could have walked there: she joins the nearest she can be.
    (e,) = keys_of(ing2.process([message("far", 3, T0 + 90, [face(woman(4), 7)])]))
    assert e in (c, d)


def test_where_an_identity_was_last_seen_survives_a_restart(tmp_path, db):
    ing = make_ingest(tmp_path, db)
    (key,) = keys_of(ing.process([message("near1", 1, T0, [face(woman(0), 1)])]))
    again = make_ingest(tmp_path, db)  # core restarted
    place = again.clusters.places[int(key[1:])]
    assert (place.camera_id, place.at) == ("near1", T0) and place.x is not None
    # So the travel rule holds across the restart: 80 m away a second later is new.
    (other,) = keys_of(again.process([message("far", 1, T0 + 1, [face(woman(1), 1)])]))
    assert other != key


def test_a_batch_that_fails_to_store_leaves_nothing_ahead_of_the_database(
    tmp_path, db, monkeypatch
):
    """A new stranger's identity is allocated in a transaction of its own (the live
    view names it before the sightings are stored); when the store then fails, memory
    holds what the database holds: that identity, not the batch's track evidence."""
    ing = make_ingest(tmp_path, db)
    obama = face_data()["test/obama1.jpg"][0][1]
    (named,) = keys_of(ing.process([message("near2", 1, T0 - 1, [face(obama, 2)])]))
    assert named == "p1"

    def msg() -> Incoming:  # signed afresh at each send, as a camera re-sends
        return message("near1", 1, T0, [face(woman(0), 1)])

    def fail(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("core.writer.sighting_batches", fail)
    located = ing.locate([msg()])
    (shown,) = [
        o.payload.person_key
        for o in located.live
        if isinstance(o.payload, PersonPosition) and o.payload.identity == "unknown"
    ]
    assert ing.store(located).acks == {}  # not stored, not acked
    with db.session() as s:
        assert [f"u{i}" for i in s.scalars(select(UnknownIdentity.id))] == [shown]
        assert s.scalar(select(func.count()).select_from(Sighting)) == 1  # Obama's only
    assert ing.clusters.ids == [int(shown[1:])]  # reloaded: what the database holds
    assert len(ing.tracks) == 1  # only Obama's committed track
    monkeypatch.undo()
    (key,) = keys_of(ing.process([msg()]))  # the camera re-sends: the key shown live
    assert key == shown
    assert ing.clusters.ids == [int(key[1:])]
    # The failure did not cost Obama's track its name.
    (still,) = keys_of(ing.process([message("near2", 2, T0, [profile(2)])]))
    assert still == "p1"


def test_a_name_never_crosses_a_cut_onto_the_next_face(tmp_path, db):
    """Obama's track continues on a stranger after a hard cut (the edge kept the
    track): no detection after the cut is stored or published as Obama."""
    ing = make_ingest(tmp_path, db, identity_carry_s=4.0)
    obama = face_data()["test/obama1.jpg"][0][1]
    box = BBox(x=300, y=200, w=100, h=100)
    seq, t = 0, T0
    before: list[SightingMsg] = []
    after: list[SightingMsg] = []

    def send(det: Detection, into: list) -> None:
        nonlocal seq, t
        seq, t = seq + 1, t + 0.2
        r = ing.process([message("near1", seq, t, [det])])
        into.extend(
            s
            for o in r.outgoing
            if isinstance(o.payload, SightingBatch)
            for s in o.payload.sightings
        )

    send(face(obama, 1, box), before)
    for _ in range(3):
        send(profile(1, box), before)
    for i in range(3):  # the cut: the same track, another person
        send(face(woman(i), 1, box), after)
        send(profile(1, box), after)
        send(profile(1, box), after)
    assert [s.label for s in before] == ["obama"] * 4
    assert [s.evidence for s in before] == ["matched", "carried", "carried", "carried"]
    assert all(s.label != "obama" and s.candidate != "obama" for s in after)
    assert {s.identity for s in after} == {"unknown"}  # she is a stranger, one identity
    assert len({s.person_key for s in after}) == 1
    with db.session() as s:
        rows = s.execute(
            select(Sighting.person_id, Sighting.evidence).order_by(Sighting.seen_at)
        ).all()
    assert [r.person_id is not None for r in rows] == [True] * 4 + [False] * 9
    assert [r.evidence for r in rows[4:7]] == ["matched", "carried", "carried"]
