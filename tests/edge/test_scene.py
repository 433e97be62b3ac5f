"""Scene cuts on real footage: the threshold separates motion from cuts."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import cv2
import numpy as np

from edge.scene import DEFAULT_THRESHOLD, SceneCutDetector, change, thumbnail
from edge.sources import SourceStats, frames, open_source
from tests.edge.footage import FEMALE, MALE

CLIPS = [
    "video/classroom.gif",
    "video/face-demographics-walking.gif",
    FEMALE,
    MALE,
]


def grey_frames(path: Path) -> list[np.ndarray]:
    return [
        cv2.cvtColor(f.image, cv2.COLOR_BGR2GRAY)
        for f in frames(open_source(str(path)), threading.Event(), SourceStats())
    ]


def test_motion_within_a_clip_stays_far_below_the_threshold(media: Path) -> None:
    for clip in CLIPS:
        thumbs = [thumbnail(g) for g in grey_frames(media / clip)]
        # every third frame: a slow node analyses fewer frames and sees more change
        for step in (1, 3):
            worst = max(change(a, b) for a, b in itertools.pairwise(thumbs[::step]))
            assert worst < DEFAULT_THRESHOLD / 1.5, (clip, step, worst)


def test_cuts_between_clips_stay_far_above_the_threshold(media: Path) -> None:
    ends = {clip: grey_frames(media / clip) for clip in CLIPS}
    for a, b in itertools.permutations(CLIPS, 2):
        cut = change(thumbnail(ends[a][-1]), thumbnail(ends[b][0]))
        assert cut > DEFAULT_THRESHOLD * 1.5, (a, b, cut)


def test_detector_counts_cuts_and_size_changes(media: Path) -> None:
    man, woman = grey_frames(media / MALE), grey_frames(media / FEMALE)
    detector = SceneCutDetector()
    cuts = [detector.is_cut(g) for g in man + woman]
    assert cuts == [False] * len(man) + [True] + [False] * (len(woman) - 1)
    assert detector.is_cut(cv2.resize(woman[-1], (240, 135)))  # another size: another scene
    assert not SceneCutDetector(enabled=False).is_cut(man[0])
