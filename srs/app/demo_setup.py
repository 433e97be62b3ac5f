"""The moving parts of ``srs demo``: prepare a data dir, start, watch, summarise.

Everything goes through the same commands and APIs a real installation uses
(`srs user`, keys in the data dir, `srs camera add`, `srs person import`,
`srs broker`, `srs core`, `srs edge`, `srs gui`), so the demo also proves them.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import SecretStr

from srs.app.config import SrsConfig, load_config
from srs.app.live_view import LiveView, render
from srs.app.supervise import Child, Supervisor, wait_for
from srs.wire import SigningKey, topics

READY_TIMEOUT_S = 60.0


class DemoError(Exception):
    """The demo could not run; the message says which part failed and where its log is."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class DemoSetup:
    def __init__(
        self,
        data_dir: Path,
        cameras: dict[str, Path],
        site_file: Path,
        faces_dir: Path,
        operator: str,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.cameras = cameras
        self.site_file = site_file
        self.faces_dir = faces_dir
        self.operator = operator
        self.config_path = self.data_dir / "srs.toml"
        self.passwords: dict[str, str] = {}
        self.supervisor = Supervisor(self.data_dir / "logs")
        self.started_at = time.monotonic()
        self.cfg: SrsConfig | None = None

    # --- context: one stop path ---------------------------------------------
    def __enter__(self) -> DemoSetup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.supervisor.stop_all()

    # --- preparation ----------------------------------------------------------
    def prepare(self) -> None:
        port = _free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            f'data_dir = "{self.data_dir}"\n\n'
            f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\n\n'
            f'[broker]\nbind = "127.0.0.1"\nport = {port}\n\n'
            f'[core]\nsite_file = "{self.site_file.resolve()}"\n\n'
            # Three nodes, broker, core and the dashboard share a laptop's cores: cap
            # each node below the clips' 12.5 fps so nothing starves.
            "[edge]\nmax_fps = 8.0\n"
        )
        self.cfg = load_config(self.config_path, environ={})
        self._users()
        SigningKey.load_or_create(topics.CORE_SENDER, self.cfg.keys_dir / "core.key")
        for camera_id in self.cameras:
            key_path = self.cfg.keys_dir / f"camera-{camera_id}.key"
            SigningKey.load_or_create(topics.camera_issuer(camera_id), key_path)
            self._srs("camera", "add", camera_id, "--key-file", str(key_path) + ".pub")
        print("enrolling the demo people from the bundled faces...", flush=True)
        result = self._srs("person", "import", str(self.faces_dir), capture=False)
        if result.returncode != 0:
            raise DemoError("enrolling the demo people failed (see the output above)")

    def _users(self) -> None:
        from broker.users import UserStore, default_path

        assert self.cfg is not None
        store = UserStore(default_path(self.cfg))
        self.passwords["core"] = store.add("core", "core")
        for camera_id in self.cameras:
            self.passwords[camera_id] = store.add(camera_id, "camera")
        self.passwords[self.operator] = store.add(self.operator, "operator")

    def _srs(self, *args: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "srs.app", *args, "--config", str(self.config_path)]
        result = subprocess.run(cmd, capture_output=capture, text=True, timeout=600)
        if result.returncode != 0 and capture:
            raise DemoError(f"`srs {' '.join(args)}` failed: {result.stderr.strip()}")
        return result

    def _env(self, user: str) -> dict[str, str]:
        return {
            "SRS_MQTT__USERNAME": user,
            "SRS_MQTT__PASSWORD": self.passwords[user],
            "SRS_CONFIG": str(self.config_path),
        }

    # --- services -------------------------------------------------------------
    def start_services(self) -> None:
        assert self.cfg is not None
        broker = self.supervisor.start("broker", ["broker", "--config", str(self.config_path)])
        if (
            not wait_for(
                lambda: _port_open(self.cfg.mqtt.port) or not broker.running,  # type: ignore[union-attr]
                READY_TIMEOUT_S,
            )
            or not broker.running
        ):
            raise DemoError(self._died(broker, "the broker did not start"))
        core = self.supervisor.start("core", ["core"], env=self._env("core"))
        with self.live_view("demo-ready") as view:
            if (
                not wait_for(
                    lambda: view.state.core is not None or not core.running, READY_TIMEOUT_S
                )
                or not core.running
            ):
                raise DemoError(self._died(core, "core did not come online"))
        for camera_id, clip in self.cameras.items():
            self.supervisor.start(
                f"edge-{camera_id}",
                ["edge", "--camera-id", camera_id, "--source", str(clip), "--loop"],
                env=self._env(camera_id),
            )
        print("broker, core and 3 camera nodes running", flush=True)

    def _died(self, child: Child, what: str) -> str:
        return f"{what}; last lines of {child.log_path}:\n{child.tail()}"

    def live_view(self, suffix: str) -> LiveView:
        assert self.cfg is not None
        from srs.wire import public_key_from_b64

        keys = {topics.CORE_SENDER: self._public_key("core.key.pub")}
        for camera_id in self.cameras:
            keys[topics.camera_issuer(camera_id)] = self._public_key(f"camera-{camera_id}.key.pub")
        ring = {k: public_key_from_b64(v) for k, v in keys.items()}
        mqtt = self.cfg.mqtt.model_copy(
            update={"username": self.operator, "password": SecretStr(self.passwords[self.operator])}
        )
        return LiveView(mqtt, self.cfg.security, ring.get, f"{self.operator}:{suffix}")

    def _public_key(self, name: str) -> str:
        assert self.cfg is not None
        return (self.cfg.keys_dir / name).read_text().strip()

    # --- watching -------------------------------------------------------------
    def _check_children(self, allowed_to_exit: Child | None = None) -> None:
        """Raise if a service stopped on its own (closing the dashboard is allowed)."""
        for child in self.supervisor.failed():
            if child is not allowed_to_exit:
                raise DemoError(self._died(child, f"{child.name} stopped unexpectedly"))

    def watch_headless(self, stop: threading.Event, duration: float | None) -> dict[str, Any]:
        start = time.monotonic()
        tty = sys.stdout.isatty()
        with self.live_view("demo-view") as view:
            while not stop.is_set():
                if duration is not None and time.monotonic() - start >= duration:
                    break
                self._check_children()
                table = render(view.state, time.time(), title="SRS demo (Ctrl-C to stop)")
                if tty:
                    sys.stdout.write("\x1b[H\x1b[2J" + table + "\n")
                else:
                    sys.stdout.write(table + "\n\n")
                sys.stdout.flush()
                stop.wait(1.0 if tty else 10.0)
            summary = self._live_summary(view, time.monotonic() - start)
        return summary

    def watch_gui(self, stop: threading.Event, duration: float | None) -> dict[str, Any]:
        start = time.monotonic()
        gui = self.supervisor.start(
            "gui", ["gui", "--config", str(self.config_path)], env=self._env(self.operator)
        )
        with self.live_view("demo-view") as view:
            while not stop.is_set() and gui.running:
                if duration is not None and time.monotonic() - start >= duration:
                    break
                self._check_children(allowed_to_exit=gui)
                stop.wait(0.5)
            return self._live_summary(view, time.monotonic() - start)

    def _live_summary(self, view: LiveView, seconds: float) -> dict[str, Any]:
        core = view.state.core
        return {
            "seconds": seconds,
            "received": core.received if core else 0,
            "accepted": core.accepted if core else 0,
            "duplicates": core.duplicates if core else 0,
            "rejected": sum(core.rejected.values()) if core else 0,
            "rejected_by_reason": dict(core.rejected) if core else {},
            "latency_p50_ms": core.latency_p50_ms if core else None,
            "latency_p99_ms": core.latency_p99_ms if core else None,
            "positions": len(view.state.positions),
            "view_refused": sum(view.state.refused.values()),
        }

    # --- after the stop -------------------------------------------------------
    def store_summary(self) -> dict[str, Any]:
        out = self._srs("sightings", "--json")
        rows = json.loads(out.stdout or "[]")
        by_camera: dict[str, int] = {}
        by_zone: dict[str, set[str]] = {}
        for row in rows:
            by_camera[row["camera_id"]] = by_camera.get(row["camera_id"], 0) + 1
            if row.get("zone"):
                by_zone.setdefault(row["zone"], set()).add(row.get("label") or "?")
        missing = [c for c in self.cameras if not by_camera.get(c)]
        problem = None
        if missing:
            problem = f"no sightings stored from {', '.join(missing)}"
        elif not by_zone:
            problem = "nobody was placed in a zone"
        return {
            "sightings_by_camera": by_camera,
            "people_by_zone": {z: sorted(p) for z, p in by_zone.items()},
            "ok": problem is None,
            "problem": problem,
        }

    def processes_left(self) -> int:
        return sum(1 for c in self.supervisor.children if c.running)
