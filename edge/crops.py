"""The face crop a track's encoding carries: the best face of the track so far.

When a face is sent to the encoder its crop is cut too (``cut``: a square around
the face with some margin, ``CROP_PX`` square, JPEG). Only once the encoding
succeeded does the crop count for its track (``keep``; a face the encoder
refused is no face to show, and a track split by that encoding gets the crop on
its new id). ``take`` hands the track's best crop to the next message that
carries an encoding of the track, and only if it is better than the last one
sent: a track sends its face once, and again only when a better view came.

"Better" is a cheap score of the crop itself: its sharpness (variance of the
Laplacian at ``JUDGE_PX`` square, saturating) times how much of ``CROP_PX`` the
face really filled (an enlarged small face is a worse picture).
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from edge.detect import Box
from srs.wire.payloads import MAX_FACE_B64

CROP_PX = 112
MARGIN = 0.2  # of the face box on each side: forehead, chin and ears show
JUDGE_PX = 64
SHARP_HALF = 300.0  # Laplacian variance scoring one half
JPEG_QUALITIES = (85, 70, 55, 40)  # tried in turn until the crop fits MAX_FACE_B64
MAX_TRACKS = 256  # tracks remembered (the oldest are forgotten: they ended long ago)


@dataclass(frozen=True)
class Crop:
    score: float
    jpeg_b64: str


def cut_face(image: np.ndarray, box: Box) -> Crop | None:
    """A ``CROP_PX`` square JPEG of the face in ``box`` (source pixels), scored."""
    height, width = image.shape[:2]
    x, y, w, h = box
    side = round(max(w, h) * (1 + 2 * MARGIN))
    side = min(side, width, height)
    left = min(max(0, x + w // 2 - side // 2), width - side)
    top = min(max(0, y + h // 2 - side // 2), height - side)
    face = image[top : top + side, left : left + side]
    if face.size == 0:
        return None
    shrink = side >= CROP_PX
    small = cv2.resize(
        face,
        (CROP_PX, CROP_PX),
        interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
    )
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    judged = cv2.resize(grey, (JUDGE_PX, JUDGE_PX), interpolation=cv2.INTER_AREA)
    variance = float(cv2.Laplacian(judged, cv2.CV_64F).var())
    score = variance / (variance + SHARP_HALF) * min(1.0, side / CROP_PX)
    for quality in JPEG_QUALITIES:
        ok, jpg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
        text = base64.b64encode(jpg.tobytes()).decode("ascii") if ok else ""
        if 0 < len(text) <= MAX_FACE_B64:
            return Crop(round(score, 4), text)
    return None


class FaceCrops:
    """Per track: the crop of the face being encoded, and the best kept so far."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._asked: dict[int, Crop] = {}  # track id -> crop of the face being encoded
        self._best: OrderedDict[int, tuple[Crop, bool]] = OrderedDict()  # crop, sent?

    def cut(self, track_id: int, image: np.ndarray, box: Box) -> None:
        """Cut the crop of the face whose encoding ``track_id`` just asked for."""
        if not self.enabled:
            return
        crop = cut_face(image, box)
        if crop is not None:
            self._asked[track_id] = crop
        else:
            self._asked.pop(track_id, None)

    def keep(self, asked_by: int, track_id: int) -> None:
        """The encoding ``asked_by`` asked for succeeded, for ``track_id`` (the same id,
        or the new one of a split): its crop counts if it beats the track's best."""
        crop = self._asked.pop(asked_by, None)
        if crop is None:
            return
        best = self._best.get(track_id)
        if best is None or crop.score > best[0].score:
            self._best[track_id] = (crop, False)
            self._best.move_to_end(track_id)
            while len(self._best) > MAX_TRACKS:
                self._best.popitem(last=False)

    def take(self, track_id: int) -> str | None:
        """The track's best crop if not sent yet (then it counts as sent)."""
        best = self._best.get(track_id)
        if best is None or best[1]:
            return None
        self._best[track_id] = (best[0], True)
        return best[0].jpeg_b64
