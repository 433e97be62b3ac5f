"""A camera node without a camera: the edge's real outbox and link, synthetic detections.

    python -m tests.resilience.sim_edge --config edge.toml --rate 10 [--clock-file F]
                                        [--burst N --burst-every S] [--encoder]

Every ``1/rate`` s one DetectionBatch (one face, one of the 20 people this camera
sees, with frame-to-frame noise) goes into
the on-disk outbox (edge.outbox, committed before anything is sent) and the link
(edge.link) sends, re-sends and forgets it on core's ack exactly as ``srs edge``
does. SIGTERM stops as ``srs edge`` does (outbox kept); SIGUSR1 stops making new
messages but keeps sending the outbox, so a checker can wait for the end.

``--clock-file``: a file holding a number of seconds this camera's clock is off
(read every second; missing = 0). It moves ``time.time`` for the whole process,
signatures, captured_at and the outbox's bookkeeping included, as a wrong system
clock would (a change of the offset is a clock step: edge.clock sees it so).
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import sys
import threading
import time
from functools import partial
from pathlib import Path

from edge.clock import wall_and_base
from edge.link import Link
from edge.node import key_path, outbox_path
from edge.outbox import Outbox
from srs.app.config import load_config
from srs.wire import topics
from srs.wire.payloads import BBox, Detection, DetectionBatch
from srs.wire.signing import SigningKey

log = logging.getLogger("sim_edge")
_real_time = time.time


class Clock:
    """``time.time`` plus the offset in ``path`` (re-read every second)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = 0.0
        self._read_at = 0.0

    def __call__(self) -> float:
        now = _real_time()
        if self.path is not None and now - self._read_at > 1.0:
            self._read_at = now
            try:
                self.offset = float(self.path.read_text() or 0)
            except (OSError, ValueError):
                self.offset = 0.0
        return now + self.offset


CROWD = 20  # people each simulated camera sees, over and over


def crowd(rng: random.Random) -> list[list[float]]:
    """A camera's people: face encodings ~N(0, 0.09) per dimension, as real ones."""
    return [[rng.gauss(0, 0.09) for _ in range(128)] for _ in range(CROWD)]


def batch(
    camera_id: str,
    seq: int,
    at: float,
    rng: random.Random,
    people: list[list[float]] | None = None,
) -> str:
    """One face: one of ``people`` (with a little noise, as the same face looks in
    another frame), or without them a new random face (a new anonymous identity)."""
    if people:
        face = people[seq % len(people)]
        encoding = [round(v + rng.gauss(0, 0.02), 4) for v in face]
    else:
        encoding = [round(rng.gauss(0, 0.09), 4) for _ in range(128)]
    det = Detection(
        kind="face",
        bbox=BBox(x=100, y=80, w=60, h=60),
        track_id=seq,
        score=0.9,
        encoding=encoding,
    )
    return DetectionBatch(
        camera_id=camera_id,
        seq=seq,
        captured_at=round(at, 3),
        frame_width=640,
        frame_height=360,
        detections=[det],
    ).model_dump_json()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--rate", type=float, default=10.0, help="messages per second")
    ap.add_argument("--clock-file", type=Path)
    ap.add_argument("--burst", type=int, default=0, help="extra messages at once ...")
    ap.add_argument("--burst-every", type=float, default=60.0, help="... every S seconds")
    ap.add_argument(
        "--encoder",
        action="store_true",
        help="also run the edge's encoder pool (forkserver, resource tracker, worker), "
        "as `srs edge` does, so a kill -9 shows whether its children outlive it",
    )
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    logging.basicConfig(
        level=cfg.logging.level, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    clock = Clock(args.clock_file)
    time.time = clock  # the whole process sees the camera's (possibly wrong) clock
    ecfg = cfg.edge
    cam = ecfg.camera_id
    key = SigningKey.load_or_create(topics.camera_issuer(cam), key_path(cfg, cam))
    outbox = Outbox(
        outbox_path(cfg, cam),
        max_messages=ecfg.outbox_max_messages,
        max_age_s=ecfg.outbox_max_age_s,
        clock=clock,
    )
    link = Link(cfg, ecfg, outbox, key, status=lambda: {"message": "simulated"})
    stop, generate = threading.Event(), threading.Event()
    generate.set()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: generate.clear())
    rng = random.Random(cam)
    people = crowd(rng)
    pool = None
    if args.encoder:
        from edge.encode import EncoderPool

        pool = EncoderPool(workers=1)
        pool.wait_ready()
    link.start()
    log.info("camera %s: %g messages/s, outbox at seq %d", cam, args.rate, outbox.next_seq)
    period = 1.0 / args.rate
    next_at = time.monotonic()
    next_burst = next_at + args.burst_every * rng.random()  # cameras burst apart
    while not stop.is_set():
        if generate.is_set():
            extra = 0
            if args.burst and time.monotonic() >= next_burst:
                extra, next_burst = args.burst, next_burst + args.burst_every
            for _ in range(1 + extra):  # a crowd walks in: many faces, many frames
                # As a live frame is stamped (edge.sources): its time and clock base
                # from one reading, so a step between them cannot skew the message.
                now, base = wall_and_base(clock)
                outbox.add(partial(batch, cam, at=now, rng=rng, people=people), clock_base=base)
            link.wake.set()
        next_at += period
        stop.wait(max(0.0, next_at - time.monotonic()))
    link.stop()
    log.info("camera %s stopped: %d sent, %d acked", cam, link.sent, link.acked)
    outbox.close()
    if pool is not None:
        pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
