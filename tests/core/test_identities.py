"""Merging and splitting identities: the store, core's own later merge, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select, update

from core import store
from core.ingest import Ingest
from core.store.codec import to_blob
from core.store.errors import StoreError
from core.store.models import NegativeExample, PendingClear, Sighting, UnknownIdentity
from srs.app.cli import main
from srs.wire import topics
from srs.wire.payloads import PersonPosition, SightingBatch
from tests.core.ingest_helpers import clip_faces, core_config, face_data
from tests.core.test_anonymous import KEYS, T0, face, message, profile

WOMAN = "head-pose-face-detection-female.gif"


@pytest.fixture
def db(tmp_path):
    database = store.open_store(core_config(tmp_path))
    with database.session() as s:
        for cam, key in KEYS.items():
            store.add_camera(s, cam, key.public_key_b64)
        obama, _ = store.get_or_create_person(s, "obama")
        store.add_encodings(s, obama, [np.array(face_data()["train/obama/obama.jpg"][0][1])])
    yield database
    database.close()


def sightings(db, **where) -> list[Sighting]:
    with db.session() as s:
        q = select(Sighting).filter_by(**where).order_by(Sighting.seen_at, Sighting.id)
        return list(s.scalars(q))


def two_strangers(tmp_path, db) -> tuple[int, int]:
    """Kit on near1 (track 1) and the woman on near2 (track 5, three frames)."""
    ing = Ingest(db, core_config(tmp_path))
    kit = face_data()["test/kit_with_rose.jpg"][1][1]
    ing.process([message("near1", 1, T0, [face(kit, 1)])])
    for i in range(3):
        ing.process([message("near2", i + 1, T0 + i, [face(clip_faces(WOMAN)[i][1], 5)])])
    ids = sorted({r.unknown_id for r in sightings(db) if r.unknown_id is not None})
    assert len(ids) == 2
    return ids[0], ids[1]


def test_two_anonymous_identities_merge_into_one(tmp_path, db):
    kit, her = two_strangers(tmp_path, db)
    with db.session() as s:
        merged = store.merge_keys(s, f"u{her}", f"u{kit}", actor="test")
    assert (merged.old_key, merged.new_key, merged.identity) == (f"u{her}", f"u{kit}", "unknown")
    assert {r.unknown_id for r in sightings(db)} == {kit}
    with db.session() as s:
        assert s.get(UnknownIdentity, her) is None
        assert s.get(UnknownIdentity, kit).count == 4
        assert s.get(PendingClear, f"u{her}") is not None  # its retained position goes
        with pytest.raises(StoreError, match="into the person instead"):
            store.merge_keys(s, "p1", f"u{kit}")


def test_split_moves_one_track_onwards_into_a_new_identity(tmp_path, db):
    kit, her = two_strangers(tmp_path, db)
    with db.session() as s:
        store.merge_keys(s, f"u{her}", f"u{kit}", actor="test")  # a wrong merge...
    second = sightings(db, camera_id="near2")[1]
    with db.session() as s:  # ...undone from her second sighting on
        res = store.split_identity(s, f"u{kit}", from_sighting=second.id, actor="test")
    assert res["moved"] == 2
    new = int(str(res["new_key"])[1:])
    assert [r.unknown_id for r in sightings(db)] == [kit, kit, new, new]
    with db.session() as s:
        res = store.split_identity(s, f"u{kit}", camera_id="near2", actor="test")
        assert res["moved"] == 1
        with pytest.raises(StoreError, match="every sighting"):
            store.split_identity(s, f"u{kit}", camera_id="near1")
        with pytest.raises(StoreError, match="say which"):
            store.split_identity(s, f"u{kit}")


def test_splitting_a_persons_track_teaches_not_this_person(tmp_path, db):
    ing = Ingest(db, core_config(tmp_path))
    obama = face_data()["test/obama1.jpg"][0][1]
    ing.process([message("near1", 1, T0, [face(obama, 1), face(obama, 2)])])
    assert [r.person_id for r in sightings(db)] == [1, 1]
    with db.session() as s:
        res = store.split_identity(s, "p1", camera_id="near1", track_id=2, actor="test")
        assert s.scalar(select(NegativeExample.person_id)) == 1
    rows = sightings(db)
    assert [r.person_id for r in rows] == [1, None]
    assert rows[1].unknown_id == int(str(res["new_key"])[1:])


def test_core_merges_look_alikes_never_seen_together(tmp_path, db):
    her = [np.array(v) for _, v in clip_faces(WOMAN)]
    ing = Ingest(db, core_config(tmp_path))
    # Three identities by hand: two of the woman (0.3 apart) seen by different cameras
    # at different times, and one of her seen together with the first.
    with db.session() as s:
        rows = [
            UnknownIdentity(centroid=to_blob(v), count=1, first_seen=T0, last_seen=T0)
            for v in (her[0], her[1], her[2])
        ]
        s.add_all(rows)
        s.flush()
        a, b, c = (r.id for r in rows)
        for seq, (cam, uid, at) in enumerate(
            [("near1", a, T0), ("near2", b, T0 + 30), ("near1", c, T0 + 0.1)], start=1
        ):
            s.add(
                Sighting(
                    camera_id=cam,
                    seq=seq,
                    det_index=0,
                    unknown_id=uid,
                    seen_at=at,
                    kind="face",
                    track_id=seq,
                    bbox_x=0,
                    bbox_y=0,
                    bbox_w=90,
                    bbox_h=90,
                )
            )
    with db.session() as s:
        merged = store.merge_close_identities(s, merge_distance=0.6)
    # a and c were in one camera's view at once: never merged. b joins one of them.
    assert [(m.old_key, m.identity) for m in merged] == [(f"u{b}", "unknown")]
    assert merged[0].new_key in (f"u{a}", f"u{c}")
    with db.session() as s:
        assert store.merge_close_identities(s, merge_distance=0.6) == []
    ing.refresh(force=True)
    assert b not in ing.clusters.ids


def test_core_does_not_merge_identities_that_were_in_two_places_at_once(tmp_path, db):
    her = [np.array(v) for _, v in clip_faces(WOMAN)]
    with db.session() as s:
        rows = [
            UnknownIdentity(centroid=to_blob(v), count=1, first_seen=T0, last_seen=T0)
            for v in (her[0], her[1])
        ]
        s.add_all(rows)
        s.flush()
        a, b = (r.id for r in rows)
        for seq, (cam, uid, at, x) in enumerate(
            [("near1", a, T0, 2.0), ("far", b, T0 + 5, 90.0), ("near1", a, T0 + 60, 2.0)],
            start=1,
        ):
            s.add(
                Sighting(
                    camera_id=cam,
                    seq=seq,
                    det_index=0,
                    unknown_id=uid,
                    seen_at=at,
                    kind="face",
                    track_id=seq,
                    bbox_x=0,
                    bbox_y=0,
                    bbox_w=90,
                    bbox_h=90,
                    x=x,
                    y=3.0,
                )
            )
    with db.session() as s:
        assert not store.identities.could_be_one(s, a, b)  # 88 m in 5 s
        assert store.merge_close_identities(s, merge_distance=0.6) == []
        # Without positions nothing refuses it.
        s.execute(update(Sighting).values(x=None, y=None))
        assert store.identities.could_be_one(s, a, b)


def test_the_running_ingest_merges_and_republishes(tmp_path, db):
    from core.locator import Locator
    from tests.core.test_anonymous import SITE

    # A strict threshold makes two identities of one woman on two near cameras. The
    # merge looks only at identities seen within 2 intervals + 60 s of the wall clock,
    # and T0 is taken when the test modules are imported: a long interval keeps her
    # sightings recent however long the suite ran before this test.
    cfg = core_config(tmp_path, unknown_threshold=0.1, merge_distance=0.6, merge_interval_s=86400)
    ing = Ingest(db, cfg, Locator(SITE))
    ing.process([message("near1", 1, T0, [face(clip_faces(WOMAN)[0][1], 1)])])
    ing.process([message("near2", 1, T0 + 20, [face(clip_faces(WOMAN)[3][1], 1)])])
    a, b = sorted({r.unknown_id for r in sightings(db) if r.unknown_id is not None})
    ing._merged_at = float("-inf")  # the merge interval has passed
    r = ing.process([message("near2", 2, T0 + 20.2, [profile(1, face([0.0] * 128, 1).bbox)])])
    assert {r.unknown_id for r in sightings(db)} == {a}
    positions = [o.payload for o in r.outgoing if isinstance(o.payload, PersonPosition)]
    assert (f"u{b}", True) in {(p.person_key, p.gone) for p in positions}
    assert (f"u{a}", False) in {(p.person_key, p.gone) for p in positions}
    assert ing.clusters.ids == [a]
    # Her track on near2 continues as the merged identity.
    r = ing.process([message("near2", 3, T0 + 20.4, [profile(1, face([0.0] * 128, 1).bbox)])])
    assert [s.person_key for s in sightings_of(r)] == [f"u{a}"]


def sightings_of(result) -> list:
    return [
        s
        for o in result.outgoing
        if isinstance(o.payload, SightingBatch)
        for s in o.payload.sightings
    ]


def test_cli_split_merge_and_sightings_show_the_evidence(tmp_path, db, capsys):
    ing = Ingest(db, core_config(tmp_path))
    obama = face_data()["test/obama1.jpg"][0][1]
    box = face(obama, 1).bbox
    ing.process([message("near1", 1, T0, [face(obama, 1)])])
    ing.process([message("near1", 2, T0 + 1.5, [profile(1, box)])])
    ing.process([message("near1", 3, T0 + 9, [profile(1, box)])])
    d = str(tmp_path)
    assert main(["sightings", "--data-dir", d]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "unidentified" in lines[0] and "Unidentified" in lines[0]
    assert "carried 1.5s" in lines[1] and "obama" in lines[1]
    assert "matched (0.64)" in lines[2]
    assert main(["sightings", "--json", "--data-dir", d]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["evidence"] for r in rows] == ["unidentified", "carried", "matched"]
    assert rows[1]["evidence_age_s"] == 1.5 and rows[1]["confidence"] < rows[2]["confidence"]
    assert main(["person", "split", "p1", "--camera", "near1", "--json", "--data-dir", d]) == 0
    new_key = json.loads(capsys.readouterr().out)["new_key"]
    assert main(["person", "merge", new_key, "obama", "--data-dir", d]) == 0
    assert f"merged {new_key} into p1 obama" in capsys.readouterr().out
    assert main(["person", "split", "u999", "--camera", "x", "--data-dir", d]) == 1


def test_the_split_command_through_the_handler(tmp_path, db):
    from core.commands import CommandHandler
    from srs.wire import commands as cmd
    from tests.core.test_commands import ask, session

    kit, her = two_strangers(tmp_path, db)
    cfg = core_config(tmp_path)
    ing = Ingest(db, cfg)
    h = CommandHandler(db, cfg, ing)
    h.roles.role_of = lambda user: "operator"  # type: ignore[method-assign]
    key = session(h, "alice")
    merged = ask(h, "alice", key, cmd.MergePeople(source_key=f"u{her}", target_key=f"u{kit}"))
    assert (
        merged is not None
        and merged.ok
        and merged.result
        == {
            "person_key": f"u{kit}",
            "name": f"Unknown {kit}",
        }
    )
    split = ask(h, "alice", key, cmd.SplitIdentity(person_key=f"u{kit}", camera_id="near2"))
    assert split is not None and split.ok and isinstance(split.result, dict)
    assert split.result["moved"] == 3
    assert topics.response("alice")  # answered on alice's own topic (ask checks it)
