"""Counters of several core instances, summed in the leader's status (docs/scale.md).

Each instance writes its counters (a :class:`Snapshot` as JSON) into its
``core_instances`` row with every heartbeat (core/leases.py); the leader reads the
other live instances' rows at each renewal and its status carries the sum. An
instance that stops, or stops renewing, drops out of the sum when its row expires:
the status counts what the live instances have seen since they started, as one
core's status counts what it has seen since it started.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    ValidationError,
)

log = logging.getLogger(__name__)

Reason = Annotated[str, StringConstraints(max_length=64)]


class Snapshot(BaseModel):
    """One instance's counters. Unknown fields are ignored, not refused: an instance
    of a newer release may count more than this one sums."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    received: NonNegativeInt = 0
    accepted: NonNegativeInt = 0
    duplicates: NonNegativeInt = 0
    matched: NonNegativeInt = 0
    unknown: NonNegativeInt = 0
    identities_limited: NonNegativeInt = 0
    rejected: dict[Reason, NonNegativeInt] = Field(default_factory=dict, max_length=64)


def read_snapshots(texts: Iterable[str | None]) -> list[Snapshot]:
    """The snapshots in other instances' rows; a missing or unreadable one counts as
    nothing (an instance of an older release writes none)."""
    out = []
    for text in texts:
        if not text:
            continue
        try:
            out.append(Snapshot.model_validate_json(text))
        except ValidationError:
            log.warning("ignored another core instance's unreadable counters")
    return out
