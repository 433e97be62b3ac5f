"""The quality gate on real faces: sharp portraits pass, blur and turned heads do not."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.analyse import Analyser
from edge.config import EdgeConfig
from edge.detect import Box
from edge.encode import InlineEncoder
from edge.quality import QualityLimits, assess
from edge.sources import SourceStats, frames, open_source
from srs.wire.payloads import CameraStatus, DetectionBatch

HEAD_TURN = "video/head-pose-face-detection-female.gif"
LIMITS = QualityLimits()  # the defaults of EdgeConfig


def face_boxes(image: np.ndarray) -> list[Box]:
    """dlib HOG's faces in ``image`` (found at 640 px wide), in its own pixels."""
    import dlib

    height, width = image.shape[:2]
    f = min(1.0, 640 / width)
    small = cv2.resize(image, (round(width * f), round(height * f)), interpolation=cv2.INTER_AREA)
    rects = dlib.get_frontal_face_detector()(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), 1)
    return [
        (int(r.left() / f), int(r.top() / f), int(r.width() / f), int(r.height() / f))
        for r in rects
    ]


def read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image


def portraits(media: Path) -> list[Path]:
    return sorted(p for p in (media / "faces" / "train").rglob("*") if p.is_file())


def clip_frames(path: Path) -> list[np.ndarray]:
    return [f.image for f in frames(open_source(str(path)), threading.Event(), SourceStats())]


def test_every_training_portrait_passes(media: Path) -> None:
    paths = portraits(media)
    assert len(paths) >= 9
    for path in paths:
        image = read(path)
        (box,) = face_boxes(image)
        q = assess(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), box, LIMITS)
        assert q.refused is None, (path.name, q)
        assert q.quality >= 0.5, (path.name, q)  # large, sharp, facing the camera


def test_every_test_photo_face_passes(media: Path) -> None:
    for path in sorted((media / "faces" / "test").glob("*.jp*g")):
        image = read(path)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        for box in face_boxes(image):
            assert assess(gray, box, LIMITS).refused is None, path.name


def test_strongly_blurred_face_is_refused_for_blur(media: Path) -> None:
    image = read(media / "faces" / "train" / "obama" / "obama.jpg")
    (box,) = face_boxes(image)
    # sigma = 3 px once the face is shrunk to 64 px: its encoding moves ~0.6 away.
    blurred = cv2.GaussianBlur(image, (0, 0), box[2] * 3 / 64)
    q = assess(cv2.cvtColor(blurred, cv2.COLOR_BGR2GRAY), box, LIMITS)
    assert q.refused == "blur", q
    sharp = assess(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), box, LIMITS)
    assert q.quality < sharp.quality


def test_sharpness_does_not_grow_with_face_size(media: Path) -> None:
    # The same portrait at full size and shrunk to a third: comparable scores (the old
    # raw-crop Laplacian differed by the pixel count's effect on smooth skin).
    image = read(media / "faces" / "train" / "biden" / "biden2.jpg")
    (box,) = face_boxes(image)
    small = cv2.resize(image, None, fx=1 / 3, fy=1 / 3, interpolation=cv2.INTER_AREA)
    small_box: Box = tuple(v // 3 for v in box)  # type: ignore[assignment]
    big_q = assess(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), box, LIMITS)
    small_q = assess(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), small_box, LIMITS)
    assert big_q.refused is None and small_q.refused is None
    assert 0.5 < big_q.sharpness / small_q.sharpness < 2.0


def test_turned_head_gets_low_frontality(media: Path) -> None:
    images = clip_frames(media / HEAD_TURN)
    # Frame 9 looks at the camera; frames 12-14 are turned well to the side.
    frontal = images[9]
    (box,) = face_boxes(frontal)
    assert assess(cv2.cvtColor(frontal, cv2.COLOR_BGR2GRAY), box, LIMITS).frontality > 0.8
    for i in (12, 13, 14):
        (box,) = face_boxes(images[i])
        q = assess(cv2.cvtColor(images[i], cv2.COLOR_BGR2GRAY), box, LIMITS)
        assert q.frontality < LIMITS.frontality_min, (i, q)
        assert q.refused == "pose", (i, q)


def test_small_face_is_refused_as_small(media: Path) -> None:
    image = read(media / "faces" / "train" / "obama" / "obama.jpg")
    x, y = face_boxes(image)[0][:2]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert assess(gray, (x, y, 20, 20), LIMITS).refused == "small"


@pytest.fixture(scope="module")
def head_turn_run(media: Path) -> tuple[Analyser, list[dict[str, object]]]:
    count = [0]
    analyser = Analyser(
        EdgeConfig(encode_refresh_s=0.3), InlineEncoder(), clock=lambda: count[0] / 12.5
    )
    messages: list[dict[str, object]] = []
    for frame in frames(open_source(str(media / HEAD_TURN)), threading.Event(), SourceStats()):
        count[0] += 1
        analyser.analyse(frame)
        messages += [m.fields for m in analyser.ready()]
    return analyser, messages + [m.fields for m in analyser.ready(drain=True)]


def test_encodings_carry_their_quality(
    head_turn_run: tuple[Analyser, list[dict[str, object]]],
) -> None:
    _, messages = head_turn_run
    batches = [DetectionBatch(camera_id="cam1", seq=i, **m) for i, m in enumerate(messages)]  # type: ignore[arg-type]
    encoded = [d for b in batches for d in b.detections if d.encoding is not None]
    assert encoded
    assert all(d.quality is not None and 0 < d.quality <= 1 for d in encoded)
    assert all(d.quality is None for b in batches for d in b.detections if d.encoding is None)


def test_refusals_are_counted_by_reason_in_the_status(
    head_turn_run: tuple[Analyser, list[dict[str, object]]],
) -> None:
    analyser, _ = head_turn_run
    stats = analyser.stats
    assert stats.gated_by["pose"] > 0  # the head turns away while tracked as a face
    assert sum(stats.gated_by.values()) == stats.gated
    status = CameraStatus(camera_id="cam1", state="online", sent_at=1.0, gated=dict(stats.gated_by))
    assert status.gated == stats.gated_by


def test_old_blur_min_setting_still_loads() -> None:
    cfg = EdgeConfig.model_validate({"blur_min": 40.0, "cameras": {"lobby": {"blur_min": 10}}})
    assert cfg.quality_sharpness_min == EdgeConfig().quality_sharpness_min
    assert cfg.for_camera("lobby").camera_id == "lobby"
