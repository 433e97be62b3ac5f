"""Edge pipeline benchmark: SRS's analyser against a naive pipeline, same run, same footage.

Naive: Haar frontal + profile (+ mirrored profile) on every full frame, and a
face_recognition encoding for every frontal face of every frame, all inline.
SRS: edge.analyse.Analyser as the node runs it (downscaled analysis, tracking,
one encoding per track and refresh interval, encodings in a worker process).

Frames are resized to 640x360 (the target camera resolution) before either
pipeline sees them. Prints analysed fps, faces found (detections and tracks),
encodings computed and the ratios. Timings on a shared machine are noisy.

    .venv/bin/python bench/edge.py [--repeat N] [--clips a.gif b.gif] [--full-every K]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.analyse import Analyser  # noqa: E402
from edge.config import EdgeConfig  # noqa: E402
from edge.detect import Detector  # noqa: E402
from edge.encode import EncoderPool, compute_encoding, crop_for_encoding  # noqa: E402
from edge.sources import Frame, SourceStats, frames, open_source  # noqa: E402
from edge.track import Tracker  # noqa: E402

MEDIA = ROOT / "tests" / "data" / "media" / "video"
CLIPS = ["face-demographics-walking.gif", "head-pose-face-detection-female.gif", "classroom.gif"]
SIZE = (640, 360)


def load(clips: list[str]) -> list[np.ndarray]:
    out = []
    for name in clips:
        for f in frames(open_source(str(MEDIA / name)), threading.Event(), SourceStats()):
            out.append(cv2.resize(f.image, SIZE, interpolation=cv2.INTER_LINEAR))
    return out


def naive(images: list[np.ndarray]) -> dict[str, float]:
    # Every cascade on every full frame with one pyramid step, as a first version would.
    cfg = EdgeConfig(analysis_width=0, min_face_px=20, profile_scale_factor=1.1)
    detector = Detector(cfg)
    tracker = Tracker()
    detections = encodings = 0
    tracks: set[int] = set()
    start = time.perf_counter()
    for image in images:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found = detector.detect(gray)
        for td in tracker.update(found):
            tracks.add(td.track.track_id)
        detections += len(found)
        for det in found:
            if det.kind == "face":
                rgb, loc = crop_for_encoding(image, det.box)
                encodings += compute_encoding(rgb, loc) is not None
    elapsed = time.perf_counter() - start
    return {
        "fps": len(images) / elapsed,
        "detections": detections,
        "tracks": len(tracks),
        "encodings": encodings,
        "seconds": elapsed,
    }


def srs(images: list[np.ndarray], full_every: int) -> dict[str, float]:
    cfg = EdgeConfig(full_detect_every=full_every)
    pool = EncoderPool(cfg.encoder_workers, cfg.encoder_queue, verify=cfg.verify_faces)
    pool.wait_ready()
    analyser = Analyser(cfg, pool)
    messages = 0
    start = time.perf_counter()
    for i, image in enumerate(images):
        analyser.analyse(Frame(image, time.time(), i))
        messages += len(analyser.ready())
    elapsed = time.perf_counter() - start
    messages += len(analyser.ready(drain=True))
    pool.close()
    s = analyser.stats
    return {
        "fps": len(images) / elapsed,
        "detections": s.detections,
        "tracks": s.tracks,
        "encodings": s.encodings_computed,
        "seconds": elapsed,
        "messages": messages,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="play the clips N times")
    parser.add_argument("--clips", nargs="+", default=CLIPS)
    parser.add_argument(
        "--full-every",
        type=int,
        default=EdgeConfig().full_detect_every,
        help="full-frame detection every K frames (default from EdgeConfig)",
    )
    args = parser.parse_args()
    # OpenCV's default threads, as `srs edge` runs: both pipelines may use both cores
    # (the node's encoder worker is idle most of the time: one encoding per track).
    images = load(args.clips) * args.repeat
    print(f"{len(images)} frames at {SIZE[0]}x{SIZE[1]} from {', '.join(args.clips)}")
    base = naive(images)
    ours = srs(images, args.full_every)
    for name, r in (("naive", base), ("srs", ours)):
        print(
            f"{name:6s} {r['fps']:6.1f} fps  {r['detections']:5.0f} detections  "
            f"{r['tracks']:4.0f} tracks  {r['encodings']:5.0f} encodings  "
            f"({r['seconds']:.1f} s)"
        )
    print(
        f"ratio  {ours['fps'] / base['fps']:6.1f}x fps, "
        f"{ours['detections'] / max(1, base['detections']):.2f}x detections, "
        f"{ours['encodings'] / max(1, base['encodings']):.2f}x encodings "
        "(shared machine: timings are noisy)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
