"""Clear retained position topics right away when the broker is reachable.

The store always records the key (pending_clears) so the running service clears
it too; publishing an empty retained message twice is harmless.
"""

from __future__ import annotations

import logging
import os

from core.srs_config import SrsConfig
from srs.mqtt import ConnectionWatcher, make_client
from srs.wire import topics

log = logging.getLogger(__name__)


def clear_positions_now(cfg: SrsConfig, keys: list[str], timeout_s: float = 3.0) -> bool:
    """Publish an empty retained payload on each key's position topic; True if done."""
    user = cfg.mqtt.username or "core"
    client = make_client(cfg.mqtt, f"{user}:erase-{os.getpid()}")
    watcher = ConnectionWatcher()
    client.on_connect = watcher.on_connect
    try:
        client.connect(cfg.mqtt.host, cfg.mqtt.port, keepalive=cfg.mqtt.keepalive_s)
    except OSError as exc:
        log.info("broker not reachable (%s); core will clear the positions", exc)
        return False
    client.loop_start()
    try:
        if not watcher.connected.wait(timeout_s):
            return False
        infos = [client.publish(topics.position(k), b"", qos=1, retain=True) for k in keys]
        for info in infos:
            info.wait_for_publish(timeout_s)
        return all(info.is_published() for info in infos)
    except (RuntimeError, ValueError):
        return False
    finally:
        client.disconnect()
        client.loop_stop()
