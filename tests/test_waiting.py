"""wait_until: returns the first truthy value, fails by its message, asks the message lazily."""

from __future__ import annotations

import itertools
import threading

import pytest

from tests.waiting import wait_until


def test_returns_the_first_truthy_value() -> None:
    answers = iter([None, 0, "", "ready", "later"])
    assert wait_until(lambda: next(answers), timeout=5, interval=0) == "ready"


def test_a_condition_already_true_is_not_waited_for() -> None:
    calls = itertools.count()
    assert wait_until(lambda: next(calls) + 1, timeout=0) == 1


def test_sees_what_another_thread_does() -> None:
    done = threading.Event()
    threading.Timer(0.05, done.set).start()
    assert wait_until(done.is_set, timeout=30, interval=0.01)


def test_fails_with_the_message_after_the_timeout() -> None:
    with pytest.raises(AssertionError, match="nothing came"):
        wait_until(lambda: False, timeout=0.05, interval=0.01, message="nothing came")


def test_checks_once_more_at_the_deadline() -> None:
    # The predicate is asked at least once even with no time to wait at all.
    calls: list[int] = []
    with pytest.raises(AssertionError):
        wait_until(lambda: calls.append(1), timeout=0)
    assert calls == [1]


def test_a_callable_message_is_asked_only_on_failure() -> None:
    asked: list[int] = []

    def describe() -> str:
        asked.append(1)
        return "the log says why"

    wait_until(lambda: True, timeout=1, message=describe)
    assert asked == []
    with pytest.raises(AssertionError, match="the log says why"):
        wait_until(lambda: None, timeout=0, message=describe)
    assert asked == [1]
