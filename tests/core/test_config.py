"""core/config.py: the [core] section checks its values where they enter."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.config import CoreConfig


def test_defaults_keep_known_people_stricter_for_small_faces() -> None:
    cfg = CoreConfig()
    assert cfg.small_face_threshold < cfg.match_threshold
    assert cfg.strong_match_distance < cfg.match_threshold
    assert cfg.database_url is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("match_threshold", 0.0),
        ("match_threshold", 2.5),
        ("match_margin", -0.1),
        ("retention_days", 0),
        ("camera_max_rate", float("inf")),
        ("queue_size", 5),
    ],
)
def test_out_of_range_values_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        CoreConfig.model_validate({field: value})


def test_per_camera_thresholds_are_distances() -> None:
    assert CoreConfig(camera_thresholds={"door": 0.5}).camera_thresholds == {"door": 0.5}
    with pytest.raises(ValidationError):
        CoreConfig.model_validate({"camera_thresholds": {"door": 3.0}})


def test_unknown_keys_and_changes_are_refused() -> None:
    with pytest.raises(ValidationError):
        CoreConfig.model_validate({"match_treshold": 0.5})
    cfg = CoreConfig()
    with pytest.raises(ValidationError):
        cfg.match_threshold = 0.3
