"""Judging a face crop an edge sent: is it a small JPEG, and how good a picture is it?

Core ranks the crops it keeps by what it sees in them, so every edge is judged
alike: the sharpness of the crop (variance of its Laplacian at ``JUDGE_PX`` square,
saturating;
a small face the edge had to enlarge is soft and scores low), times the quality
the edge measured for the encoding (pose, size), when it sent one.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

JUDGE_PX = 64
# Laplacian variance scoring one half: the score rises with sharpness and saturates
# (measured on the sample faces at 64 px: sharp crops 600-2000, blurred by 1.5 px ~150).
SHARP_HALF = 300.0
MAX_SIDE_PX = 256  # a "crop" larger than this is not what the edge sends: refused


@dataclass(frozen=True)
class JudgedCrop:
    jpeg: bytes
    quality: float  # 0..1, higher is better


def judge_crop(b64: str, edge_quality: float | None = None) -> JudgedCrop | None:
    """The crop's bytes and score, or None (logged) when it is not a small JPEG."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        log.debug("face crop is not base64")
        return None
    if not data.startswith(b"\xff\xd8"):
        log.debug("face crop is not a JPEG")
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "JPEG" or max(img.size) > MAX_SIDE_PX or min(img.size) < 8:
                return None
            grey = img.convert("L").resize((JUDGE_PX, JUDGE_PX))
            pixels = np.asarray(grey, dtype=np.float32)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        log.debug("face crop unreadable: %s", exc)
        return None
    variance = float(laplacian(pixels).var())
    sharp = variance / (variance + SHARP_HALF)
    weight = 1.0 if edge_quality is None else max(0.05, edge_quality)
    return JudgedCrop(data, round(sharp * weight, 4))


def laplacian(img: np.ndarray) -> np.ndarray:
    """4-neighbour Laplacian of the image's interior (no border effects)."""
    return img[:-2, 1:-1] + img[2:, 1:-1] + img[1:-1, :-2] + img[1:-1, 2:] - 4.0 * img[1:-1, 1:-1]


def store_crops(s: Session, sent: list[tuple[int, str, float | None]]) -> int:
    """Judge the crops of stored sightings ``(sighting id, base64, edge quality)`` and
    keep the good ones (core/store/faces.py); returns how many were kept."""
    from core.store.faces import NewCrop, keep_crops

    crops = []
    for sid, b64, edge_quality in sent:
        judged = judge_crop(b64, edge_quality)
        if judged is not None:
            crops.append(NewCrop(sid, judged.jpeg, judged.quality))
    return keep_crops(s, crops) if crops else 0


def faces_answer(s: Session, key: str, limit: int, max_chars: int) -> dict[str, Any]:
    """The ``get_faces`` answer: the best crops as base64, best first, as many as fit
    ``max_chars`` (the signed response must stay under the broker's payload limit)."""
    from core.store.faces import best_crops

    faces, size = [], 0
    for crop in best_crops(s, key, limit):
        item = {k: v for k, v in crop.items() if k != "jpeg"}
        item["jpeg_b64"] = base64.b64encode(crop["jpeg"]).decode("ascii")
        size += len(item["jpeg_b64"]) + 200
        if size > max_chars:
            break
        faces.append(item)
    return {"person_key": key, "faces": faces}
