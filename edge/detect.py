"""Face and profile detection: OpenCV Haar cascades or dlib HOG, boxes merged.

Boxes are ``(x, y, w, h)`` ints. The profile cascade only knows faces looking one
way, so it also runs on the mirrored frame and those boxes are mapped back.
Overlapping boxes of one head are merged, a frontal box winning over a profile
(only frontal faces can be encoded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from edge.config import EdgeConfig

Box = tuple[int, int, int, int]
Kind = Literal["face", "profile"]


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
        height, width = gray.shape[:2]
        for box in around or ():
            x, y, w, h = expand(box, 0.6, width, height)
            side = max(box[2], box[3])
            sizes = (max(self.cfg.min_face_px, int(side / 1.6)), int(side * 1.6) + 1)
            sub_bgr = bgr[y : y + h, x : x + w] if bgr is not None else None
            for d in self.detect_region(
                gray[y : y + h, x : x + w],
                sub_bgr,
                mn,
                self.cfg.scale_factor,
                sizes,
                profiles_if_no_face=True,
            ):
                bx, by, bw, bh = d.box
                found.append(RawDetection(d.kind, (bx + x, by + y, bw, bh), d.score))
        return merge(found, self.cfg.merge_iou)


def expand(box: Box, factor: float, width: int, height: int) -> Box:
    """``box`` grown by ``factor`` of its size on every side, clipped to the image."""
    x, y, w, h = box
    dx, dy = int(w * factor), int(h * factor)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(width, x + w + dx), min(height, y + h + dy)
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))
