"""The configuration sections every SRS component shares: broker access, verification, logging.

The kernel holds only these. Each component owns its own section model
(``broker/config.py``, ``core/config.py``...) and names the parts of the whole
configuration it reads in ``<component>/srs_config.py``; the application assembles the
whole (``srs.app.config.SrsConfig``), loads it once and passes it down
(docs/architecture.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttConfig(Section):
    """How clients (edge, core, GUI) reach the broker."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: Path | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    # "auto": MQTT 5 where the broker speaks it (Mosquitto 2), else 3.1.1 (amqtt).
    protocol: Literal["auto", "5", "3.1.1"] = "auto"
    # MQTT 5 only: how long the broker keeps a persistent session (core's, a camera's)
    # after its client went away; 3.1.1 sessions last until the broker forgets them.
    session_expiry_s: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 86400


class SecurityConfig(Section):
    """Message verification policy shared by every receiver."""

    audience: Annotated[str, Field(min_length=1, max_length=64)] = "srs"
    clock_skew_s: Annotated[float, Field(ge=0, le=600)] = 30.0
    max_message_age_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    max_payload_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 64 * 1024


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class ClientConfig(Protocol):
    """What every broker client (core, edge, dashboard) reads of the whole
    configuration; each extends it with its own section in ``<component>/srs_config.py``."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def keys_dir(self) -> Path: ...

    @property
    def mqtt(self) -> MqttConfig: ...

    @property
    def security(self) -> SecurityConfig: ...
