"""Configuration of the embedded broker (``[broker]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class BrokerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bind: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 1883
    tls_port: Annotated[int, Field(ge=0, le=65535)] = 8883
    cert_file: Path | None = None
    key_file: Path | None = None
    max_payload_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 64 * 1024
