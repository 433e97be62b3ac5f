"""New anonymous identities per camera (core/identity_limit.py), alone and in recognition."""

from __future__ import annotations

import logging

import numpy as np

from core.identify import recognise
from core.identity_limit import NewIdentityLimit
from core.messages import Accepted
from srs.wire.payloads import BBox, Detection, DetectionBatch
from tests.core.ingest_helpers import batch, face_data
from tests.core.test_identify import state


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_camera_gets_its_budget_then_one_a_second_at_60_a_minute():
    clock = Clock()
    limit = NewIdentityLimit(60, clock=clock)
    assert sum(limit.allow("cam1") for _ in range(100)) == 60
    assert limit.allow("cam2")  # each camera has its own budget
    clock.now += 1.0
    assert limit.allow("cam1") and not limit.allow("cam1")
    clock.now += 60.0
    assert sum(limit.allow("cam1") for _ in range(100)) == 60  # refilled, not beyond


def test_a_batch_that_was_not_stored_gives_its_tokens_back():
    """A store outage retried every second must not use up a camera's budget."""
    limit = NewIdentityLimit(3, clock=Clock())
    for _ in range(5):
        limit.begin()
        assert all(limit.allow("cam1") for _ in range(3))
        limit.rollback()
    limit.begin()
    assert sum(limit.allow("cam1") for _ in range(5)) == 3


def test_zero_means_no_limit():
    limit = NewIdentityLimit(0)
    assert all(limit.allow("cam1") for _ in range(10_000))


def test_a_burst_is_logged_once_then_summed_up(caplog):
    clock = Clock()
    limit = NewIdentityLimit(2, clock=clock, log_window_s=60.0)
    with caplog.at_level(logging.WARNING, logger="core.identity_limit"):
        for _ in range(500):
            limit.allow("cam1")
        assert len(caplog.records) == 1 and "cam1" in caplog.records[0].getMessage()
        clock.now += 61.0
        for _ in range(5):
            limit.allow("cam1")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "497 more new face(s)" in lines[1]  # 500 - 2 allowed - 1 logged


def _random_faces(rng: np.random.Generator, camera_id: str, seq: int, n: int) -> DetectionBatch:
    """n random 128-d unit vectors: not faces, the flood of issue 17 (each one a stranger)."""
    vecs = rng.normal(size=(n, 128))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    dets = [
        Detection(
            kind="face",
            bbox=BBox(x=20 * i % 700, y=10, w=80, h=80),
            track_id=seq * 1000 + i,
            score=1.0,
            encoding=[float(x) for x in v],
        )
        for i, v in enumerate(vecs)
    ]
    return DetectionBatch(
        camera_id=camera_id,
        seq=seq,
        captured_at=1000.0 + seq,
        frame_width=800,
        frame_height=600,
        detections=dets,
    )


def test_a_flood_of_random_faces_makes_at_most_the_budget_of_identities(tmp_path):
    """300 messages of 32 random faces made 9,600 identities; now 60, the rest counted."""
    st = state(tmp_path)
    st.new_identities = NewIdentityLimit(60, clock=lambda: 5.0)  # all within one instant
    rng = np.random.default_rng(17)
    limited = 0
    kinds: list[str] = []
    for seq in range(30):
        got = recognise(st, [Accepted(_random_faces(rng, "flood", seq, 32), 0.0)], st.allocate)
        st.tracks.commit()
        limited += got.limited
        kinds += [got.of(0, i).kind for i in range(32)]
    assert len(st.allocated) == 60
    assert limited == 30 * 32 - 60
    assert kinds.count("unknown") == 60 and kinds.count("unidentified") == limited
    # Another camera's stranger still becomes an identity.
    kit = face_data()["train/kit_harington/john1.jpeg"]
    other = recognise(st, [Accepted(batch("cam2", 1, kit), 0.0)], st.allocate)
    assert other.of(0, 0).kind == "unknown" and other.limited == 0


def test_a_stranger_seen_again_is_never_limited(tmp_path):
    """Only NEW identities cost: a real face joining its identity passes an empty bucket."""
    st = state(tmp_path)
    clock = Clock()
    st.new_identities = NewIdentityLimit(1, clock=clock)
    faces = face_data()
    kit = faces["train/kit_harington/john1.jpeg"]
    first = recognise(st, [Accepted(batch("cam1", 1, kit, captured_at=1000.0), 0.0)], st.allocate)
    st.tracks.commit()
    assert first.of(0, 0).key == "u101"
    rose = faces["train/rose_leslie/img1.jpg"]
    refused = recognise(
        st, [Accepted(batch("cam1", 2, rose, captured_at=1010.0), 0.0)], st.allocate
    )
    st.tracks.commit()
    assert refused.of(0, 0).kind == "unidentified" and refused.limited == 1
    again = recognise(st, [Accepted(batch("cam1", 3, kit, captured_at=1020.0), 0.0)], st.allocate)
    assert again.of(0, 0).key == "u101" and again.limited == 0
