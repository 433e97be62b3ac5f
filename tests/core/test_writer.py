"""Sightings leave core as few signed messages as fit: by count and by signed size."""

from __future__ import annotations

import pytest

from core.writer import sighting_batches
from srs.wire import topics
from srs.wire.payloads import MAX_SIGHTINGS, Sighting, SightingBatch
from srs.wire.signing import SigningKey, Verifier, sign

CORE = SigningKey.generate(topics.CORE_SENDER)
LONG_AUDIENCE = "a" * 64  # the longest [security] audience: the most room the claims take


def sighting(i: int, label: str = "Ada Lovelace") -> Sighting:
    return Sighting(
        person_key=f"p{i}",
        identity="known",
        label=label,
        camera_id="corridor",
        seen_at=1.7e9 + i / 7,
        sighting_id=i,
        distance=0.123456789,
        x=1 / 3,
        y=2 / 3,
        zone="lab",
    )


def assert_readable(batches: list[SightingBatch], max_bytes: int) -> None:
    """Each batch signed as core does is accepted by a reader with that payload limit,
    unless it is a single sighting too big for it (as it was before batching)."""
    verifier = Verifier(lambda iss: CORE.public_key, audience=LONG_AUDIENCE, max_bytes=max_bytes)
    for b in batches:
        data = sign(b, topics.sightings(), CORE, audience=LONG_AUDIENCE)
        if len(data) > max_bytes and len(b.sightings) == 1:
            continue
        assert verifier.verify(topics.sightings(), data, SightingBatch).payload == b


def test_no_sightings_no_message() -> None:
    assert sighting_batches([], 64 * 1024) == []


def test_a_commit_is_one_message_when_it_fits() -> None:
    items = [sighting(i) for i in range(40)]
    (batch,) = sighting_batches(items, 64 * 1024)
    assert batch.sightings == items
    assert_readable([batch], 64 * 1024)


def test_more_than_the_maximum_count_is_split_in_order() -> None:
    items = [sighting(i) for i in range(MAX_SIGHTINGS + 44)]
    batches = sighting_batches(items, 16 * 1024 * 1024)
    assert [len(b.sightings) for b in batches] == [MAX_SIGHTINGS, 44]
    assert [s for b in batches for s in b.sightings] == items


@pytest.mark.parametrize("label", ["Ada Lovelace " * 9, "😀" * 128, "Zoë Ångström-Øster" * 7])
@pytest.mark.parametrize("max_bytes", [1024, 8 * 1024, 64 * 1024])
def test_every_message_fits_the_payload_limit(label: str, max_bytes: int) -> None:
    items = [sighting(i, label[:128]) for i in range(MAX_SIGHTINGS)]
    batches = sighting_batches(items, max_bytes)
    assert [s for b in batches for s in b.sightings] == items
    assert_readable(batches, max_bytes)
    if max_bytes == 64 * 1024 and label.isascii():
        assert len(batches) <= 3  # not one message per sighting: only as many as needed


def test_the_store_stage_writes_what_it_is_given_and_returns_the_stored_ids(tmp_path):
    """Plain values in (no recognition, no locator): rows, dedupe keys, one message."""
    from sqlalchemy import select

    from core import store as core_store
    from core.identify import Identity, Recognised
    from core.messages import Accepted
    from core.observation import Placement
    from core.place import Placed
    from core.store.models import ProcessedMessage
    from core.store.models import Sighting as SightingRow
    from core.writer import store
    from srs.wire.payloads import BBox
    from tests.core.ingest_helpers import batch, core_config

    db = core_store.open_store(core_config(tmp_path))
    with db.session() as s:
        core_store.add_camera(s, "cam1", SigningKey.generate("camera:cam1").public_key_b64)
        person, _ = core_store.get_or_create_person(s, "Ada Lovelace")
        pid = person.id
    face = (BBox(x=10, y=10, w=60, h=60), [0.1] * 128)
    new = [Accepted(batch("cam1", 7, [face], profiles=1), 0.0)]
    ada = Identity("known", f"p{pid}", "Ada Lovelace", 0.8, person_id=pid, distance=0.4)
    placed = Placed(
        placements=[
            [
                Placement(f"p{pid}", "known", "Ada Lovelace", 1.0, 2.0, "lab"),
                Placement("t-cam1-100", "unidentified", "Unidentified", None, None, None),
            ]
        ]
    )
    with db.session() as s:
        out = store(s, new, Recognised({(0, 0): ada}), placed, 123.0, 64 * 1024)
    ((topic, message),) = [(o.topic, o.payload) for o in out.outgoing]
    assert topic == topics.sightings() and isinstance(message, SightingBatch)
    assert [(m.label, m.zone) for m in message.sightings] == [
        ("Ada Lovelace", "lab"),
        ("Unidentified", None),
    ]
    with db.session() as s:
        rows = {r.id: r for r in s.scalars(select(SightingRow))}
        assert [m.sighting_id for m in message.sightings] == sorted(rows)
        assert [(r.person_id, r.x, r.encoding is not None) for r in rows.values()] == [
            (pid, 1.0, True),
            (None, None, False),
        ]
        assert s.scalars(select(ProcessedMessage.seq)).all() == [7]
    db.close()
