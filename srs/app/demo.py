"""``srs demo``: the whole system on the bundled footage, in one command.

A throwaway data dir, the embedded broker, core with the demo site, the demo people
enrolled (five from the bundled photos, and a woman from a badge photo cut from the
server-room footage), and four edge nodes looping the bundled clips
(srs/app/demo_cast.py says who plays where, and why). Then the dashboard
(signed in), or with ``--headless`` / no display a refreshing table of who is
where. Ctrl-C, SIGTERM or ``--duration`` stop everything cleanly.

The story (README.md, "What the demo shows"): the woman is named by recognition on
the entrance camera, from other footage than her badge photo's; a man nobody
enrolled is one "Unknown" on the corridor and server-room cameras and raises one
alert; a guard names him (``--script`` does it without a display). The summary says
whether each happened.
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
from srs.app.demo_cast import (
    BADGES,
    CAMERA_SETTINGS,
    CAMERAS,
    MEDIA,
    START_AFTER,
    STRANGER_CAMERAS,
    STRANGER_NAME,
)
from srs.app.demo_report import format_story, story

# The demo floor plan lives with the other site files (run from a clone: `make demo`).
DEMO_SITE = Path(__file__).parents[2] / "config" / "demo-site.toml"
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
        "--script",
        action="store_true",
        help="act as the guard: once the stranger has been seen by "
        f"{' and '.join(STRANGER_CAMERAS)}, name him {STRANGER_NAME!r} (a signed operator "
        "command, as the dashboard's Name person)",
    )
    p.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="take the README screenshot: run the dashboard off screen with --script, grab "
        "it into PNG after --screenshot-after seconds, then stop",
    )
    p.add_argument(
        "--screenshot-after",
        type=float,
        default=50.0,
        metavar="SECONDS",
        help="when to grab the screenshot, after the dashboard signed in (default 50)",
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
    from srs.app.demo_guard import Guard  # heavy imports only when it runs
    from srs.app.demo_gui import ScreenshotPlan
    from srs.app.demo_setup import DemoError, DemoSetup

    stop = _StopFlag()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    explicit_dir = args.data_dir is not None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="srs-demo-"))
    screenshot = ScreenshotPlan(args.screenshot, args.screenshot_after) if args.screenshot else None
    duration = args.duration
    if screenshot is not None and duration is None:
        duration = screenshot.after_s + 15.0  # signing in, then the grab itself
    headless = screenshot is None and (args.headless or not _has_display())
    print(f"SRS demo: data in {data_dir}; logs in {data_dir / 'logs'}", flush=True)
    code = 1
    try:
        with DemoSetup(
            data_dir,
            CAMERAS,
            DEMO_SITE,
            MEDIA / "faces" / "train",
            operator=OPERATOR,
            badges=BADGES,
            camera_settings=CAMERA_SETTINGS,
            start_after=START_AFTER,
        ) as demo:
            demo.prepare()
            demo.start_services()
            guard = Guard(
                STRANGER_CAMERAS,
                STRANGER_NAME if (args.script or screenshot) else None,
                demo.operator_client,
                lambda line: print(line, flush=True),
            )
            gui = None if headless else demo.start_gui(screenshot)
            summary = demo.watch(stop.event, duration, guard, gui, table=screenshot is not None)
        # Every process is stopped here; the summary reads the store afterwards.
        summary = {**summary, **demo.store_summary(), "processes_left": demo.processes_left()}
        summary["story"] = story(summary, summary, STRANGER_CAMERAS, guard.named_by_guard)
        if summary["ok"] and summary["rejected"]:
            summary.update(ok=False, problem=f"core rejected {summary['rejected']} message(s)")
        if summary["ok"] and summary["processes_left"]:
            summary.update(ok=False, problem="some processes did not stop")
        if summary["ok"] and guard.problem:
            summary.update(ok=False, problem=guard.problem)
        if screenshot is not None:
            taken = screenshot.path.is_file()
            summary["screenshot"] = str(screenshot.path) if taken else None
            if summary["ok"] and not taken:
                summary.update(ok=False, problem=f"no screenshot in {screenshot.path} (gui.log)")
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
    if s.get("latency_p50_ms") is not None:
        lines.append(
            f"latency camera -> screen: p50 {s['latency_p50_ms']:.0f} ms, "
            f"p99 {s['latency_p99_ms']:.0f} ms (frame captured -> position received)"
        )
    for cam, n in sorted(s.get("sightings_by_camera", {}).items()):
        lines.append(f"camera {cam}: {n} sightings stored")
    idents = sorted(
        s.get("identities", {}).values(), key=lambda i: (i["key"][0] != "p", i["label"])
    )
    for i in idents:
        lines.append(
            f"{i['label']} ({i['key']}): {i['sightings']} sightings, {i['matched']} matched, "
            f"on {', '.join(i['cameras'])}"
        )
    for zone, people in sorted(s.get("people_by_zone", {}).items()):
        lines.append(f"zone {zone}: {', '.join(people)}")
    by_person = s.get("alerts_by_person", {})
    anonymous = sum(n for k, n in by_person.items() if k.startswith("u"))
    lines.append(
        f"alerts: {s.get('alerts', 0)}: {anonymous} about anonymous identities, "
        f"{sum(by_person.values()) - anonymous} about unidentified tracks (one per track); "
        f"{sum(s.get('stays_by_person', {}).values())} restricted-zone stays began"
    )
    if "story" in s:
        lines += format_story(s["story"], STRANGER_CAMERAS)
    if s.get("screenshot"):
        lines.append(f"screenshot: {s['screenshot']}")
    lines.append(f"processes left running: {s.get('processes_left', 0)}")
    lines.append("result: OK" if s.get("ok") else f"result: PROBLEM - {s.get('problem')}")
    return "\n".join(lines)
