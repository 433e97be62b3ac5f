"""The recognise stage alone: no database, no locator, no MQTT; real face encodings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.config import CoreConfig
from core.identify import recognise
from core.identity_limit import NewIdentityLimit
from core.messages import Accepted
from core.observation import Locator, NullLocator
from core.recognition import Gallery, UnknownClusters
from core.srs_config import SrsConfig
from core.track_identity import EvidenceRules, TrackBook
from tests.core.ingest_helpers import batch, core_config, face_data


@dataclass
class State:
    """What recognition reads (``Recognising``), without an Ingest around it."""

    cfg: SrsConfig
    locator: Locator
    gallery: Gallery
    names: dict[int, str]
    clusters: UnknownClusters
    tracks: TrackBook
    new_identities: NewIdentityLimit = field(default_factory=lambda: NewIdentityLimit(60))
    allocated: list[dict] = field(default_factory=list)

    def allocate(self, rows: list[dict]) -> list[int]:
        self.allocated += rows
        return [101 + len(self.allocated) - len(rows) + i for i in range(len(rows))]


def state(tmp_path) -> State:
    cfg = core_config(tmp_path)
    obama = np.array(face_data()["train/obama/obama.jpg"][0][1])
    core: CoreConfig = cfg.core
    return State(
        cfg,
        NullLocator(),
        Gallery(np.array([1]), obama.reshape(1, -1)),
        {1: "Barack Obama"},
        UnknownClusters(core.unknown_threshold),
        TrackBook(EvidenceRules.from_config(core)),
    )


def test_enrolled_people_are_named_and_strangers_get_allocated_identities(tmp_path):
    st = state(tmp_path)
    faces = face_data()
    new = [
        Accepted(batch("cam1", 1, faces["test/obama1.jpg"]), 0.0),
        Accepted(batch("cam1", 2, faces["test/kit_with_rose.jpg"], profiles=1), 0.0),
    ]
    got = recognise(st, new, st.allocate)
    assert (got.of(0, 0).kind, got.of(0, 0).label) == ("known", "Barack Obama")
    assert got.matched == 1
    strangers = [got.of(1, 0), got.of(1, 1)]
    # Two faces of one frame are two people: two identities, allocated once each, by
    # the ids the allocator gave (what the live view will show).
    assert sorted(i.key or "" for i in strangers) == ["u101", "u102"]
    assert len(st.allocated) == 2 and all(r["count"] == 1 for r in st.allocated)
    assert got.of(1, 2).kind == "unidentified"  # the profile: no encoding, no track yet
    assert got.identity_updates == []  # nobody was seen again
    assert st.clusters.ids == [101, 102]


def test_a_stranger_seen_again_is_an_update_for_the_store_not_a_new_identity(tmp_path):
    st = state(tmp_path)
    kit = face_data()["train/kit_harington/john1.jpeg"]
    first = recognise(st, [Accepted(batch("cam1", 1, kit), 0.0)], st.allocate)
    st.tracks.commit()
    again = recognise(st, [Accepted(batch("cam2", 1, kit), 0.0)], st.allocate)
    assert first.of(0, 0).key == again.of(0, 0).key == "u101"
    assert len(st.allocated) == 1
    assert [u["uid"] for u in again.identity_updates] == [101]
