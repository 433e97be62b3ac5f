"""core/messages.py: the plain values that flow between core's stages."""

from __future__ import annotations

import dataclasses
import time

import pytest

from core.messages import Accepted, BatchResult, Incoming, Outgoing
from srs.wire import topics
from srs.wire.payloads import CameraStatus


def test_an_incoming_message_is_stamped_when_received() -> None:
    before = time.perf_counter()
    msg = Incoming(topics.detections("door"), b"token")
    assert before <= msg.received_at <= time.perf_counter()
    assert msg.dup is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        msg.topic = "elsewhere"  # type: ignore[misc]


def test_values_compare_by_content() -> None:
    status = CameraStatus(camera_id="door", state="online", sent_at=1.0)
    topic = topics.camera_status("door")
    assert Outgoing(topic, status, retain=True) == Outgoing(topic, status, retain=True)
    assert Outgoing(topic, status) != Outgoing(topic, status, retain=True)
    assert Incoming("t", b"x", received_at=1.0) == Incoming("t", b"x", received_at=1.0)
    assert "batch" in {f.name for f in dataclasses.fields(Accepted)}


def test_each_batch_result_starts_empty_and_on_its_own() -> None:
    first, second = BatchResult(), BatchResult()
    first.acks.setdefault("door", []).append(7)
    first.received_at.append(1.0)
    assert (second.acks, second.outgoing, second.received_at) == ({}, [], [])
