"""The demo's summary: counts from the whole store, and the story's three claims."""

from __future__ import annotations

import time
from pathlib import Path

from core import store
from core.store.models import Sighting, UnknownIdentity
from srs.app.config import SrsConfig
from srs.app.demo_report import format_story, read_store, story
from tests.core.ingest_helpers import camera_key

CAMERAS = ("corridor", "server-room")


def _sighting(
    camera: str, seq: int, person: int | None, unknown: int | None, evidence: str, zone: str
) -> Sighting:
    return Sighting(
        camera_id=camera,
        seq=seq,
        det_index=0,
        person_id=person,
        unknown_id=unknown,
        seen_at=time.time(),
        kind="face",
        track_id=1,
        bbox_x=0,
        bbox_y=0,
        bbox_w=10,
        bbox_h=10,
        evidence=evidence,
        zone=zone,
    )


def test_counts_cover_every_stored_sighting_not_a_page(tmp_path: Path) -> None:
    cfg = SrsConfig(data_dir=tmp_path)
    db = store.open_store(cfg)
    try:
        with db.session() as s:
            for cam in ("corridor", "classroom", "server-room"):
                store.add_camera(s, cam, camera_key(cam).public_key_b64)
            alice, _ = store.get_or_create_person(s, "Alice Martin")
            stranger = UnknownIdentity(centroid=b"\0" * 8, first_seen=0.0, last_seen=0.0)
            s.add(stranger)
            s.flush()
            # A busy camera (250 rows, more than any default page) and two quiet ones.
            s.add_all(
                _sighting("classroom", i, None, None, "unidentified", "classroom")
                for i in range(250)
            )
            s.add_all(
                _sighting("corridor", i, None, stranger.id, "matched", "corridor") for i in range(3)
            )
            s.add(_sighting("server-room", 0, alice.id, None, "matched", "server-room"))
            s.add(_sighting("server-room", 1, alice.id, None, "carried", "server-room"))
            s.add(_sighting("server-room", 2, None, stranger.id, "carried", "server-room"))
            alice_key, stranger_key = f"p{alice.id}", f"u{stranger.id}"
    finally:
        db.close()

    out = read_store(cfg)

    assert out["sightings_by_camera"] == {"classroom": 250, "corridor": 3, "server-room": 3}
    assert out["identities"][alice_key] == {
        "key": alice_key,
        "label": "Alice Martin",
        "cameras": ["server-room"],
        "sightings": 2,
        "matched": 1,
    }
    assert out["identities"][stranger_key]["cameras"] == ["corridor", "server-room"]
    assert out["people_by_zone"]["classroom"] == ["Unidentified"]
    st = story(out, {}, CAMERAS, {})
    assert st["named_by_recognition"] == ["Alice Martin"]
    assert st["recognised_on"] == {"Alice Martin": ["server-room"]}
    assert "named by recognition: Alice Martin (on server-room)" in format_story(st, CAMERAS)
    assert st["stranger_one_identity_on_both"] and st["complete"]


def _identity(key: str, label: str, cameras: list[str], matched: int = 1) -> dict:
    return {"key": key, "label": label, "cameras": cameras, "sightings": 5, "matched": matched}


def test_a_name_given_by_the_guard_is_not_counted_as_recognition() -> None:
    store_out = {
        "identities": {
            "p7": _identity("p7", "Bruno Keller", ["corridor", "server-room"]),
        }
    }
    st = story(store_out, {}, CAMERAS, {"p7": "u1"})
    assert st["named_by_recognition"] == []
    assert st["stranger_one_identity_on_both"]  # he was one anonymous identity, then named
    assert not st["complete"]
    text = "\n".join(format_story(st, CAMERAS))
    assert "nobody" in text and "Bruno Keller (was u1, named by the guard)" in text


def test_the_stranger_split_in_two_or_alerted_twice_breaks_the_story() -> None:
    split = {
        "identities": {
            "p6": _identity("p6", "Alice Martin", ["server-room"]),
            "u1": _identity("u1", "Unknown 1", ["corridor"]),
            "u2": _identity("u2", "Unknown 2", ["corridor", "server-room"]),
        }
    }
    st = story(split, {}, CAMERAS, {})
    assert not st["stranger_one_identity_on_both"] and not st["complete"]
    assert "NOT one identity" in "\n".join(format_story(st, CAMERAS))

    whole = {"identities": {k: v for k, v in split["identities"].items() if k != "u1"}}
    live = {"alerts_by_person": {"u2": 3, "x9": 1}, "stays_by_person": {"u2": 2, "x9": 1}}
    st = story(whole, live, CAMERAS, {})
    assert st["alerts_beyond_one_per_stay"] == {"u2": 1}
    assert not st["complete"]
    assert "more than one per stay for u2" in "\n".join(format_story(st, CAMERAS))
