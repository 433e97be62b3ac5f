"""Configuration of the dashboard (``[gui]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GuiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    remember_user: bool = True
