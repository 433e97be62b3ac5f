"""Every hostile input of issue 17 is refused with a sentence and counted."""

from __future__ import annotations

from pathlib import Path

from tests.resilience.hostile import broker_cases, core_cases


def test_core_refuses_and_counts_every_hostile_message(tmp_path: Path) -> None:
    rows = core_cases(tmp_path)
    assert len(rows) == 12
    failed = [f"{r.case}: {r.observed}" for r in rows if not r.passed]
    assert not failed, "\n".join(failed)


def test_the_broker_drops_and_counts_oversize_and_retained_detections(tmp_path: Path) -> None:
    rows = broker_cases(tmp_path)
    failed = [f"{r.case}: {r.observed}" for r in rows if not r.passed]
    assert len(rows) == 2 and not failed, "\n".join(failed)
