"""Detection, tracking and encodings on the real footage (tests/data/media/video)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.analyse import Analyser
from edge.config import EdgeConfig
from edge.encode import InlineEncoder
from edge.sources import SourceStats, frames, open_source
from srs.wire.payloads import DetectionBatch

CORRIDOR = "video/face-demographics-walking.gif"
HEAD_TURN = "video/head-pose-face-detection-female.gif"


def run_clip(path: Path, **overrides: Any) -> tuple[Analyser, list[dict[str, Any]]]:
    cfg = EdgeConfig(source=str(path), **overrides)
    # As the node runs a file: timers follow the frames' own timestamps.
    analyser = Analyser(cfg, InlineEncoder(), deterministic=True)
    messages: list[dict[str, Any]] = []
    for frame in frames(open_source(str(path)), threading.Event(), SourceStats()):
        analyser.analyse(frame)
        messages += analyser.ready()
    messages += analyser.ready(drain=True)
    return analyser, messages


def encodings_by_track(messages: list[dict[str, Any]]) -> dict[int, list[np.ndarray]]:
    out: dict[int, list[np.ndarray]] = {}
    for msg in messages:
        for det in msg["detections"]:
            if "encoding" in det:
                out.setdefault(det["track_id"], []).append(np.array(det["encoding"]))
    return out


@pytest.fixture(scope="module")
def corridor(media: Path) -> tuple[Analyser, list[dict[str, Any]]]:
    # Refresh every other frame so each walker yields encodings from several frames;
    # frontal only (profiles are tested on the head-turn clip).
    # encoding_wait_s=0: each encoding is settled on the next frame (deterministic mode
    # settles at request time + encoding_wait_s), so refreshes can follow each other.
    return run_clip(media / CORRIDOR, encode_refresh_s=0.15, encoding_wait_s=0.0, profiles=False)


@pytest.fixture(scope="module")
def head_turn(media: Path) -> tuple[Analyser, list[dict[str, Any]]]:
    return run_clip(media / HEAD_TURN, encode_refresh_s=3600)


def test_corridor_yields_both_walkers_with_encodings(
    corridor: tuple[Analyser, list[dict[str, Any]]],
) -> None:
    _, messages = corridor
    encodings = encodings_by_track(messages)
    # The two walkers' heads are in the upper half of the 480x270 frame.
    walker_tracks = {
        det["track_id"]
        for msg in messages
        for det in msg["detections"]
        if det["kind"] == "face" and det["bbox"]["y"] < 135
    }
    with_encoding = walker_tracks & set(encodings)
    assert len(with_encoding) >= 2, (walker_tracks, set(encodings))
    for msg in messages:  # every message obeys the wire contract
        DetectionBatch(camera_id="cam1", seq=0, **msg)


def test_encodings_of_one_person_stay_within_0_6(
    corridor: tuple[Analyser, list[dict[str, Any]]],
) -> None:
    _, messages = corridor
    tracks = {tid: encs for tid, encs in encodings_by_track(messages).items() if len(encs) >= 2}
    assert len(tracks) >= 2
    for tid, encs in tracks.items():
        stack = np.stack(encs)
        distances = np.linalg.norm(stack[:, None, :] - stack[None, :, :], axis=-1)
        assert distances.max() < 0.6, f"track {tid}: max distance {distances.max():.3f}"


def test_encoding_values_are_rounded(corridor: tuple[Analyser, list[dict[str, Any]]]) -> None:
    enc = next(iter(encodings_by_track(corridor[1]).values()))[0]
    assert np.allclose(enc, np.round(enc, 5))


def test_head_turn_yields_profiles_on_the_same_track(
    head_turn: tuple[Analyser, list[dict[str, Any]]],
) -> None:
    analyser, messages = head_turn
    kinds = [det["kind"] for msg in messages for det in msg["detections"]]
    assert "profile" in kinds and "face" in kinds
    profiles = [det for msg in messages for det in msg["detections"] if det["kind"] == "profile"]
    assert all("encoding" not in det for det in profiles)
    tracks = {det["track_id"] for msg in messages for det in msg["detections"]}
    assert len(tracks) == 1  # one head, turning: one track throughout
    assert analyser.stats.encodings_sent == 1  # once per track (refresh is 5 s)


def test_each_frame_with_faces_is_one_message(
    head_turn: tuple[Analyser, list[dict[str, Any]]],
) -> None:
    analyser, messages = head_turn
    assert len(messages) <= analyser.stats.frames_analysed
    assert [m["captured_at"] for m in messages] == sorted(m["captured_at"] for m in messages)


def test_downscaled_analysis_reports_source_pixels(media: Path) -> None:
    _, messages = run_clip(media / HEAD_TURN, analysis_width=240, min_face_px=16, encode=False)
    assert messages
    boxes = [det["bbox"] for msg in messages for det in msg["detections"]]
    assert all(msg["frame_width"] == 480 for msg in messages)
    assert max(b["w"] for b in boxes) > 60  # the ~80 px face, not its 40 px analysed size


def test_hog_detector_finds_the_frontal_face(media: Path) -> None:
    _, messages = run_clip(media / HEAD_TURN, detector="hog", profiles=False, encode=False)
    assert sum(1 for m in messages for d in m["detections"] if d["kind"] == "face") >= 10


def test_snapshots_only_when_switched_on(media: Path) -> None:
    import base64

    import cv2

    frame = next(
        iter(frames(open_source(str(media / HEAD_TURN)), threading.Event(), SourceStats()))
    )
    for snapshots in (False, True):
        analyser = Analyser(EdgeConfig(snapshots=snapshots, encode=False), None)
        analyser.analyse(frame)
        (msg,) = analyser.ready(drain=True)
        if not snapshots:
            assert "snapshot_jpeg_b64" not in msg
            continue
        jpg = np.frombuffer(base64.b64decode(msg["snapshot_jpeg_b64"]), np.uint8)
        image = cv2.imdecode(jpg, cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 160
