"""Builds a signed-in session's MQTT worker from the configuration and the sign-in form."""

from __future__ import annotations

from dataclasses import dataclass

from gui.config import core_key_path
from gui.core_key import CoreKey, load_pinned
from gui.inbox import Inbox
from gui.mqtt_worker import MqttWorker
from gui.srs_config import SrsConfig


@dataclass(frozen=True)
class Credentials:
    host: str
    port: int
    user: str
    password: str
    tls: bool = False

    def __repr__(self) -> str:  # the password never reaches a log
        return f"Credentials({self.user}@{self.host}:{self.port}, tls={self.tls})"


def build_worker(cfg: SrsConfig, creds: Credentials) -> MqttWorker:
    """A not yet started worker; raises ValueError (a sentence) for a bad pinned key."""
    path = core_key_path(cfg.gui, cfg.keys_dir)
    pinned = load_pinned(path) if path is not None else None
    sec = cfg.security
    core_key = CoreKey(pinned, sec)
    inbox = Inbox(core_key, sec, creds.user)
    mqtt_cfg = cfg.mqtt.model_copy(
        update={"host": creds.host, "port": creds.port, "tls": creds.tls}
    )
    return MqttWorker(mqtt_cfg, sec, inbox, user=creds.user, password=creds.password)
