"""Detection, tracking and encodings on the real footage (tests/data/media/video)."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge.analyse import Analyser, _to_source
from edge.config import EdgeConfig
from edge.detect import Detector
from edge.encode import InlineEncoder
from edge.sources import SourceStats, frames, open_source
from srs.wire.payloads import DetectionBatch
from tests.edge.footage import FEMALE, MALE, join_clips

CORRIDOR = "video/face-demographics-walking.gif"
HEAD_TURN = "video/head-pose-face-detection-female.gif"


def run_clip(path: Path, **overrides: Any) -> tuple[Analyser, list[dict[str, Any]]]:
    cfg = EdgeConfig(source=str(path), **overrides)
    # As the node runs a file: timers follow the frames' own timestamps.
    analyser = Analyser(cfg, InlineEncoder(), deterministic=True)
    messages: list[dict[str, Any]] = []
    for frame in frames(open_source(str(path)), threading.Event(), SourceStats()):
        analyser.analyse(frame)
        messages += [m.fields for m in analyser.ready()]
    messages += [m.fields for m in analyser.ready(drain=True)]
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
    # Once per track, and again only when the face turns frontal after a profile (no
    # timed refresh in this short clip).
    seq = [det["kind"] for msg in messages for det in msg["detections"]]
    turns = sum(1 for a, b in itertools.pairwise(seq) if (a, b) == ("profile", "face"))
    assert 1 <= analyser.stats.encodings_sent <= 1 + turns


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


def test_a_message_keeps_its_frame_s_clock_base(media: Path) -> None:
    """A live frame's base rides with its message to the outbox, so a clock step
    while the message waits for its encodings still re-times it."""
    frame = next(
        iter(frames(open_source(str(media / HEAD_TURN)), threading.Event(), SourceStats()))
    )
    analyser = Analyser(EdgeConfig(encode=False), None)
    analyser.analyse(dataclasses.replace(frame, clock_base=12_345.0))
    (msg,) = analyser.ready(drain=True)
    assert msg.clock_base == 12_345.0 and msg.fields["captured_at"] == round(frame.captured_at, 3)


def test_snapshots_only_when_switched_on(media: Path) -> None:
    import base64

    frame = next(
        iter(frames(open_source(str(media / HEAD_TURN)), threading.Event(), SourceStats()))
    )
    for snapshots in (False, True):
        analyser = Analyser(EdgeConfig(snapshots=snapshots, encode=False), None)
        analyser.analyse(frame)
        (msg,) = [m.fields for m in analyser.ready(drain=True)]
        if not snapshots:
            assert "snapshot_jpeg_b64" not in msg
            continue
        jpg = np.frombuffer(base64.b64decode(msg["snapshot_jpeg_b64"]), np.uint8)
        image = cv2.imdecode(jpg, cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 160


# --- tracks break where reality breaks -------------------------------------------


@pytest.fixture(scope="module")
def cut_clip(media: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The man's clip, then a hard cut to the woman's (who starts in profile at
    about the place of his face): the clip and the time of the first frame after the cut."""
    path = tmp_path_factory.mktemp("cut") / "man-then-woman.avi"
    _, cut_index = join_clips(path, media / MALE, media / FEMALE)
    times = [
        f.captured_at for f in frames(open_source(str(path)), threading.Event(), SourceStats())
    ]
    return path, times[cut_index]


def tracks_before_and_after(
    messages: list[dict[str, Any]], cut_at: float
) -> tuple[set[int], set[int]]:
    before = {d["track_id"] for m in messages if m["captured_at"] < cut_at for d in m["detections"]}
    after = {d["track_id"] for m in messages if m["captured_at"] >= cut_at for d in m["detections"]}
    return before, after


def test_no_track_spans_a_hard_cut(cut_clip: tuple[Path, float]) -> None:
    path, cut_at = cut_clip
    analyser, messages = run_clip(path)
    before, after = tracks_before_and_after(messages, round(cut_at, 3))
    assert before and after and not before & after
    assert analyser.stats.scene_cuts == 1  # and no false cut inside either clip
    # the woman's face is encoded under her own track
    assert set(encodings_by_track(messages)) & after


def test_a_foreign_encoding_splits_the_track(cut_clip: tuple[Path, float]) -> None:
    """Without the cut detector the man's track runs on onto the woman (her profile sits
    where his face was). No timer refresh here: her face turning frontal is encoded at
    once, and that encoding, far from his, splits the track from that frame on."""
    path, cut_at = cut_clip
    analyser, messages = run_clip(path, scene_cuts=False, encode_refresh_s=3600)
    before, after = tracks_before_and_after(messages, round(cut_at, 3))
    assert before & after  # the situation the split repairs
    assert analyser.stats.track_splits == 1
    man = before.pop()
    encodings = encodings_by_track(messages)
    for tid, encs in encodings.items():  # every track's encodings are one person's
        stack = np.stack(encs)
        assert np.linalg.norm(stack[:, None] - stack[None], axis=-1).max() < 0.6, tid
    # the man's track carries no encoding after the cut: hers went to the new track
    assert not any(
        "encoding" in d and d["track_id"] == man
        for m in messages
        if m["captured_at"] >= round(cut_at, 3)
        for d in m["detections"]
    )
    assert (after - {man}) & set(encodings)


def test_stills_never_share_a_track_and_each_is_scanned_in_full(
    media: Path, tmp_path: Path
) -> None:
    faces = media / "faces"
    stills = [*sorted((faces / "test").glob("*.jpg")), faces / "two_people.jpg"]
    stills += [faces / "train/biden/biden.jpg", faces / "train/rose_leslie/img1.jpg"]
    for i, still in enumerate(stills):  # unrelated photos in one folder
        shutil.copy(still, tmp_path / f"{i:02d}-{still.name}")
    cfg = EdgeConfig(source=str(tmp_path), encode=False)
    analyser = Analyser(cfg, None, deterministic=True)
    detector = Detector(cfg)
    found: list[list[tuple[str, tuple[int, int, int, int], int]]] = []
    expected: list[list[tuple[str, tuple[int, int, int, int]]]] = []
    for frame in frames(open_source(str(tmp_path)), threading.Event(), SourceStats()):
        assert frame.still
        analyser.analyse(frame)
        messages = [m.fields for m in analyser.ready()]
        assert len(messages) <= 1
        found.append(
            sorted(
                (d["kind"], tuple(d["bbox"].values()), d["track_id"])
                for m in messages
                for d in m["detections"]
            )
        )
        # what the full-frame detector finds in this image alone, in source pixels
        height, width = frame.image.shape[:2]
        scale = width / cfg.analysis_width
        small = cv2.resize(
            frame.image,
            (cfg.analysis_width, round(height / scale)),
            interpolation=cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR,
        )
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        expected.append(
            sorted((d.kind, _to_source(d.box, scale, width, height)) for d in detector.detect(gray))
        )
    assert len(found) == len(stills) == 8
    assert [[(k, b) for k, b, _ in image] for image in found] == expected
    assert sum(len(image) for image in found) >= len(stills)  # real faces in every photo
    per_image = [{tid for _, _, tid in image} for image in found]
    all_ids = [tid for ids in per_image for tid in ids]
    assert len(all_ids) == len(set(all_ids))  # no track id in two images
