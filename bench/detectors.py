"""Detector recall and cost, per clip: Haar frontal+profile against dlib HOG and friends.

Every frame is resized to 640x360 (the target camera resolution) and given to each
detector on its own, on the whole frame (no tracking): frames with at least one
face, faces found per frame, and milliseconds per frame (wall, and CPU time; with
the default ``--threads 1`` the CPU time is one core's work, steadier than the wall
time on a busy machine: OpenCV's idle worker threads inflate CPU time otherwise).
The footage defaults to the shared clips (``../shared/media``, else
``tests/data/media``): every clip, and the stills (each scaled to 640 px wide).
Timings on a shared machine are noisy: run it twice and quote ranges.

    .venv/bin/python bench/detectors.py [--media DIR] [--only haar hog0 ...] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.config import EdgeConfig  # noqa: E402
from edge.detect import Box, Detector, RawDetection, merge  # noqa: E402
from edge.sources import SourceStats, frames, open_source  # noqa: E402

# The shared footage beside the checkout (../shared, or ../../shared from a worktree).
SHARED = next(
    (d / "shared" / "media" for d in (ROOT.parent, ROOT.parent.parent) if (d / "shared").is_dir()),
    ROOT / "tests" / "data" / "media",
)
SIZE = (640, 360)

Detect = Callable[[np.ndarray, np.ndarray], list[Box]]


def haar(profiles: bool) -> Detect:
    detector = Detector(EdgeConfig(profiles=profiles))

    def run(gray: np.ndarray, bgr: np.ndarray) -> list[Box]:
        return [d.box for d in detector.detect(gray)]

    return run


def hog(upsample: int) -> Detect:
    import dlib

    hog_detector = dlib.get_frontal_face_detector()

    def run(gray: np.ndarray, bgr: np.ndarray) -> list[Box]:
        rects = hog_detector(gray, upsample)
        return [(r.left(), r.top(), r.width(), r.height()) for r in rects]

    return run


def haar_then_hog(upsample: int) -> Detect:
    """Haar everywhere; HOG on the whole frame only when Haar finds nothing."""
    first, second = haar(True), hog(upsample)

    def run(gray: np.ndarray, bgr: np.ndarray) -> list[Box]:
        return first(gray, bgr) or second(gray, bgr)

    return run


def haar_rotated(angle: float) -> Detect:
    """Haar frontal on the frame and on the frame rotated by +-angle."""
    cfg = EdgeConfig(profiles=True)
    detector = Detector(cfg)

    def run(gray: np.ndarray, bgr: np.ndarray) -> list[Box]:
        found = list(detector.detect(gray))
        h, w = gray.shape
        for a in (angle, -angle):
            m = cv2.getRotationMatrix2D((w / 2, h / 2), a, 1.0)
            inv = cv2.invertAffineTransform(m)
            rotated = cv2.warpAffine(gray, m, (w, h))
            for d in detector.detect_region(rotated, profiles_if_no_face=True):
                x, y, bw, bh = d.box
                cx, cy = inv @ np.array([x + bw / 2, y + bh / 2, 1.0])
                box = (int(cx - bw / 2), int(cy - bh / 2), bw, bh)
                found.append(RawDetection(d.kind, box, d.score))
        return [d.box for d in merge(found, cfg.merge_iou)]

    return run


DETECTORS: dict[str, Callable[[], Detect]] = {
    "haar": lambda: haar(True),
    "haar-frontal": lambda: haar(False),
    "hog0": lambda: hog(0),
    "hog1": lambda: hog(1),
    "haar|hog0": lambda: haar_then_hog(0),
    "haar+rot20": lambda: haar_rotated(20),
}


def clip_frames(path: Path) -> list[np.ndarray]:
    return [
        cv2.resize(f.image, SIZE, interpolation=cv2.INTER_LINEAR)
        for f in frames(open_source(str(path)), threading.Event(), SourceStats())
    ]


def stills(folder: Path) -> list[np.ndarray]:
    out = []
    for p in sorted(folder.rglob("*")):
        image = cv2.imread(str(p)) if p.suffix.lower() in {".jpg", ".jpeg", ".png"} else None
        if image is not None:
            h, w = image.shape[:2]
            out.append(cv2.resize(image, (640, round(h * 640 / w)), interpolation=cv2.INTER_AREA))
    return out


def measure(detect: Detect, images: list[np.ndarray]) -> tuple[int, float, float, float]:
    with_face = faces = 0
    start, cpu = time.perf_counter(), time.process_time()
    for image in images:
        found = detect(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), image)
        with_face += bool(found)
        faces += len(found)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    n = len(images)
    return with_face, faces / n, 1000 * elapsed / n, 1000 * cpu / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED)
    parser.add_argument(
        "--threads", type=int, default=1, help="OpenCV threads (1: CPU ms = one core's work)"
    )
    parser.add_argument("--only", nargs="+", choices=list(DETECTORS), default=list(DETECTORS))
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    media = args.media
    sets = {p.name: clip_frames(p) for p in sorted((media / "video").glob("*.gif"))}
    sets["stills"] = stills(media / "faces")
    print(f"{'footage':46s} {'detector':11s} frames>=1  faces/frame  ms/frame  cpu-ms/frame")
    for name, images in sets.items():
        for det_name in args.only:
            with_face, per_frame, ms, cpu = measure(DETECTORS[det_name](), images)
            print(
                f"{name:46s} {det_name:11s} {with_face:3d}/{len(images):<3d}"
                f"    {per_frame:5.2f}      {ms:6.1f}    {cpu:6.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
