"""The whole SRS configuration, assembled from each component's section, loaded once in ``main()``.

Sources, later ones winning: built-in defaults, the TOML file (``--config``,
``SRS_CONFIG``), environment overrides ``SRS_<SECTION>__<KEY>`` (for secrets such as
``SRS_MQTT__PASSWORD``), then ``--data-dir`` / ``SRS_DATA_DIR``.

Only the application knows every section: components receive this object but name
just the parts they read (``<component>/srs_config.py``), so none imports upwards.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from broker.config import BrokerConfig
from core.config import CoreConfig
from edge.config import EdgeConfig
from gui.config import GuiConfig
from srs.config import LoggingConfig, MqttConfig, Section, SecurityConfig

ENV_PREFIX = "SRS_"
DEFAULT_CONFIG_FILE = Path("srs.toml")


class ConfigError(Exception):
    """The configuration cannot be used; the message names each bad key and value."""


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

    @property
    def data_dir_chosen(self) -> bool:
        """True when a flag, the environment or the config file named the data dir
        (rather than the default ./var, relative to wherever the command runs)."""
        return "data_dir" in self.model_fields_set


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
        cfg = SrsConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, source)) from None
    return with_site_ca(cfg)


def with_site_ca(cfg: SrsConfig) -> SrsConfig:
    """A TLS client without ``[mqtt] ca_file`` trusts the site CA ``srs init`` made in
    the data dir (on the server), rather than the public CAs that never signed it."""
    site_ca = cfg.data_dir / "tls" / "ca.pem"
    if cfg.mqtt.tls and cfg.mqtt.ca_file is None and site_ca.is_file():
        return cfg.model_copy(update={"mqtt": cfg.mqtt.model_copy(update={"ca_file": site_ca})})
    return cfg
