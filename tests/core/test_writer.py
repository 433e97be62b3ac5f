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
