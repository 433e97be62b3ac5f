"""srs/wire/site.py: the published site plan checks its shape."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from srs.wire.site import CameraPose, SitePlan

SQUARE = [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 4}]


def plan(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "office",
        "width_m": 10,
        "height_m": 8,
        "zones": [{"zone_id": "lab", "name": "Lab", "polygon": SQUARE, "restricted": True}],
        "cameras": [{"camera_id": "door", "x": 1, "y": 2, "yaw_deg": 90}],
    }
    return {**base, **changes}


def test_a_plan_round_trips_through_json() -> None:
    site = SitePlan.model_validate(plan())
    assert SitePlan.model_validate_json(site.model_dump_json()) == site
    pose = site.cameras[0]
    assert (pose.height_m, pose.hfov_deg, pose.image_width) == (2.5, 60.0, 640)
    assert site.zones[0].restricted


@pytest.mark.parametrize(
    "changes",
    [
        {"width_m": 0},
        {"height_m": float("inf")},
        {"zones": [{"zone_id": "lab", "name": "Lab", "polygon": SQUARE[:2]}]},
        {"cameras": [{"camera_id": "door", "x": 1, "y": 2, "yaw_deg": 400}]},
        {"cameras": [{"camera_id": "door", "x": float("nan"), "y": 2, "yaw_deg": 0}]},
        {"outline": [{"x": 0, "y": 0, "z": 1}]},
    ],
)
def test_a_bad_plan_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SitePlan.model_validate(plan(**changes))


def test_a_field_of_view_must_be_a_real_angle() -> None:
    with pytest.raises(ValidationError):
        CameraPose(camera_id="door", x=0, y=0, yaw_deg=0, hfov_deg=180)
