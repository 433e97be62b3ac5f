"""The guard of ``srs demo``: notices the stranger seen on both door cameras and,
with ``--script``, names him as a guard at the desk would (a signed operator
command, the dashboard's "Name person"); without it, says once how to."""

from __future__ import annotations

import logging
from collections.abc import Callable

from srs.app.live_view import LiveState
from srs.app.operator_client import OperatorClient, OperatorError
from srs.wire import commands

log = logging.getLogger(__name__)


class Guard:
    def __init__(
        self,
        cameras: tuple[str, str],
        name: str | None,
        operator: Callable[[], OperatorClient],
        say: Callable[[str], None],
    ) -> None:
        self.cameras = cameras
        self.name = name  # None: only point him out (no --script)
        self._operator = operator
        self._say = say
        self.noticed: str | None = None  # the anonymous key seen on both cameras
        self.named_by_guard: dict[str, str] = {}  # new person key -> anonymous key
        self.problem: str | None = None

    def step(self, state: LiveState) -> None:
        """Called once per refresh of the demo's watch loop."""
        if self.noticed is not None:
            return
        keys = state.seen_by(*self.cameras)
        if not keys:
            return
        self.noticed = keys[0]
        with state.lock:
            label = state.labels.get(self.noticed, self.noticed)
        where = " and ".join(self.cameras)
        if self.name is None:
            self._say(
                f"guard: {label} ({self.noticed}) was seen by {where}; name him in the "
                "dashboard (Name person), or run the demo with --script to do it here"
            )
            return
        try:
            with self._operator() as op:
                result = op.run(commands.NameIdentity(person_key=self.noticed, name=self.name))
        except OperatorError as exc:
            self.problem = f"naming {label} failed: {exc}"
            self._say(f"guard: {self.problem}")
            return
        self.named_by_guard[str(result["person_key"])] = self.noticed
        self._say(
            f"guard: {label} ({self.noticed}), seen by {where}, named {self.name} "
            f"({result['person_key']})"
        )
