"""Soak: 20 cameras with bursts for half an hour; throughput, latency, memory, loss.

A site of real processes (tests/resilience/site.py): `srs broker`, `srs core` and
``--cameras`` camera processes (tests/resilience/sim_edge.py: the edge's outbox and
link, synthetic detections) each sending ``--rate`` messages/s plus a burst of
``--burst`` messages every ``--burst-every`` s (bursts spread at random).

Every ``--every`` seconds prints, for the interval: messages stored per second, the
capture -> stored latency p50/p99 (core's ``received_at`` minus the detection's
``seen_at``, i.e. camera capture time; same machine, same clock) and the RSS of the
broker, core and the largest camera process. At the end: the checker's count (every
sequence number each outbox created against core's store: lost and duplicated, both
0 expected) after the cameras stopped making messages and their outboxes drained.
Asserts nothing.

    PYTHONPATH=. .venv/bin/python bench/soak.py [--minutes 30] [--cameras 20] [--rate 2]
                                                 [--burst 100] [--burst-every 120]
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.resilience.site import Site, rss_kb  # noqa: E402


def interval(db: Path, since: float) -> tuple[int, float | None, float | None]:
    """Messages stored since ``since`` (wall clock) and their latency p50/p99 in ms."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as con:
        rows = [
            (r - s) * 1000
            for r, s in con.execute(
                "SELECT p.received_at, MIN(s.seen_at) FROM processed_messages p JOIN sightings s "
                "ON s.camera_id = p.camera_id AND s.seq = p.seq WHERE p.received_at >= ? "
                "GROUP BY p.camera_id, p.seq",
                (since,),
            )
        ]
    if not rows:
        return 0, None, None
    rows.sort()
    return len(rows), rows[len(rows) // 2], rows[min(len(rows) - 1, int(0.99 * len(rows)))]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--cameras", type=int, default=20)
    ap.add_argument("--rate", type=float, default=2.0, help="messages/s per camera")
    ap.add_argument("--burst", type=int, default=100, help="messages per burst")
    ap.add_argument("--burst-every", type=float, default=120.0, help="seconds between bursts")
    ap.add_argument("--every", type=float, default=60.0, help="report interval (s)")
    args = ap.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the site stops its processes (new sessions).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    cams = [f"cam{i + 1}" for i in range(args.cameras)]
    burst = ["--burst", str(args.burst), "--burst-every", str(args.burst_every)]
    with tempfile.TemporaryDirectory() as tmp, Site(Path(tmp), log_level="WARNING") as site:
        for cam in cams:
            site.add_camera(cam)
        broker, core = site.start_broker(), site.start_core()
        for cam in cams:
            site.start_edge(cam, args.rate, extra=burst)
        print(
            f"{args.cameras} cameras x {args.rate:g}/s + {args.burst} every "
            f"{args.burst_every:g} s, {args.minutes:g} min",
            flush=True,
        )
        print(
            f"{'min':>6} {'stored/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'broker MB':>10} {'core MB':>8} {'camera MB':>10}",
            flush=True,
        )
        started = time.monotonic()
        mark = time.time()
        end = started + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(min(args.every, max(0.0, end - time.monotonic())))
            now = time.time()
            n, p50, p99 = interval(site.core_db, mark)
            span, mark = now - (mark or now), now
            cam_mb = max(rss_kb(c.process.pid) for c in site.edges.values()) / 1024
            print(
                f"{(time.monotonic() - started) / 60:6.1f} {n / max(span, 1e-9):9.1f} "
                f"{p50 if p50 is not None else float('nan'):8.0f} "
                f"{p99 if p99 is not None else float('nan'):8.0f} "
                f"{rss_kb(broker.process.pid) / 1024:10.0f} "
                f"{rss_kb(core.process.pid) / 1024:8.0f} {cam_mb:10.0f}",
                flush=True,
            )
        site.stop_generating()
        drained = site.time_to_store(time.monotonic(), 300)
        counts = site.count()
        dead = [c.name for c in site.sup.children if not c.running]
    created = sum(c.created for c in counts)
    stored = sum(c.stored for c in counts)
    print(
        f"end: {stored}/{created} stored, {sum(c.lost for c in counts)} lost, "
        f"{sum(c.duplicated for c in counts)} duplicated; drained "
        + ("never (300 s)" if drained is None else f"{drained:.1f} s after the cameras stopped")
        + (f"; processes that died: {', '.join(dead)}" if dead else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
