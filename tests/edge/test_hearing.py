"""What the node says about being heard by core (pure logic, a fake clock)."""

from __future__ import annotations

from edge.hearing import Hearing
from srs.wire.payloads import Refusal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def hearing(clock: Clock) -> Hearing:
    h = Hearing(allowed_skew_s=30.0, not_heard_after_s=30.0, log_every_s=300.0, clock=clock)
    h.connected = True
    return h


def test_core_coming_back_is_seen_once() -> None:
    clock = Clock()
    h = hearing(clock)
    assert h.core_status("online", 1e9, 2.0, 1e9, live=True)  # first live status
    clock.now += 2
    assert not h.core_status("online", 1e9, 2.0, 1e9, live=True)  # a heartbeat
    assert not h.core_status("offline", 1e9, 2.0, 1e9, live=True)
    assert h.core_status("online", 1e9, 2.0, 1e9, live=True)  # back after its will
    clock.now += 10  # heartbeats missed: core (or its broker) was away
    assert h.core_status("online", 1e9, 2.0, 1e9, live=True)
    h.reconnected()  # our own reconnect: its next live status is its return...
    clock.now += 1
    assert h.core_status("online", 1e9, 2.0, 1e9, live=True)
    h.reconnected()
    h.heard()  # ...unless core acknowledged something since: it was there all along
    clock.now += 1
    assert not h.core_status("online", 1e9, 2.0, 1e9, live=True)


def test_the_clock_is_measured_only_from_live_heartbeats() -> None:
    h = hearing(Clock())
    h.core_status("online", 1e9 - 86400, 10.0, 1e9, live=False)  # retained: old
    assert h.skew_s is None and not h.clock_off
    h.core_status("online", 1e9 + 10_800, 10.0, 1e9, live=True)
    assert h.clock_off and h.clock_sentence() == "clock 10,800 s behind core"
    h.stepped(10_800.0)  # NTP steps our clock right
    assert not h.clock_off and h.clock_sentence() == ""


def test_core_s_last_will_measures_no_clock() -> None:
    """Core killed: the broker publishes its will, live, signed when core connected
    (hours ago); that is not this node's clock ahead."""
    h = hearing(Clock())
    h.core_status("online", 1e9, 10.0, 1e9, live=True)
    h.core_status("offline", 1e9 - 3 * 3600, 10.0, 1e9, live=True)
    assert h.skew_s == 0.0 and not h.clock_off and h.core_state == "offline"


def test_not_heard_only_while_messages_wait_and_past_the_limit() -> None:
    clock = Clock()
    h = hearing(clock)
    clock.now += 100
    assert h.unheard_s(0) is None  # nothing waiting: nothing to hear
    clock.now += 29
    assert h.unheard_s(5) is None
    clock.now += 2
    assert h.unheard_s(5) == 31
    h.core_status("offline", 1e9, 10.0, 1e9, live=True)
    assert h.sentence(5) == "not heard by core for 31 s, 5 message(s) waiting: core is offline"
    h.refused(Refusal(reason="store_error", message="disk full"))
    assert h.reason() == "core cannot store them: disk full"
    h.connected = False
    assert h.reason() == "not connected to the broker"
    h.heard()
    assert h.unheard_s(5) is None and h.refusal is None


def test_the_reason_names_the_clock() -> None:
    clock = Clock()
    h = hearing(clock)
    h.core_status("online", 1e9 - 10_800, 10.0, 1e9, live=True)
    clock.now += 60
    assert h.sentence(3).endswith(": clock 10,800 s ahead of core")


def test_log_lines_once_then_a_reminder_then_heard_again() -> None:
    clock = Clock()
    h = hearing(clock)
    clock.now += 31
    assert (h.log_line(4) or "").startswith("not heard by core for 31 s")
    for _ in range(10):
        clock.now += 20
        assert h.log_line(4) is None
    clock.now += 100  # 300 s after the first line: one reminder
    assert (h.log_line(4) or "").startswith("not heard by core for")
    h.heard()
    assert h.log_line(4) == "heard by core again"
    assert h.log_line(4) is None
