"""Authentic messages at the wrong time: refused to a camera whose clock is off, dropped
as stale when they are late copies; neither is a security rejection."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from core import store
from core.clocks import ClockCheck
from core.ingest import Ingest
from core.messages import Incoming
from core.store.models import AuditEntry
from srs.wire import topics
from srs.wire.signing import sign
from tests.core.ingest_helpers import batch, core_config, face_data
from tests.core.test_ingest import CAM1, stored

HOURS_3 = 3 * 3600.0


@pytest.fixture
def ing(tmp_path):
    face_data()
    db = store.open_store(core_config(tmp_path))
    with db.session() as s:
        store.add_camera(s, "cam1", CAM1.public_key_b64)
    yield Ingest(db, core_config(tmp_path))
    db.close()


def signed(seq: int, *, signed_at: float | None = None, captured_at: float | None = None):
    topic = topics.detections("cam1")
    b = batch("cam1", seq, face_data()["test/obama1.jpg"], captured_at=captured_at)
    return Incoming(topic, sign(b, topic, CAM1, now=signed_at))


def no_security_event(ing: Ingest) -> bool:
    with ing.db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.category == "security")).all()
    return ing.counters.security_rejections() == 0 and not rows


def test_a_camera_clock_ahead_is_refused_with_its_offset_once_per_window(ing):
    now = time.time()
    # Captured 3 h ahead, signed (at a re-send after the clock was fixed) in time.
    first = ing.process([signed(1, captured_at=now + HOURS_3)])
    # Signed 3 h ahead too: the token itself is from the future.
    second = ing.process([signed(2, signed_at=now + HOURS_3, captured_at=now + HOURS_3)])
    assert first.acks == {} and second.acks == {} and stored(ing.db) == (0, 0)
    (ack,) = first.refused
    assert ack.camera_id == "cam1" and ack.seqs == [1] and ack.refused is not None
    assert ack.refused.reason == "clock_ahead"
    assert ack.refused.clock_offset_s == pytest.approx(HOURS_3, abs=5)
    assert "clock 10,800 s ahead of core's" in ack.refused.message
    assert second.refused == []  # one refusal per camera per window
    assert ing.counters.rejected == {"clock_ahead": 2} and no_security_event(ing)


def camera_status(ing: Ingest, clock_off_s: float, retained: bool = False) -> None:
    from srs.wire.payloads import CameraStatus

    at = time.time() + clock_off_s
    topic = topics.camera_status("cam1")
    status = CameraStatus(camera_id="cam1", state="online", sent_at=at)
    got = ing.camera_status(Incoming(topic, sign(status, topic, CAM1, now=at), retained=retained))
    assert got is not None


def test_a_camera_clock_behind_is_refused(ing):
    now = time.time()
    late = ing.process([signed(1, signed_at=now - HOURS_3, captured_at=now - HOURS_3)])
    (ack,) = late.refused
    assert ack.refused is not None and ack.refused.reason == "clock_behind"
    assert ack.refused.clock_offset_s == pytest.approx(-HOURS_3, abs=5)
    assert ing.counters.rejected == {"clock_behind": 1} and no_security_event(ing)


def test_a_clock_behind_is_told_from_a_copy_by_the_cameras_status(ing):
    """Right after core (re)connects, an expired token could be either: the camera's
    latest status (signed with its clock) tells."""
    now = time.time()
    ing.clocks.connected(now)
    behind = signed(1, signed_at=now - HOURS_3, captured_at=now - HOURS_3)
    assert ing.process([behind]).refused == []  # no status yet: catching up, a copy
    camera_status(ing, -HOURS_3)
    (ack,) = ing.process([signed(2, signed_at=now - HOURS_3)]).refused
    assert ack.refused is not None and ack.refused.reason == "clock_behind"
    camera_status(ing, 0.0)  # the clock is right again: an expired token is a copy
    assert ing.process([signed(3, signed_at=now - 600)]).refused == []
    assert ing.counters.rejected == {"stale": 2, "clock_behind": 1} and no_security_event(ing)


def test_copies_the_broker_kept_while_core_was_away_are_stale_not_forged(ing):
    """Core comes back after 4 minutes: its session delivers copies signed before it
    connected, expired meanwhile; the cameras have re-sent them fresh."""
    away = time.time() - 240
    ing.clocks.connected(time.time())
    copies = [signed(seq, signed_at=away, captured_at=away) for seq in range(1, 41)]
    result = ing.process(copies)
    assert result.refused == [] and result.acks == {} and stored(ing.db) == (0, 0)
    assert ing.counters.rejected == {"stale": 40} and no_security_event(ing)
    fresh = ing.process([signed(seq, captured_at=away) for seq in range(1, 41)])
    assert fresh.acks == {"cam1": list(range(1, 41))}


def test_an_expired_copy_of_a_stored_message_is_stale(ing):
    old = time.time() - 600
    ing.process([signed(1)])
    assert ing.process([signed(1, signed_at=old)]).refused == []
    assert ing.counters.rejected == {"stale": 1} and no_security_event(ing)


def test_an_expired_copy_older_than_what_its_camera_sent_since_is_stale(ing):
    ing.process([signed(5)])  # verifies in time: this camera has moved on
    assert ing.process([signed(2, signed_at=time.time() - 600)]).refused == []
    assert ing.counters.rejected == {"stale": 1}
    # A newer message signed expired: the camera's clock went wrong since.
    (ack,) = ing.process([signed(6, signed_at=time.time() - 600)]).refused
    assert ack.refused is not None and ack.refused.reason == "clock_behind"


def test_refusals_are_one_per_camera_and_reason_per_window():
    mono = [0.0]
    check = ClockCheck(30.0, window_s=10.0, mono=lambda: mono[0])
    assert check.refuse("cam1", "clock_ahead", [1, 2], 100.0) is not None
    assert check.refuse("cam1", "clock_ahead", [3], 100.0) is None
    assert check.refuse("cam1", "store_error", [3], None) is not None
    assert check.refuse("cam2", "clock_ahead", [1], 100.0) is not None
    mono[0] = 10.0
    assert check.refuse("cam1", "clock_ahead", [4], 100.0) is not None


def test_a_retained_status_measures_no_clock(ing):
    """Core reconnects: the broker hands it each camera's retained status, sent up to
    a heartbeat (or a long outage) ago; that is no clock behind."""
    now = time.time()
    ing.clocks.connected(now)
    camera_status(ing, -3600.0, retained=True)
    assert ing.process([signed(1, signed_at=now - 600)]).refused == []
    assert ing.counters.rejected == {"stale": 1}


def test_a_status_from_a_clock_ahead_still_says_the_camera_is_alive(ing):
    from srs.wire.payloads import CameraStatus

    ahead = time.time() + HOURS_3
    topic = topics.camera_status("cam1")
    status = CameraStatus(camera_id="cam1", state="online", sent_at=ahead)
    got = ing.camera_status(Incoming(topic, sign(status, topic, CAM1, now=ahead)))
    assert got is not None and got.state == "online"
    assert ing.counters.rejected == {"clock_ahead": 1} and no_security_event(ing)
