"""Latency benchmark: detection published -> position published, p50 / p99.

Load: one camera ("corridor" of config/demo-site.toml) publishes ``--rate`` signed
detection messages per second (QoS 1), each with ``--faces`` detections of distinct
enrolled people (a real-size 128-d encoding each), for ``--seconds``. Default 50 msg/s x
10 faces = 500 detections/s, the issue's target (a message may carry up to 32).
core places each person and publishes a retained PersonPosition per person per message.
Two latencies per detection, both from the moment the camera published the message (its
``captured_at``, which core copies to ``last_seen``):

- **published**: until core has written its person's position to the broker socket
  (recorded in core's publish call), what the issue names: broker hop in,
  verification, recognition, the locator and signing (the store comes after);
- **at the integrator**: until that position arrives at a subscriber with integrator
  credentials, i.e. also the broker's hop out, what a dashboard sees.

Positions are verified with core's key after the run (not in the timed path).

For each broker chosen with ``--broker`` (its own process, a fresh core database):
``embedded`` is the SRS broker (`srs broker`), ``mosquitto`` is ``mosquitto -c`` with
the configuration, passwords and ACL that ``srs broker export --format mosquitto``
writes (the same users and rules as a site that moved to Mosquitto), ``both`` (the
default when the ``mosquitto`` binary is installed; without it the default is
``embedded`` and a line says Mosquitto was skipped) measures one after the other; see
bench/core.py. Against each, one CoreService in this process, twice: first with
TCP_NODELAY on the camera's socket (what srs.mqtt.make_client does), then with it off
(paho's default, Nagle) as the named baseline. The camera and the integrator run in a
process of their own, as deployed: in core's interpreter they waited for its lock (up
to the 5 ms switch interval) and the benchmark measured that, not core. The report
labels every block with the broker it measured and gives the Nagle ratio and the goal
per broker. Everything shares the machine's cores with whatever else runs: figures are
noisy. Asserts nothing.

    .venv/bin/python bench/latency.py [--rate 50] [--faces 10] [--seconds 20]
                                      [--commit-window-ms 5] [--encodings {every,edge}]
                                      [--broker {embedded,mosquitto,both}]

``--encodings every`` (the default) gives every face a fresh encoding, the worst case;
``edge`` sends them as the edge does (a track's encoding on its first message, then
every ``encode_refresh_s``, 5 s; the detections between are placed by their track).

Where the time goes (sampling, low overhead; core's worker is the thread running
``CoreService._run``):

    .venv/bin/py-spy record -r 250 -f raw -o /tmp/latency.txt -- \
        .venv/bin/python bench/latency.py --seconds 10 --broker embedded
"""

from __future__ import annotations

import argparse
import importlib
import logging
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as `srs core` does, before numpy loads

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import store  # noqa: E402
from core.config import CoreConfig  # noqa: E402
from core.service import CoreService  # noqa: E402
from edge.config import EdgeConfig  # noqa: E402
from srs.app.config import SrsConfig  # noqa: E402
from srs.wire import topics  # noqa: E402
from srs.wire.payloads import BBox, Detection, DetectionBatch, PersonPosition  # noqa: E402
from srs.wire.reading import verifier_for  # noqa: E402
from srs.wire.signing import SigningKey, Verifier, sign  # noqa: E402
from tests.brokers import BrokerHandle  # noqa: E402

# bench/core.py's broker process and bench/camera.py's client helper; imported by name so
# that mypy does not also see bench/core.py as the top-level module "core" (no package).
_bench_core = importlib.import_module("bench.core")
start_broker = _bench_core.start_broker
connect = importlib.import_module("bench.camera").connect

CAMERA = "corridor"  # 480x270 in the demo site
RNG = np.random.default_rng(11)
GOAL_P50_MS, GOAL_P99_MS = 5.0, 20.0


@dataclass
class Run:
    name: str
    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # at the integrator
    published_ms: list[float] = field(default_factory=list)  # written by core
    missing: int = 0
    stages_ms: dict[str, list[float]] = field(default_factory=dict)
    cpu_ms_per_msg: list[float] = field(default_factory=list)

    def pct(self, q: float, published: bool = False) -> float:
        data = sorted(self.published_ms if published else self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


class Stages:
    """Wraps core's worker step: when each detection message reached core, when the
    worker took it, when it was done (wall clock), the worker's CPU time, and when
    each position was written (core's publish writes to the socket before it returns)."""

    def __init__(self, svc: CoreService) -> None:
        self.lock = threading.Lock()
        self.rows: list[tuple[float, float, float]] = []  # received, started, done
        self.cpu_ms_per_msg: list[float] = []
        self.offset = time.time() - time.perf_counter()  # Incoming uses perf_counter
        handle = svc._handle

        def timed(batch: Any) -> None:
            started, cpu = time.time(), time.thread_time()
            handle(batch)
            done, cpu = time.time(), time.thread_time() - cpu
            dets = [i for i in batch if topics.matches(topics.ALL_DETECTIONS, i.topic)]
            with self.lock:
                self.rows.extend((i.received_at + self.offset, started, done) for i in dets)
                if dets:
                    self.cpu_ms_per_msg.append(cpu * 1000 / len(dets))

        svc._handle = timed  # type: ignore[method-assign]
        self.published: list[tuple[float, float]] = []  # written at, last_seen
        publish = svc._publish

        def stamped(topic: str, payload: Any, retain: bool = False) -> Any:
            info = publish(topic, payload, retain)
            if isinstance(payload, PersonPosition):
                self.published.append((time.time(), payload.last_seen))
            return info

        svc._publish = stamped  # type: ignore[method-assign]

    def take(
        self,
    ) -> tuple[list[tuple[float, float, float]], list[float], list[tuple[float, float]]]:
        with self.lock:
            out, self.rows = self.rows, []
            cpu, self.cpu_ms_per_msg = self.cpu_ms_per_msg, []
            published, self.published = self.published, []
        return out, cpu, published


class Positions:
    """Records (arrival time, topic, bytes) of every position; decoded after the run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: list[tuple[float, str, bytes]] = []

    def on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        now = time.time()
        with self.lock:
            self.got.append((now, msg.topic, bytes(msg.payload)))

    def count(self) -> int:
        with self.lock:
            return len(self.got)

    def take(self) -> list[tuple[float, str, bytes]]:
        with self.lock:
            out, self.got = self.got, []
        return out


def gallery(n: int) -> np.ndarray:
    return RNG.normal(0, 0.09, (n, 128))  # strangers are ~1.4 apart, like dlib encodings


def frame(
    key: SigningKey, seq: int, people: np.ndarray, captured_at: float, encoded: bool = True
) -> bytes:
    """One signed message: every enrolled person once, spread across the picture, each
    with a fresh encoding if ``encoded`` (else placed by its track, as the edge does
    between two encodings of a track)."""
    dets = [
        Detection(
            kind="face",
            bbox=BBox(x=10 + 45 * i, y=110, w=28, h=28),
            track_id=i,
            score=0.9,
            encoding=[round(float(v), 4) for v in p + RNG.normal(0, 0.02, 128)]
            if encoded
            else None,
        )
        for i, p in enumerate(people)
    ]
    b = DetectionBatch(
        camera_id=CAMERA,
        seq=seq,
        captured_at=captured_at,
        frame_width=480,
        frame_height=270,
        detections=dets,
    )
    return sign(b, topics.detections(CAMERA), key)


def outside_world(
    cam_mqtt: Any,
    ha_mqtt: Any,
    payloads: list[bytes],
    planned: list[float],
    nodelay: bool,
    expected: int,
    out: Any,
) -> None:
    """The camera and the integrator, in a process of their own (as deployed): they never
    wait for core's interpreter lock, and core never waits for theirs. Sends back the real
    publish time of each message and (arrival, topic, bytes) of each position."""
    seen = Positions()
    sub = connect(ha_mqtt, "ha")
    sub.on_message = seen.on_message
    sub.subscribe(topics.ALL_POSITIONS, qos=1)
    cam = connect_camera(cam_mqtt, nodelay)
    time.sleep(0.5)
    seen.take()  # retained positions of earlier runs
    topic = topics.detections(CAMERA)
    sends: list[float] = []
    for captured, data in zip(planned, payloads, strict=True):
        delay = captured - time.time()
        if delay > 0:
            time.sleep(delay)
        sends.append(time.time())  # the real publish time (may lag the plan)
        cam.publish(topic, data, qos=1)
    # Let the tail arrive: until every position is in, or nothing came for 15 s.
    last, last_change = -1, time.monotonic()
    while time.monotonic() - last_change < 15.0:
        got = seen.count()
        if got >= expected:
            break
        if got != last:
            last, last_change = got, time.monotonic()
        time.sleep(0.1)
    for c in (cam, sub):
        c.disconnect()
        c.loop_stop()
    out.send((sends, seen.take()))


def play(
    broker: BrokerHandle,
    key: SigningKey,
    people: np.ndarray,
    rate: float,
    seconds: float,
    first_seq: int,
    nodelay: bool,
    verifier: Verifier,
    name: str,
    stages: Stages,
    encode_every: int = 1,
) -> Run:
    run = Run(name)
    n = int(rate * seconds)
    # Signing is the camera's work, not what is measured: sign everything first, each
    # message stamped with the moment it is planned to go out (~8 ms a message, plus
    # ~3 s to start the camera's process; iat stays well inside the age limit).
    t0 = time.time() + 4.0 + n * 0.01
    planned = [t0 + i / rate for i in range(n)]
    payloads = [
        frame(key, first_seq + i, people, planned[i], i % encode_every == 0) for i in range(n)
    ]
    ctx = multiprocessing.get_context("spawn")  # not fork: core's threads are running
    here, there = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=outside_world,
        name="camera+integrator",
        args=(
            broker.client_config(CAMERA, "camera"),
            broker.client_config("ha", "integrator"),
            payloads,
            planned,
            nodelay,
            n * len(people),
            there,
        ),
    )
    stages.take()
    child.start()
    sends, arrivals = here.recv()
    child.join(30)
    sent_at = dict(zip(planned, sends, strict=True))
    run.sent = n * len(people)
    for arrived, t, data in arrivals:
        if not data:  # the empty retained payload that clears a gone person's topic
            continue
        pos = verifier.verify(t, data, PersonPosition).payload
        start = sent_at.get(pos.last_seen)
        if start is not None:
            run.latencies_ms.append((arrived - start) * 1000)
    run.missing = run.sent - len(run.latencies_ms)
    # One camera, QoS 1: core receives the messages in the order they were sent.
    rows, run.cpu_ms_per_msg, published = stages.take()
    run.published_ms = [
        (written - sent_at[seen]) * 1000 for written, seen in published if seen in sent_at
    ]
    for sent, (received, started, done) in zip(sends, rows, strict=False):
        for stage, ms in (
            ("camera -> core (broker hop)", received - sent),
            ("queued for core's worker", started - received),
            ("core worker (whole batch)", done - started),
        ):
            run.stages_ms.setdefault(stage, []).append(ms * 1000)
    return run


def connect_camera(mqtt: Any, nodelay: bool) -> Any:
    def nagle(client: Any, userdata: Any, sock: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)

    # The baseline: paho's default socket (Nagle on), undoing what make_client sets.
    return connect(mqtt, f"{CAMERA}:bench", None if nodelay else nagle)


@dataclass
class BrokerRuns:
    kind: str
    label: str
    runs: list[Run]


def seed_store(cfg: SrsConfig, cam_key: SigningKey, people: np.ndarray) -> None:
    """Core's database as the runs need it: the camera registered, one person per face."""
    db = store.open_store(cfg)
    with db.session() as s:
        store.add_camera(s, CAMERA, cam_key.public_key_b64)
        for i, vec in enumerate(people):
            person, _ = store.get_or_create_person(s, f"person {i + 1}")
            store.add_encodings(s, person, [vec])
    db.close()


def measure(
    kind: str, args: argparse.Namespace, cam_key: SigningKey, people: np.ndarray
) -> BrokerRuns:
    label = _bench_core.broker_label(kind)
    print(f"measuring {label} ...", flush=True)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, start_broker(kind, Path(tmp)) as broker:
        # Every user before any client connects (Mosquitto loads users on SIGHUP).
        for user, role in (("core", "core"), ("ha", "integrator"), (CAMERA, "camera")):
            broker.client_config(user, role)
        cfg = SrsConfig(
            data_dir=Path(tmp) / "core",
            mqtt=broker.client_config("core", "core"),
            core=CoreConfig(
                status_interval_s=60,
                commit_window_ms=args.commit_window_ms,
                site_file=ROOT / "config" / "demo-site.toml",
            ),
        )
        seed_store(cfg, cam_key, people)
        with CoreService(cfg) as svc:
            svc.wait_connected(10)
            pub = svc.key.public_key
            verifier = verifier_for(
                cfg.security, lambda iss: pub if iss == topics.CORE_SENDER else None
            )
            stages = Stages(svc)
            every = encode_every(args)
            play(
                broker, cam_key, people, args.rate, 2.0, 1, True, verifier, "warm-up", stages, every
            )
            runs.append(
                play(
                    broker,
                    cam_key,
                    people,
                    args.rate,
                    args.seconds,
                    1_000_000,
                    True,
                    verifier,
                    "TCP_NODELAY (srs.mqtt)",
                    stages,
                    every,
                )
            )
            runs.append(
                play(
                    broker,
                    cam_key,
                    people,
                    args.rate,
                    args.seconds,
                    2_000_000,
                    False,
                    verifier,
                    "Nagle (paho default)",
                    stages,
                    every,
                )
            )
    return BrokerRuns(kind, label, runs)


def encode_every(args: argparse.Namespace) -> int:
    """Every how many messages the faces carry encodings: each (``every``), or as the
    edge sends them: once per track every ``encode_refresh_s`` (``edge``)."""
    if args.encodings == "every":
        return 1
    return max(1, round(args.rate * EdgeConfig().encode_refresh_s))


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rate", type=float, default=50.0, help="messages per second")
    ap.add_argument("--faces", type=int, default=10, help="detections per message (max 32)")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--commit-window-ms", type=float, default=CoreConfig().commit_window_ms)
    ap.add_argument(
        "--encodings",
        choices=("every", "edge"),
        default="every",
        help="every: each face carries a fresh encoding (the worst case: 500 "
        "encodings/s from one camera); edge: as the edge sends them, once "
        "per track every encode_refresh_s (5 s), the rest placed by track",
    )
    _bench_core.add_broker_option(ap)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    kinds = _bench_core.chosen_brokers(args.broker)
    cam_key = SigningKey.generate(topics.camera_issuer(CAMERA))
    people = gallery(args.faces)
    results = [measure(kind, args, cam_key, people) for kind in kinds]
    print(
        f"load: {args.rate:.0f} msg/s x {args.faces} detections = "
        f"{args.rate * args.faces:.0f} detections/s for {args.seconds:.0f} s, "
        f"commit window {args.commit_window_ms:g} ms, encodings: {args.encodings}"
    )
    for result in results:
        report(args, result)
    if len(results) == 2 and all(r.runs[0].latencies_ms for r in results):
        embedded, mosquitto = (r.runs[0] for r in results)
        print(
            f"ratio Mosquitto / embedded, {embedded.name}: "
            f"p50 x{mosquitto.pct(0.5) / embedded.pct(0.5):.2f}, "
            f"p99 x{mosquitto.pct(0.99) / embedded.pct(0.99):.2f}"
        )
    print("(shared machine: figures are noisy)")
    return 0


def report(args: argparse.Namespace, result: BrokerRuns) -> None:
    runs = result.runs
    print(f"broker: {result.label}")
    for run in runs:
        for what, values, published in (
            ("published", run.published_ms, True),
            ("at integrator", run.latencies_ms, False),
        ):
            mean = statistics.fmean(values) if values else float("nan")
            print(
                f"  {run.name:26s} {what:13s}: p50 {run.pct(0.5, published):7.2f} ms  "
                f"p99 {run.pct(0.99, published):7.2f} ms  mean {mean:7.2f} ms  "
                f"max {max(values, default=float('nan')):7.1f} ms  "
                f"({len(values)}/{run.sent} positions)"
            )
    for run in runs:
        for stage, values in run.stages_ms.items():
            values.sort()
            print(
                f"    {run.name[:12]:12s} {stage:28s}: p50 {values[len(values) // 2]:7.2f} ms"
                f"  p99 {values[min(len(values) - 1, int(0.99 * len(values)))]:7.2f} ms"
            )
    for run in runs:
        cpu = sorted(run.cpu_ms_per_msg)
        if cpu:
            med = cpu[len(cpu) // 2]
            print(
                f"    {run.name[:12]:12s} core worker CPU per message: p50 {med:.2f} ms "
                f"({med / args.faces:.2f} ms per detection): one core sustains "
                f"~{1000 / med:.0f} msg/s = {1000 / med * args.faces:.0f} detections/s"
            )
    if len(runs) == 2 and runs[0].latencies_ms and runs[1].latencies_ms:
        print(
            f"  ratio Nagle / TCP_NODELAY ({result.kind}): "
            f"p50 x{runs[1].pct(0.5) / runs[0].pct(0.5):.1f}, "
            f"p99 x{runs[1].pct(0.99) / runs[0].pct(0.99):.1f}"
        )
    best = runs[0]
    for what, published in (("published by core", True), ("at the integrator", False)):
        ok = best.pct(0.5, published) < GOAL_P50_MS and best.pct(0.99, published) < GOAL_P99_MS
        print(
            f"  goal p50 < {GOAL_P50_MS:g} ms, p99 < {GOAL_P99_MS:g} ms, {what} "
            f"({result.kind}, encodings: {args.encodings}): {'met' if ok else 'MISSED'}"
        )


if __name__ == "__main__":
    sys.exit(main())
