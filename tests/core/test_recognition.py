"""Recognition: real faces are named, near-ties are not, negatives veto, unknowns cluster."""

from __future__ import annotations

import numpy as np
import pytest

from core.recognition import Gallery, UnknownClusters
from tests.core.ingest_helpers import face_data

ENROLLED = ("alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie")


def _train_gallery() -> tuple[Gallery, dict[int, str]]:
    faces = face_data()
    ids, vecs, names = [], [], {}
    for pid, name in enumerate(ENROLLED, start=1):
        names[pid] = name
        for key, found in faces.items():
            if key.startswith(f"train/{name}/"):
                ids.append(pid)
                vecs.append(found[0][1])
    return Gallery(np.array(ids), np.array(vecs)), names


def test_enrolled_people_are_recognised_in_test_photos():
    gallery, names = _train_gallery()
    faces = face_data()
    cases = {
        ("test/alex_lacamoire1.jpg", 0): "alex_lacamoire",
        ("test/johnsnow_test1.jpg", 0): "kit_harington",
        ("test/kit_with_rose.jpg", 0): "rose_leslie",
        ("test/kit_with_rose.jpg", 1): "kit_harington",
        ("test/obama1.jpg", 0): "obama",
        ("test/obama_and_biden.jpg", 0): "biden",
        ("test/obama_and_biden.jpg", 1): "obama",
    }
    queries = np.array([faces[k][i][1] for k, i in cases])
    matches = gallery.match(queries, 0.6, 0.05)  # all queries in one call
    assert [names.get(m.person_id or 0) for m in matches] == list(cases.values())
    stranger = gallery.match(np.array([faces["test/obama_and_biden.jpg"][2][1]]), 0.6, 0.05)
    assert stranger[0].person_id is None  # the third man is nobody we know


def test_margin_rule_refuses_a_near_tie_between_two_people():
    base = np.zeros(128)
    a, b = base.copy(), base.copy()
    a[0], b[0] = 0.2, -0.2
    gallery = Gallery(np.array([1, 1, 2]), np.array([a, a + 0.001, b]))
    q_tie = base.copy()
    q_tie[1] = 0.1  # equally close to both people
    q_clear = a.copy()
    m_tie, m_clear = gallery.match(np.array([q_tie, q_clear]), 0.6, 0.05)
    assert m_tie.person_id is None and m_tie.candidate_id in (1, 2)
    assert m_clear.person_id == 1  # the second row of person 1 is not "another person"
    assert m_clear.second_distance > 0.39


def test_per_query_thresholds():
    gallery = Gallery(np.array([1]), np.zeros((1, 128)))
    q = np.zeros((2, 128))
    q[:, 0] = 0.5
    strict, loose = gallery.match(q, np.array([0.4, 0.6]), 0.0)
    assert strict.person_id is None and loose.person_id == 1


def test_negative_example_stops_that_face_naming_that_person():
    faces = face_data()
    obama = np.array([faces["train/obama/obama.jpg"][0][1]])
    stranger = np.array(faces["test/obama_and_biden.jpg"][2][1])
    # A loose threshold names the stranger as Obama; staff rejects that sighting.
    gallery = Gallery(np.array([1]), obama)
    assert gallery.match(stranger[None, :], 0.9, 0.0)[0].person_id == 1
    vetoed = Gallery(np.array([1]), obama, np.array([1]), stranger[None, :])
    assert vetoed.match(stranger[None, :], 0.9, 0.0)[0].person_id is None
    # ...while Obama himself is still recognised.
    real = np.array([faces["test/obama1.jpg"][0][1]])
    assert vetoed.match(real, 0.9, 0.0)[0].person_id == 1


def _reference_match(
    ids: np.ndarray,
    vecs: np.ndarray,
    neg_ids: np.ndarray,
    negs: np.ndarray,
    q: np.ndarray,
    limit: float,
    margin: float,
) -> tuple[int | None, float, float]:
    """The rule spelled out one query at a time, in plain Python over people."""
    people: dict[int, float] = {}
    for pid, v in zip(ids.tolist(), vecs, strict=True):
        people[pid] = min(people.get(pid, np.inf), float(np.linalg.norm(q - v)))
    for pid, n in zip(neg_ids.tolist(), negs, strict=True):
        if pid in people and float(np.linalg.norm(q - n)) <= people[pid]:
            people[pid] = np.inf  # nearer this person's negative than to them
    ranked = sorted(people.items(), key=lambda kv: kv[1])
    best_pid, best = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else np.inf
    named = np.isfinite(best) and best <= limit and second - best >= margin
    return (best_pid if named else None), best, second


def test_match_agrees_with_the_rule_spelled_out_per_query():
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 0.09, (12, 128))
    ids = rng.permutation(np.repeat(np.arange(1, 13), 3))  # 3 rows a person, any order
    vecs = centres[ids - 1] + rng.normal(0, 0.02, (len(ids), 128))
    neg_ids = np.array([3, 3, 7, 99])  # 99 is not enrolled: vetoes nothing
    negs = centres[[4, 5, 8, 0]] + rng.normal(0, 0.02, (4, 128))
    gallery = Gallery(ids, vecs, neg_ids, negs)
    queries = np.vstack(
        [centres + rng.normal(0, 0.03, centres.shape), rng.normal(0, 0.09, (6, 128))]
    )  # enrolled people, then strangers
    for got, q in zip(gallery.match(queries, 0.6, 0.05), queries, strict=True):
        want_pid, want_best, want_second = _reference_match(ids, vecs, neg_ids, negs, q, 0.6, 0.05)
        assert got.person_id == want_pid
        assert got.distance == pytest.approx(want_best, abs=1e-4)
        assert got.second_distance == pytest.approx(want_second, abs=1e-4)


def test_unknown_clusters_separate_two_strangers_and_join_the_same_one():
    faces = face_data()
    clusters = UnknownClusters(threshold=0.55)
    kit1 = np.array(faces["train/kit_harington/john1.jpeg"][0][1])
    kit2 = np.array(faces["test/johnsnow_test1.jpg"][0][1])
    rose = np.array(faces["train/rose_leslie/img1.jpg"][0][1])
    assert clusters.nearest(kit1) is None
    clusters.add(7, kit1)
    assert clusters.nearest(rose) is None
    clusters.add(8, rose)
    near = clusters.nearest(kit2)
    assert near is not None and clusters.ids[near[0]] == 7
    clusters.join(near[0], kit2)
    assert clusters.counts == [2, 1]


def test_a_rolled_back_batch_leaves_the_clusters_as_the_database_has_them():
    """Joins undone, provisional identities dropped, allocated ones kept (their rows
    were committed on their own); places as before, but for the allocated ones."""
    from core.recognition import Place

    rng = np.random.default_rng(1)
    clusters = UnknownClusters(threshold=0.5)
    for uid in (1, 2):
        clusters.add(uid, rng.normal(0, 0.09, 128))
    clusters.places[1] = Place("cam1", None, None, 10.0)
    before, counts = clusters.centroids.copy(), list(clusters.counts)
    clusters.begin()
    clusters.join(0, rng.normal(0, 0.09, 128))
    clusters.places[1] = Place("cam2", None, None, 20.0)
    clusters.add(-1, rng.normal(0, 0.09, 128))  # provisional: allocation never happened
    clusters.add(-2, rng.normal(0, 0.09, 128))
    kept = clusters.centroids[3].copy()
    clusters.rename({-2: 7})  # allocated and committed in its own transaction
    clusters.places[7] = Place("cam1", None, None, 20.0)
    clusters.rollback()
    assert clusters.ids == [1, 2, 7] and clusters.index == {1: 0, 2: 1, 7: 2}
    np.testing.assert_array_equal(clusters.centroids[:2], before)
    np.testing.assert_array_equal(clusters.centroids[2], kept)
    assert clusters.counts == [*counts, 1]
    assert clusters.places == {
        1: Place("cam1", None, None, 10.0),
        7: Place("cam1", None, None, 20.0),
    }
    clusters.rollback()  # nothing begun: nothing to undo
    assert clusters.ids == [1, 2, 7]


def test_a_committed_batch_is_not_undone():
    clusters = UnknownClusters(threshold=0.5)
    clusters.begin()
    clusters.add(3, np.zeros(128))
    clusters.commit()
    clusters.rollback()
    assert clusters.ids == [3]
