"""``srs demo``: the whole system on the bundled footage, in one command.

A throwaway data dir, the embedded broker, core with the demo site, the demo people
enrolled from the bundled faces, and three edge nodes looping the bundled clips.
Then the dashboard (signed in), or with ``--headless`` / no display a refreshing
table of who is where. Ctrl-C, SIGTERM or ``--duration`` stop everything cleanly.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from srs.app.config import SrsConfig

# The sample media stay in the srs package (srs/data/media), shared with the tests.
MEDIA = Path(__file__).parents[1] / "data" / "media"
# The demo floor plan lives with the other site files (run from a clone: `make demo`).
DEMO_SITE = Path(__file__).parents[2] / "config" / "demo-site.toml"
# camera id -> bundled clip (see srs/data/media/ATTRIBUTION.md)
CAMERAS = {
    "corridor": MEDIA / "video" / "face-demographics-walking.gif",
    "classroom": MEDIA / "video" / "classroom.gif",
    "office": MEDIA / "video" / "head-pose-face-detection-female.gif",
}
OPERATOR = "operator"


def register(sub: argparse._SubParsersAction) -> None:
    from srs.subcommands import add_command

    p = add_command(
        sub,
        "demo",
        run,
        help="run the whole system on the bundled sample footage",
        description=__doc__,
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="no dashboard: print a live table in the terminal (automatic "
        "when there is no display)",
    )
    p.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="stop after this many seconds and print a summary",
    )
    p.add_argument(
        "--summary-json",
        type=Path,
        metavar="FILE",
        help="also write the final summary as JSON to FILE",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the throwaway data dir (logs, database) after the demo",
    )


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class _StopFlag:
    """Set by SIGTERM/SIGINT so the main loop leaves through its one stop path."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.event.set()


def run(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from srs.app.demo_setup import DemoError, DemoSetup  # heavy imports only when it runs

    stop = _StopFlag()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    explicit_dir = args.data_dir is not None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="srs-demo-"))
    headless = args.headless or not _has_display()
    print(f"SRS demo: data in {data_dir}; logs in {data_dir / 'logs'}", flush=True)
    code = 1
    try:
        with DemoSetup(
            data_dir, CAMERAS, DEMO_SITE, MEDIA / "faces" / "train", operator=OPERATOR
        ) as demo:
            demo.prepare()
            demo.start_services()
            if headless:
                summary = demo.watch_headless(stop.event, args.duration)
            else:
                summary = demo.watch_gui(stop.event, args.duration)
        # Every process is stopped here; the summary reads the store afterwards.
        summary = {**summary, **demo.store_summary(), "processes_left": demo.processes_left()}
        if summary["ok"] and summary["rejected"]:
            summary.update(ok=False, problem=f"core rejected {summary['rejected']} message(s)")
        if summary["ok"] and summary["processes_left"]:
            summary.update(ok=False, problem="some processes did not stop")
        print(format_summary(summary), flush=True)
        if args.summary_json:
            args.summary_json.write_text(json.dumps(summary, indent=2, sort_keys=True))
        code = 0 if summary["ok"] else 1
    except DemoError as exc:
        print(f"srs demo: {exc}", file=sys.stderr)
    finally:
        if not explicit_dir and not args.keep and code == 0:
            shutil.rmtree(data_dir, ignore_errors=True)
        elif not explicit_dir:
            print(f"(data dir kept: {data_dir})")
    return code


def format_summary(s: dict) -> str:
    lines = ["", "SRS demo summary", "----------------"]
    lines.append(
        f"ran {s.get('seconds', 0):.0f} s; core received {s.get('received', 0)}, "
        f"accepted {s.get('accepted', 0)}, duplicates {s.get('duplicates', 0)}, "
        f"rejected {s.get('rejected', 0)}"
    )
    lat = s.get("latency_p50_ms"), s.get("latency_p99_ms")
    if lat[0] is not None:
        lines.append(f"ingest latency p50 {lat[0]:.1f} ms, p99 {lat[1]:.1f} ms")
    for cam, n in sorted(s.get("sightings_by_camera", {}).items()):
        lines.append(f"camera {cam}: {n} sightings stored")
    for zone, people in sorted(s.get("people_by_zone", {}).items()):
        lines.append(f"zone {zone}: {', '.join(sorted(people))}")
    lines.append(f"processes left running: {s.get('processes_left', 0)}")
    lines.append("result: OK" if s.get("ok") else f"result: PROBLEM - {s.get('problem')}")
    return "\n".join(lines)
