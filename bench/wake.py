"""Idle-wake benchmark: core's path to the live view, back to back vs after an idle gap.

Why this exists: at 50 messages/s core sleeps ~15 ms between messages, and on the
2-core dev VM the same code then runs much slower than back to back (cold caches,
a halted CPU to wake, a halted broker CPU that each socket write must wake). This
bench separates that cost from core's own: it feeds ten-face detection messages to
a real CoreService (connected to a real broker, which receives its positions)
straight into the worker's handler, without the broker hop in, and times

- **to live**: from the start of the handler to the live view (verified, recognised,
  located: ``Ingest.locate`` returned; positions built, none signed yet);
- **1st / 5th / 10th position**: until that position was written to the broker socket;
  the 5th is roughly what the median of bench/latency.py's "published" sees, less the
  broker hop in;
- **the CPU primitives alone** after the same gap: a small numpy operation, a pure
  Python loop, ten 1 KB writes to the broker socket.

Each figure is printed for ``--gap-ms`` idle between messages and for back to back
(the named baseline), with the ratio. Asserts nothing; a shared VM is noisy.

    .venv/bin/python bench/wake.py [--messages 300] [--gap-ms 15]
                                   [--broker {embedded,mosquitto}]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as `srs core` does, before numpy loads

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import CoreConfig  # noqa: E402
from core.messages import Incoming  # noqa: E402
from core.service import CoreService  # noqa: E402
from srs.app.config import SrsConfig  # noqa: E402
from srs.wire import topics  # noqa: E402
from srs.wire.payloads import PersonPosition  # noqa: E402
from srs.wire.signing import SigningKey  # noqa: E402

_bench_core = importlib.import_module("bench.core")
_latency = importlib.import_module("bench.latency")
WARM_UP = 20
STAGES = ("to live", "1st position", "5th position", "10th position")


def core_stages(
    svc: CoreService, cam_key: SigningKey, people: np.ndarray, n: int, gap_s: float
) -> dict[str, list[float]]:
    """ms from the handler's start to each stage, per message (warm-up dropped)."""
    marks: list[float] = []
    live_at: list[float] = []
    publish, locate = svc._publish, svc.ingest.locate

    def stamped(topic: str, payload: Any, retain: bool = False) -> Any:
        info = publish(topic, payload, retain)
        if isinstance(payload, PersonPosition):
            marks.append(time.perf_counter())
        return info

    def located(messages: Any) -> Any:
        out = locate(messages)
        live_at.append(time.perf_counter())
        return out

    svc._publish = stamped  # type: ignore[method-assign]
    svc.ingest.locate = located  # type: ignore[method-assign]
    topic = topics.detections(_latency.CAMERA)
    start = time.time() + 1.0
    msgs = [
        _latency.frame(cam_key, svc.counters.accepted + i + 1, people, start + i * gap_s)
        for i in range(n)
    ]
    out: dict[str, list[float]] = {s: [] for s in STAGES}
    for i, data in enumerate(msgs):
        time.sleep(gap_s)
        svc.pump.step(0.0, 100)  # PUBACKs of the last message, as the worker would
        marks.clear()
        live_at.clear()
        t0 = time.perf_counter()
        svc._handle([Incoming(topic, data)])
        if i < WARM_UP or len(marks) < len(people) or not live_at:
            continue
        for stage, at in zip(STAGES, (live_at[0], marks[0], marks[4], marks[-1]), strict=True):
            out[stage].append((at - t0) * 1000)
    svc._publish, svc.ingest.locate = publish, locate  # type: ignore[method-assign]
    return out


def primitives(svc: CoreService, n: int, gap_s: float) -> dict[str, list[float]]:
    """ms for CPU primitives run right after the same idle gap."""
    arr = np.ones((10, 128))
    sock = svc.client.socket()
    topic = topics.position("wake-bench").encode()
    body = b"x" * 1000
    packet = (
        bytes(
            [0x30, 0x80 | ((2 + len(topic) + len(body)) & 0x7F), (2 + len(topic) + len(body)) >> 7]
        )
        + len(topic).to_bytes(2, "big")
        + topic
        + body
    )  # a QoS 0 PUBLISH

    def loop() -> None:
        sum(i * i for i in range(1000))

    def ten_writes() -> None:
        for _ in range(10):
            sock.send(packet)  # type: ignore[union-attr]

    tests: dict[str, Callable[[], object]] = {
        "numpy: 10x128 + 1": lambda: arr + 1.0,
        "python: 1,000-step loop": loop,
        "socket: ten 1 KB writes": ten_writes,
    }
    out: dict[str, list[float]] = {name: [] for name in tests}
    for name, fn in tests.items():
        for _ in range(n):
            time.sleep(gap_s)
            t0 = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - t0) * 1000)
            svc.pump.step(0.0, 100)
    return out


def connected_core(broker: Any, tmp: Path, cam_key: SigningKey, people: np.ndarray) -> CoreService:
    cfg = SrsConfig(
        data_dir=tmp / "core",
        mqtt=broker.client_config("core", "core"),
        core=CoreConfig(status_interval_s=60, site_file=ROOT / "config" / "demo-site.toml"),
    )
    _latency.seed_store(cfg, cam_key, people)
    svc = CoreService(cfg)  # not started: this thread drives it, as its worker would
    svc.client.connect(cfg.mqtt.host, cfg.mqtt.port, keepalive=cfg.mqtt.keepalive_s)
    deadline = time.monotonic() + 10
    while not svc.watcher.connected.is_set() and time.monotonic() < deadline:
        svc.pump.step(0.05, 100)
    if not svc.watcher.connected.is_set():
        raise SystemExit(f"core could not connect to the broker: {svc.watcher.last_error}")
    return svc


def report(
    title: str, idle: dict[str, list[float]], busy: dict[str, list[float]], gap_ms: float
) -> None:
    print(title)
    for name in idle:
        a, b = statistics.median(idle[name]), statistics.median(busy[name])
        p90 = sorted(idle[name])[int(0.9 * len(idle[name]))]
        print(
            f"  {name:26s} after {gap_ms:g} ms idle: p50 {a:6.3f} ms (p90 {p90:6.3f})   "
            f"back to back: p50 {b:6.3f} ms   ratio x{a / b:.2f}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--messages", type=int, default=300, help="per gap (20 more warm up)")
    ap.add_argument(
        "--gap-ms",
        type=float,
        default=15.0,
        help="idle time between messages (50 msg/s leaves ~15 ms)",
    )
    ap.add_argument(
        "--broker",
        choices=("embedded", "mosquitto"),
        default=None,
        help="where core's positions go (default: mosquitto when installed)",
    )
    args = ap.parse_args()
    kind = args.broker or ("mosquitto" if _bench_core.mosquitto_binary() else "embedded")
    cam_key = SigningKey.generate(topics.camera_issuer(_latency.CAMERA))
    people = _latency.gallery(10)
    n = args.messages + WARM_UP
    print(
        f"broker: {_bench_core.broker_label(kind)}; ten-face messages, "
        f"{args.messages} measured per gap",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp, _bench_core.start_broker(kind, Path(tmp)) as broker:
        svc = connected_core(broker, Path(tmp), cam_key, people)
        try:
            idle = core_stages(svc, cam_key, people, n, args.gap_ms / 1000)
            busy = core_stages(svc, cam_key, people, n, 0.0)
            report("core, from the start of its handler:", idle, busy, args.gap_ms)
            report(
                "primitives:",
                primitives(svc, args.messages, args.gap_ms / 1000),
                primitives(svc, args.messages, 0.0),
                args.gap_ms,
            )
        finally:
            svc.client.disconnect()
            svc.db.close()
    print("(shared machine: figures are noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
