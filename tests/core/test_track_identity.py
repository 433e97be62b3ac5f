"""Per-track identity evidence with real face encodings (no database, no broker)."""

from __future__ import annotations

import numpy as np
import pytest

from core.recognition import Gallery, Match
from core.track_identity import EvidenceRules, Segment, TrackBook, view_weight
from srs.wire.payloads import BBox
from tests.core.ingest_helpers import clip_faces, face_data

OBAMA, BIDEN = 1, 2
BOX = BBox(x=300, y=100, w=200, h=200)  # a big face: full weight
WOMAN = "head-pose-face-detection-female.gif"  # a stranger: enrolled nowhere


def enc(photo: str, i: int = 0) -> np.ndarray:
    return np.array(face_data()[photo][i][1])


@pytest.fixture(scope="module")
def gallery() -> Gallery:
    rows = [
        (OBAMA, enc("train/obama/obama.jpg")),
        (OBAMA, enc("train/obama/obama2.jpg")),
        (BIDEN, enc("train/biden/biden.jpg")),
        (BIDEN, enc("train/biden/biden2.jpg")),
    ]
    return Gallery(np.array([p for p, _ in rows]), np.array([v for _, v in rows]))


class Track:
    """One camera track fed detection by detection, as the writer does."""

    def __init__(self, gallery: Gallery, book: TrackBook | None = None, track_id: int = 1) -> None:
        self.gallery, self.track_id = gallery, track_id
        self.book = book if book is not None else TrackBook(EvidenceRules())
        self.seg: Segment | None = None

    def see(self, at: float, vec: np.ndarray | None = None, box: BBox = BOX, quality=None):
        seg = self.book.segment("cam", self.track_id, box, at)
        match: Match | None = None
        if vec is not None:
            (match,) = self.gallery.match(vec[None, :], 0.6, 0.05)
            weight = view_weight(box, quality, self.book.rules.vote_face_px)
            seg = self.book.add_encoding(seg, vec, match, weight, at)
        self.seg = seg
        return self.book.verdict(seg, at, match)


def test_a_named_track_is_carried_for_a_bounded_time_then_unidentified(gallery):
    track = Track(gallery)
    first = track.see(100.0, enc("test/obama1.jpg"))  # 0.36 from his portrait: strong
    assert (first.evidence, first.person_id, first.age_s) == ("matched", OBAMA, None)
    # He turns away: profiles (no encoding) keep the name, less and less sure.
    carried = [track.see(t) for t in (101.0, 103.0, 104.0)]
    assert [(v.evidence, v.person_id) for v in carried] == [("carried", OBAMA)] * 3
    assert [v.age_s for v in carried] == [1.0, 3.0, 4.0]
    confs = [first.confidence] + [v.confidence for v in carried]
    assert confs == sorted(confs, reverse=True) and confs[-1] >= first.confidence / 2
    # identity_carry_s (4 s) after the last supporting encoding: nobody, not a guess.
    late = track.see(104.5)
    assert (late.evidence, late.person_id, late.unknown_id) == ("unidentified", None, None)
    # His face again: named again, from the encoding itself.
    assert track.see(105.0, enc("test/obama1.jpg")).evidence == "matched"


def test_a_box_that_jumps_does_not_carry_the_name(gallery):
    track = Track(gallery)
    assert track.see(100.0, enc("test/obama1.jpg")).person_id == OBAMA
    elsewhere = BBox(x=5, y=5, w=200, h=200)  # 1.6 box sizes away between two frames
    v = track.see(100.1, box=elsewhere)
    assert (v.evidence, v.person_id) == ("unidentified", None)
    shrunk = BBox(x=300, y=100, w=60, h=60)  # 3x smaller: another head, not this one
    assert Track(gallery).see(100.0, enc("test/obama1.jpg")).person_id == OBAMA
    t2 = Track(gallery)
    t2.see(100.0, enc("test/obama1.jpg"))
    assert t2.see(100.1, box=shrunk).evidence == "unidentified"


def test_a_frame_of_another_size_is_another_picture(gallery):
    """A folder of stills: the edge's track id may continue into the next image."""
    book = TrackBook(EvidenceRules())
    seg = book.segment("cam", 1, BOX, 100.0, (800, 600))
    (match,) = gallery.match(enc("test/obama1.jpg")[None, :], 0.6, 0.05)
    seg = book.add_encoding(seg, enc("test/obama1.jpg"), match, 1.0, 100.0)
    assert book.verdict(seg, 100.0, match).person_id == OBAMA
    same = book.segment("cam", 1, BOX, 100.2, (800, 600))
    assert book.verdict(same, 100.2, None).person_id == OBAMA
    other = book.segment("cam", 1, BOX, 100.4, (640, 480))
    assert book.verdict(other, 100.4, None).evidence == "unidentified"


def test_one_weak_match_is_only_possible_two_agreeing_ones_name(gallery):
    # Biden in the double portrait is 0.39/0.42 from his enrolled photos: a 75 px face
    # at quality 0.3 counts 0.6 of a view, so one view is "possibly Biden".
    face = enc("test/obama_and_biden.jpg", 0)
    box = BBox(x=100, y=100, w=75, h=75)
    track = Track(gallery)
    one = track.see(100.0, face, box=box, quality=0.3)
    assert (one.evidence, one.person_id, one.candidate_id) == ("possible", None, BIDEN)
    assert one.confidence <= 0.5
    carried = track.see(100.5, box=box)  # a profile of the possible: still only possible
    assert (carried.evidence, carried.person_id) == ("possible", None)
    two = track.see(101.0, face, box=box, quality=0.3)
    assert (two.evidence, two.person_id, two.candidate_id) == ("matched", BIDEN, None)


def test_a_weak_match_beyond_the_strong_distance_needs_a_second_view(gallery):
    # A view 0.5 from Obama's photos: within the 0.6 threshold, beyond 0.45.
    obama = enc("train/obama/obama.jpg")
    other = enc("train/kit_harington/john1.jpeg")
    t = 0.0
    while np.min([np.linalg.norm(obama + t * (other - obama) - g) for g in gallery.vectors]) < 0.5:
        t += 0.01
    weak = obama + t * (other - obama)
    track = Track(gallery)
    assert track.see(100.0, weak).evidence == "possible"
    assert track.see(100.5, weak).evidence == "matched"


def test_a_disagreeing_encoding_splits_and_the_new_face_never_gets_the_old_name(gallery):
    track = Track(gallery)
    assert track.see(100.0, enc("test/obama1.jpg")).person_id == OBAMA
    assert track.see(100.5).person_id == OBAMA  # carried
    # Hard cut: the edge's track continues on a stranger (the woman of the clip).
    stranger = [np.array(v) for _, v in clip_faces(WOMAN)]
    after = [track.see(101.0, stranger[0])]
    after += [track.see(101.0 + 0.5 * i) for i in range(1, 5)]  # her profiles
    after += [track.see(104.0, stranger[1])]
    assert all(v.person_id is None for v in after)
    assert {v.evidence for v in after} <= {"unidentified"}  # no anonymous id without a db
    assert track.seg is not None and track.seg.first_seen == 101.0  # a new segment
    # And back to a named face of someone else: Biden, matched on his own evidence.
    back = track.see(105.0, enc("test/obama_and_biden.jpg", 0))
    assert back.person_id != OBAMA


def test_a_clearly_different_person_splits_even_near_the_pool(gallery):
    """Obama's track sees a face that matches Biden: a new segment, named only by
    its own votes."""
    track = Track(gallery)
    track.see(100.0, enc("test/obama1.jpg"))
    v = track.see(100.2, enc("test/obama_and_biden.jpg", 0), box=BBox(x=310, y=100, w=75, h=75))
    assert v.person_id != OBAMA and track.seg is not None and track.seg.votes.keys() == {BIDEN}


def test_a_rolled_back_batch_leaves_no_evidence(gallery):
    book = TrackBook(EvidenceRules())
    track = Track(gallery, book)
    track.see(100.0, enc("test/obama1.jpg"))
    book.commit()
    stranger = np.array(clip_faces(WOMAN)[0][1])
    track.see(101.0, stranger)  # splits the track...
    Track(gallery, book, track_id=2).see(101.0, stranger)  # ...and starts another
    book.rollback()  # the batch was not stored
    assert len(book) == 1
    assert track.see(101.5).person_id == OBAMA  # the committed evidence, carried


def test_a_regallery_voids_votes_but_keeps_the_anonymous_identity(gallery):
    book = TrackBook(EvidenceRules())
    track = Track(gallery, book)
    track.see(100.0, enc("test/obama1.jpg"))
    book.regallery(set())
    assert track.see(100.5).evidence == "unidentified"


def test_small_and_poor_views_weigh_less():
    assert view_weight(BBox(x=0, y=0, w=120, h=120), None, 60) == 1.0
    assert view_weight(BBox(x=0, y=0, w=30, h=30), None, 60) == 0.5
    assert view_weight(BBox(x=0, y=0, w=60, h=60), 0.25, 60) == 0.5
    assert view_weight(BBox(x=0, y=0, w=60, h=60), 0.9, 60) == 1.0


def test_a_reload_without_a_gallery_change_keeps_the_votes(gallery):
    """A failed batch reloads the identities: the tracks' names must survive it."""
    book = TrackBook(EvidenceRules())
    track = Track(gallery, book)
    track.see(100.0, enc("test/obama1.jpg"))
    book.regallery(set(), gallery_changed=False)
    assert track.see(100.5).person_id == OBAMA


def test_match_strength_falls_smoothly_from_strong_to_the_threshold() -> None:
    rules = EvidenceRules(strong_distance=0.45, match_threshold=0.6)
    assert rules.strength(0.30) == rules.strength(0.45) == 1.0
    # No cliff just past the strong distance: 0.453 counts about as much as 0.443 ...
    assert rules.strength(0.453) > 0.95
    # ... two views at 0.55 still weigh one strong view, and one near the threshold
    # counts least.
    assert rules.strength(0.55) == pytest.approx(0.5)
    assert rules.strength(0.60) == pytest.approx(0.25)
    values = [rules.strength(0.45 + i / 100) for i in range(16)]
    assert values == sorted(values, reverse=True)
