"""Configuration of the core service (``[core]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Distance = Annotated[float, Field(gt=0, le=2)]


class CoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = None  # default: sqlite file srs.db in the data dir
    match_threshold: Distance = 0.6
    match_margin: Annotated[float, Field(ge=0, le=1)] = 0.05
    # Per-camera override of match_threshold (a poor camera may need a stricter one).
    camera_thresholds: dict[str, Distance] = Field(default_factory=dict)
    # Encodings of small faces are noisy: a 24 px stranger in the demo corridor came
    # within 0.59 of an enrolled person. Faces narrower than small_face_px (source
    # pixels) are named only within the stricter small_face_threshold.
    small_face_px: Annotated[int, Field(ge=0, le=4096)] = 48
    small_face_threshold: Distance = 0.5
    # An unmatched face joins the nearest anonymous identity closer than this.
    unknown_threshold: Distance = 0.55
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    retention_interval_s: Annotated[float, Field(ge=1, le=86400)] = 3600.0
    status_interval_s: Annotated[float, Field(ge=0.5, le=3600)] = 10.0
    # Extra wait for more messages before a commit. 0 (default): commit whatever is
    # queued at once; under load batches grow by themselves while a commit runs, so
    # waiting only adds latency.
    commit_window_ms: Annotated[float, Field(ge=0, le=1000)] = 0.0
    max_batch_messages: Annotated[int, Field(ge=1, le=10000)] = 500
    queue_size: Annotated[int, Field(ge=10, le=1_000_000)] = 20000
    # A camera whose messages are captured faster than this (per second, over its last
    # 500 new messages) is flooding: one alert names it (core/flood.py). 0: no alert.
    camera_max_rate: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] = 100.0
    site_file: Path | None = None
    # Home Assistant MQTT discovery (unsigned, known people only unless told otherwise).
    homeassistant: bool = False
    homeassistant_include_unknown: bool = False
