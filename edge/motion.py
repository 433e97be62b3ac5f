"""Where did the picture change? Limits whole-frame face scans to moving regions.

A fixed camera sees new faces where something moves. The gate compares a small,
blurred copy of the frame with the one from the previous whole-frame scan and
returns the bounding box of what changed (grown by a margin), so discovery scans
skip the static background. Every ``complete_every``-th scan still covers the
whole frame, so a face that sat still while it was missed is found too.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.detect import Box

THUMB_DIVISOR = 4  # compare at a quarter of the analysis resolution
THRESHOLD = 12  # grey levels; above GIF dithering and sensor noise
MARGIN_PX = 48  # at analysis resolution: a moving body drags its still face along
COMPLETE_ABOVE = 0.6  # a region larger than this share of the frame: scan it all

NOTHING: Box = (0, 0, 0, 0)


class MotionGate:
    def __init__(self, enabled: bool = True, complete_every: int = 3) -> None:
        self.enabled = enabled
        self.complete_every = complete_every
        self.scans = 0
        self.complete_scans = 0
        self._reference: np.ndarray | None = None

    def reset(self) -> None:
        """A new scene: start over as at the first frame (whose scan is complete)."""
        self._reference = None
        self.scans = 0

    def region(self, gray: np.ndarray) -> Box | None:
        """The box to scan: None = the whole frame, ``NOTHING`` (w == 0) = no change."""
        height, width = gray.shape[:2]
        thumb = cv2.GaussianBlur(
            cv2.resize(
                gray,
                (max(1, width // THUMB_DIVISOR), max(1, height // THUMB_DIVISOR)),
                interpolation=cv2.INTER_AREA,
            ),
            (3, 3),
            0,
        )
        previous, self._reference = self._reference, thumb
        self.scans += 1
        if (
            not self.enabled
            or previous is None
            or previous.shape != thumb.shape
            or self.scans % self.complete_every == 1 % self.complete_every
        ):
            self.complete_scans += 1
            return None
        ys, xs = np.nonzero(cv2.absdiff(thumb, previous) > THRESHOLD)
        if xs.size == 0:
            return NOTHING
        x0 = max(0, int(xs.min()) * THUMB_DIVISOR - MARGIN_PX)
        y0 = max(0, int(ys.min()) * THUMB_DIVISOR - MARGIN_PX)
        x1 = min(width, (int(xs.max()) + 1) * THUMB_DIVISOR + MARGIN_PX)
        y1 = min(height, (int(ys.max()) + 1) * THUMB_DIVISOR + MARGIN_PX)
        if (x1 - x0) * (y1 - y0) > COMPLETE_ABOVE * width * height:
            self.complete_scans += 1
            return None
        return (x0, y0, x1 - x0, y1 - y0)
