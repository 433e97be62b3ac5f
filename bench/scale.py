"""Core as N instances: throughput, CPU and latency for 1, 2 and 4 instances, same input.

Against Mosquitto (users and ACL as `srs broker export` writes them, one broker user
per core instance: Mosquitto makes the user name the client id) and a fresh
database per run (SQLite in a temporary data dir, or ``--database-url``, whose
tables are dropped before each run):

1. Raw: one camera publishes the first camera's messages at QoS 1 to a plain
   subscriber (bench/core.py's ``raw_rate``): the broker's rate on this machine now.
2. For N in ``--instances`` (default 1 2 4): N `srs core` processes (N = 1: the
   single core, ``[core] instance = "core"``, as deployed today; N > 1: instances
   ``b1``..``bN`` sharing the cameras through leases, docs/scale.md), with a
   10,000-person gallery and a site of ``--cameras`` rooms 30 m apart (each camera
   its own partition with ``fusion_distance_m = 10``; every other room restricted,
   so strangers raise alerts). Each camera is a process of its own (bench/camera.py).
   - saturation: every camera sends ``--messages`` one-face messages at once;
     detections/s from the first publish to the last end-to-end ack, the ratio to
     the raw rate, and the CPU the core processes used per detection
     (/proc/<pid>/stat: user + system);
   - paced: ``--paced-rate`` messages/s in all, ``--paced-messages`` per camera;
     p50/p99 from a camera's publish to the position arriving at a subscriber
     (an upper bound of core's receive -> position: two broker hops included).
3. Checks that every run stored the same identities (anonymous ones named by their
   first sighting) and published the same zone events and alerts (as multisets).

Each camera sees its own people (a slice of the gallery and of the strangers): a
person seen by cameras held by two instances within the locator's fusion window is
the one case where N instances and one differ by design (docs/scale.md).
Prints figures; asserts nothing but the equality check's verdict in the output.

    .venv/bin/python bench/scale.py [--instances 1 2 4] [--cameras 4] [--messages 1500]
                                    [--database-url URL]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from core import store  # noqa: E402
from core.store.db import Database, make_engine  # noqa: E402
from core.store.models import Base, CoreLease  # noqa: E402
from srs.wire import topics  # noqa: E402
from srs.wire.payloads import BBox, Detection, DetectionBatch  # noqa: E402
from srs.wire.signing import SigningKey, sign  # noqa: E402
from tests.brokers import mosquitto_binary, mosquitto_broker  # noqa: E402
from tests.core.store.helpers import stored_identities  # noqa: E402

_bench = importlib.import_module("bench.core")  # named so mypy does not see "core" twice
_camera = importlib.import_module("bench.camera")
CameraProcess, connect = _camera.CameraProcess, _camera.connect
ROOM_M = 30.0


def site_toml(cameras: list[str]) -> str:
    width = ROOM_M * len(cameras)
    out = [f'name = "bench"\nwidth_m = {width}\nheight_m = 10.0\n']
    for i, cam in enumerate(cameras):
        x0 = ROOM_M * i
        out.append(
            f'[[zones]]\nid = "room{i}"\nname = "Room {i}"\n'
            f"restricted = {str(i % 2 == 1).lower()}\n"
            f"polygon = [[{x0}, 0], [{x0 + 20}, 0], [{x0 + 20}, 10], [{x0}, 10]]\n"
            f'[[cameras]]\nid = "{cam}"\nx = {x0 + 0.5}\ny = 5.0\nheight_m = 2.5\nyaw_deg = 0.0\n'
            "hfov_deg = 62.0\nimage_width = 640\nimage_height = 360\n"
        )
    return "\n".join(out)


def recorded_input(cameras: list[str], n: int, first_seq: int) -> dict[str, list[DetectionBatch]]:
    """``n`` one-face messages per camera; each camera sees its own slice of people."""
    out = {}
    base = round(time.time(), 3)
    gallery, strangers = _bench.GALLERY, _bench.STRANGERS
    for c, cam in enumerate(cameras):
        rng = np.random.default_rng(100 + c)
        people = gallery[c :: len(cameras)]
        crowd = strangers[c :: len(cameras)]
        batches = []
        for i in range(n):
            stranger = rng.random() < 0.1
            pool = crowd if stranger else people
            who = int(rng.integers(len(pool)))
            vec = pool[who] + rng.normal(0, 0.02, 128)
            batches.append(
                DetectionBatch(
                    camera_id=cam,
                    seq=first_seq + i,
                    captured_at=base + i * 0.001,  # unique per camera: maps positions back
                    frame_width=640,
                    frame_height=360,
                    detections=[
                        Detection(
                            kind="face",
                            bbox=BBox(x=300, y=120, w=60, h=60),
                            # one track per person and camera, as an edge tracks one
                            # walker: a stranger is clustered once, then followed
                            track_id=who + (100_000 if stranger else 0),
                            score=0.9,
                            encoding=[round(float(v), 4) for v in vec],
                        )
                    ],
                )
            )
        out[cam] = batches
    return out


def signed(batches: list[DetectionBatch], key: SigningKey) -> list[bytes]:
    return [sign(b, topics.detections(b.camera_id), key) for b in batches]


class Observer:
    """Positions, zone events and alerts as a subscriber sees them (not verified:
    core signs them; this only reads the claims)."""

    def __init__(self, mqtt: Any) -> None:
        self.lock = threading.Lock()
        self.positions: list[tuple[float, dict[str, Any]]] = []
        self.events: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self.client = connect(mqtt, mqtt.username)
        self.client.on_message = self.on_message
        self.client.subscribe([(topics.ALL_POSITIONS, 1), (topics.ALL_EVENTS, 1)])

    def on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        at = time.perf_counter()
        if msg.retain or not msg.payload:
            return  # an earlier run's retained position, or a cleared one
        part = msg.payload.split(b".")[1]
        data = json.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4)))["data"]
        with self.lock:
            if topics.matches(topics.ALL_POSITIONS, msg.topic):
                self.positions.append((at, data))
            elif msg.topic == topics.zone_events():
                self.events.append(data)
            else:
                self.alerts.append(data)

    def positions_since(self) -> list[tuple[float, dict[str, Any]]]:
        """The positions since the last call (events and alerts stay)."""
        with self.lock:
            out, self.positions = self.positions, []
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Run:
    instances: int
    rate: float = 0.0
    detections: int = 0
    cpu_ms_per_detection: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    positions: int = 0
    paced_sent: int = 0
    paced_rate: float = 0.0
    identities: dict[Any, str] = field(default_factory=dict)
    events: Counter[Any] = field(default_factory=Counter)  # keys only: entered zones
    twice: int = 0  # entries while already inside, camera-offline alerts repeated
    alerts: Counter[Any] = field(default_factory=Counter)


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def fresh_database(url: str | None, data: Path) -> Database:
    if url is None:
        return Database(make_engine(f"sqlite:///{data / 'srs.db'}"))
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return Database(engine)


def core_config(path: Path, data: Path, mqtt: Any, instance: str, args: argparse.Namespace) -> None:
    url = f'database_url = "{args.database_url}"\n' if args.database_url else ""
    path.write_text(
        f'data_dir = "{data}"\n'
        f'[mqtt]\nhost = "{mqtt.host}"\nport = {mqtt.port}\nusername = "{mqtt.username}"\n'
        f'password = "{mqtt.password.get_secret_value()}"\n'
        f'[core]\ninstance = "{instance}"\nsite_file = "{data / "site.toml"}"\n'
        f"fusion_distance_m = 10.0\nstatus_interval_s = 60\nmax_new_identities_per_min = 0\n{url}"
        '[logging]\nlevel = "WARNING"\n'
    )


def one_run(n: int, broker: Any, tmp: Path, cams: list[str], args: argparse.Namespace) -> Run:
    run = Run(n)
    data = tmp / f"run{n}"
    data.mkdir()
    (data / "site.toml").write_text(site_toml(cams))
    db = fresh_database(args.database_url, data)
    store.migrate(db.engine)
    keys = {c: SigningKey.generate(topics.camera_issuer(c)) for c in cams}
    with db.session() as s:
        for cam in cams:
            store.add_camera(s, cam, keys[cam].public_key_b64)
    _bench.fill_gallery(db, args.gallery)
    core_key = SigningKey.load_or_create(topics.CORE_SENDER, data / "keys" / "core.key")
    names = ["core"] if n == 1 else [f"b{i + 1}" for i in range(n)]
    procs = []
    for name in names:
        mqtt = broker.client_config(name if n == 1 else f"core-{name}", "core")
        core_config(tmp / f"{name}-{n}.toml", data, mqtt, name, args)
        cmd = [sys.executable, "-m", "srs.app", "core", "--config", str(tmp / f"{name}-{n}.toml")]
        procs.append(subprocess.Popen(cmd, cwd=ROOT))
    observer = Observer(broker.client_config("observer", "integrator"))
    cameras = {c: CameraProcess(broker.client_config(c, "camera"), c) for c in cams}
    try:
        for cam in cameras.values():
            cam.__enter__()
        if n > 1:
            wait_for_leases(db, cams, n)
        # Warm-up: seq 0 from each camera until acked (a camera's first message may
        # go before any instance subscribed to it); part of the compared input.
        warm = recorded_input(cams, 1, 0)
        for cam, proc in cameras.items():
            while (
                proc.play(
                    signed(warm[cam], keys[cam]), core_key=core_key.public_key_b64, acks=1
                ).acked
                < 1
            ):
                pass
        pids = [p.pid for p in procs]
        batches = recorded_input(cams, args.messages, 1)
        payloads = {c: signed(batches[c], keys[c]) for c in cams}
        cpu0 = cpu_seconds(pids)
        bursts = play_all(cameras, payloads, core_key.public_key_b64, lambda c: 1 + args.messages)
        cpu = cpu_seconds(pids) - cpu0
        run.detections = sum(b.acked - 1 for b in bursts.values())
        started = min(b.started for b in bursts.values())
        ended = max(b.last_ack or time.perf_counter() for b in bursts.values())
        run.rate = run.detections / (ended - started)
        run.cpu_ms_per_detection = cpu / max(1, run.detections) * 1000
        # Paced: latency to the position while core keeps up.
        first = 1 + args.messages
        paced = recorded_input(cams, args.paced_messages, first)
        if args.paced_rate is None:  # half what one core carried: the rate it keeps up with
            args.paced_rate = round(run.rate / 2)
        run.paced_rate = args.paced_rate
        per_cam = args.paced_rate / len(cams)
        time.sleep(0.5)
        observer.positions_since()
        bursts = play_all(
            cameras,
            {c: signed(paced[c], keys[c]) for c in cams},
            core_key.public_key_b64,
            lambda c: first + args.paced_messages,
            rate=per_cam,
        )
        time.sleep(1.0)
        sent_at = {
            (b.camera_id, b.captured_at): bursts[b.camera_id].started + (b.seq - first) / per_cam
            for c in cams
            for b in paced[c]
        }
        positions = observer.positions_since()
        lat = [
            (at - sent_at[(p["cameras"][0], p["last_seen"])]) * 1000
            for at, p in positions
            if not p.get("gone")
            and p.get("cameras")
            and (p["cameras"][0], p["last_seen"]) in sent_at
        ]
        run.paced_sent = len(sent_at)
        run.positions = len(lat)
        if lat:
            run.p50_ms, run.p99_ms = (float(v) for v in np.percentile(lat, [50, 99]))
    finally:
        for cam in cameras.values():
            cam.__exit__(None, None, None)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    time.sleep(0.5)
    observer.close()
    events, alerts = observer.events, observer.alerts
    run.identities, unknown_names = stored_identities(db)
    # Who entered which zone, as a set: a person not seen for stale_after_s (30 s of
    # wall clock) is gone and enters again when seen again, and that depends on how
    # long the run took, not on the number of instances. An entry while already
    # inside (no leave between) would be an event sent twice: counted apart.
    inside: set[tuple[str, str]] = set()
    for e in events:
        key = (canonical(e["person_key"], unknown_names), e["zone"])
        if e["action"] == "enter":
            run.twice += key in inside
            inside.add(key)
            run.events[key] += 0
        else:
            inside.discard(key)
    # Person alerts are compared; a camera-offline alert comes 30 s after core started
    # for a camera that sends no status (these do not), i.e. when the run is long
    # enough, so for those only "at most once per camera" is checked.
    run.alerts = Counter(
        (a["kind"], canonical(a.get("person_key") or "", unknown_names), a.get("zone"))
        for a in alerts
        if a["kind"] != "camera_offline"
    )
    offline = Counter(a.get("camera_id") for a in alerts if a["kind"] == "camera_offline")
    run.twice += sum(n - 1 for n in offline.values() if n > 1)
    db.close()
    return run


def play_all(
    cameras: dict[str, Any], payloads: dict[str, list[bytes]], core_key: str, acks: Any, **kw: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def one(cam: str) -> None:
        out[cam] = cameras[cam].play(payloads[cam], core_key=core_key, acks=acks(cam), **kw)

    threads = [threading.Thread(target=one, args=(c,)) for c in cameras]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def wait_for_leases(db: Database, cams: list[str], n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as s:
            rows = s.execute(select(CoreLease.name, CoreLease.owner, CoreLease.expires_at)).all()
        now = time.time()
        held = {name: owner for name, owner, exp in rows if name in cams and exp > now}
        if len(held) == len(cams) and len(set(held.values())) == min(n, len(cams)):
            time.sleep(1.5)  # the last ones taken: subscribed within a renewal
            return
        time.sleep(0.2)
    raise SystemExit(f"the {n} core instances did not share the cameras within {timeout:.0f} s")


def canonical(key: str, unknown_names: dict[int, str]) -> str:
    if key.startswith("u") and key[1:].isdigit():
        return unknown_names.get(int(key[1:]), key)
    return key


def report(raw: float, runs: list[Run]) -> None:
    print(f"\nraw broker QoS 1 pub->sub (one camera): {raw:8.0f} msg/s")
    one = runs[0]
    for r in runs:
        p = f"{r.p50_ms:.1f} / {r.p99_ms:.1f} ms" if r.p99_ms is not None else "n/a"
        print(
            f"{r.instances} instance(s): {r.rate:7.0f} detections/s  x{r.rate / one.rate:4.2f} of 1"
            f"  ratio to raw {r.rate / raw:4.2f}  CPU {r.cpu_ms_per_detection:.3f} ms/detection"
            f"\n    at {r.paced_rate:.0f} msg/s: publish->position p50/p99 {p} "
            f"({r.positions}/{r.paced_sent} positions)"
        )
    print(f"\ncores on this machine: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    for r in runs[1:]:
        same = [
            ("identities", r.identities == one.identities, len(one.identities)),
            ("zones entered", r.events.keys() == one.events.keys(), len(one.events)),
            ("person alerts", r.alerts == one.alerts, sum(one.alerts.values())),
        ]
        verdict = ", ".join(f"{what} {'SAME' if ok else 'DIFFERENT'} ({n})" for what, ok, n in same)
        print(f"{r.instances} vs 1 instance: {verdict}; events sent twice: {r.twice}")
        if r.identities != one.identities:
            diff = [k for k in one.identities if r.identities.get(k) != one.identities[k]]
            print(f"  {len(diff)} sighting(s) differ, e.g.:")
            for k in diff[:3]:
                print(f"    {k}: 1 instance {one.identities[k]!r}, N {r.identities.get(k)!r}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--messages", type=int, default=1500, help="per camera, saturation")
    ap.add_argument("--paced-messages", type=int, default=150, help="per camera")
    ap.add_argument(
        "--paced-rate",
        type=float,
        default=None,
        help="messages/s, all cameras (default: half the rate one instance carried)",
    )
    ap.add_argument("--gallery", type=int, default=10_000)
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = ap.parse_args()
    binary = mosquitto_binary()
    if binary is None:
        raise SystemExit("no `mosquitto` binary (apt install mosquitto)")
    cams = [f"cam{i + 1}" for i in range(args.cameras)]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        (tmp / "mosquitto").mkdir()
        with mosquitto_broker(tmp / "mosquitto", binary) as broker:
            for user, role in [("core", "core"), ("observer", "integrator")]:
                broker.client_config(user, role)
            for i in range(max(args.instances)):
                broker.client_config(f"core-b{i + 1}", "core")
            for cam in cams:
                broker.client_config(cam, "camera")
            raw_key = SigningKey.generate(topics.camera_issuer(cams[0]))
            raw_payloads = signed(recorded_input(cams[:1], args.messages, 1)[cams[0]], raw_key)
            raws = [_bench.raw_rate(broker, raw_payloads)[0] for _ in range(3)]
            runs = []
            for n in args.instances:
                runs.append(one_run(n, broker, tmp, cams, args))
                if n == 1:  # end the single core's persistent session: no queue for it later
                    connect(broker.client_config("core", "core"), "core").disconnect()
                print(f"{n} instance(s): {runs[-1].rate:.0f} detections/s", flush=True)
            report(statistics.median(raws), runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
