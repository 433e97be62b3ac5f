"""Real footage assembled for edge tests: a hard cut made by joining two clips."""

from __future__ import annotations

from pathlib import Path

import cv2

MALE = "video/head-pose-face-detection-male.gif"  # one man, frontal, 62 frames
FEMALE = "video/head-pose-face-detection-female.gif"  # one woman, starts in profile, 23 frames
CLIP_FPS = 12.5


def join_clips(out: Path, *clips: Path) -> list[int]:
    """Write ``clips`` one after the other into ``out`` (MJPG AVI at 12.5 fps).

    Returns the index of each clip's first frame in the joined clip.
    """
    writer: cv2.VideoWriter | None = None
    starts: list[int] = []
    count = 0
    for clip in clips:
        starts.append(count)
        cap = cv2.VideoCapture(str(clip))
        while True:
            ok, image = cap.read()
            if not ok:
                break
            if writer is None:
                fourcc = cv2.VideoWriter_fourcc(*"MJPG")  # type: ignore[attr-defined]
                writer = cv2.VideoWriter(
                    str(out), fourcc, CLIP_FPS, (image.shape[1], image.shape[0])
                )
            writer.write(image)
            count += 1
        cap.release()
    assert writer is not None and count > 0
    writer.release()
    return starts
