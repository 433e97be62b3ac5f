"""Payload models reject what must never enter: NaN, wrong sizes, unknown fields."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import ValidationError

from srs.wire.payloads import (
    MAX_DETECTIONS,
    MAX_FACE_B64,
    MAX_FACES_PER_BATCH,
    MAX_SIGHTINGS,
    CameraStatus,
    DetectionBatch,
    SightingBatch,
)
from srs.wire.signing import describe_validation_error


def detection(**over) -> dict:
    d = {
        "kind": "face",
        "bbox": {"x": 1, "y": 2, "w": 30, "h": 30},
        "track_id": 3,
        "score": 1.0,
        "encoding": [0.01] * 128,
    }
    d.update(over)
    return d


def message(**over) -> dict:
    m = {
        "schema_version": 1,
        "camera_id": "cam1",
        "seq": 7,
        "captured_at": 1.7e9,
        "frame_width": 640,
        "frame_height": 480,
        "detections": [detection()],
    }
    m.update(over)
    return m


def error_text(data: dict) -> str:
    with pytest.raises(ValidationError) as info:
        DetectionBatch.model_validate(data)
    return describe_validation_error(info.value)


def test_a_good_message_validates() -> None:
    assert DetectionBatch.model_validate(message()).detections[0].encoding == [0.01] * 128


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_rejected(bad: float) -> None:
    text = error_text(message(detections=[detection(encoding=[bad] + [0.0] * 127)]))
    assert "detections.0.encoding.0" in text and "finite" in text


def test_non_finite_from_json_text_is_rejected() -> None:
    # Python's json emits NaN literally; a peer might too.
    data = json.loads(json.dumps(message(captured_at=math.nan)))
    assert "captured_at" in error_text(data)


def test_a_127_float_encoding_is_rejected() -> None:
    text = error_text(message(detections=[detection(encoding=[0.0] * 127)]))
    assert "encoding" in text and "at least 128" in text


def test_unknown_fields_are_rejected() -> None:
    assert "extra" in error_text(message(color="red")).lower()
    assert "detections.0.extra" in error_text(message(detections=[detection(extra=1)]))


def test_detection_count_is_bounded() -> None:
    text = error_text(message(detections=[detection()] * (MAX_DETECTIONS + 1)))
    assert "detections" in text and str(MAX_DETECTIONS) in text


def sightings(n: int) -> dict:
    one = {
        "person_key": "p1",
        "identity": "known",
        "label": "Ada",
        "camera_id": "cam1",
        "seen_at": 1.7e9,
        "sighting_id": 5,
    }
    return {"schema_version": 1, "sightings": [one] * n}


def sightings_error(data: dict) -> str:
    with pytest.raises(ValidationError) as info:
        SightingBatch.model_validate(data)
    return describe_validation_error(info.value)


def test_a_sighting_batch_is_a_bounded_non_empty_list() -> None:
    assert len(SightingBatch.model_validate(sightings(MAX_SIGHTINGS)).sightings) == MAX_SIGHTINGS
    empty = sightings_error(sightings(0))
    assert "sightings" in empty and "at least 1" in empty
    over = sightings_error(sightings(MAX_SIGHTINGS + 1))
    assert "sightings" in over and f"at most {MAX_SIGHTINGS}" in over


def test_a_sighting_batch_checks_each_item() -> None:
    data = sightings(2)
    data["sightings"] = [data["sightings"][0], {**data["sightings"][0], "seen_at": math.inf}]
    assert "sightings.1.seen_at" in sightings_error(data)
    assert "extra" in sightings_error({**sightings(1), "camera_id": "cam1"}).lower()
    one = sightings(1)["sightings"][0]
    assert "sightings" in sightings_error({"schema_version": 1, **one})  # a lone Sighting


def test_profiles_carry_no_encoding() -> None:
    assert "profile" in error_text(message(detections=[detection(kind="profile")]))


def test_a_face_crop_rides_only_on_an_encoding_and_is_bounded() -> None:
    crop = "/9j/" + "A" * 100
    ok = DetectionBatch.model_validate(message(detections=[detection(face_jpeg_b64=crop)]))
    assert ok.detections[0].face_jpeg_b64 == crop
    alone = detection(face_jpeg_b64=crop, encoding=None)
    assert "only with an encoding" in error_text(message(detections=[alone]))
    huge = detection(face_jpeg_b64="A" * (MAX_FACE_B64 + 1))
    assert "face_jpeg_b64" in error_text(message(detections=[huge]))
    many = [detection(track_id=i, face_jpeg_b64=crop) for i in range(MAX_FACES_PER_BATCH + 1)]
    assert "face crops per batch" in error_text(message(detections=many))


def test_unknown_schema_version_is_refused() -> None:
    assert "schema_version" in error_text(message(schema_version=2))


def test_a_payload_id_with_a_dot_says_why() -> None:
    with pytest.raises(ValidationError, match="read it as a topic separator"):
        CameraStatus.model_validate({"camera_id": "hall.door", "state": "online", "sent_at": 1.0e9})
