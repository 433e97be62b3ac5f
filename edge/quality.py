"""Is this face worth an encoding? Sharpness, frontality and size of the face itself.

The old gate took the variance of the Laplacian over the raw crop, which grows
with the face's pixel count and texture: a clean 500 px studio portrait (smooth
skin, soft light) scored 14.7 against a threshold of 40 and was refused, while a
small noisy face passed. Here:

* **sharpness** is the variance of the Laplacian of the face's inner part (80 %
  of the box, so hair and background edges do not count) resized to
  ``SHARPNESS_PX`` square. Larger faces are shrunk to it, so a big smooth
  portrait is judged on the detail an encoding can use; smaller ones are measured
  at their own size (enlarging adds a blur that is not in the picture: a small
  face is accounted for by ``size``, not by sharpness).
* **frontality** (1 = looking at the camera, 0 = turned 60 degrees or more) comes
  from dlib's 5-point landmarks (eye corners and nose base, the model that ships in
  face_recognition_models; ~1 ms): turning the head moves the nose sideways
  between the eyes by about 0.3 x tan(yaw) of the eye distance.
* **size** is the face's smaller side in source pixels.

``quality`` in 0..1 is the product of the three scores (each saturating at a
value from which the face is good enough); core weighs encodings by it. A face
below a minimum is refused with its reason ("small", "blur" or "pose").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import cv2
import numpy as np

from edge.detect import Box

Reason = Literal["small", "blur", "pose"]
REASONS: tuple[Reason, ...] = ("small", "blur", "pose")

SHARPNESS_PX = 64  # faces are judged at this size (never enlarged to it)
SHARPNESS_GOOD = 150.0  # sharpness from which the sharpness score is 1
SIZE_GOOD_PX = 80  # face size (source px) from which the size score is 1
# Nose offset from the eyes' midpoint, in eye distances, at which frontality is 0
# (~60 degrees of yaw: 0.3 x tan(60) = 0.52).
YAW_OFFSET_ZERO = 0.5


@dataclass(frozen=True, slots=True)
class FaceQuality:
    sharpness: float  # Laplacian variance at SHARPNESS_PX (not a 0..1 score)
    frontality: float  # 0..1
    size: int  # smaller side of the box, source px
    quality: float  # 0..1
    refused: Reason | None  # why it must not be encoded, None when it may


@dataclass(frozen=True, slots=True)
class QualityLimits:
    min_px: int = 24
    sharpness_min: float = 40.0
    frontality_min: float = 0.3


def sharpness(gray: np.ndarray, box: Box) -> float:
    """Variance of the Laplacian of the face's inner 80 %, at most SHARPNESS_PX square."""
    x, y, w, h = box
    dx, dy = w // 10, h // 10
    patch = gray[max(0, y + dy) : max(0, y + h - dy), max(0, x + dx) : max(0, x + w - dx)]
    if patch.size == 0 or min(patch.shape[:2]) < 3:
        return 0.0
    side = min(SHARPNESS_PX, patch.shape[0], patch.shape[1])
    if patch.shape[0] != side or patch.shape[1] != side:
        patch = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(patch, cv2.CV_64F).var())


@cache
def _landmark_model() -> Any:
    import dlib
    import face_recognition_models

    return dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())


def landmarks(gray: np.ndarray, box: Box) -> np.ndarray:
    """dlib's 5 points (two corners of each eye, nose base) as a (5, 2) float array."""
    import dlib

    x, y, w, h = box
    shape = _landmark_model()(gray, dlib.rectangle(x, y, x + w, y + h))
    return np.array([(shape.part(i).x, shape.part(i).y) for i in range(5)], dtype=np.float64)


def frontality_of(points: np.ndarray) -> float:
    """1 when the nose sits midway between the eyes, falling to 0 at ~60 degrees of yaw."""
    eye_a, eye_b, nose = points[0:2].mean(axis=0), points[2:4].mean(axis=0), points[4]
    axis = eye_b - eye_a
    span = float(axis @ axis)
    if span < 1.0:  # eyes on top of each other: not a face seen from the front
        return 0.0
    offset = abs(float((nose - (eye_a + eye_b) / 2) @ axis)) / span
    return float(np.clip(1.0 - offset / YAW_OFFSET_ZERO, 0.0, 1.0))


def assess(gray: np.ndarray, box: Box, limits: QualityLimits) -> FaceQuality:
    """The quality of the face at ``box`` (source pixels) of the grey frame ``gray``."""
    size = min(box[2], box[3])
    if size < limits.min_px:  # too small to judge, and far too small to encode
        return FaceQuality(0.0, 0.0, size, 0.0, "small")
    sharp = sharpness(gray, box)
    front = frontality_of(landmarks(gray, box))
    score = min(1.0, sharp / SHARPNESS_GOOD) * front * min(1.0, size / SIZE_GOOD_PX)
    refused: Reason | None = None
    if sharp < limits.sharpness_min:
        refused = "blur"
    elif front < limits.frontality_min:
        refused = "pose"
    return FaceQuality(round(sharp, 1), round(front, 3), size, round(score, 3), refused)
