"""Whether core hears this node, and why not: the node's side of issue 21's alerts.

Pure bookkeeping (no MQTT; the link feeds it): core's signed status heartbeat gives
core's state and, when it arrives live (not the broker's retained copy, which may be
old), this node's clock offset from core (``skew_s``: node minus core, the sign of
``Refusal.clock_offset_s``); acks say the node is heard; refusals say why not.
From that it answers:

* ``core_status(...)``: whether core has just (re)appeared, so the backlog should go
  again now instead of after the ack timeout;
* ``clock_sentence()``: "clock 10,800 s behind core" while the offset is beyond the
  skew core allows (core refuses everything then);
* ``unheard_s(waiting)``: how long nothing was acknowledged while messages wait
  (``None`` below ``not_heard_after_s``) and ``sentence(waiting)`` what to say;
* ``log_line(waiting)``: one line when the node stops being heard, a reminder every
  ``log_every_s`` while it lasts, one when it is heard again; nothing in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from srs.wire.payloads import Refusal

# A live heartbeat this much later than its interval says (plus a second of slack)
# means core was away meanwhile (restarted, or its broker did) even without an
# "offline" in between: what the node sent in that time may not have reached it.
MISSED_BEATS = 1.5


class Hearing:
    def __init__(
        self,
        *,
        allowed_skew_s: float,
        not_heard_after_s: float,
        log_every_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed_skew_s = allowed_skew_s
        self.not_heard_after_s = not_heard_after_s
        self.log_every_s = log_every_s
        self._clock = clock
        self.skew_s: float | None = None
        self.core_state: str | None = None
        self.refusal: Refusal | None = None  # the latest, until something is acked
        self.connected = False  # to the broker (the link says)
        self._heard_at = clock()
        self._live_at: float | None = None
        self._heard_since_connect = False
        self._live_interval_s = 10.0
        self._logged_at: float | None = None  # when the unheard state was last logged

    # --- what the link tells it ------------------------------------------------------

    def reconnected(self) -> None:
        """Our own connection is new: core's next live status counts as its return,
        unless core has acknowledged something since (then it was there all along:
        what we sent on reconnecting reached it, and sending it again would only load
        a core busy catching up)."""
        self._live_at = None
        self._heard_since_connect = False

    def core_status(
        self, state: str, sent_at: float, interval_s: float, wall_now: float, *, live: bool
    ) -> bool:
        """Take core's status; True when core has just come (back) online."""
        back = False
        if live:
            now = self._clock()
            # Only a heartbeat is signed as it is sent: core's "offline" may be its last
            # will, signed when it connected (days ago, for a core that ran for days),
            # and taken for a skew it said "clock N days ahead" at every core crash.
            if state == "online":
                self.skew_s = wall_now - sent_at
            if self._live_at is None:  # the first since our own (re)connect
                late = not self._heard_since_connect
            else:
                late = now - self._live_at > MISSED_BEATS * self._live_interval_s + 1.0
            back = state == "online" and (self.core_state != "online" or late)
            self._live_at, self._live_interval_s = now, interval_s
        self.core_state = state
        return back

    def stepped(self, delta_s: float) -> None:
        """Our wall clock was stepped by ``delta_s``: the offset moved with it."""
        if self.skew_s is not None:
            self.skew_s += delta_s

    def heard(self) -> None:
        self._heard_at = self._clock()
        self._heard_since_connect = True
        self.refusal = None

    def refused(self, refusal: Refusal) -> None:
        self.refusal = refusal

    # --- what it says ----------------------------------------------------------------

    @property
    def clock_off(self) -> bool:
        return self.skew_s is not None and abs(self.skew_s) > self.allowed_skew_s

    def clock_sentence(self) -> str:
        if not self.clock_off or self.skew_s is None:
            return ""
        side = "ahead of" if self.skew_s > 0 else "behind"
        return f"clock {abs(self.skew_s):,.0f} s {side} core"

    def unheard_s(self, waiting: int) -> float | None:
        """Seconds without an ack while ``waiting`` messages wait, once past the limit."""
        now = self._clock()
        if waiting == 0:
            self._heard_at = now  # nothing to hear: not unheard
            return None
        quiet = now - self._heard_at
        return quiet if quiet >= self.not_heard_after_s else None

    def reason(self) -> str:
        if not self.connected:
            return "not connected to the broker"
        if self.refusal is not None and self.refusal.reason == "store_error":
            return f"core cannot store them: {self.refusal.message}"
        clock = self.clock_sentence()
        if clock:
            return clock
        if self.refusal is not None:
            return self.refusal.message
        if self.core_state == "offline":
            return "core is offline"
        return "no answer from core"

    def sentence(self, waiting: int) -> str:
        quiet = self.unheard_s(waiting)
        if quiet is None:
            return ""
        return f"not heard by core for {quiet:.0f} s, {waiting} message(s) waiting: {self.reason()}"

    def log_line(self, waiting: int) -> str | None:
        quiet = self.unheard_s(waiting)
        now = self._clock()
        if quiet is None:
            if self._logged_at is None:
                return None
            self._logged_at = None
            return "heard by core again"
        if self._logged_at is not None and now - self._logged_at < self.log_every_s:
            return None
        self._logged_at = now
        return self.sentence(waiting)
