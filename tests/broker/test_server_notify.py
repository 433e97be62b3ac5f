"""`srs broker` under a Type=notify unit: READY, WATCHDOG from its event loop, STOPPING."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from broker.config import BrokerConfig
from broker.server import EmbeddedBroker
from srs.app.config import SrsConfig
from srs.sdnotify import Notifier
from tests.brokers import free_port
from tests.notify import NotifySocket


def test_srs_broker_says_ready_feeds_the_watchdog_and_says_stopping(tmp_path: Path) -> None:
    config = tmp_path / "srs.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n\n[broker]\nbind = "127.0.0.1"\nport = {free_port()}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRS_")}
    with NotifySocket() as sock:
        proc = subprocess.Popen(
            [sys.executable, "-m", "srs.app", "broker", "--config", str(config)],
            stderr=subprocess.DEVNULL,
            env={**env, **sock.env(watchdog_s=0.6)},
        )
        try:
            sock.wait_for("READY=1")
            first = sock.wait_for("WATCHDOG=1", 2)
            second = sock.wait_for("WATCHDOG=1", 2)
            assert second - first < 0.6  # within the interval systemd would allow
            proc.send_signal(signal.SIGTERM)
            sock.wait_for("STOPPING=1")
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_blocked_event_loop_stops_the_keepalives(tmp_path: Path) -> None:
    cfg = SrsConfig(data_dir=tmp_path, broker=BrokerConfig(bind="127.0.0.1", port=0))
    with NotifySocket() as sock:
        notifier = Notifier(sock.env(watchdog_s=0.3))
        with EmbeddedBroker(cfg, notifier=notifier) as broker:
            sock.wait_for("WATCHDOG=1", 2)
            # A handler that hangs the loop every client is served from.
            broker._loop.call_soon_threadsafe(time.sleep, 1.5)
            time.sleep(0.2)  # the sleep has begun
            assert "WATCHDOG=1" not in sock.lines_during(1.0)
            sock.wait_for("WATCHDOG=1", 3)  # and back once the loop runs again
