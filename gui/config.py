"""Configuration of the dashboard (``[gui]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class GuiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Core's public key, pinned: a retained key on the broker that differs is refused.
    # None means ``<data_dir>/keys/core.key.pub`` when that file exists, else trust on
    # first use of the retained key (documented in docs/gui.md).
    core_public_key_file: Path | None = None
    # A camera is shown offline when its last heartbeat is older than this many
    # heartbeat intervals (or when it said so itself).
    offline_after_heartbeats: Annotated[float, Field(ge=1.5, le=100)] = 3.0
    frame_hz: Annotated[float, Field(ge=5, le=120)] = 30.0  # coalesced redraws per second
    trail_length: Annotated[int, Field(ge=0, le=100)] = 12
    max_events: Annotated[int, Field(ge=10, le=100_000)] = 2000
    request_timeout_s: Annotated[float, Field(gt=0, le=600)] = 20.0
    # At sign-in, ask core for the zone events, alerts and sightings of this many
    # seconds before (0: start with an empty timeline).
    recent_history_s: Annotated[float, Field(ge=0, le=7 * 86400)] = 3600.0
    # Grab the live window into this PNG once, screenshot_after_s after signing in (for
    # docs: e.g. SRS_GUI__SCREENSHOT_FILE=$PWD/docs/img/dashboard-demo.png srs demo).
    screenshot_file: Path | None = None
    screenshot_after_s: Annotated[float, Field(ge=0, le=3600)] = 30.0


def core_key_path(gui: GuiConfig, keys_dir: Path) -> Path | None:
    """The pinned core key file, or None when nothing is pinned."""
    if gui.core_public_key_file is not None:
        return gui.core_public_key_file
    default = keys_dir / "core.key.pub"
    return default if default.exists() else None
