"""What flows through core's pipeline: messages in, accepted batches, messages out.

Plain values, imported by every stage (ingest, identify, writer, the service, the
command handler); they import no stage, so the stages need not import each other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydantic import BaseModel

from srs.wire.payloads import Ack, DetectionBatch


@dataclass(frozen=True, slots=True)
class Incoming:
    """One MQTT message as received (``received_at``: perf_counter, for latency)."""

    topic: str
    data: bytes
    dup: bool = False
    received_at: float = field(default_factory=time.perf_counter)
    retained: bool = False  # delivered from the broker's retained store (maybe long after)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A verified detection batch not stored before."""

    batch: DetectionBatch
    received_at: float


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A payload for core to sign and publish on ``topic``."""

    topic: str
    payload: BaseModel
    retain: bool = False


@dataclass(slots=True)
class BatchResult:
    acks: dict[str, list[int]] = field(default_factory=dict)
    outgoing: list[Outgoing] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)  # of the acked messages
    # Acks that say "not stored, and why" (core/clocks.py), for the cameras.
    refused: list[Ack] = field(default_factory=list)
