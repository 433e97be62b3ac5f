"""Other core instances' counters as read from their rows (core/shared_counters.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.shared_counters import Snapshot, read_snapshots


def test_a_snapshot_survives_its_json() -> None:
    snap = Snapshot(received=3, accepted=2, rejected={"stale": 1})
    assert read_snapshots([snap.model_dump_json()]) == [snap]


def test_missing_unreadable_and_negative_reports_count_as_nothing() -> None:
    got = read_snapshots([None, "", "not json", '{"received": -1}', '{"received": "x"}'])
    assert got == []


def test_a_newer_instance_s_extra_counter_is_ignored_not_refused() -> None:
    assert read_snapshots(['{"received": 4, "counted_later": 1}']) == [Snapshot(received=4)]


def test_reasons_are_bounded() -> None:
    with pytest.raises(ValidationError):
        Snapshot(rejected={f"r{i}": 1 for i in range(65)})
    with pytest.raises(ValidationError):
        Snapshot(rejected={"x" * 65: 1})
