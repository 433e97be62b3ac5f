"""Core away, then back: does the broker's memory return to idle, and what does it log?

A real `srs broker` process (tests/resilience/site.py) with a persistent "core"
session (clean_session=0, subscribed to every camera's detections at QoS 1) and one
camera publishing detection-sized payloads (``--size`` bytes; the broker does not
read them) as fast as the broker acknowledges them. Phases:

1. **offline**: core disconnects; the camera sends ``--messages`` (more than
   ``[broker] session_max_messages`` shows the bound: the oldest are dropped and
   counted);
2. **catch-up**: core reconnects and acknowledges everything the broker kept;
3. **paused**: core stays connected but stops reading its socket (a SIGSTOPped core)
   while the camera sends ``--paused`` more; then it reads again and catches up.

Prints per phase the broker's RSS (idle, peak, after), what core received and how
fast, the broker's queue counters (its ``broker totals`` line) and the lines the
broker logged. Asserts nothing; shares the machine with whatever else runs.

    PYTHONPATH=. .venv/bin/python bench/backlog.py [--messages 30000] [--size 2000]
                                [--paused 5000] [--broker-set session_max_messages=20000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from srs.wire import topics  # noqa: E402
from tests.broker import raw  # noqa: E402
from tests.broker.raw import RawClient  # noqa: E402
from tests.resilience.site import Site, rss_kb  # noqa: E402

WINDOW = 200  # the camera's unacknowledged publishes (an edge's max_inflight)


def _client(site: Site, user: str, *, clean: bool) -> RawClient:
    client = RawClient("127.0.0.1", site.port)
    client.sock.settimeout(60)
    client.send(raw.connect(user, user, site.handle.passwords[user], clean=clean))
    connack = client.read_kind(raw.CONNACK)
    if connack.body[1] != 0:
        raise SystemExit(f"{user} refused: CONNACK {connack.body[1]}")
    return client


def _publish(camera: RawClient, cam: str, n: int, size: int, start: int) -> float:
    """Send ``n`` QoS 1 messages in windows; returns the seconds it took."""
    began = time.perf_counter()
    payload = os.urandom(size)
    topic = topics.detections(cam)
    sent = 0
    while sent < n:
        batch = min(WINDOW, n - sent)
        ids = [(start + sent + k) % 65535 + 1 for k in range(batch)]
        camera.send(*(raw.publish(topic, payload, packet_id=i) for i in ids))
        for _ in ids:
            camera.read_kind(raw.PUBACK)
        sent += batch
    return time.perf_counter() - began


def _drain(core: RawClient, idle_s: float = 3.0) -> tuple[int, int, float]:
    """Read and acknowledge until nothing came for ``idle_s``: (messages, DUP ones, s)."""
    core.sock.settimeout(idle_s)
    got = dup = 0
    began = last = time.perf_counter()
    try:
        while (packet := core.read()) is not None:
            if packet.kind == raw.PUBLISH:
                got += 1
                dup += bool(packet.flags & 0x08)
                last = time.perf_counter()
                if packet.qos:
                    core.send(raw.puback(packet.packet_id))
    except TimeoutError:
        pass
    return got, dup, last - began


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.samples.append((time.perf_counter(), rss_kb(self.pid)))

    def peak_mb(self, since: float) -> float:
        return max((kb for t, kb in self.samples if t >= since), default=0) / 1024

    def now_mb(self) -> float:
        return rss_kb(self.pid) / 1024

    def stop(self) -> None:
        self._stop.set()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--messages", type=int, default=30_000, help="sent while core is away")
    ap.add_argument("--size", type=int, default=2_000, help="payload bytes")
    ap.add_argument("--paused", type=int, default=5_000, help="sent while core is paused")
    ap.add_argument("--settle-s", type=float, default=5.0, help="wait before 'after' RSS")
    ap.add_argument("--broker-set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    broker_cfg = {"camera_rate": 0, **{k: json.loads(v) for k, v in _pairs(args.broker_set)}}

    with tempfile.TemporaryDirectory() as tmp, Site(Path(tmp), broker=broker_cfg) as site:
        site.handle.client_config("cam1", "camera")
        broker = site.start_broker()
        log = site.root / "logs" / "broker.log"
        rss = Sampler(broker.process.pid)
        core = _client(site, "core", clean=False)
        core.send(raw.subscribe(1, [(topics.ALL_DETECTIONS, 1)]))
        core.read_kind(raw.SUBACK)
        camera = _client(site, "cam1", clean=True)
        time.sleep(2.0)
        idle = rss.now_mb()
        print(f"broker settings {broker_cfg}; payload {args.size} B; broker RSS idle {idle:.0f} MB")

        # 1. core away
        core.send(raw.DISCONNECT)
        core.close()
        time.sleep(0.5)
        lines0 = _lines(log)
        t0 = time.perf_counter()
        took = _publish(camera, "cam1", args.messages, args.size, 0)
        peak = rss.peak_mb(t0)
        print(
            f"  offline : {args.messages} sent in {took:.1f} s "
            f"({args.messages / took:.0f}/s); broker RSS peak {peak:.0f} MB "
            f"(+{peak - idle:.0f}); {_lines(log) - lines0} broker log lines"
        )

        # 2. core back
        t1 = time.perf_counter()
        core = _client(site, "core", clean=False)
        got, dup, span = _drain(core)
        time.sleep(args.settle_s)
        after = rss.now_mb()
        print(
            f"  catch-up: core got {got} ({dup} with DUP) in {span:.1f} s "
            f"({got / max(span, 1e-9):.0f}/s); broker RSS peak {rss.peak_mb(t1):.0f} MB, "
            f"after {after:.0f} MB (after/idle x{after / idle:.2f})"
        )

        # 3. core connected but not reading
        lines0 = _lines(log)
        t2 = time.perf_counter()
        took = _publish(camera, "cam1", args.paused, args.size, args.messages)
        paused_s = time.perf_counter() - t2
        lines_paused = _lines(log) - lines0
        got, dup, span = _drain(core)
        time.sleep(args.settle_s)
        after = rss.now_mb()
        print(
            f"  paused  : {args.paused} sent in {took:.1f} s while core read nothing; "
            f"{lines_paused} broker log lines in {paused_s:.0f} s; then core got {got} "
            f"({dup} with DUP) in {span:.1f} s; broker RSS peak {rss.peak_mb(t2):.0f} MB, "
            f"after {after:.0f} MB (after/idle x{after / idle:.2f})"
        )
        core.close()
        camera.close()
        rss.stop()
        site.signal(site.broker)
        text = log.read_text(errors="replace")
    totals = re.findall(r"broker totals: (.*)", text)
    print(f"  broker totals: {totals[-1] if totals else '(no totals line)'}")
    for line in [ln for ln in text.splitlines() if "dropped the oldest" in ln][:3]:
        print(f"  broker log: {line[-200:]}")
    print("(shared machine: figures are noisy)")
    return 0


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in (s.split("=", 1) for s in items)]


def _lines(path: Path) -> int:
    try:
        return len(path.read_text(errors="replace").splitlines())
    except FileNotFoundError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
