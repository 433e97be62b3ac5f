"""A server data dir as `srs init` leaves it, quickly: core's key, the site CA and the
broker's certificate, core's broker user (cheap hashes)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from broker.config import BrokerConfig
from broker.tls import ensure_broker_cert, ensure_ca, tls_files
from broker.users import default_path
from srs.app.config import SrsConfig
from srs.config import MqttConfig
from srs.wire import topics
from srs.wire.signing import SigningKey
from tests.brokers import fast_user_store, free_port

CORE_PASSWORD = "core-password-123"


def server_config(data_dir: Path) -> SrsConfig:
    """A server on free loopback ports (plaintext for core, TLS for cameras)."""
    port, tls_port = free_port(), free_port()
    cfg = SrsConfig(
        data_dir=data_dir,
        broker=BrokerConfig(bind="127.0.0.1", port=port, tls_port=tls_port),
        mqtt=MqttConfig(
            host="127.0.0.1", port=port, username="core", password=SecretStr(CORE_PASSWORD)
        ),
    )
    SigningKey.load_or_create(topics.CORE_SENDER, cfg.keys_dir / "core.key")
    files = tls_files(cfg)
    ensure_ca(files)
    ensure_broker_cert(files, ["127.0.0.1"])
    fast_user_store(default_path(cfg)).add("core", "core", CORE_PASSWORD)
    return cfg
