"""Edge pipeline benchmark: SRS's analyser against a naive pipeline, same run, same footage.

Naive: Haar frontal + profile (+ mirrored profile) on every full frame, and a
face_recognition encoding for every frontal face of every frame, all inline.
SRS: edge.analyse.Analyser as the node runs it (downscaled analysis, tracking,
one encoding per track and refresh interval, encodings in a worker process).

Frames are resized to 640x360 (the target camera resolution) before either
pipeline sees them. Per clip and in total it prints analysed frames/s, recall
(frames with at least one face found, faces found per frame), tracks, encodings
computed, and the ratios SRS / naive. cpu-ms/frame is the CPU time of the
analysing process (all its threads; SRS's encoder worker process not included,
the naive pipeline encodes inline): it varies less than fps on a busy machine.
classroom.gif is the "three faces in view" case. Clips: ``--media DIR``
(default: the shared footage if present, else tests/data/media/video).
Timings on a shared machine are noisy: repeat, quote ranges.

    .venv/bin/python bench/edge.py [--repeat N] [--clips a.gif b.gif] [--full-every K]
        [--no-recover]
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

# The shared footage beside the checkout (../shared, or ../../shared from a worktree).
SHARED = [d / "shared" / "media" / "video" for d in (ROOT.parent, ROOT.parent.parent)]
MEDIA = next((d for d in SHARED if d.is_dir()), ROOT / "tests" / "data" / "media" / "video")
SIZE = (640, 360)


def load(path: Path) -> list[np.ndarray]:
    return [
        cv2.resize(f.image, SIZE, interpolation=cv2.INTER_LINEAR)
        for f in frames(open_source(str(path)), threading.Event(), SourceStats())
    ]


def naive(images: list[np.ndarray]) -> dict[str, float]:
    # Every cascade on every full frame with one pyramid step, as a first version would.
    cfg = EdgeConfig(analysis_width=0, min_face_px=20, profile_scale_factor=1.1)
    detector = Detector(cfg)
    tracker = Tracker()
    detections = encodings = with_face = 0
    tracks: set[int] = set()
    start, cpu = time.perf_counter(), time.process_time()
    for image in images:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found = detector.detect(gray)
        for td in tracker.update(found):
            tracks.add(td.track.track_id)
        detections += len(found)
        with_face += bool(found)
        for det in found:
            if det.kind == "face":
                rgb, loc = crop_for_encoding(image, det.box)
                encodings += compute_encoding(rgb, loc) is not None
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "frames": len(images),
        "cpu": cpu,
        "with_face": with_face,
        "detections": detections,
        "tracks": len(tracks),
        "encodings": encodings,
        "seconds": elapsed,
    }


def srs(images: list[np.ndarray], cfg: EdgeConfig, pool: EncoderPool) -> dict[str, float]:
    analyser = Analyser(cfg, pool)
    messages = 0  # one per analysed frame with at least one face
    start, cpu = time.perf_counter(), time.process_time()
    for i, image in enumerate(images):
        analyser.analyse(Frame(image, time.time(), i))
        messages += len(analyser.ready())
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    messages += len(analyser.ready(drain=True))
    s = analyser.stats
    return {
        "frames": len(images),
        "cpu": cpu,
        "with_face": messages,
        "detections": s.detections,
        "tracks": s.tracks,
        "encodings": s.encodings_computed,
        "seconds": elapsed,
    }


def line(name: str, r: dict[str, float]) -> str:
    return (
        f"{name:6s} {r['frames'] / r['seconds']:5.1f} fps "
        f"{1000 * r['cpu'] / r['frames']:6.1f} cpu-ms/frame "
        f"{r['with_face']:3.0f}/{r['frames']:<3.0f} frames with a face "
        f"{r['detections'] / r['frames']:5.2f} faces/frame {r['tracks']:3.0f} tracks "
        f"{r['encodings']:4.0f} encodings"
    )


def total(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: sum(r[k] for r in runs) for k in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="play the clips N times")
    parser.add_argument("--clips", nargs="+", default=None, help="default: every .gif")
    parser.add_argument("--media", type=Path, default=MEDIA, help="folder of the clips")
    parser.add_argument(
        "--full-every",
        type=int,
        default=EdgeConfig().full_detect_every,
        help="full-frame detection every K frames (default from EdgeConfig)",
    )
    parser.add_argument(
        "--no-recover", action="store_true", help="SRS without the lost-face recovery search"
    )
    args = parser.parse_args()
    # OpenCV's default threads, as `srs edge` runs: both pipelines may use both cores
    # (the node's encoder worker is idle most of the time: one encoding per track).
    names = args.clips or sorted(p.name for p in args.media.glob("*.gif"))
    clips = {name: load(args.media / name) * args.repeat for name in names}
    print(f"640x360 frames: {', '.join(f'{n} ({len(v)})' for n, v in clips.items())}")
    cfg = EdgeConfig(full_detect_every=args.full_every, recover_lost=not args.no_recover)
    pool = EncoderPool(cfg.encoder_workers, cfg.encoder_queue, verify=cfg.verify_faces)
    pool.wait_ready()
    bases, ours = [], []
    for name, images in clips.items():
        bases.append(naive(images))
        ours.append(srs(images, cfg, pool))
        print(name)
        print("  " + line("naive", bases[-1]))
        print("  " + line("srs", ours[-1]))
    pool.close()
    base, our = total(bases), total(ours)
    print("all clips")
    print("  " + line("naive", base))
    print("  " + line("srs", our))
    speedup = (our["frames"] / our["seconds"]) / (base["frames"] / base["seconds"])
    print(
        f"ratio srs/naive: {speedup:.1f}x fps, "
        f"{our['with_face'] / max(1, base['with_face']):.2f}x frames with a face, "
        f"{our['detections'] / max(1, base['detections']):.2f}x detections, "
        f"{our['encodings'] / max(1, base['encodings']):.2f}x encodings "
        "(shared machine: timings are noisy)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
