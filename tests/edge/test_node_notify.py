"""The camera node under srs-edge@.service (Type=notify): READY once it analyses,
WATCHDOG from its analysis loop only (a hung analysis stops it), STOPPING on stop."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from edge.node import EdgeNode
from tests.brokers import BrokerHandle
from tests.edge.test_node import frames_dir, keys, make_cfg  # noqa: F401 (fixture)
from tests.notify import NotifySocket


def test_the_analysis_loop_feeds_the_watchdog(
    srs_broker: BrokerHandle,
    tmp_path: Path,
    frames_dir: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = make_cfg(tmp_path, srs_broker.client_config("cam7", "camera"), frames_dir, encode=False)
    keys(cfg)
    with NotifySocket() as sock:
        for name, value in sock.env(watchdog_s=0.6).items():
            monkeypatch.setenv(name, value)
        with EdgeNode(cfg) as node:
            stuck, release = threading.Event(), threading.Event()
            analyse = node.analyser.analyse

            def hung(frame: object) -> None:  # an analysis that hangs until released
                if not release.is_set():
                    stuck.set()
                    release.wait(10)
                analyse(frame)  # type: ignore[arg-type]

            runner = threading.Thread(target=node.run, kwargs={"loop": True})
            runner.start()
            try:
                sock.wait_for("READY=1")
                sock.wait_for("WATCHDOG=1", 2)
                node.analyser.analyse = hung  # type: ignore[method-assign]
                assert stuck.wait(5)
                assert "WATCHDOG=1" not in sock.lines_during(1.5)
                release.set()
                sock.wait_for("WATCHDOG=1", 3)
            finally:
                release.set()
                node.stop()
                runner.join(20)
            sock.wait_for("STOPPING=1", 2)
