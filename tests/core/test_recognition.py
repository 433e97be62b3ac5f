"""Recognition: real faces are named, near-ties are not, negatives veto, unknowns cluster."""

from __future__ import annotations

import numpy as np

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
    cases = {("test/alex_lacamoire1.jpg", 0): "alex_lacamoire",
             ("test/johnsnow_test1.jpg", 0): "kit_harington",
             ("test/kit_with_rose.jpg", 0): "rose_leslie",
             ("test/kit_with_rose.jpg", 1): "kit_harington",
             ("test/obama1.jpg", 0): "obama",
             ("test/obama_and_biden.jpg", 0): "biden",
             ("test/obama_and_biden.jpg", 1): "obama"}
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
