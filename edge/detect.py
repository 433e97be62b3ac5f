"""Face and profile detection: OpenCV Haar cascades or dlib HOG, boxes merged.

Boxes are ``(x, y, w, h)`` ints. The profile cascade only knows faces looking one
way, so it also runs on the mirrored frame and those boxes are mapped back.
Overlapping boxes of one head are merged, a frontal box winning over a profile
(only frontal faces can be encoded).

Haar's cascades only know upright heads: a head tilted by 20 degrees vanishes.
Where a live track finds nothing around it, the surroundings (a small crop) are
searched again (``recover_lost``): Haar frontal on the crop rotated by
+-``recover_rotate_deg``, then dlib's HOG detector on the crop enlarged so the face
is ~``HOG_FACE_PX``. Both cost a few ms on a crop and nothing while Haar keeps the
face; on the whole frame they would cost more than the frame budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from edge.config import EdgeConfig

Box = tuple[int, int, int, int]
Kind = Literal["face", "profile"]
TRACK_FACE_PX = 64  # a tracked face is searched for at about this size (Haar's window: 24)
RECOVER_MARGIN = 1.0  # of the track's box size on each side, for the recovery search
HOG_FACE_PX = 90  # dlib's HOG window is 80 px: enlarge crops so the face is about this


@dataclass(frozen=True, slots=True)
class RawDetection:
    kind: Kind
    box: Box
    score: float


def iou(a: Box, b: Box) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = min(ax2, bx2) - max(a[0], b[0])
    ih = min(ay2, by2) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def overlap_of_smaller(a: Box, b: Box) -> float:
    """Intersection over the smaller area: 1.0 when one box lies inside the other."""
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    return iw * ih / float(min(a[2] * a[3], b[2] * b[3]))


def merge(dets: Sequence[RawDetection], iou_threshold: float) -> list[RawDetection]:
    """Greedy NMS over all kinds: frontal before profile, then by score and size."""
    order = sorted(dets, key=lambda d: (d.kind != "face", -d.score, -d.box[2] * d.box[3]))
    kept: list[RawDetection] = []
    for det in order:
        if all(
            iou(det.box, k.box) < iou_threshold and overlap_of_smaller(det.box, k.box) < 0.7
            for k in kept
        ):
            kept.append(det)
    return kept


def mirror_box(box: Box, frame_width: int) -> Box:
    x, y, w, h = box
    return (frame_width - x - w, y, w, h)


class Detector:
    """Detects faces in a grey (Haar) or BGR (HOG) image at analysis resolution."""

    def __init__(self, cfg: EdgeConfig) -> None:
        self.cfg = cfg
        root = cv2.data.haarcascades  # type: ignore[attr-defined]
        self._frontal = cv2.CascadeClassifier(root + "haarcascade_frontalface_default.xml")
        self._profile = cv2.CascadeClassifier(root + "haarcascade_profileface.xml")
        if self._frontal.empty() or self._profile.empty():
            raise RuntimeError(f"OpenCV Haar cascades are missing from {root}")
        self._hog: Any = None  # dlib's HOG detector (loading it takes ~0.5-3 s)
        if cfg.recover_lost and cfg.recover_hog:  # now, not while a face is being lost
            import dlib

            self._hog = dlib.get_frontal_face_detector()
        self.recovered = 0  # faces found only by the recovery search (for benchmarks)
        # Boxes the recovery search returned on the previous call, with the way it
        # found them (rotation angle, 0 = HOG): a track that continues one of them
        # (a head still tilted) is searched that way first.
        self._recovered_boxes: dict[Box, float] = {}

    def _cascade(
        self,
        cascade: cv2.CascadeClassifier,
        gray: np.ndarray,
        min_neighbors: int,
        scale: float,
        sizes: tuple[int, int] | None = None,
    ) -> list[tuple[Box, float]]:
        size, biggest = sizes or (self.cfg.min_face_px, 0)
        if gray.shape[0] < size or gray.shape[1] < size:
            return []
        boxes, neighbours = cascade.detectMultiScale2(
            gray,
            scaleFactor=scale,
            minNeighbors=min_neighbors,
            minSize=(size, size),
            maxSize=(biggest, biggest),
        )
        return [
            ((int(b[0]), int(b[1]), int(b[2]), int(b[3])), float(n))
            for b, n in zip(boxes, neighbours, strict=False)
        ]

    def _frontal_boxes(
        self,
        gray: np.ndarray,
        bgr: np.ndarray | None,
        min_neighbors: int,
        scale: float,
        sizes: tuple[int, int] | None,
    ) -> list[RawDetection]:
        if self.cfg.detector == "hog" and bgr is not None:
            import face_recognition

            rgb = np.ascontiguousarray(bgr[:, :, ::-1])
            locs = face_recognition.face_locations(
                rgb, number_of_times_to_upsample=self.cfg.hog_upsample, model="hog"
            )
            return [
                RawDetection("face", (left, top, right - left, bottom - top), 1.0)
                for top, right, bottom, left in locs
                if right > left and bottom > top
            ]
        return [
            RawDetection("face", b, s)
            for b, s in self._cascade(self._frontal, gray, min_neighbors, scale, sizes)
        ]

    def detect_region(
        self,
        gray: np.ndarray,
        bgr: np.ndarray | None = None,
        min_neighbors: int | None = None,
        scale: float | None = None,
        sizes: tuple[int, int] | None = None,
        profiles_if_no_face: bool = False,
    ) -> list[RawDetection]:
        """All raw boxes in one image, before merging (``sizes``: min, max face px).

        ``profiles_if_no_face``: look for profiles only when no frontal face is found
        (around a track one head is expected: a frontal hit makes the two profile
        passes, two thirds of the work, pointless).
        """
        mn = self.cfg.min_neighbors if min_neighbors is None else min_neighbors
        sf = self.cfg.full_scale_factor if scale is None else scale
        found = self._frontal_boxes(gray, bgr, mn, sf, sizes)
        if self.cfg.profiles and not (profiles_if_no_face and found):
            # Discovery scans use a coarser pyramid for profiles (profile_scale_factor):
            # the two profile passes cost the most, and a new profile found a frame or
            # two later costs little. Around a track every scale counts.
            psf = sf if profiles_if_no_face else max(sf, self.cfg.profile_scale_factor)
            found += [
                RawDetection("profile", b, s)
                for b, s in self._cascade(self._profile, gray, mn, psf, sizes)
            ]
            width = gray.shape[1]
            found += [
                RawDetection("profile", mirror_box(b, width), s)
                for b, s in self._cascade(self._profile, cv2.flip(gray, 1), mn, psf, sizes)
            ]
        return found

    def detect(
        self,
        gray: np.ndarray,
        bgr: np.ndarray | None = None,
        around: Sequence[Box] | None = None,
        region: Box | None = None,
    ) -> list[RawDetection]:
        """Merged detections in the whole image, or only near the boxes ``around``
        and inside ``region`` (a discovery scan with the whole-frame settings)."""
        if around is None and region is None:
            return merge(self.detect_region(gray, bgr), self.cfg.merge_iou)
        found: list[RawDetection] = []
        if region is not None:
            x, y, w, h = region
            sub_bgr = bgr[y : y + h, x : x + w] if bgr is not None else None
            for d in self.detect_region(gray[y : y + h, x : x + w], sub_bgr):
                bx, by, bw, bh = d.box
                found.append(RawDetection(d.kind, (bx + x, by + y, bw, bh), d.score))
        # Around a live track a face of about the track's size is expected: search
        # only those sizes, and accept fewer neighbours (a small window sees fewer
        # overlapping hits than the whole frame does).
        mn = max(1, self.cfg.min_neighbors - 2)
        recovered_before, self._recovered_boxes = self._recovered_boxes, {}
        for box in around or ():
            found += self._near_track(gray, bgr, box, mn, recovered_before.get(box))
        return merge(found, self.cfg.merge_iou)

    def _near_track(
        self,
        gray: np.ndarray,
        bgr: np.ndarray | None,
        box: Box,
        mn: int,
        tilted: float | None,
    ) -> list[RawDetection]:
        """Faces around the track at ``box``; ``tilted``: how the recovery search found
        it on the previous frame (None: it did not)."""
        height, width = gray.shape[:2]
        side = max(box[2], box[3])
        # Haar's cost grows with the pixels searched and its window is 24 px: a big
        # face is looked for in a crop shrunk so that it is ~TRACK_FACE_PX.
        # (dlib's HOG, detector = "hog", needs its 80 px: no shrinking then.)
        factor = 1.0 if bgr is not None else min(1.0, TRACK_FACE_PX / side)
        near_side = side * factor
        sizes = (max(self.cfg.min_face_px, int(near_side / 1.6)), int(near_side * 1.6) + 1)
        recovered: float | None = None
        near: list[RawDetection] = []
        if self.cfg.recover_lost and tilted is not None:  # tilted a frame ago: likely still
            origin = expand(box, RECOVER_MARGIN, width, height)
            near, recovered = self._recover(_crop(gray, origin), factor, side, sizes, tilted)
        if not near:
            origin = expand(box, 0.6, width, height)
            x, y, w, h = origin
            near = self.detect_region(
                _shrink(gray[y : y + h, x : x + w], factor),
                bgr[y : y + h, x : x + w] if bgr is not None else None,
                mn,
                self.cfg.scale_factor,
                sizes,
                profiles_if_no_face=True,
            )
        if not near and self.cfg.recover_lost and tilted is None:
            # A wider crop: the lost box may sit off the head (Haar's last box of a
            # tilting head), and rotating cuts the crop's corners.
            origin = expand(box, RECOVER_MARGIN, width, height)
            near, recovered = self._recover(_crop(gray, origin), factor, side, sizes)
        x, y = origin[0], origin[1]
        out = [
            RawDetection(
                d.kind,
                (
                    x + round(d.box[0] / factor),
                    y + round(d.box[1] / factor),
                    max(1, round(d.box[2] / factor)),
                    max(1, round(d.box[3] / factor)),
                ),
                d.score,
            )
            for d in near
        ]
        if recovered is not None:
            self.recovered += len(out)
            self._recovered_boxes.update((d.box, recovered) for d in out)
        return out

    def _recover(
        self,
        crop: np.ndarray,
        factor: float,
        side: int,
        sizes: tuple[int, int],
        first: float | None = None,
    ) -> tuple[list[RawDetection], float | None]:
        """A face Haar lost in a track's surroundings ``crop``: a tilted head (Haar on
        the crop shrunk by ``factor`` and rotated both ways), else anything dlib's HOG
        detector sees; the way that worked (``first`` is tried first) goes with it.
        Boxes in the shrunk crop's pixels."""
        angle = self.cfg.recover_rotate_deg
        ways = ([angle, -angle] if angle else []) + ([0.0] if self.cfg.recover_hog else [])
        if first in ways:
            ways.remove(first)
            ways.insert(0, first)
        for way in ways:
            if way:
                found = self._rotated(crop, factor, sizes, way)
            else:
                found = self._by_hog(crop, factor, side)
            if found:
                return found, way
        return [], None

    def _rotated(
        self, crop: np.ndarray, factor: float, sizes: tuple[int, int], angle: float
    ) -> list[RawDetection]:
        gray = _shrink(crop, factor)
        height, width = gray.shape[:2]
        centre = (width / 2, height / 2)
        turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(gray, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)
        # Full min_neighbors: a retry must not keep a false positive's track alive.
        hits = self._cascade(
            self._frontal, rotated, self.cfg.min_neighbors, self.cfg.scale_factor, sizes
        )
        if not hits:
            return []
        back = cv2.invertAffineTransform(turn)
        (bx, by, bw, bh), score = max(hits, key=lambda hit: hit[1])
        cx, cy = back @ np.array([bx + bw / 2, by + bh / 2, 1.0])
        box = (max(0, int(cx - bw / 2)), max(0, int(cy - bh / 2)), bw, bh)
        return [RawDetection("face", box, score)]

    def _by_hog(self, crop: np.ndarray, factor: float, side: int) -> list[RawDetection]:
        # HOG on the full-resolution crop brought to a ~HOG_FACE_PX face (its window
        # is 80 px), then boxes scaled to the shrunk crop the caller maps back.
        to_hog = HOG_FACE_PX / max(1, side)
        image = _shrink(crop, to_hog) if to_hog < 1 else _enlarge(crop, to_hog)
        rects, scores, _ = self._hog.run(image, 0, 0.0)
        if not len(rects):
            return []
        best = max(range(len(rects)), key=lambda k: scores[k])  # one head per track
        r, f = rects[best], factor / to_hog
        box = (
            max(0, round(r.left() * f)),
            max(0, round(r.top() * f)),
            max(1, round(r.width() * f)),
            max(1, round(r.height() * f)),
        )
        return [RawDetection("face", box, float(scores[best]))]


def _crop(image: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return image[y : y + h, x : x + w]


def _shrink(image: np.ndarray, factor: float) -> np.ndarray:
    if factor >= 1.0:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _enlarge(image: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)


def expand(box: Box, factor: float, width: int, height: int) -> Box:
    """``box`` grown by ``factor`` of its size on every side, clipped to the image."""
    x, y, w, h = box
    dx, dy = int(w * factor), int(h * factor)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(width, x + w + dx), min(height, y + h + dy)
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))
