"""Typed SRS configuration: one pydantic model per concern, loaded once in ``main()``.

Sources, later ones winning: built-in defaults, the TOML file (``--config``,
``SRS_CONFIG``), environment overrides ``SRS_<SECTION>__<KEY>`` (for secrets such as
``SRS_MQTT__PASSWORD``), then ``--data-dir`` / ``SRS_DATA_DIR``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from broker.config import BrokerConfig
from core.config import CoreConfig
from edge.config import EdgeConfig
from gui.config import GuiConfig

ENV_PREFIX = "SRS_"
DEFAULT_CONFIG_FILE = Path("srs.toml")


class ConfigError(Exception):
    """The configuration cannot be used; the message names each bad key and value."""


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


class SecurityConfig(Section):
    """Message verification policy shared by every receiver."""

    audience: Annotated[str, Field(min_length=1, max_length=64)] = "srs"
    clock_skew_s: Annotated[float, Field(ge=0, le=600)] = 30.0
    max_message_age_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    max_payload_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 64 * 1024


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SrsConfig(Section):
    data_dir: Path = Path("var")
    mqtt: MqttConfig = MqttConfig()
    security: SecurityConfig = SecurityConfig()
    logging: LoggingConfig = LoggingConfig()
    broker: BrokerConfig = BrokerConfig()
    core: CoreConfig = CoreConfig()
    edge: EdgeConfig = EdgeConfig()
    gui: GuiConfig = GuiConfig()

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``SRS_MQTT__PASSWORD=x`` -> ``{"mqtt": {"password": "x"}}`` (nested by ``__``)."""
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in extra.items():
        if isinstance(v, Mapping) and isinstance(merged.get(k), dict):
            merged[k] = _merge(merged[k], v)
        else:
            merged[k] = v
    return merged


def describe_errors(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: {exc.error_count()} problem(s) in the configuration:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        bad = err.get("input")
        shown = "<hidden>" if any(s in key for s in ("password", "secret", "token")) else repr(bad)
        if err["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key (check the spelling; see config/srs.example.toml)")
        else:
            lines.append(f"  {key} = {shown}: {err['msg']}")
    return "\n".join(lines)


def load_config(
    path: Path | None = None,
    *,
    data_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> SrsConfig:
    """Load and validate the configuration; raise ConfigError with readable lines."""
    env = os.environ if environ is None else environ
    if path is None and env.get("SRS_CONFIG"):
        path = Path(env["SRS_CONFIG"])
    if path is None and DEFAULT_CONFIG_FILE.exists():
        path = DEFAULT_CONFIG_FILE
    raw: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    raw = _merge(raw, _env_overrides(env))
    if env.get("SRS_DATA_DIR"):
        raw["data_dir"] = env["SRS_DATA_DIR"]
    if data_dir is not None:
        raw["data_dir"] = str(data_dir)
    try:
        return SrsConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, source)) from None
