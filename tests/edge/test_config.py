"""[edge] settings and per-camera overrides."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edge.config import EdgeConfig


def test_camera_override_wins_and_others_keep_defaults() -> None:
    cfg = EdgeConfig(min_face_px=24, cameras={"lobby": {"source": "rtsp://x/y", "max_fps": 5}})
    lobby = cfg.for_camera("lobby")
    assert (lobby.camera_id, lobby.source, lobby.max_fps, lobby.min_face_px) == (
        "lobby",
        "rtsp://x/y",
        5,
        24,
    )
    other = cfg.for_camera("hall")
    assert (other.camera_id, other.source, other.max_fps) == ("hall", "0", 0.0)
    assert cfg.for_camera().camera_id == "cam1"


def test_bad_override_is_refused_with_the_camera_named() -> None:
    with pytest.raises(ValidationError, match=r"cameras\.lobby"):
        EdgeConfig(cameras={"lobby": {"min_face_px": 2}})
    with pytest.raises(ValidationError, match=r"cameras\.lobby"):
        EdgeConfig(cameras={"lobby": {"no_such_key": 1}})


def test_unknown_keys_and_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        EdgeConfig(detector="cnn")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        EdgeConfig(frame_rate=3)  # type: ignore[call-arg]
