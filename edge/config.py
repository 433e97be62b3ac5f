"""Configuration of one camera node (``[edge]``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class EdgeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")] = "cam1"
    source: str = "0"
