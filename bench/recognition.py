"""Recognition benchmark: the whole chain on labelled real footage, scored per frame.

Does SRS name the right person, or honestly say "unknown", and never someone else?
Enrols the portraits of srs/data/media/faces/train/<person>/ plus the woman and the
man of the head-pose clips from ONE frame of their own clip each (a badge photo, see
bench/ground_truth.py), then plays every chosen clip once through the real system:
the embedded broker (`srs broker`, its own process), core (CoreService: verify,
recognise, cluster strangers, locate, store) and, per clip, an edge node (EdgeNode
with the real encoder, `--once` on the file, in a process of its own, as a camera
is another machine). Clips play one after the other into the same core, each as its
own camera of a benchmark site (written to the scratch dir at run time:
one room per camera; the classroom's room is restricted). Then it reads the stored
sightings (core.store.query_sightings, what `srs sightings` shows) and scores them
against the labels of bench/labels (who is in each frame, where, frontal or not):

- wrong name: sightings carrying an enrolled name on a detection whose labelled
  person is someone else, a stranger, or nobody. THE figure; goal 0.
- recall: of the frames where an enrolled person's frontal face is >= 60 px (the
  badge frame excluded), the % where a sighting on that face names them; goal >= 90.
- anonymous: distinct "Unknown N" identities vs distinct real strangers, per clip
  and across cameras; "mixed" = anonymous identities given to more than one real
  person. Goal: equal, none mixed.
- alerts: unknown-in-restricted alerts of the classroom's restricted room per stay
  (each seated stranger stays once). Goal: 1 per stay.
- fps: frames the edge analysed per second, from the start of the first frame's
  analysis to the end of the last's (per clip; noisy on a shared machine).

Clips (``--clips``; default all): female, male, pair (the woman and the man side by
side), walking, classroom, cut (the man's clip, then a hard cut to the classroom,
joined at run time into a lossless FFV1 file), stills (a folder of unrelated photos).

Matching sightings to frames: the node's frames are timed where it hands them to
analysis (Analyser.analyse is wrapped in the edge's process, which records each
frame's captured_at); a stored sighting carries its message's captured_at and seq.
Messages leave in frame order, so message k (by seq) is the first frame after
message k-1's whose captured_at equals its own (ms): this holds whether file sources
stamp frames with the wall clock (today) or with the frames' own timestamps.

Each figure is printed beside the stored baseline (bench/baselines/recognition.json,
measured on the code before issue 15) with the difference; ``--save-baseline``
replaces it with this run's figures. ``--details`` lists every stored sighting with
its frame and labelled person. Takes about 1.5-2 minutes on 2 cores. Asserts nothing.

    .venv/bin/python bench/recognition.py [--clips pair cut stills] [--details]
                                          [--save-baseline] [--json FILE] [--keep]
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as `srs core` does, before numpy loads

import cv2  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ground_truth as gt  # noqa: E402
import recognition_score as rs  # noqa: E402

from core import store  # noqa: E402
from core.config import CoreConfig  # noqa: E402
from core.enrol import import_people  # noqa: E402
from core.service import CoreService  # noqa: E402
from srs.app.config import SrsConfig  # noqa: E402
from srs.wire import topics  # noqa: E402
from srs.wire.payloads import Alert  # noqa: E402
from srs.wire.reading import verifier_for  # noqa: E402
from srs.wire.signing import SigningKey  # noqa: E402

# bench/core.py's broker process and bench/camera.py's client (see bench/latency.py).
start_broker = importlib.import_module("bench.core").start_broker
connect = importlib.import_module("bench.camera").connect

BASELINE = ROOT / "bench" / "baselines" / "recognition.json"


# --- the footage and the gallery, built in a scratch dir -------------------------------


def read_frames(path: Path) -> list[Any]:
    cap = cv2.VideoCapture(str(path))
    out: list[Any] = []
    while True:
        ok, image = cap.read()
        if not ok:
            return out
        out.append(image)


def source_of(clip: gt.Clip, tmp: Path) -> Path:
    """What the camera plays: the clip itself, a joined file, or a folder of copies."""
    if clip.spec.camera == "stills":
        folder = tmp / "stills"
        folder.mkdir()
        now = time.time()
        for i, image in enumerate(clip.media):
            dst = folder / f"{i:02d}-{image.name}"  # the folder source reads in name order
            shutil.copyfile(image, dst)
            # Recent and distinct, should a folder source stamp images by their file.
            os.utime(dst, (now - 60 + i, now - 60 + i))
        return folder
    if len(clip.media) == 1:
        return clip.media[0]
    frames = [f for part in clip.media for f in read_frames(part)]
    path = tmp / f"{clip.spec.camera}.mkv"
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"FFV1"), clip.fps, (width, height))
    if not writer.isOpened():
        raise SystemExit("OpenCV cannot write FFV1 video: cannot build the cut clip")
    for f in frames:
        writer.write(f)  # lossless: the cut clip's pixels are the two clips' pixels
    writer.release()
    return path


def gallery(tmp: Path) -> Path:
    """faces/train/<person>/ and one badge frame each of the woman and the man."""
    root = tmp / "gallery"
    for person in gt.TRAIN_PEOPLE:
        shutil.copytree(gt.MEDIA / "faces" / "train" / person, root / person)
    for person, (clip, index) in gt.BADGES.items():
        (root / person).mkdir(parents=True)
        cv2.imwrite(str(root / person / "badge.png"), read_frames(gt.MEDIA / "video" / clip)[index])
    return root


def site_file(cameras: list[str], tmp: Path) -> Path:
    """One 10 x 10 m room per camera, 15 m apart along a corridor-less strip; the camera
    above the room's north wall looks south. Restricted clips get a restricted room."""
    lines = [
        'name = "SRS recognition benchmark"',
        f"width_m = {15.0 * len(cameras)}",
        "height_m = 10.0",
    ]
    for i, cam in enumerate(cameras):
        x0 = 15.0 * i
        restricted = "\nrestricted = true" if gt.CLIPS[cam].restricted else ""
        lines.append(
            f'\n[[zones]]\nid = "{cam}-room"\nname = "{cam} room"{restricted}\n'
            f"polygon = [[{x0}, 0], [{x0 + 10}, 0], [{x0 + 10}, 10], [{x0}, 10]]"
        )
        lines.append(
            f'\n[[cameras]]\nid = "{cam}"\nx = {x0 + 5}\ny = 9.8\nheight_m = 2.0\n'
            "yaw_deg = -90.0\nhfov_deg = 60.0\nimage_width = 480\nimage_height = 270"
        )
    path = tmp / "recognition_site.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- the edge, in a process of its own -----------------------------------------------


def edge_process(cfg: SrsConfig, camera: str, source: str, out: Any) -> None:
    """Runs ``srs edge --once`` on ``source`` and sends back each analysed frame's
    captured_at and how long analysis took (wrapping the node's Analyser.analyse)."""
    from edge.analyse import Analyser
    from edge.node import EdgeNode

    logging.basicConfig(level=logging.WARNING)
    stamps: list[float] = []
    spans: list[tuple[float, float]] = []
    analyse = Analyser.analyse

    def timed(self: Analyser, frame: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = analyse(self, frame, *args, **kwargs)
        spans.append((start, time.perf_counter()))
        stamps.append(frame.captured_at)
        return result

    Analyser.analyse = timed  # type: ignore[method-assign]
    with EdgeNode(cfg, camera_id=camera, source=source) as node:
        code = node.run(once=True)
    seconds = spans[-1][1] - spans[0][0] if spans else 0.0
    out.send({"code": code, "stamps": stamps, "seconds": seconds})


def run_edge(cfg: SrsConfig, camera: str, source: Path) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")  # not fork: core's threads are running
    here, there = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=edge_process, name=f"edge-{camera}", args=(cfg, camera, str(source), there)
    )
    child.start()
    try:
        result: dict[str, Any] = here.recv()
    except EOFError:
        raise SystemExit(f"the edge node of {camera} died (exit code {child.exitcode})") from None
    finally:
        child.join(60)
    if not result["stamps"]:
        raise SystemExit(
            f"no frame of {camera} reached Analyser.analyse: the edge changed where it "
            "analyses frames; update edge_process in bench/recognition.py"
        )
    if result["code"] != 0:
        print(f"  edge node of {camera} exited with {result['code']}", flush=True)
    return result


# --- the run ---------------------------------------------------------------------------


class Alerts:
    """Every alert core publishes, as an integrator receives it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: list[tuple[str, bytes]] = []

    def on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self.lock:
            self.got.append((msg.topic, bytes(msg.payload)))


def run(clips: list[gt.Clip], tmp: Path) -> list[rs.ClipScore]:
    cameras = [c.spec.camera for c in clips]
    sources = {c.spec.camera: source_of(c, tmp) for c in clips}
    faces = gallery(tmp)
    with start_broker("embedded", tmp) as broker:
        for user, role in [("core", "core"), ("bench", "integrator")] + [
            (c, "camera") for c in cameras
        ]:
            broker.client_config(user, role)
        cfg = SrsConfig(
            data_dir=tmp / "data",
            mqtt=broker.client_config("core", "core"),
            core=CoreConfig(site_file=site_file(cameras, tmp)),
        )
        db = store.open_store(cfg)
        with db.session() as s:
            for cam in cameras:
                key = SigningKey.load_or_create(
                    topics.camera_issuer(cam), cfg.keys_dir / f"camera-{cam}.key"
                )
                store.add_camera(s, cam, key.public_key_b64)
        enrolled = import_people(db, faces, progress=False)
        db.close()
        print(f"enrolled {len(enrolled)} people from {faces}", flush=True)
        alerts = Alerts()
        results: dict[str, dict[str, Any]] = {}
        with CoreService(cfg) as svc:
            if not svc.wait_connected(20):
                raise SystemExit("core could not connect to the broker")
            sub = connect(broker.client_config("bench", "integrator"), "bench:alerts")
            sub.on_message = alerts.on_message
            sub.subscribe(topics.alerts(), qos=1)
            for clip in clips:
                cam = clip.spec.camera
                edge_cfg = cfg.model_copy(update={"mqtt": broker.client_config(cam, "camera")})
                t = time.perf_counter()
                results[cam] = run_edge(edge_cfg, cam, sources[cam])
                print(
                    f"  {cam:9s} {len(results[cam]['stamps']):4d} frames analysed, "
                    f"{time.perf_counter() - t:5.1f} s with start-up",
                    flush=True,
                )
            time.sleep(1.0)  # the last alerts on their way to the integrator
            if svc.counters.rejected:
                print(f"  core REJECTED messages: {dict(svc.counters.rejected)}", flush=True)
            sub.disconnect()
            sub.loop_stop()
            pub = svc.key.public_key
        db = store.open_store(cfg)
        with db.session() as s:
            rows = {cam: store.query_sightings(s, camera=cam, limit=10**7) for cam in cameras}
        db.close()
    verifier = verifier_for(cfg.security, lambda iss: pub if iss == topics.CORE_SENDER else None)
    by_zone: dict[str, int] = {}
    for topic, data in alerts.got:
        alert = verifier.verify(topic, data, Alert).payload
        if alert.kind == "unknown_in_restricted" and alert.zone:
            by_zone[alert.zone] = by_zone.get(alert.zone, 0) + 1
    scores = []
    for clip in clips:
        cam = clip.spec.camera
        got = rs.score(clip, results[cam]["stamps"], rows[cam])
        seconds = results[cam]["seconds"]
        got.fps = len(results[cam]["stamps"]) / seconds if seconds else 0.0
        if clip.spec.restricted:
            rs.alerts_per_stay(got, clip, by_zone.get(f"{cam}-room", 0))
        scores.append(got)
    return scores


# --- the report ------------------------------------------------------------------------


def report(
    scores: list[rs.ClipScore], clips: list[gt.Clip], baseline: dict[str, Any] | None
) -> dict[str, dict[str, Any]]:
    acr = rs.across(scores, clips)
    figs = rs.all_figures(scores, acr)
    tot = rs.total(scores)
    frames = sum(s.frames for s in scores)
    secs = sum(s.frames / s.fps for s in scores if s.fps)
    tot.fps = frames / secs if secs else 0.0
    figs["total"] = rs.figures(tot)
    old = dict((baseline or {}).get("figures", {}))
    if baseline and baseline.get("clips") != [s.camera for s in scores]:
        # The totals of other clips are no baseline for these: compare clip by clip only.
        old.pop("total", None)
        old.pop("across cameras", None)

    def b(where: str, name: str) -> str:
        return rs.beside(figs[where].get(name), old.get(where, {}).get(name))

    if baseline:
        print(
            f"\nbaseline: {baseline.get('measured', '?')}; "
            "(=): as in the baseline, (was B, +d): baseline B, difference d"
        )
    for s in [*scores, tot]:
        w = s.camera
        about = gt.CLIPS[w].about if w in gt.CLIPS else "every clip played"
        print(f"\n{w}: {s.frames} frames; {about}")
        print(
            f"  wrong name      {b(w, 'wrong')} of {b(w, 'named')} named sightings = "
            f"{b(w, 'wrong_pct')} %  [on strangers {s.wrong_on_stranger}, on other enrolled "
            f"{s.wrong_on_enrolled}, on nobody {s.wrong_on_nothing}]   goal 0"
        )
        if s.recall_frames:
            per = ", ".join(f"{p} {n}/{m}" for p, (n, m) in sorted(s.recall_by_person.items()))
            print(
                f"  recall          {b(w, 'recall_pct')} % of {s.recall_frames} frames [{per}]"
                "   goal >= 90"
            )
        if s is not tot:  # the total's line is "across cameras" below
            print(
                f"  anonymous ids   {b(w, 'anonymous')} for {b(w, 'strangers')} real strangers; "
                f"mixed {b(w, 'anonymous_mixed')}; enrolled stored as anonymous "
                f"{b(w, 'enrolled_as_anonymous')}"
                + (f"; strangers split {s.strangers_split}" if s.strangers_split else "")
            )
        if s.alerts is not None:
            per = f" = {s.alerts / s.stays:.2f} per stay" if s.stays else ""
            print(
                f"  restricted-zone alerts {b(w, 'alerts')} for {s.stays} stays{per}"
                "   goal 1 per stay"
            )
        print(
            f"  edge            {b(w, 'fps')} frames/s analysed; {s.sightings} sightings "
            f"({s.named} named, {s.sightings - s.named - s.unidentified} anonymous, "
            f"{s.unidentified} unidentified)"
            + (
                f"; {s.unmatched_messages} messages matched no frame"
                if s.unmatched_messages
                else ""
            )
        )
    a = "across cameras"
    print(
        f"\nacross cameras: {b(a, 'anonymous')} anonymous ids for {b(a, 'strangers')} real "
        f"strangers; {b(a, 'anonymous_multi_camera')} seen by several cameras; "
        f"{b(a, 'anonymous_mixed')} given to more than one real person   goal: equal, 0 mixed"
    )
    return figs


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--clips",
        nargs="+",
        choices=list(gt.CLIPS),
        default=list(gt.CLIPS),
        metavar="CLIP",
        help=f"clips to play, in order (default: all: {', '.join(gt.CLIPS)})",
    )
    ap.add_argument("--baseline", type=Path, default=BASELINE, help="figures to compare with")
    ap.add_argument(
        "--save-baseline",
        action="store_true",
        help="store this run's figures as the baseline (--baseline FILE)",
    )
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    ap.add_argument(
        "--details", action="store_true", help="list every sighting with its frame and label"
    )
    ap.add_argument("--keep", action="store_true", help="keep the scratch dir (database, logs)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    clips = [gt.load(c) for c in args.clips]
    tmp = Path(tempfile.mkdtemp(prefix="srs-recognition-"))
    began = time.perf_counter()
    try:
        print(f"playing {', '.join(args.clips)} through broker, core and edge ({tmp})", flush=True)
        scores = run(clips, tmp)
    finally:
        if args.keep:
            print(f"(scratch dir kept: {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    baseline = None if args.save_baseline else rs.load_baseline(args.baseline)
    if args.details:
        for s in scores:
            print(f"\n{s.camera}: every sighting")
            print("\n".join(f"  {line}" for line in s.details))
    figs = report(scores, clips, baseline)
    took = time.perf_counter() - began
    print(f"\n(ran {took:.0f} s; shared machine: fps figures are noisy)")
    record = {
        "measured": f"{time.strftime('%Y-%m-%d')} on commit {git_commit()}",
        "clips": args.clips,
        "seconds": round(took),
        "figures": figs,
    }
    if args.save_baseline:
        args.baseline.parent.mkdir(parents=True, exist_ok=True)
        args.baseline.write_text(json.dumps(record, indent=1) + "\n")
        print(f"baseline stored in {args.baseline}")
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
