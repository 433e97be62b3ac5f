"""The moving parts of ``srs demo``: prepare a data dir, start, watch, summarise.

Everything goes through the same commands and APIs a real installation uses
(`srs user`, keys in the data dir, `srs camera add`, `srs person import`,
`srs broker`, `srs core`, `srs edge`, `srs gui`), so the demo also proves them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import SecretStr

from srs.app.config import SrsConfig, load_config
from srs.app.demo_cast import Badge
from srs.app.demo_guard import Guard
from srs.app.demo_gui import ScreenshotPlan, gui_env, gui_failure, why_no_dashboard
from srs.app.demo_report import read_store
from srs.app.live_table import render
from srs.app.live_view import LiveView
from srs.app.operator_client import OperatorClient
from srs.app.supervise import Child, Supervisor, wait_for
from srs.config import MqttConfig, SecurityConfig
from srs.wire import KeyLookup, SigningKey, topics

READY_TIMEOUT_S = 60.0
GUARD_USER = "guard"  # the broker user `srs demo --script` names the stranger as


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


def _wait_until_encoded(view: LiveView, camera_id: str, encodings: int) -> None:
    """Until ``camera_id`` has placed an anonymous identity from ``encodings`` fresh
    encodings (or the ready timeout)."""
    wait_for(lambda: bool(view.state.encoded_by(camera_id, encodings)), READY_TIMEOUT_S)


def _camera_table(camera_id: str, settings: dict[str, object]) -> str:
    """One camera's own [edge] settings (docs/edge.md), as a TOML table."""
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
    return f'\n[edge.cameras."{camera_id}"]\n{lines}'


def write_badge(badge: Badge, dst: Path) -> Path:
    """Save the badge photo into ``dst`` (the frame decoded as the edge decodes it)."""
    import cv2

    cap = cv2.VideoCapture(str(badge.clip))
    try:
        for _ in range(badge.frame + 1):
            ok, image = cap.read()
            if not ok:
                raise DemoError(f"{badge.clip} has no frame {badge.frame} for a badge photo")
    finally:
        cap.release()
    if badge.crop is not None:
        x0, y0, x1, y1 = badge.crop
        image = image[y0:y1, x0:x1]
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(dst), image):
        raise DemoError(f"cannot write the badge photo {dst}")
    return dst


def _demo_env() -> dict[str, str]:
    """The environment of the demo's processes: without the shell's SRS_* overrides.

    The demo reads only its own configuration file (``environ={}``); an operator's
    ``SRS_CORE__DATABASE_URL`` or broker password must not send the demo's cameras,
    people and sightings into a production database from its children."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SRS_")}


class DemoSetup:
    def __init__(
        self,
        data_dir: Path,
        cameras: dict[str, Path],
        site_file: Path,
        faces_dir: Path,
        operator: str,
        badges: dict[str, Badge] | None = None,
        camera_settings: dict[str, dict[str, object]] | None = None,
        start_after: dict[str, tuple[str, int]] | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.cameras = cameras
        self.site_file = site_file
        self.faces_dir = faces_dir
        self.badges = badges or {}
        self.camera_settings = camera_settings or {}
        # camera -> (the camera that must first have seen an anonymous someone, from
        # how many encodings)
        self.start_after = start_after or {}
        self.operator = operator
        self.config_path = self.data_dir / "srs.toml"
        self.passwords: dict[str, str] = {}
        self.supervisor = Supervisor(self.data_dir / "logs", env=_demo_env())
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
            # The embedded broker speaks 3.1.1 only: no MQTT 5 probe at each start.
            f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\nprotocol = "3.1.1"\n\n'
            f'[broker]\nbind = "127.0.0.1"\nport = {port}\n\n'
            f'[core]\nsite_file = "{self.site_file.resolve()}"\n\n'
            # The nodes share a laptop's cores: capped below the clips' 12.5 fps.
            "[edge]\nmax_fps = 8.0\n"
            + "".join(_camera_table(cam, s) for cam, s in self.camera_settings.items())
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
        for name, badge in self.badges.items():
            photo = write_badge(badge, self.data_dir / "badges" / f"{name}.png")
            print(
                f"enrolling {name} from a badge photo (frame {badge.frame} of {badge.clip.name})",
                flush=True,
            )
            self._srs("person", "add", name, str(photo))

    def _users(self) -> None:
        from broker.users import UserStore, default_path

        assert self.cfg is not None
        store = UserStore(default_path(self.cfg))
        self.passwords["core"] = store.add("core", "core")
        for camera_id in self.cameras:
            self.passwords[camera_id] = store.add(camera_id, "camera")
        self.passwords[self.operator] = store.add(self.operator, "operator")
        # The scripted guard signs in as its own operator: core keeps one session key
        # per user, so sharing the dashboard's account would void the dashboard's key.
        self.passwords[GUARD_USER] = store.add(GUARD_USER, "operator")

    def _srs(self, *args: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "srs.app", *args, "--config", str(self.config_path)]
        result = subprocess.run(
            cmd, capture_output=capture, text=True, timeout=600, env=_demo_env()
        )
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
            later = {c: after for c, after in self.start_after.items() if c in self.cameras}
            for camera_id in self.cameras:
                if camera_id not in later:
                    self._start_edge(camera_id)
            for camera_id, (after, encodings) in later.items():
                print(f"waiting for {after} to see someone before {camera_id} starts", flush=True)
                self._check_children(set())
                _wait_until_encoded(view, after, encodings)
                self._start_edge(camera_id)
        print(f"broker, core and {len(self.cameras)} camera nodes running", flush=True)

    def _start_edge(self, camera_id: str) -> None:
        self.supervisor.start(
            f"edge-{camera_id}",
            ["edge", "--camera-id", camera_id, "--source", str(self.cameras[camera_id]), "--loop"],
            env=self._env(camera_id),
        )

    def _died(self, child: Child, what: str) -> str:
        return f"{what}; last lines of {child.log_path}:\n{child.tail()}"

    def _operator_access(
        self, user: str | None = None
    ) -> tuple[MqttConfig, SecurityConfig, KeyLookup]:
        """The operator's MQTT settings, the security settings and the pinned keys."""
        assert self.cfg is not None
        from srs.wire import public_key_from_b64

        keys = {topics.CORE_SENDER: self._public_key("core.key.pub")}
        for camera_id in self.cameras:
            keys[topics.camera_issuer(camera_id)] = self._public_key(f"camera-{camera_id}.key.pub")
        ring = {k: public_key_from_b64(v) for k, v in keys.items()}
        user = user or self.operator
        mqtt = self.cfg.mqtt.model_copy(
            update={"username": user, "password": SecretStr(self.passwords[user])}
        )
        return mqtt, self.cfg.security, ring.get

    def live_view(self, suffix: str) -> LiveView:
        return LiveView(*self._operator_access(), f"{self.operator}:{suffix}")

    def operator_client(self) -> OperatorClient:
        """A headless operator session (what ``--script`` names the stranger with)."""
        return OperatorClient(*self._operator_access(GUARD_USER), f"{GUARD_USER}:demo")

    def _public_key(self, name: str) -> str:
        assert self.cfg is not None
        return (self.cfg.keys_dir / name).read_text().strip()

    # --- watching -------------------------------------------------------------
    def _check_children(self, allowed_to_exit: set[str]) -> None:
        """Raise if a service stopped on its own (the dashboard may: it is optional)."""
        for child in self.supervisor.failed():
            if child.name not in allowed_to_exit:
                raise DemoError(self._died(child, f"{child.name} stopped unexpectedly"))

    def start_gui(self, screenshot: ScreenshotPlan | None = None) -> Child | None:
        """The dashboard, signed in; None (having said why) when Qt cannot start here."""
        if screenshot is None:
            why = why_no_dashboard()
            if why is not None:
                print(f"srs demo: no dashboard: {why}; continuing headless", flush=True)
                return None
        env = self._env(self.operator) | gui_env(screenshot)
        return self.supervisor.start("gui", ["gui", "--config", str(self.config_path)], env=env)

    def watch(
        self,
        stop: threading.Event,
        duration: float | None,
        guard: Guard,
        gui: Child | None = None,
        table: bool = False,
    ) -> dict[str, Any]:
        """Run until stopped (or ``duration``); print the live table when ``table`` or
        there is no dashboard (any more); let the guard act; return the live figures."""
        start = time.monotonic()
        tty = sys.stdout.isatty()
        allowed = {"gui"}
        next_table = 0.0
        with self.live_view("demo-view") as view:
            while not stop.is_set():
                now = time.monotonic()
                if duration is not None and now - start >= duration:
                    break
                self._check_children(allowed)
                guard.step(view.state)
                if gui is not None and not gui.running:
                    if gui.process.returncode == 0:
                        break  # the operator closed the dashboard: the demo ends
                    print(gui_failure(gui), flush=True)
                    gui = None
                if (table or gui is None) and now >= next_table:
                    text = render(view.state, time.time(), title="SRS demo (Ctrl-C to stop)")
                    sys.stdout.write(("\x1b[H\x1b[2J" if tty else "") + text + "\n\n")
                    sys.stdout.flush()
                    next_table = now + (1.0 if tty else 10.0)
                stop.wait(0.5)
            return self._live_summary(view, time.monotonic() - start)

    def _live_summary(self, view: LiveView, seconds: float) -> dict[str, Any]:
        state = view.state
        core = state.core
        latency = state.latency_percentiles()
        with state.lock:
            alerts = Counter(a.person_key for a in state.alerts if a.person_key is not None)
            stays: Counter[str] = Counter()
            for (key, _zone), n in state.stays.items():
                stays[key] += n
            refused = sum(state.refused.values())
            placed = len(state.positions)
        return {
            "seconds": seconds,
            "received": core.received if core else 0,
            "accepted": core.accepted if core else 0,
            "duplicates": core.duplicates if core else 0,
            "rejected": sum(core.rejected.values()) if core else 0,
            "rejected_by_reason": dict(core.rejected) if core else {},
            "core_ingest_p50_ms": core.latency_p50_ms if core else None,
            "latency_p50_ms": latency[0] if latency else None,
            "latency_p99_ms": latency[1] if latency else None,
            "alerts": len(state.alerts),
            "alerts_by_person": dict(alerts),
            "stays_by_person": dict(stays),
            "positions": placed,
            "view_refused": refused,
        }

    # --- after the stop -------------------------------------------------------
    def store_summary(self) -> dict[str, Any]:
        assert self.cfg is not None
        out = read_store(self.cfg)
        missing = [c for c in self.cameras if not out["sightings_by_camera"].get(c)]
        problem = None
        if missing:
            problem = f"no sightings stored from {', '.join(missing)}"
        elif not out["people_by_zone"]:
            problem = "nobody was placed in a zone"
        return {**out, "ok": problem is None, "problem": problem}

    def processes_left(self) -> int:
        return sum(1 for c in self.supervisor.children if c.running)
