"""srs.app.demo_cast: the demo's cast holds together (clips, badge, stranger, start order)."""

from __future__ import annotations

from PIL import Image

from edge.config import EdgeConfig
from srs.app.demo_cast import (
    BADGES,
    CAMERA_SETTINGS,
    CAMERAS,
    START_AFTER,
    STRANGER_CAMERAS,
)


def test_every_camera_plays_a_bundled_clip() -> None:
    for camera, clip in CAMERAS.items():
        assert clip.is_file(), f"{camera}: {clip} missing"


def test_every_camera_has_settings_the_edge_accepts() -> None:
    assert set(CAMERA_SETTINGS) == set(CAMERAS)
    for settings in CAMERA_SETTINGS.values():
        EdgeConfig.model_validate(settings)  # extra="forbid": a misspelt setting fails


def test_each_badge_is_a_frame_and_crop_inside_a_camera_s_clip() -> None:
    for badge in BADGES.values():
        assert badge.clip in CAMERAS.values()
        with Image.open(badge.clip) as clip:
            assert badge.frame < getattr(clip, "n_frames", 1)
            width, height = clip.size
        if badge.crop is not None:
            x0, y0, x1, y1 = badge.crop
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height


def test_the_stranger_s_identity_is_founded_before_the_second_camera_starts() -> None:
    assert set(STRANGER_CAMERAS) <= set(CAMERAS)
    for camera, (founder, encodings) in START_AFTER.items():
        assert camera in CAMERAS and founder in CAMERAS and camera != founder
        assert founder not in START_AFTER  # the founder starts at once: no waiting cycle
        assert encodings >= 1
    # the stranger's second camera waits for the one that founds his identity
    first, second = STRANGER_CAMERAS
    assert START_AFTER[first][0] == second
