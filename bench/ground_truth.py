"""Who is really in each frame of the recognition benchmark's footage (bench/labels).

The labels are data (bench/labels/*.json, made and checked as bench/labels/README.md
says); this module loads them, assembles the benchmark's clips from them (a clip, the
cut clip = two clips joined, the stills folder) and answers the two questions scoring
asks: which frame a stored sighting came from, and which labelled person its box is.
Pure: no SRS import, no face library, so tests can check the labels cheaply.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "bench" / "labels"
MEDIA = ROOT / "srs" / "data" / "media"

# Enrolled from faces/train/<name>/ (one folder per person)...
TRAIN_PEOPLE = ("alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie")
# ...and from ONE frame of their own clip each, like a badge photo: (clip, frame).
BADGES = {
    "woman": ("head-pose-face-detection-female.gif", 19),
    "man": ("head-pose-face-detection-male.gif", 0),
}
ENROLLED = frozenset((*TRAIN_PEOPLE, *BADGES))
# Recall counts the frames where an enrolled person's frontal face is at least this
# big (the shorter side of dlib's HOG box, in source pixels).
RECALL_MIN_PX = 60


@dataclass(frozen=True)
class ClipSpec:
    """One camera of the benchmark: the media it plays, in order (a folder for stills)."""

    camera: str
    parts: tuple[str, ...]  # label files (without .json), played one after the other
    about: str
    restricted: bool = False  # the camera looks into a restricted zone


CLIPS = {
    c.camera: c
    for c in (
        ClipSpec("female", ("head-pose-face-detection-female",), "the enrolled woman alone"),
        ClipSpec("male", ("head-pose-face-detection-male",), "the enrolled man alone"),
        ClipSpec(
            "pair",
            ("head-pose-face-detection-female-and-male",),
            "the woman and the man side by side, heads tilted",
        ),
        ClipSpec("walking", ("face-demographics-walking",), "two strangers walk to the camera"),
        ClipSpec(
            "classroom",
            ("classroom",),
            "four seated strangers, small faces; a restricted room",
            restricted=True,
        ),
        ClipSpec(
            "cut",
            ("head-pose-face-detection-male", "classroom"),
            "the man's close-up, then a hard cut to the classroom",
        ),
        ClipSpec("stills", ("stills",), "a folder of unrelated photos"),
    )
}


@dataclass(frozen=True)
class Face:
    person: str
    box: tuple[int, int, int, int]  # x, y, w, h in source pixels
    frontal: bool
    source: str  # hog, hog-rotated (found by a detector), interpolated, extrapolated, manual

    @property
    def enrolled(self) -> bool:
        return self.person in ENROLLED

    @property
    def countable(self) -> bool:
        """A frame where the person must be named: detected, frontal, big enough."""
        return (
            self.enrolled
            and self.frontal
            and self.source.startswith("hog")
            and min(self.box[2], self.box[3]) >= RECALL_MIN_PX
        )


@dataclass(frozen=True)
class Clip:
    spec: ClipSpec
    frames: list[list[Face]]
    media: list[Path]  # per part: a video file, or the images of the stills folder
    sizes: list[tuple[int, int]]  # per frame: width, height
    fps: float
    badge_frames: frozenset[int]  # frames enrolled as a badge photo: not scored for recall

    @property
    def people(self) -> set[str]:
        return {f.person for frame in self.frames for f in frame}

    @property
    def strangers(self) -> set[str]:
        return {p for p in self.people if p not in ENROLLED}


def _box(b: Sequence[int]) -> tuple[int, int, int, int]:
    x, y, w, h = b
    return (x, y, w, h)


def read_labels(name: str) -> dict:
    return json.loads((LABELS / f"{name}.json").read_text())


def load(camera: str) -> Clip:
    spec = CLIPS[camera]
    frames: list[list[Face]] = []
    media: list[Path] = []
    sizes: list[tuple[int, int]] = []
    badges: set[int] = set()
    fps = 0.0
    for part in spec.parts:
        data = read_labels(part)
        if "images" in data:
            media.extend(MEDIA / "faces" / i["file"] for i in data["images"])
            sizes.extend((i["width"], i["height"]) for i in data["images"])
        else:
            media.append(MEDIA / "video" / data["clip"])
            sizes.extend((data["width"], data["height"]) for _ in data["frames"])
            fps = fps or float(data["fps"])
            badges.update(len(frames) + i for clip, i in BADGES.values() if clip == data["clip"])
        frames.extend(
            [Face(f["person"], _box(f["box"]), f["frontal"], f["source"]) for f in frame]
            for frame in data["frames"]
        )
    return Clip(spec, frames, media, sizes, fps, frozenset(badges))


# --- scoring helpers -------------------------------------------------------------


def match_frames(
    stamps: Sequence[float], messages: Sequence[float], tol: float = 0.0015
) -> list[int | None]:
    """The frame each message came from, messages in ``seq`` order.

    ``stamps`` are the ``captured_at`` of every frame the node analysed, in order (the
    benchmark records them where the node hands a frame to analysis); a message carries
    its frame's ``captured_at`` rounded to the millisecond. Messages leave in frame
    order, so each is matched to the first frame after the previous message's with the
    same stamp: right whether the stamps are wall-clock reads or the frames' own
    timestamps, even when two frames share a millisecond. None: no such frame.
    """
    out: list[int | None] = []
    nxt = 0
    for t in messages:
        j = nxt
        while j < len(stamps) and abs(stamps[j] - t) > tol:
            j += 1
        if j < len(stamps):
            out.append(j)
            nxt = j + 1
        else:
            out.append(None)
    return out


def who(faces: Sequence[Face], box: Sequence[int]) -> Face | None:
    """The labelled face a detected ``box`` is: the nearest whose centre is within 0.6
    face sizes of the box's centre (Haar's boxes are larger than dlib's and sit higher
    by up to a fifth of a face; on a tilted head either may sit half a face off the
    other). None: nobody labelled there (a false detection: a wall, a chin, a tie)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    best: Face | None = None
    best_d = math.inf
    for f in faces:
        fx, fy = f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2
        d = math.hypot(fx - cx, fy - cy)
        if d <= 0.6 * max(f.box[2], f.box[3], box[2], box[3]) and d < best_d:
            best, best_d = f, d
    return best
