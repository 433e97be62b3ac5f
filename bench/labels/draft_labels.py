"""Draft the per-frame labels of bench/labels/*.json (how they were made; see README.md).

Not SRS: dlib's HOG frontal detector (face_recognition, upsampled twice, at full
resolution), retried on the frame rotated by +-25/40 degrees where an expected person
has no face (tilted heads), 68-point landmarks for the pose, and per-clip rules
written down below for who is who (by position: the people of these clips never swap
places). Boxes of frames where no detector found the person are interpolated between
(or extrapolated from) that person's detected boxes; the classroom's small faces have
hand-placed head boxes. The drafts were then checked frame by frame on contact sheets
(``--sheets``) and the rules corrected until the sheets were right.

    .venv/bin/python bench/labels/draft_labels.py [--sheets /tmp/sheets] [clip.gif ...]
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
MEDIA = HERE.parents[1] / "srs" / "data" / "media"
VIDEO = MEDIA / "video"
Box = list[int]  # x, y, w, h at source resolution

# A face counts as frontal when the nose tip sits in the middle 40 % between the jaw's
# ends (after undoing the head's roll): about +-25 degrees of yaw.
FRONTAL_BAND = (0.3, 0.7)
ROLL_RETRIES = (-25.0, 25.0, -40.0, 40.0)

# Classroom: four seated people who barely move; their faces are 20-25 px, mostly
# below what HOG finds, so each has a hand-placed head box (checked on the sheets).
CLASSROOM_HEADS = {
    "classroom-1": [58, 140, 32, 36],  # front left, dark jumper
    "classroom-2": [124, 121, 22, 26],  # back left, dark shirt
    "classroom-3": [226, 121, 24, 28],  # back right, grey hoodie
    "classroom-4": [300, 141, 32, 34],  # front right, glasses
}


def _split(left: str, right: str, x: int) -> Callable[[Box], str]:
    return lambda b: left if b[0] + b[2] / 2 < x else right


def _nearest(anchors: dict[str, Box]) -> Callable[[Box], str]:
    def who(b: Box) -> str:
        cx, cy = b[0] + b[2] / 2, b[1] + b[3] / 2
        return min(
            anchors,
            key=lambda p: math.hypot(
                anchors[p][0] + anchors[p][2] / 2 - cx, anchors[p][1] + anchors[p][3] / 2 - cy
            ),
        )

    return who


# clip -> (people in every frame, who a detected box belongs to, hand-placed boxes)
CLIPS: dict[str, tuple[list[str], Callable[[Box], str], dict[str, Box]]] = {
    "head-pose-face-detection-female.gif": (["woman"], lambda b: "woman", {}),
    "head-pose-face-detection-male.gif": (["man"], lambda b: "man", {}),
    "head-pose-face-detection-female-and-male.gif": (
        ["woman", "man"],
        _split("woman", "man", 240),
        {},
    ),
    "face-demographics-walking.gif": (
        ["walking-woman", "walking-man"],
        _split("walking-woman", "walking-man", 280),
        {},
    ),
    "classroom.gif": (list(CLASSROOM_HEADS), _nearest(CLASSROOM_HEADS), CLASSROOM_HEADS),
}


# The stills folder: unrelated photos, each person named left to right from the file
# name (and looked at); a child at the bottom of obama_and_biden.jpg is a stranger.
STILLS = {
    "test/alex_lacamoire1.jpg": ["alex_lacamoire"],
    "test/johnsnow_test1.jpg": ["kit_harington"],
    "test/kit_with_rose.jpg": ["rose_leslie", "kit_harington"],
    "test/obama1.jpg": ["obama"],
    "test/obama_and_biden.jpg": ["biden", "obama", "stills-child"],
    "two_people.jpg": ["obama", "biden"],
}


def pose(landmarks: dict[str, list[tuple[int, int]]]) -> tuple[float, float]:
    """(yaw ratio: 0.5 = facing the camera, roll in degrees) from 68 landmarks."""
    le, re = np.mean(landmarks["left_eye"], axis=0), np.mean(landmarks["right_eye"], axis=0)
    roll = math.atan2(re[1] - le[1], re[0] - le[0])
    c, s = math.cos(-roll), math.sin(-roll)

    def x_of(p: tuple[int, int]) -> float:
        return c * p[0] - s * p[1]  # x after undoing the roll

    left, right = x_of(landmarks["chin"][0]), x_of(landmarks["chin"][16])
    ratio = (x_of(landmarks["nose_tip"][2]) - left) / max(1.0, right - left)
    return round(ratio, 2), round(math.degrees(roll), 1)


def detect(
    rgb: np.ndarray, angle: float = 0.0, upsample: int = 2
) -> list[tuple[Box, float, float]]:
    """HOG faces of ``rgb`` rotated by ``angle``: (box in ``rgb``'s pixels, yaw, roll)."""
    import face_recognition

    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    img = cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_REPLICATE) if angle else rgb
    locs = face_recognition.face_locations(img, number_of_times_to_upsample=upsample)
    out = []
    back = cv2.invertAffineTransform(m)
    for loc, lm in zip(locs, face_recognition.face_landmarks(img, locs), strict=True):
        top, right, bottom, left = loc
        cx, cy = back @ np.array([(left + right) / 2, (top + bottom) / 2, 1.0])
        size = right - left
        box = [round(cx - size / 2), round(cy - size / 2), size, bottom - top]
        yaw, roll = pose(lm)
        out.append((box, yaw, round(roll + angle, 1)))
    return out


def _fill(frames: list[dict[str, dict]], person: str, n: int) -> None:
    """Boxes for the frames where no detector found ``person``: linear between the
    neighbouring detections, a straight-line fit at the ends of the clip."""
    known = [i for i in range(n) if person in frames[i]]
    if not known:
        return
    for i in range(n):
        if person in frames[i]:
            continue
        before = [k for k in known if k < i]
        after = [k for k in known if k > i]
        if before and after:
            a, b = before[-1], after[0]
            t = (i - a) / (b - a)
            ba, bb = frames[a][person]["box"], frames[b][person]["box"]
            box = [round(va + t * (vb - va)) for va, vb in zip(ba, bb, strict=True)]
            source = "interpolated"
        else:
            near = (known[:8] if after else known[-8:]) or known
            xs = np.array(near, dtype=float)
            boxes = np.array([frames[k][person]["box"] for k in near], dtype=float)
            if len(near) > 1:
                fit = [np.polyval(np.polyfit(xs, boxes[:, j], 1), i) for j in range(4)]
            else:
                fit = list(boxes[0])
            box = [round(float(v)) for v in fit]
            source = "extrapolated"
        frames[i][person] = {"box": box, "source": source, "frontal": False}


def draft(clip: Path) -> dict:
    people, who, manual = CLIPS[clip.name]
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames: list[dict[str, dict]] = []
    size = (0, 0)
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        size = (bgr.shape[1], bgr.shape[0])
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        found: dict[str, dict] = {}
        for angle in (0.0, *ROLL_RETRIES):
            if angle and (manual or all(p in found for p in people)):
                break  # rotated retries only for the head-pose clips' missing faces
            for box, yaw, roll in detect(rgb, angle):
                p = who(box)
                if p in found:
                    continue
                found[p] = {
                    "box": box,
                    "source": "hog" if not angle else "hog-rotated",
                    "frontal": FRONTAL_BAND[0] <= yaw <= FRONTAL_BAND[1],
                    "yaw": yaw,
                    "roll": roll,
                }
        for p, box in manual.items():
            found.setdefault(p, {"box": box, "source": "manual", "frontal": False})
        frames.append(found)
    for p in people:
        _fill(frames, p, len(frames))
    return {
        "clip": clip.name,
        "width": size[0],
        "height": size[1],
        "fps": round(fps, 3),
        "frames": [[{"person": p, **f[p]} for p in people if p in f] for f in frames],
    }


def draft_stills() -> dict:
    """One frame per photo, in the order the bench's folder source reads them."""
    frames, images = [], []
    for name, people in STILLS.items():
        bgr = cv2.imread(str(MEDIA / "faces" / name))
        if bgr is None:
            raise SystemExit(f"cannot read {name}")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        found = sorted(detect(rgb, upsample=1), key=lambda f: f[0][0])
        if len(found) != len(people):
            raise SystemExit(f"{name}: {len(found)} faces found, {len(people)} labelled")
        images.append({"file": name, "width": rgb.shape[1], "height": rgb.shape[0]})
        frames.append(
            [
                {
                    "person": p,
                    "box": box,
                    "source": "hog",
                    "frontal": FRONTAL_BAND[0] <= yaw <= FRONTAL_BAND[1],
                    "yaw": yaw,
                    "roll": roll,
                }
                for p, (box, yaw, roll) in zip(people, found, strict=True)
            ]
        )
    return {"clip": "stills", "images": images, "frames": frames}


def contact_sheet(clip: Path, labels: dict, out: Path, scale: float = 0.5) -> None:
    """Every frame with its labelled boxes (green: frontal, yellow: detected, not
    frontal, red: interpolated/manual) and names, 4 frames a row."""
    cap = cv2.VideoCapture(str(clip))
    tiles = []
    for i, people in enumerate(labels["frames"]):
        ok, img = cap.read()
        if not ok:
            break
        for p in people:
            x, y, w, h = p["box"]
            colour = (
                (0, 200, 0)
                if p["frontal"]
                else (0, 220, 220)
                if p["source"].startswith("hog")
                else (0, 0, 255)
            )
            cv2.rectangle(img, (x, y), (x + w, y + h), colour, 1)
            cv2.putText(img, p["person"][-7:], (x, y - 2), cv2.FONT_HERSHEY_PLAIN, 0.8, colour)
        img = cv2.resize(img, None, fx=scale, fy=scale)
        cv2.putText(img, str(i), (3, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 0, 255), 2)
        tiles.append(img)
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    for start in range(0, len(tiles), 24):
        chunk = tiles[start : start + 24]
        rows = [np.hstack(chunk[r : r + 4]) for r in range(0, len(chunk), 4)]
        cv2.imwrite(str(out / f"{clip.stem}-{start:03d}.png"), np.vstack(rows))


def dump(labels: dict) -> str:
    """JSON with one line per frame: readable in a diff, checkable by eye."""
    head = {k: v for k, v in labels.items() if k != "frames"}
    lines = [json.dumps(f, separators=(",", ":")) for f in labels["frames"]]
    body = json.dumps(head, indent=1)[:-2]
    return body + ',\n "frames": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("clips", nargs="*", default=[*sorted(CLIPS), "stills"])
    ap.add_argument("--sheets", type=Path, help="also write contact sheets (PNG) here")
    args = ap.parse_args()
    if "stills" in args.clips:
        (HERE / "stills.json").write_text(dump(draft_stills()))
        print("stills.json")
    for name in (c for c in args.clips if c != "stills"):
        clip = VIDEO / name
        labels = draft(clip)
        path = HERE / f"{clip.stem}.json"
        path.write_text(dump(labels))
        n = len(labels["frames"])
        print(f"{path.name}: {n} frames")
        if args.sheets:
            args.sheets.mkdir(parents=True, exist_ok=True)
            contact_sheet(clip, labels, args.sheets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
