"""CoreService under a Type=notify unit: READY once its worker runs, WATCHDOG from that
worker (so a hung batch or tick stops it), STOPPING when asked to stop."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.service import CoreService
from tests.brokers import BrokerHandle
from tests.core.ingest_helpers import core_config
from tests.notify import NotifySocket


def test_core_feeds_its_watchdog_from_the_worker_loop_only(
    tmp_path: Path, srs_broker: BrokerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = core_config(tmp_path, srs_broker.client_config("core", "core"))
    with NotifySocket() as sock:
        for name, value in sock.env(watchdog_s=0.6).items():
            monkeypatch.setenv(name, value)
        svc = CoreService(cfg)
        stuck, release = threading.Event(), threading.Event()

        def hung_tick() -> None:  # the worker's 1 s tick, hanging until released
            stuck.set()
            release.wait(10)

        with svc:
            sock.wait_for("READY=1")
            sock.wait_for("WATCHDOG=1", 2)
            assert svc.wait_connected(10)
            svc._tick = hung_tick  # type: ignore[method-assign]
            assert stuck.wait(5)
            assert "WATCHDOG=1" not in sock.lines_during(1.5)
            release.set()
            sock.wait_for("WATCHDOG=1", 3)
        sock.wait_for("STOPPING=1", 2)
