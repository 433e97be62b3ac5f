"""The site as published on ``srs/v1/site``: floor plan, zones, camera poses (metres).

Core loads the site file (``core/site.py``) and publishes this shape, retained and
signed, so the dashboard and integrators draw the same plan core computes with.
Coordinates: x to the right, y up the plan, origin at the plan's lower-left corner;
camera yaw in degrees counter-clockwise from +x.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from srs.wire.payloads import FiniteFloat, Id, Label, Payload


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Point(_Part):
    """A point on the plan, in metres from its lower-left corner (y up the plan)."""

    x: FiniteFloat
    y: FiniteFloat


class Zone(_Part):
    """A named area people enter and leave (ZoneEvent); ``restricted`` raises alerts.

    An unknown person staying in a restricted zone raises ``unknown_in_restricted``.
    """

    zone_id: Id
    name: Label
    polygon: Annotated[list[Point], Field(min_length=3, max_length=128)]
    restricted: bool = False


class CameraPose(_Part):
    """Where a camera stands and looks, from which core projects a face onto the plan.

    ``yaw_deg`` counter-clockwise from +x, ``hfov_deg`` its horizontal field of view,
    and the image size its detections' boxes are measured in.
    """

    camera_id: Id
    x: FiniteFloat
    y: FiniteFloat
    height_m: Annotated[float, Field(gt=0, le=20, allow_inf_nan=False)] = 2.5
    yaw_deg: Annotated[float, Field(ge=-360, le=360, allow_inf_nan=False)]
    hfov_deg: Annotated[float, Field(gt=1, lt=180, allow_inf_nan=False)] = 60.0
    image_width: Annotated[int, Field(gt=0, le=16384)] = 640
    image_height: Annotated[int, Field(gt=0, le=16384)] = 480


class SitePlan(Payload):
    """The whole site as core computes positions on it: size, outline, zones, cameras."""

    name: Label
    width_m: Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]
    height_m: Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]
    outline: Annotated[list[Point], Field(max_length=512)] = Field(default_factory=list)
    zones: Annotated[list[Zone], Field(max_length=128)] = Field(default_factory=list)
    cameras: Annotated[list[CameraPose], Field(max_length=128)] = Field(default_factory=list)
