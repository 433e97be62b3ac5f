"""Configuration of the core service (``[core]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class CoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = None  # default: sqlite file srs.db in the data dir
    match_threshold: Annotated[float, Field(gt=0, le=2)] = 0.6
    match_margin: Annotated[float, Field(ge=0, le=1)] = 0.05
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    site_file: Path | None = None
