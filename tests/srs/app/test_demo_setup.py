"""The demo's set-up pieces that need no running system."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from srs.app.config import load_config
from srs.app.demo_cast import BADGES, CAMERA_SETTINGS, CAMERAS
from srs.app.demo_setup import _camera_table, _demo_env, write_badge


def test_each_camera_gets_its_own_edge_table(tmp_path: Path) -> None:
    path = tmp_path / "srs.toml"
    tables = "".join(_camera_table(c, s) for c, s in CAMERA_SETTINGS.items())
    path.write_text("[edge]\nmax_fps = 8.0\n" + tables)
    edge = load_config(path, environ={}).edge
    assert set(CAMERA_SETTINGS) <= set(CAMERAS)
    for camera_id, settings in CAMERA_SETTINGS.items():
        mine = edge.for_camera(camera_id)
        assert {k: getattr(mine, k) for k in settings} == settings


def test_the_badge_photo_shows_one_face_and_is_not_what_names_her(tmp_path: Path) -> None:
    from core.enrol import encode_image

    ((badge),) = BADGES.values()
    photo = write_badge(badge, tmp_path / "badges" / "alice.png")
    result = encode_image(photo)
    assert result.encoding is not None, result.problem
    # She is to be named by the entrance camera, from other footage than the badge's.
    assert CAMERAS["entrance"] != badge.clip


def test_every_camera_plays_a_bundled_clip() -> None:
    assert all(clip.is_file() for clip in CAMERAS.values())


def test_the_demos_processes_never_see_the_shells_srs_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A production database URL in the operator's shell must not receive the demo."""
    monkeypatch.setenv("SRS_CORE__DATABASE_URL", "postgresql://srs@prod/srs")
    monkeypatch.setenv("SRS_MQTT__PASSWORD", "secret")
    env = _demo_env()
    assert not [k for k in env if k.startswith("SRS_")]
    assert env["PATH"] == os.environ["PATH"]
