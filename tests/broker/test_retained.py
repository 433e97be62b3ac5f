"""broker/retained.py: the retained set survives a restart as a private JSON snapshot."""

from __future__ import annotations

import logging
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from broker import retained


@dataclass
class Held:
    """amqtt's RetainedApplicationMessage, as far as a snapshot reads it."""

    data: bytes
    qos: int | None


def test_a_snapshot_round_trips_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broker" / "retained.json"
    rows = retained.snapshot(
        {
            "srs/v1/site": Held(b"\x00plan\xff", 1),
            "srs/v1/cameras/a/status": Held(b"online", None),
            "srs/v1/cleared": Held(b"", 0),  # an empty retained message clears: not kept
        }
    )
    retained.save(path, rows)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert retained.load(path) == [
        ("srs/v1/cameras/a/status", b"online", 0),
        ("srs/v1/site", b"\x00plan\xff", 1),
    ]
    assert [p.name for p in path.parent.iterdir()] == ["retained.json"]  # no temp left


def test_a_missing_file_is_an_empty_set(tmp_path: Path) -> None:
    assert retained.load(tmp_path / "none.json") == []


@pytest.mark.parametrize("text", ["not json", '{"version": 1}', '{"retained": [{"topic": "t"}]}'])
def test_a_damaged_file_is_ignored_with_a_sentence(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "retained.json"
    path.write_text(text)
    with caplog.at_level(logging.ERROR, logger="broker.retained"):
        assert retained.load(path) == []
    assert "ignoring damaged retained-message file" in caplog.text
