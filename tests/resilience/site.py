"""A small SRS site of real processes for fault runs: `srs broker`, `srs core`, edges.

Each process has its own data directory, as on separate machines (a full disk on
core's host does not fill a camera's outbox): ``broker/``, ``core/`` and one per
camera under ``edges/``. Passwords reach the children in ``SRS_MQTT__PASSWORD``.
The cameras are :mod:`tests.resilience.sim_edge`: the edge's own outbox and link
(signing at send time, acks, re-sends), fed with synthetic detections at a steady
rate instead of a video (the fault suite counts messages, not faces).

``Site.count()`` is the checker: every sequence number a camera's outbox created
against what core's database holds (lost, duplicated).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import store
from srs.app.config import SrsConfig
from srs.app.supervise import Child, Supervisor, wait_for
from srs.wire import topics
from srs.wire.signing import SigningKey
from tests.brokers import BrokerHandle, Relay, fast_user_store, free_port

ROOT = Path(__file__).resolve().parents[2]


def toml(sections: dict[str, Any]) -> str:
    """Scalars at the top, then one table per dict (one level, all SRS needs here)."""
    lines = [f"{k} = {_value(v)}" for k, v in sections.items() if not isinstance(v, dict)]
    for name, table in sections.items():
        if isinstance(table, dict):
            lines.append(f"[{name}]")
            lines += [f"{k} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def rss_kb(pid: int) -> int:
    """Resident memory of a process (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Count:
    """One camera's messages, end to end."""

    camera: str
    created: int  # sequence numbers 0 .. created-1 were made by its outbox
    stored: int  # of those, how many core's database holds
    lost: int
    duplicated: int  # (camera, seq, detection) stored more than once
    excused: int = 0  # refused for a reason the scenario expects (a clock ahead), not stored

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0


class Site:
    def __init__(
        self,
        root: Path,
        *,
        broker: dict[str, Any] | None = None,
        core: dict[str, Any] | None = None,
        edge: dict[str, Any] | None = None,
        core_dir: Path | None = None,
        log_level: str = "INFO",
        security: dict[str, Any] | None = None,
    ) -> None:
        self.root = root
        self.port = free_port()
        self.broker_dir = root / "broker"
        self.core_dir = core_dir or root / "core"
        self.log_level = log_level
        self.sup = Supervisor(root / "logs", grace_s=15.0)
        users = fast_user_store(self.broker_dir / "broker" / "users.json")
        self.handle = BrokerHandle("127.0.0.1", self.port, store=users)
        self._broker_cfg = {"port": self.port, **(broker or {})}
        self._core_cfg = {"status_interval_s": 2.0, **(core or {})}
        self._edge_cfg = edge or {}
        self._security = security or {}  # [security], the same for every process
        # Seqs a scenario expects core to refuse for good (captured with a clock
        # hours ahead): not "lost" when they are not stored.
        self.excused: dict[str, set[int]] = {}
        # What a fault found wrong besides lost/duplicated (an orphan, a status that
        # never named the clock): each fails the scenario.
        self.problems: list[str] = []
        # When the fault ended, if a scenario's fault goes on after that (it watches
        # what follows): recovery counts from here instead of from its return.
        self.fault_ended: float | None = None
        self.relays: dict[str, Relay] = {}
        self.cameras: list[str] = []
        self.broker: Child | None = None
        self.core: Child | None = None
        self.edges: dict[str, Child] = {}
        self.handle.client_config("core", "core")

    # --- configuration -------------------------------------------------------------

    def _config(self, name: str, data_dir: Path, user: str, port: int, **extra: Any) -> Path:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{name}.toml"
        mqtt = self.handle.client_config(user, "core" if user == "core" else "camera")
        sections: dict[str, Any] = {
            "data_dir": str(data_dir),
            "mqtt": {
                "host": "127.0.0.1",
                "port": port,
                "username": user,
                # as client_config: no MQTT 5 probe at each start on amqtt (3.1.1 only)
                "protocol": mqtt.protocol,
            },
            "logging": {"level": self.log_level},
            **({"security": self._security} if self._security else {}),
            **extra,
        }
        path.write_text(toml(sections))
        return path

    @property
    def core_db(self) -> Path:
        return self.core_dir / "srs.db"

    def core_public_key(self) -> Path:
        return self.core_dir / "keys" / "core.key.pub"

    def add_camera(self, cam: str) -> None:
        """A camera key (in the edge's data dir), registered with core and the broker."""
        edge_dir = self.root / "edges" / cam
        key = SigningKey.load_or_create(
            topics.camera_issuer(cam), edge_dir / "keys" / f"camera-{cam}.key"
        )
        db = store.open_store(SrsConfig(data_dir=self.core_dir))
        with db.session() as s:
            store.add_camera(s, cam, key.public_key_b64)
        db.close()
        self.handle.client_config(cam, "camera")
        self.relays[cam] = Relay(("127.0.0.1", self.port))
        self.cameras.append(cam)

    # --- processes -----------------------------------------------------------------

    def _start(self, name: str, args: list[str], user: str) -> Child:
        env = {"SRS_MQTT__PASSWORD": self.handle.passwords[user], "PYTHONPATH": str(ROOT)}
        return self.sup.start_command(name, [sys.executable, "-m", *args], env)

    def start_broker(self) -> Child:
        conf = self._config("broker", self.broker_dir, "core", self.port, broker=self._broker_cfg)
        self.broker = self._start("broker", ["srs.app", "broker", "--config", str(conf)], "core")
        if not wait_for(lambda: _listening(self.port), 30):
            raise RuntimeError("the broker did not start:\n" + self.broker.tail())
        return self.broker

    def start_core(self) -> Child:
        conf = self._config("core", self.core_dir, "core", self.port, core=self._core_cfg)
        self.core = self._start("core", ["srs.app", "core", "--config", str(conf)], "core")
        if not wait_for(self.core_public_key().exists, 60):
            raise RuntimeError("core did not start:\n" + self.core.tail())
        return self.core

    def start_edge(
        self,
        cam: str,
        rate: float,
        *,
        clock_file: Path | None = None,
        extra: Sequence[str] = (),
    ) -> Child:
        edge = {"camera_id": cam, "core_public_key": str(self.core_public_key()), **self._edge_cfg}
        conf = self._config(
            f"edge-{cam}", self.root / "edges" / cam, cam, self.relays[cam].port, edge=edge
        )
        args = ["tests.resilience.sim_edge", "--config", str(conf), "--rate", str(rate)]
        if clock_file is not None:
            args += ["--clock-file", str(clock_file)]
        args += list(extra)
        self.edges[cam] = self._start(f"edge-{cam}", args, cam)
        return self.edges[cam]

    def signal(self, child: Child | None, sig: int = signal.SIGTERM, wait_s: float = 20) -> None:
        """Send ``sig`` and wait for the process to end (SIGKILL after ``wait_s``)."""
        if child is None or not child.running:
            return
        child.process.send_signal(sig)
        try:
            child.process.wait(wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait(10)

    def core_connections(self) -> int:
        """How many times core has said it connected to the broker (its log)."""
        log = self.root / "logs" / "core.log"
        try:
            return log.read_text(errors="replace").count("core connected to the broker")
        except OSError:
            return 0

    def stop_generating(self) -> None:
        """Cameras stop making new messages (SIGUSR1) but keep sending their outbox.
        Returns once none makes any more: a camera may add one after the signal was
        sent (it was adding one then), which a count taken at once would miss and then
        call lost."""
        for child in self.edges.values():
            if child.running:
                child.process.send_signal(signal.SIGUSR1)
        before: dict[str, int] = {}

        def settled() -> bool:
            nonlocal before
            now = {cam: self.created(cam) for cam in self.cameras}
            same, before = now == before, now
            return same

        wait_for(settled, 10, interval_s=0.5)  # 5 periods of a 10 messages/s camera

    def close(self) -> None:
        self.sup.stop_all()
        for relay in self.relays.values():
            relay.close()

    def __enter__(self) -> Site:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the checker -------------------------------------------------------------------

    def outbox(self, cam: str) -> Path:
        """The camera's on-disk outbox (edge.outbox), as its data dir lays it out."""
        return self.root / "edges" / cam / "edge" / f"outbox-{cam}.db"

    def created(self, cam: str) -> int:
        """How many sequence numbers the camera's outbox has handed out (0 .. n-1)."""
        path = self.outbox(cam)
        if not path.exists():
            return 0
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
            meta = db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
            top = db.execute("SELECT MAX(seq) FROM outbox").fetchone()
        return max(
            int(meta[0]) if meta else 0, int(top[0]) + 1 if top and top[0] is not None else 0
        )

    def stored(self, cam: str) -> tuple[set[int], int]:
        """(sequence numbers core has stored, sightings stored more than once)."""
        if not self.core_db.exists():
            return set(), 0
        with sqlite3.connect(f"file:{self.core_db}?mode=ro", uri=True, timeout=10) as db:
            seqs = {
                int(r[0])
                for r in db.execute("SELECT seq FROM processed_messages WHERE camera_id=?", (cam,))
            }
            dup = db.execute(
                "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM sightings "
                "WHERE camera_id=? GROUP BY seq, det_index HAVING n > 1)",
                (cam,),
            ).fetchone()[0]
        return seqs, int(dup)

    def count(self) -> list[Count]:
        out = []
        for cam in self.cameras:
            n = self.created(cam)
            seqs, dup = self.stored(cam)
            got = len(seqs & set(range(n)))
            excused = len((self.excused.get(cam, set()) & set(range(n))) - seqs)
            out.append(
                Count(cam, n, got, n - got - excused, dup + len(seqs - set(range(n))), excused)
            )
        return out

    def where_lost(self, most: int = 5) -> str:
        """Where the lost seqs are (the first ``most`` of each camera): still in the
        outbox (sent how often, when next due), or gone from it (given up), so a
        failed row says at once whether the edge held on to them or let them go."""
        said = []
        for cam in self.cameras:
            n = self.created(cam)
            lost = sorted(set(range(n)) - self.stored(cam)[0] - self.excused.get(cam, set()))
            if not lost:
                continue
            path = self.outbox(cam)
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
                meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
                gone = (
                    f"acknowledged, or one of the {meta.get('refused', 0)} given up "
                    f"or {meta.get('dropped', 0)} dropped"
                )
                for seq in lost[:most]:
                    row = db.execute(
                        "SELECT attempts, retry_at, payload FROM outbox WHERE seq=?", (seq,)
                    ).fetchone()
                    if row is None:
                        said.append(f"{cam} seq {seq}: gone from its outbox ({gone})")
                        continue
                    captured = json.loads(row[2]).get("captured_at", 0.0)
                    said.append(
                        f"{cam} seq {seq}: still in its outbox, sent {row[0]} time(s), "
                        f"captured {captured - time.time():+.0f} s from now"
                    )
            if len(lost) > most:
                said.append(f"{cam}: {len(lost) - most} more")
        return "; ".join(said)

    def future_sightings(self, skew_s: float = 60.0) -> int:
        """Sightings stored with ``seen_at`` in the future (a camera clock ahead)."""
        with sqlite3.connect(f"file:{self.core_db}?mode=ro", uri=True, timeout=10) as db:
            row = db.execute(
                "SELECT COUNT(*) FROM sightings WHERE seen_at > ?", (time.time() + skew_s,)
            ).fetchone()
        return int(row[0])

    def security_audit(self, since: float) -> int:
        """Security audit rows core wrote since ``since`` (wall clock)."""
        with sqlite3.connect(f"file:{self.core_db}?mode=ro", uri=True, timeout=10) as db:
            row = db.execute(
                "SELECT COUNT(*) FROM audit_log WHERE category='security' AND at >= ?", (since,)
            ).fetchone()
        return int(row[0])

    def all_stored(self, upto: dict[str, int] | None = None) -> bool:
        """Every sequence number below ``upto[cam]`` (default: all created) is stored."""
        try:
            for cam in self.cameras:
                n = self.created(cam) if upto is None else upto[cam]
                if not set(range(n)) - self.excused.get(cam, set()) <= self.stored(cam)[0]:
                    return False
        except sqlite3.Error:
            return False  # the database is locked or not there yet: not yet
        return True

    def time_to_store(self, since: float, timeout_s: float) -> float | None:
        """Seconds from ``since`` (time.monotonic) until everything created by now is
        stored; None if it was not within ``timeout_s``."""
        upto = {cam: self.created(cam) for cam in self.cameras}
        if wait_for(lambda: self.all_stored(upto), timeout_s, interval_s=0.2):
            return time.monotonic() - since
        return None


class StatusWatch:
    """Every camera's signed status as it arrives (an operator's view, verified with
    each camera's key), so a scenario can say when a camera said what."""

    def __init__(self, site: Site) -> None:
        from srs.mqtt import ConnectionWatcher, guarded, make_client
        from srs.wire.payloads import CameraStatus
        from srs.wire.signing import Verifier

        keys = {
            topics.camera_issuer(cam): SigningKey.load_or_create(
                topics.camera_issuer(cam), site.root / "edges" / cam / "keys" / f"camera-{cam}.key"
            ).public_key
            for cam in site.cameras
        }
        verifier = Verifier(keys.get, clock_skew_s=4.0e9)  # the cameras' clocks may be off
        self.seen: list[tuple[float, CameraStatus]] = []  # (time.monotonic(), status)
        self.watcher = ConnectionWatcher()
        self.client = make_client(site.handle.client_config("watch", "operator"), "watch")

        def on_connect(client: Any, *args: Any) -> None:
            self.watcher.on_connect(client, *args)
            client.subscribe(topics.ALL_CAMERA_STATUS, qos=1)

        def on_message(client: Any, userdata: Any, msg: Any) -> None:
            status = verifier.verify(msg.topic, msg.payload, CameraStatus).payload
            self.seen.append((time.monotonic(), status))

        self.client.on_connect = guarded(on_connect, "connect")
        self.client.on_message = guarded(on_message, "message")
        self.client.connect("127.0.0.1", site.port)
        self.client.loop_start()

    def first(self, since: float, cam: str, text: str) -> tuple[float, str] | None:
        """(seconds after ``since``, message) of the first status of ``cam`` saying ``text``."""
        for at, status in list(self.seen):
            if at >= since and status.camera_id == cam and text in status.message:
                return at - since, status.message
        return None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class AlertWatch:
    """Every alert core publishes (verified with core's key), as a dashboard sees them:
    a scenario counts them by category (issue 21: a store fault is an operational
    alert, never a security one)."""

    def __init__(self, site: Site) -> None:
        from srs.mqtt import guarded, make_client
        from srs.wire.payloads import Alert
        from srs.wire.signing import Verifier, public_key_from_b64

        key = public_key_from_b64(site.core_public_key().read_text())
        verifier = Verifier(
            lambda issuer: key if issuer == topics.CORE_SENDER else None,
            clock_skew_s=60.0,
            max_age_s=3600.0,
        )
        self.alerts: list[Alert] = []
        self.client = make_client(site.handle.client_config("alerts", "operator"), "alerts")

        def on_connect(client: Any, *args: Any) -> None:
            client.subscribe(topics.alerts(), qos=1)

        def on_message(client: Any, userdata: Any, msg: Any) -> None:
            self.alerts.append(verifier.verify(msg.topic, msg.payload, Alert).payload)

        self.client.on_connect = guarded(on_connect, "connect")
        self.client.on_message = guarded(on_message, "message")
        self.client.connect("127.0.0.1", site.port)
        self.client.loop_start()

    def count(self, category: str) -> int:
        return sum(1 for a in list(self.alerts) if a.category == category)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
