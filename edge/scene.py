"""Scene cuts: a change of the whole picture ends every track.

A track continues a head from one frame to the next by position. After a hard cut
(an edited clip, a camera switched over to another view, a PTZ preset) the box at
the same place belongs to somebody else, so no track may cross a cut.

The measure is the mean absolute difference of a small grey thumbnail between
consecutive analysed frames (0-255 grey levels). Measured on the bundled clips
(64 px wide thumbnails): between consecutive frames of one clip at most 3.2 (7.9
when only every third frame is analysed: a close head turning); at a cut made by
joining any two of the clips at least 24.9 (two head-pose clips in front of the
same wall) and up to 76.7. ``DEFAULT_THRESHOLD`` sits between the two.
"""

from __future__ import annotations

import cv2
import numpy as np

THUMB_WIDTH = 64
DEFAULT_THRESHOLD = 15.0


def thumbnail(gray: np.ndarray) -> np.ndarray:
    """A small copy of a grey frame: cheap to compare, blind to noise and small motion."""
    height, width = gray.shape[:2]
    size = (THUMB_WIDTH, max(1, round(height * THUMB_WIDTH / max(1, width))))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails (grey levels)."""
    return float(np.mean(np.abs(a - b)))


class SceneCutDetector:
    def __init__(self, enabled: bool = True, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.enabled = enabled
        self.threshold = threshold
        self.cuts = 0
        self.last_change = 0.0
        self._previous: np.ndarray | None = None
        self._previous_shape: tuple[int, ...] = ()

    def is_cut(self, gray: np.ndarray) -> bool:
        """True when ``gray`` (the analysed frame) starts a new scene.

        A frame of another size than the previous one is a cut too (a different
        source or an unrelated image).
        """
        if not self.enabled:
            return False
        thumb = thumbnail(gray)
        previous, self._previous = self._previous, thumb
        shape, self._previous_shape = self._previous_shape, gray.shape
        if previous is None:
            return False
        if shape != gray.shape or previous.shape != thumb.shape:
            self.cuts += 1
            return True
        self.last_change = change(previous, thumb)
        if self.last_change > self.threshold:
            self.cuts += 1
            return True
        return False
