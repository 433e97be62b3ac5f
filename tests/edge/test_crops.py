"""Face crops on real faces: cut, judged, sent once per better view, switchable."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.analyse import Analyser
from edge.config import EdgeConfig
from edge.crops import CROP_PX, FaceCrops, cut_face
from edge.encode import InlineEncoder
from edge.sources import SourceStats, frames, open_source
from srs.wire.payloads import MAX_FACE_B64, DetectionBatch

PHOTO = "faces/test/obama1.jpg"
CLIP = "video/head-pose-face-detection-female.gif"


def real_face(media: Path) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    import face_recognition

    raw = cv2.imread(str(media / PHOTO))
    assert raw is not None
    image = cv2.resize(raw, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    ((top, right, bottom, left),) = face_recognition.face_locations(rgb)
    return image, (left, top, right - left, bottom - top)


def decode(b64: str) -> np.ndarray:
    data = np.frombuffer(base64.b64decode(b64), np.uint8)
    picture = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert picture is not None
    return picture


def test_the_crop_of_a_real_face_is_a_small_jpeg_that_still_shows_the_face(media: Path) -> None:
    import face_recognition

    image, box = real_face(media)
    crop = cut_face(image, box)
    assert crop is not None and len(crop.jpeg_b64) <= MAX_FACE_B64
    picture = decode(crop.jpeg_b64)
    assert picture.shape == (CROP_PX, CROP_PX, 3)
    # Whoever looks at it sees the face: dlib finds exactly one in the crop.
    rgb = np.ascontiguousarray(picture[:, :, ::-1])
    assert len(face_recognition.face_locations(rgb, number_of_times_to_upsample=1)) == 1
    blurred = cut_face(cv2.GaussianBlur(image, (0, 0), 3), box)
    assert blurred is not None and blurred.score < crop.score


def test_a_track_sends_its_face_once_and_again_only_when_a_better_view_came(
    media: Path,
) -> None:
    image, box = real_face(media)
    soft = cv2.GaussianBlur(image, (0, 0), 2)
    crops = FaceCrops()
    crops.cut(1, soft, box)
    assert crops.take(1) is None  # not before its encoding succeeded
    crops.keep(1, 1)
    first = crops.take(1)
    assert first is not None and crops.take(1) is None  # sent once
    crops.cut(1, cv2.GaussianBlur(image, (0, 0), 4), box)
    crops.keep(1, 1)
    assert crops.take(1) is None  # a worse view is not sent
    crops.cut(1, image, box)
    crops.keep(1, 7)  # the encoding split the track: the crop is the new track's
    assert crops.take(1) is None
    sharp = crops.take(7)
    assert sharp is not None and sharp != first
    off = FaceCrops(enabled=False)
    off.cut(1, image, box)
    off.keep(1, 1)
    assert off.take(1) is None


def run(media: Path, **overrides: Any) -> list[dict[str, Any]]:
    path = media / CLIP
    analyser = Analyser(
        EdgeConfig(source=str(path), encode_refresh_s=0.5, **overrides),
        InlineEncoder(),
        deterministic=True,
    )
    out: list[dict[str, Any]] = []
    for frame in frames(open_source(str(path)), threading.Event(), SourceStats()):
        analyser.analyse(frame)
        out += [m.fields for m in analyser.ready()]
    return out + [m.fields for m in analyser.ready(drain=True)]


def test_encodings_carry_the_tracks_face_unless_switched_off(media: Path) -> None:
    messages = run(media)
    dets = [d for m in messages for d in m["detections"]]
    with_face = [d for d in dets if "face_jpeg_b64" in d]
    assert with_face, "no face crop in the whole clip"
    assert all("encoding" in d for d in with_face)
    assert len(with_face) <= sum("encoding" in d for d in dets)
    assert decode(with_face[0]["face_jpeg_b64"]).shape == (CROP_PX, CROP_PX, 3)
    for i, m in enumerate(messages):  # every message is valid on the wire
        DetectionBatch.model_validate({**m, "camera_id": "cam1", "seq": i})
    off = run(media, face_crops=False)
    assert not any("face_jpeg_b64" in d for m in off for d in m["detections"])
