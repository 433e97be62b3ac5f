"""One camera floods, another keeps its pace: does the second one still get heard?

A site of real processes (tests/resilience/site.py): `srs broker` and `srs core`, each
in its own process, and two cameras in processes of their own (a camera is another
machine; bench/camera.py's ``connect``):

* camera A publishes at a normal rate (``--rate``, default 5/s) the whole time and
  measures each message's ack latency: publish -> core's signed ack (verified);
* camera B, after ``--idle-s`` seconds, publishes ``--flood`` valid signed messages
  as fast as the broker takes them (QoS 1, up to ``--window`` unacknowledged
  PUBACKs, signed at send time as the edge does), then waits for core's acks. Its
  faces (``--faces``): the same 20 people over and over (``crowd``, default), or a
  new random face in every message (``random``: each becomes a new anonymous
  identity, which core's matching then pays for in every later message).

Prints A's ack latency p50/p99/max before (idle), during and after the flood and the
flood/idle ratio (goal <= 2x); B's messages stored, not stored (dropped or refused)
and the broker's throttle counters; the RSS of the broker and core processes idle,
at the peak and after the flood (goal: back near idle); the flood alert core raised.
Extra broker settings (e.g. the throttle) with ``--broker-set key=value``. Asserts
nothing; shares the machine with whatever else runs.

    .venv/bin/python bench/flood.py [--flood 20000] [--rate 5] [--idle-s 10]
                                    [--after-s 15] [--broker-set camera_rate=0]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import multiprocessing
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from srs.config import SecurityConfig  # noqa: E402
from srs.wire import public_key_from_b64, topics  # noqa: E402
from srs.wire.payloads import Ack, DetectionBatch  # noqa: E402
from srs.wire.reading import verifier_for  # noqa: E402
from srs.wire.signing import SigningKey, sign  # noqa: E402
from tests.resilience.sim_edge import batch, crowd  # noqa: E402
from tests.resilience.site import Site, rss_kb  # noqa: E402

_camera = importlib.import_module("bench.camera")


def _camera_child(mqtt: Any, cam: str, key_file: str, core_key: str, faces: str, conn: Any) -> None:
    """Camera A ("pace", rate) or B ("flood", n, window): report per-message timings."""
    import random

    key = SigningKey.load_or_create(topics.camera_issuer(cam), Path(key_file))
    verifier = verifier_for(SecurityConfig(), {"core": public_key_from_b64(core_key)}.get)
    acked: dict[int, float] = {}
    lock = threading.Lock()

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        ack = verifier.verify(msg.topic, msg.payload, Ack).payload
        now = time.perf_counter()
        with lock:
            for s in ack.seqs:
                acked.setdefault(s, now)

    client = _camera.connect(mqtt, cam)
    client.on_message = on_message
    client.subscribe(topics.ack(cam), qos=1)
    topic = topics.detections(cam)
    rng = random.Random(cam)

    people = crowd(rng) if faces == "crowd" else None  # else a new face every time

    def message(seq: int) -> bytes:
        text = batch(cam, seq, time.time(), rng, people)
        return sign(DetectionBatch.model_validate_json(text), topic, key)

    conn.send("ready")
    cmd = conn.recv()
    sent: dict[int, float] = {}
    if cmd[0] == "pace":
        rate = cmd[1]
        start, seq = time.perf_counter(), 0
        while not conn.poll(max(0.0, start + seq / rate - time.perf_counter())):
            sent[seq] = time.perf_counter()
            client.publish(topic, message(seq), qos=1)
            seq += 1
        conn.recv()
    else:
        _, n, window = cmd
        infos: list[Any] = []
        for seq in range(n):
            if len(infos) >= window:
                infos.pop(0).wait_for_publish(120)
            sent[seq] = time.perf_counter()
            infos.append(client.publish(topic, message(seq), qos=1))
        for info in infos:
            info.wait_for_publish(120)
        published = time.perf_counter()
        conn.send(("published", published))
        done = threading.Event()
        _camera.wait_for_progress(done, lambda: len(acked), idle_s=10.0)
    time.sleep(2.0)  # the last acks
    with lock:
        conn.send((sent, dict(acked)))
    client.disconnect()
    client.loop_stop()


class Camera:
    def __init__(self, site: Site, cam: str, faces: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, there = ctx.Pipe()
        key_file = site.root / "edges" / cam / "keys" / f"camera-{cam}.key"
        core_key = site.core_public_key().read_text().strip()
        mqtt = site.handle.client_config(cam, "camera")
        self.proc = ctx.Process(
            target=_camera_child,
            args=(mqtt, cam, str(key_file), core_key, faces, there),
            daemon=True,
        )
        self.proc.start()
        if not self.conn.poll(60) or self.conn.recv() != "ready":
            raise SystemExit(f"camera {cam} did not start")


def drained(site: Site, cam: str, quiet_s: float = 10.0) -> float:
    """When core stored the last of ``cam``'s messages it is going to store: the count
    in its database stopped growing for ``quiet_s``."""
    count, changed = -1, time.perf_counter()
    while time.perf_counter() - changed < quiet_s:
        with contextlib.suppress(Exception):
            now = len(site.stored(cam)[0])
            if now != count:
                count, changed = now, time.perf_counter()
        time.sleep(0.25)
    return changed


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return (float("nan"),) * 3
    s = sorted(values)
    return statistics.median(s), s[min(len(s) - 1, int(0.99 * len(s)))], s[-1]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--flood", type=int, default=20_000, help="messages camera B sends")
    ap.add_argument("--window", type=int, default=500, help="B's unacknowledged PUBACKs")
    ap.add_argument("--rate", type=float, default=5.0, help="camera A's messages/s")
    ap.add_argument("--idle-s", type=float, default=10.0)
    ap.add_argument("--after-s", type=float, default=15.0)
    ap.add_argument(
        "--faces",
        choices=("crowd", "random"),
        default="crowd",
        help="B's faces: the same 20 people (a camera's day) or a new random face in every "
        "message (each one a new anonymous identity: core's cost grows with them)",
    )
    ap.add_argument("--broker-set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the site stops its processes (new sessions).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    broker_cfg = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.broker_set)}

    with tempfile.TemporaryDirectory() as tmp, Site(Path(tmp), broker=broker_cfg) as site:
        for cam in ("camA", "camB"):
            site.add_camera(cam)
        broker, core = site.start_broker(), site.start_core()
        time.sleep(2.0)  # core connected and idle
        a, b = Camera(site, "camA", "crowd"), Camera(site, "camB", args.faces)
        samples: list[tuple[float, int, int]] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                pids = broker.process.pid, core.process.pid
                samples.append((time.perf_counter(), rss_kb(pids[0]), rss_kb(pids[1])))

        threading.Thread(target=sample, daemon=True).start()
        a.conn.send(("pace", args.rate))
        time.sleep(args.idle_s)
        flood_start = time.perf_counter()
        b.conn.send(("flood", args.flood, args.window))  # B's acks: informational
        _, published = b.conn.recv()
        flood_end = drained(site, "camB")
        b_sent, b_acked = b.conn.recv()
        time.sleep(args.after_s)
        after_end = time.perf_counter()
        a.conn.send("stop")
        a_sent, a_acked = a.conn.recv()
        stop.set()
        for child in (a, b):
            child.proc.join(10)
        b_stored = len(site.stored("camB")[0])
        site.signal(site.core)
        site.signal(site.broker)
        broker_log = (site.root / "logs" / "broker.log").read_text(errors="replace")
        core_log = (site.root / "logs" / "core.log").read_text(errors="replace")

    def lat(lo: float, hi: float) -> tuple[list[float], int]:
        seqs = [s for s, t in a_sent.items() if lo <= t < hi]
        got = [(a_acked[s] - a_sent[s]) * 1000 for s in seqs if s in a_acked]
        return got, len(seqs) - len(got)

    print(
        f"camera A at {args.rate:g}/s; camera B floods {args.flood} messages "
        f"(window {args.window}, {args.faces} faces); broker settings {broker_cfg or 'default'}"
    )
    phases = {
        "idle": (0.0, flood_start),
        "flood": (flood_start, flood_end),
        "after": (flood_end, after_end),
    }
    figures = {}
    for name, (lo, hi) in phases.items():
        got, missing = lat(lo, hi)
        p50, p99, mx = percentiles(got)
        figures[name] = p50, p99
        print(
            f"  A ack latency {name:5s}: p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  max {mx:8.1f} ms"
            f"  ({len(got)} acked" + (f", {missing} NOT acked)" if missing else ")")
        )
    (i50, i99), (f50, f99) = figures["idle"], figures["flood"]
    print(f"  flood / idle: p50 x{f50 / i50:.1f}, p99 x{f99 / i99:.1f}  (goal <= 2x)")
    span = flood_end - flood_start
    print(
        f"  B: {len(b_sent)} sent in {published - flood_start:.1f} s "
        f"({len(b_sent) / max(1e-9, published - flood_start):.0f}/s), {len(b_acked)} acked, "
        f"{b_stored} stored, {len(b_sent) - b_stored} not stored; the last stored "
        f"{span:.1f} s after the flood began"
    )
    totals = re.findall(r"broker totals: (.*)", broker_log)
    print(f"  broker counters: {totals[-1] if totals else '(no totals line in the log)'}")
    alerts = [line for line in core_log.splitlines() if "flood" in line.lower()]
    print(f"  core flood alerts: {len(alerts)}" + (f": {alerts[0][-160:]}" if alerts else ""))

    def rss(lo: float, hi: float, which: int, fn: Any) -> float:
        vals = [s[which] for s in samples if lo <= s[0] < hi]
        return fn(vals) / 1024 if vals else float("nan")

    for which, name in ((1, "broker"), (2, "core")):
        idle = rss(flood_start - 3, flood_start, which, max)
        peak = rss(flood_start, flood_end, which, max)
        after = rss(after_end - 3, after_end, which, min)
        print(
            f"  RSS {name:6s}: idle {idle:6.0f} MB  peak {peak:6.0f} MB  after {after:6.0f} MB"
            f"  (after/idle x{after / idle:.2f})"
        )
    print("(shared machine: figures are noisy)")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
