"""The fault suite: every camera sequence number stored once through each fault.

Slow (each scenario runs real processes for 20-60 s); `python -m
tests.resilience.report` runs the same scenarios and writes docs/resilience.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.resilience.faults import SCENARIOS, Scenario, run


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_nothing_lost_nothing_twice(scenario: Scenario, tmp_path: Path) -> None:
    reason = scenario.needs()
    if reason is not None:
        pytest.skip(reason)
    row = run(scenario, tmp_path)
    print(f"{row.case}: {row.observed} ({row.seconds:.0f} s)")  # recovery time for issue 21
    assert row.passed, row.observed
