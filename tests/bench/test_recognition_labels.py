"""The recognition benchmark's labels (bench/labels) fit the footage they describe.

Cheap checks only: the benchmark itself (bench/recognition.py) is not run here.
"""

from __future__ import annotations

import importlib

import cv2
import pytest

gt = importlib.import_module("bench.ground_truth")


def frame_sizes(path: object) -> list[tuple[int, int]]:
    cap = cv2.VideoCapture(str(path))
    sizes: list[tuple[int, int]] = []
    while True:
        ok, image = cap.read()
        if not ok:
            return sizes
        sizes.append((image.shape[1], image.shape[0]))


@pytest.mark.parametrize("camera", sorted(gt.CLIPS))
def test_labels_describe_every_frame_of_the_media(camera: str) -> None:
    clip = gt.load(camera)
    if camera == "stills":
        actual = []
        for path in clip.media:
            image = cv2.imread(str(path))
            assert image is not None
            actual.append((image.shape[1], image.shape[0]))
    else:
        actual = [size for part in clip.media for size in frame_sizes(part)]
    assert clip.sizes == actual  # one label row per frame, in order, at the media's size
    assert len(clip.frames) == len(actual)


@pytest.mark.parametrize("camera", sorted(gt.CLIPS))
def test_every_box_is_a_face_inside_its_frame(camera: str) -> None:
    clip = gt.load(camera)
    for faces, (width, height) in zip(clip.frames, clip.sizes, strict=True):
        assert len({f.person for f in faces}) == len(faces)  # one box per person
        for f in faces:
            x, y, w, h = f.box
            assert w > 0 and h > 0
            assert -w / 2 <= x and x + w / 2 <= width and -h / 2 <= y and y + h / 2 <= height
            assert f.source in {"hog", "hog-rotated", "interpolated", "extrapolated", "manual"}
            assert not f.frontal or f.source.startswith("hog")  # pose needs landmarks


def test_who_is_who() -> None:
    pair = gt.load("pair")
    assert pair.people == {"woman", "man"} and not pair.strangers
    assert all({f.person for f in faces} == {"woman", "man"} for faces in pair.frames)
    assert gt.load("classroom").strangers == {f"classroom-{i}" for i in range(1, 5)}
    cut = gt.load("cut")
    male_frames = len(gt.load("male").frames)
    assert all([f.person for f in faces] == ["man"] for faces in cut.frames[:male_frames])
    assert not any(f.enrolled for faces in cut.frames[male_frames:] for f in faces)
    stills = gt.load("stills")
    assert stills.strangers == {"stills-child"}
    assert [f.person for f in stills.frames[-1]] == ["obama", "biden"]  # two_people.jpg


def test_badge_frames_are_the_enrolled_persons_frontal_faces() -> None:
    for person, (clip_file, index) in gt.BADGES.items():
        camera = next(c for c, s in gt.CLIPS.items() if s.parts == (clip_file[:-4],))
        clip = gt.load(camera)
        assert clip.badge_frames == {index}
        [face] = clip.frames[index]
        assert face.person == person and face.countable


def test_frames_matched_by_stamp_in_message_order() -> None:
    # Frames 1 and 2 share a millisecond; frame 3 sent nothing.
    stamps = [10.0, 10.0401, 10.0401, 10.08, 10.12]
    assert gt.match_frames(stamps, [10.0, 10.04, 10.04, 10.12]) == [0, 1, 2, 4]
    assert gt.match_frames(stamps, [10.0, 99.0]) == [0, None]


def test_a_detection_is_the_labelled_face_it_sits_on() -> None:
    faces = [
        gt.Face("woman", (40, 80, 64, 64), False, "hog"),
        gt.Face("man", (300, 70, 77, 77), True, "hog"),
    ]
    assert gt.who(faces, [30, 60, 90, 90]).person == "woman"  # Haar: larger, higher
    assert gt.who(faces, [290, 50, 95, 95]).person == "man"
    assert gt.who(faces, [300, 170, 70, 70]) is None  # on his chest: nobody
