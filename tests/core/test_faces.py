"""Face crops in core: judged, kept by the keep-the-best rule, erased and moved with
their sightings, served to operators only (get_faces)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageFilter
from sqlalchemy import func, select

from core import store
from core.faces import judge_crop
from core.ingest import Ingest
from core.messages import Incoming
from core.retention import purge
from core.store.faces import MAX_KEPT, best_crops
from core.store.models import FaceCrop
from srs.wire import topics
from srs.wire.payloads import BBox, Detection, DetectionBatch
from srs.wire.signing import sign
from tests.core.ingest_helpers import MEDIA, camera_key, core_config, face_data

CAM1 = camera_key("cam1")
OBAMA = "test/obama1.jpg"


def crop_b64(photo: str, box: BBox, blur: float = 0.0) -> str:
    """A 112 px square crop of a real face, as an edge sends it (``blur``: a worse one)."""
    with Image.open(MEDIA / photo) as raw:
        img = raw.convert("RGB")
        img.thumbnail((800, 800))  # face_data's boxes are at this scale
        face = img.crop((box.x, box.y, box.x + box.w, box.y + box.h)).resize((112, 112))
    if blur:
        face = face.filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    face.save(out, "JPEG", quality=80)
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def db(tmp_path):
    faces = face_data()
    database = store.open_store(core_config(tmp_path))
    with database.session() as s:
        store.add_camera(s, "cam1", CAM1.public_key_b64)
        person, _ = store.get_or_create_person(s, "obama")
        vecs = [np.array(f[0][1]) for k, f in faces.items() if k.startswith("train/obama/")]
        store.add_encodings(s, person, vecs)
    yield database
    database.close()


@pytest.fixture
def ingest(tmp_path, db):
    return Ingest(db, core_config(tmp_path))


def send(ingest: Ingest, seq: int, photo: str, track: int, blur: float, at: float = 0.0):
    ((box, enc),) = face_data()[photo][:1]
    det = Detection(
        kind="face",
        bbox=box,
        track_id=track,
        score=1.0,
        encoding=enc,
        face_jpeg_b64=crop_b64(photo, box, blur),
    )
    b = DetectionBatch(
        camera_id="cam1",
        seq=seq,
        captured_at=at or 1.7e9 + seq,  # in the past: core refuses the future
        frame_width=800,
        frame_height=600,
        detections=[det],
    )
    topic = topics.detections("cam1")
    return ingest.process([Incoming(topic, sign(b, topic, CAM1))])


def crops(db, key: str) -> list[dict]:
    with db.session() as s:
        return best_crops(s, key, 10)


def test_judging_prefers_the_sharp_crop_and_refuses_what_is_no_jpeg():
    ((box, _),) = face_data()[OBAMA][:1]
    sharp = judge_crop(crop_b64(OBAMA, box))
    soft = judge_crop(crop_b64(OBAMA, box, blur=2.0))
    assert sharp is not None and soft is not None
    assert sharp.quality > soft.quality
    assert judge_crop(base64.b64encode(b"not a picture").decode()) is None
    assert judge_crop("%%%") is None


def test_one_crop_per_track_the_best_and_at_most_a_few_per_person(db, ingest):
    send(ingest, 1, OBAMA, track=1, blur=3.0)
    send(ingest, 2, OBAMA, track=1, blur=0.0)  # the same track, better: replaces it
    send(ingest, 3, OBAMA, track=1, blur=4.0)  # the same track, worse: ignored
    (only,) = crops(db, "p1")
    assert only["sighting_id"] == 2 and only["track_id"] == 1
    for i, blur in enumerate([0.5, 1.0, 1.5, 2.0, 2.5, 3.0], start=2):  # six more tracks
        send(ingest, 10 + i, OBAMA, track=i, blur=blur)
    kept = crops(db, "p1")
    assert len(kept) == MAX_KEPT
    assert [c["track_id"] for c in kept] == [1, 2, 3, 4, 5]  # the sharpest, best first
    assert [c["quality"] for c in kept] == sorted((c["quality"] for c in kept), reverse=True)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(FaceCrop)) == MAX_KEPT


def test_crops_follow_naming_and_go_with_erasure_and_retention(db, ingest):
    send(ingest, 1, "test/johnsnow_test1.jpg", track=1, blur=0.0)  # a stranger
    with db.session() as s:
        (ident,) = [k for k in ("u1", "u2") if best_crops_or_none(s, k)]
        person = store.name_identity(s, ident, "Jon", actor="test")
    assert len(crops(db, f"p{person.id}")) == 1  # the crop moved with the sightings
    with db.session() as s:
        store.delete_person(s, "Jon")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(FaceCrop)) == 0
    send(ingest, 2, OBAMA, track=1, blur=0.0, at=1000.0)
    with db.session() as s:
        purge(s, retention_days=30, now=1000.0 + 31 * 86400)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(FaceCrop)) == 0


def best_crops_or_none(s, key: str) -> list[dict] | None:
    try:
        return best_crops(s, key)
    except store.StoreError:
        return None


def test_merging_and_splitting_move_the_crops_with_the_sightings(db, ingest):
    send(ingest, 1, OBAMA, track=1, blur=0.0)
    send(ingest, 2, OBAMA, track=2, blur=1.0)
    with db.session() as s:
        other, _ = store.get_or_create_person(s, "Barack")
        store.merge_keys(s, "p1", f"p{other.id}", actor="test")
    assert len(crops(db, f"p{other.id}")) == 2
    with db.session() as s:
        split = store.split_identity(s, f"p{other.id}", camera_id="cam1", track_id=2)
    (moved,) = crops(db, str(split["new_key"]))
    assert moved["track_id"] == 2
    assert [c["track_id"] for c in crops(db, f"p{other.id}")] == [1]
