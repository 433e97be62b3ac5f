"""Box merging and the tracker, on synthetic boxes (pure geometry)."""

from __future__ import annotations

from edge.detect import RawDetection, expand, iou, merge, mirror_box
from edge.track import Tracker, plausible_move

FRAME = 0.08  # s between frames at 12.5 fps, the bundled clips' rate


def face(x: int, y: int, s: int = 40, score: float = 5.0) -> RawDetection:
    return RawDetection("face", (x, y, s, s), score)


def profile(x: int, y: int, s: int = 40, score: float = 5.0) -> RawDetection:
    return RawDetection("profile", (x, y, s, s), score)


def test_iou_basics() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_merge_prefers_frontal_over_overlapping_profile() -> None:
    merged = merge([profile(100, 100, score=20), face(104, 102), face(300, 100)], 0.3)
    assert sorted((d.kind, d.box[0]) for d in merged) == [("face", 104), ("face", 300)]


def test_merge_drops_box_inside_another_and_keeps_separate_ones() -> None:
    merged = merge([face(100, 100, 80), face(120, 120, 30, score=9), profile(400, 100)], 0.3)
    assert len(merged) == 2
    assert {d.kind for d in merged} == {"face", "profile"}


def test_mirror_box_maps_back() -> None:
    assert mirror_box((10, 5, 20, 30), 100) == (70, 5, 20, 30)
    assert mirror_box(mirror_box((10, 5, 20, 30), 100), 100) == (10, 5, 20, 30)


def test_expand_clips_to_image() -> None:
    assert expand((0, 0, 10, 10), 0.5, 12, 100) == (0, 0, 12, 15)


def test_tracks_stay_stable_while_boxes_move() -> None:
    tracker = Tracker(iou_threshold=0.2, max_missed=2)
    ids = []
    for step in range(6):
        out = tracker.update([face(100 + 5 * step, 100), face(300 - 5 * step, 120)], step * FRAME)
        ids.append(tuple(d.track.track_id for d in out))
    assert len(set(ids)) == 1
    assert len(set(ids[0])) == 2


def test_fast_mover_continues_by_centroid() -> None:
    tracker = Tracker(iou_threshold=0.3, max_missed=2)
    a = tracker.update([face(100, 100)], 0.0)[0].track.track_id
    b = tracker.update([face(125, 100)], FRAME)[0].track.track_id  # IoU ~0.23 < 0.3
    assert a == b


def test_profile_continues_the_face_track() -> None:
    tracker = Tracker()
    first = tracker.update([face(100, 100)], 0.0)[0]
    turned = tracker.update([profile(108, 98, 44)], FRAME)[0]
    back = tracker.update([face(104, 100)], 2 * FRAME)[0]
    assert first.track.track_id == turned.track.track_id == back.track.track_id
    assert turned.kind == "profile"


def test_track_ends_after_max_missed_and_new_id_follows() -> None:
    tracker = Tracker(max_missed=1)
    first = tracker.update([face(100, 100)], 0.0)[0].track.track_id
    tracker.update([], FRAME)
    assert tracker.tracks
    tracker.update([], 2 * FRAME)
    assert not tracker.tracks and [t.track_id for t in tracker.ended] == [first]
    again = tracker.update([face(100, 100)], 3 * FRAME)[0].track.track_id
    assert again != first


def test_first_id_continues_after_restart() -> None:
    tracker = Tracker(first_id=41)
    assert tracker.update([face(0, 0)], 0.0)[0].track.track_id == 41
    assert tracker.next_id == 42


def test_plausible_move_scales_with_box_size_and_time() -> None:
    box = (100, 100, 40, 40)
    # 0.3 sizes of jitter plus 10 sizes/s: 40 * (0.3 + 0.8) = 44 px in one frame at 12.5 fps
    assert plausible_move(box, (140, 100, 40, 40), FRAME, 10.0, 2.5)
    assert not plausible_move(box, (150, 100, 40, 40), FRAME, 10.0, 2.5)
    # the same 50 px after four missed frames is a walk, not a jump
    assert plausible_move(box, (150, 100, 40, 40), 5 * FRAME, 10.0, 2.5)
    # a big box measures in the smaller one's size: a close-up cannot reach a small face
    assert not plausible_move((100, 100, 200, 200), (300, 160, 80, 80), FRAME, 10.0, 2.5)
    # nor turn into a face a third its size, even at the same place
    assert not plausible_move((100, 100, 120, 120), (140, 140, 40, 40), FRAME, 10.0, 2.5)
    assert plausible_move((100, 100, 100, 100), (125, 125, 50, 50), FRAME, 10.0, 2.5)


def test_a_jump_starts_a_new_track_and_the_old_one_waits() -> None:
    tracker = Tracker(max_missed=3)
    a = tracker.update([face(100, 100)], 0.0)[0].track
    # 0.75 sizes of centroid distance would match it; 60 px in 80 ms is too far
    jumped = tracker.update([face(160, 100, 40)], FRAME)[0].track
    assert jumped.track_id != a.track_id
    assert a.track_id in tracker.tracks and a.missed == 1
    # a large close-up box overlapping a small face: IoU would match it, size refuses
    tracker = Tracker()
    big = tracker.update([face(100, 100, 120)], 0.0)[0].track
    small = tracker.update([face(150, 150, 40)], FRAME)[0].track
    assert small.track_id != big.track_id


def test_end_all_and_split() -> None:
    tracker = Tracker()
    a, b = (d.track for d in tracker.update([face(0, 0), face(200, 0)], 0.0))
    tracker.end_all()
    assert not tracker.tracks and {t.track_id for t in tracker.ended} == {a.track_id, b.track_id}
    c = tracker.update([face(0, 0)], FRAME)[0].track
    assert c.track_id not in (a.track_id, b.track_id)
    d = tracker.split(c)
    assert d.track_id != c.track_id and list(tracker.tracks) == [d.track_id]
    assert tracker.update([face(2, 0)], 2 * FRAME)[0].track is d
