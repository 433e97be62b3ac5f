"""srs.sdnotify: the datagrams, the addresses, the watchdog's pace and its PID."""

from __future__ import annotations

import os

from srs.sdnotify import Notifier
from tests.notify import NotifySocket


def test_without_a_notify_socket_every_call_does_nothing() -> None:
    n = Notifier({})
    assert not n.enabled
    assert not n.ready() and not n.stopping() and not n.status("x")
    n.alive()  # no socket, no error


def test_ready_status_and_stopping_arrive_as_datagrams() -> None:
    with NotifySocket() as sock:
        n = Notifier(sock.env())
        assert n.ready("serving")
        assert n.stopping()
        sock.wait_for("READY=1", 5)
        sock.wait_for("STATUS=serving", 5)
        sock.wait_for("STOPPING=1", 5)


def test_the_abstract_namespace_is_addressed_with_a_nul_byte() -> None:
    assert Notifier({"NOTIFY_SOCKET": "@srs/notify"}).address == b"\0srs/notify"
    assert Notifier({"NOTIFY_SOCKET": "vsock:2:1234"}).address is None


def test_alive_sends_at_most_three_keepalives_per_interval() -> None:
    now = [100.0]
    with NotifySocket() as sock:
        n = Notifier(sock.env(watchdog_s=3.0), clock=lambda: now[0])
        for _ in range(50):  # a hot loop within one second: one keep-alive
            n.alive()
        now[0] += 1.01
        n.alive()
        lines = sock.next_lines(2)
    assert lines == ["WATCHDOG=1", "WATCHDOG=1"]


def test_a_watchdog_meant_for_another_process_is_not_fed() -> None:
    env = {"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000"}
    assert Notifier(env).watchdog_s == 1.0
    assert Notifier({**env, "WATCHDOG_PID": str(os.getpid())}).watchdog_s == 1.0
    assert Notifier({**env, "WATCHDOG_PID": str(os.getpid() + 1)}).watchdog_s is None
    assert Notifier({**env, "WATCHDOG_USEC": "soon"}).watchdog_s is None


def test_a_dead_socket_is_reported_not_raised() -> None:
    n = Notifier({"NOTIFY_SOCKET": "/nonexistent/notify"})
    assert n.enabled and not n.ready()
