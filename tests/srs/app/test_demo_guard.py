"""srs/app/demo_guard.py: the demo's guard notices the stranger on both doors once and
names him (with --script) or says how to."""

from __future__ import annotations

from typing import Any

from srs.app.demo_guard import Guard
from srs.app.live_view import LiveState
from srs.app.operator_client import OperatorClient, OperatorError
from srs.wire import commands

DOORS = ("front", "back")


class DeskOperator(OperatorClient):
    """Stands in for the signed operator session: records commands, answers as core."""

    def __init__(self, refuse: bool = False) -> None:  # no broker: the guard's logic only
        self.sent: list[Any] = []
        self.refuse = refuse

    def __enter__(self) -> OperatorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(self, command: Any, timeout_s: float = 15.0) -> Any:
        if self.refuse:
            raise OperatorError("core said no")
        self.sent.append(command)
        return {"person_key": "p9"}


def state_with(seen: dict[str, set[str]]) -> LiveState:
    state = LiveState()
    state.cameras_of.update(seen)
    state.labels["u4"] = "Unknown 4"
    return state


def test_nothing_happens_until_one_stranger_is_on_both_doors() -> None:
    desk = DeskOperator()
    said: list[str] = []
    guard = Guard(DOORS, "Bob", lambda: desk, said.append)
    guard.step(state_with({"u4": {"front"}, "p1": {"front", "back"}}))  # p1 is known
    assert guard.noticed is None
    assert (said, desk.sent) == ([], [])


def test_with_a_script_the_guard_names_him_once() -> None:
    desk = DeskOperator()
    said: list[str] = []
    guard = Guard(DOORS, "Bob", lambda: desk, said.append)
    state = state_with({"u4": {"front", "back"}})
    guard.step(state)
    guard.step(state)
    assert desk.sent == [commands.NameIdentity(person_key="u4", name="Bob")]
    assert guard.named_by_guard == {"p9": "u4"}
    assert len(said) == 1
    assert "Unknown 4 (u4)" in said[0]
    assert "named Bob (p9)" in said[0]


def test_without_a_script_the_guard_only_points_him_out() -> None:
    desk = DeskOperator()
    said: list[str] = []
    guard = Guard(DOORS, None, lambda: desk, said.append)
    guard.step(state_with({"u4": {"front", "back"}}))
    assert guard.noticed == "u4"
    assert desk.sent == []
    assert "--script" in said[0]


def test_a_refusal_is_kept_as_the_problem() -> None:
    said: list[str] = []
    guard = Guard(DOORS, "Bob", lambda: DeskOperator(refuse=True), said.append)
    guard.step(state_with({"u4": {"front", "back"}}))
    assert guard.problem == "naming Unknown 4 failed: core said no"
    assert guard.named_by_guard == {}
