"""What the link sends next, and what core's refusals mean for it (issue 21).

The outbox keeps every message until core acknowledges it; this decides *when* each
goes again. Core refusing for a reason that holds for every message (its store
fails, or this node's clock is off) *holds* the backlog: instead of re-sending a
window of the oldest messages again and again, only one message goes, a probe, at
a growing back-off (srs.backoff); when core accepts it, everything goes at once.

* store error (core's disk full, its database locked): probe after 0.5 s, doubling
  up to ``store_retry_max_s`` (2 s), so the backlog goes within about that of the
  store working again; core coming back online releases it too;
* a refusal for the clock while this node's clock is off (measured from core's live
  heartbeat, or, before one came, by core for the copy just signed): probe with the
  newest message after 2 s, doubling up to ``clock_retry_max_s``. A clock step seen
  here (edge.clock) or core's heartbeat agreeing again releases it at once;
* a refusal for the clock of a copy signed while the clock was off, ours being fine
  now: that message goes again (after the clock back-off);
* an *expired* copy refused while core's live heartbeat says our clock is fine: a copy
  the broker kept for core while it was away, which core (catching up, no live status
  of ours yet) could not tell from a clock behind. A fresh signature cures it: it goes
  again at once (the clock back-off here kept a core outage's backlog waiting 2-8 s);
* a refusal for the clock while ours was and is fine: the message itself is out of
  time (made while the clock was wrong, before a restart that forgot by how much);
  no re-send can fix it, so it is given up and counted (``outbox_refused``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal

from edge.clock import StepWatch
from edge.config import EdgeConfig
from edge.hearing import Hearing
from edge.outbox import Due, Outbox
from srs.backoff import Backoff
from srs.wire.payloads import Refusal

log = logging.getLogger(__name__)

Hold = Literal["store", "clock"]


class Backlog:
    def __init__(
        self, outbox: Outbox, ecfg: EdgeConfig, hearing: Hearing, allowed_skew_s: float
    ) -> None:
        self.outbox, self.ecfg, self.hearing = outbox, ecfg, hearing
        self.camera_id = ecfg.camera_id
        self.allowed_skew_s = allowed_skew_s
        self.resend = threading.Event()  # everything unacknowledged goes again, now
        self.changed = threading.Event()  # something the status says has changed
        self.holding: Hold | None = None
        self._probe_at = 0.0
        self._steps = StepWatch()
        self._backoff: dict[Hold, Backoff] = {
            "store": Backoff(first_s=0.5, max_s=ecfg.store_retry_max_s),
            "clock": Backoff(first_s=2.0, max_s=ecfg.clock_retry_max_s),
        }

    # --- what core said ---------------------------------------------------------------

    def acked(self, seqs: list[int]) -> int:
        n = self.outbox.ack(seqs)
        self.hearing.heard()
        if self.holding:  # the probe went through
            self.release("core accepted a message again")
        return n

    def refused(self, seqs: list[int], refusal: Refusal) -> None:
        self.hearing.refused(refusal)
        offset = refusal.clock_offset_s
        signed_off = offset is None or abs(offset) > self.allowed_skew_s
        if refusal.reason == "store_error":
            if self.holding != "clock":  # a clock that is off is the first thing to fix
                self.hold("store", refusal.message)
        # Our clock is off now: measured so, or not measured yet (no live heartbeat)
        # and core's own measure of this copy, just signed, says so.
        elif self.hearing.clock_off or (self.hearing.skew_s is None and signed_off):
            self.hold("clock", refusal.message)
        elif refusal.reason == "clock_behind" and self.hearing.skew_s is not None:
            # expired in a queue, our clock measured right: signed again now, it is in time
            self.outbox.retry_later(seqs, 0.0)
            return
        elif signed_off:
            # signed before our clock was fixed (or core could not say): again, later
            self.outbox.retry_later(seqs, self._backoff["clock"].next_delay())
            return
        else:
            n = self.outbox.give_up(seqs)
            log.warning(
                "camera %s: gave up %d message(s) core refuses for good: %s",
                self.camera_id,
                n,
                refusal.message,
            )
            return
        self.outbox.retry_later(seqs, 0.0)  # not in flight any more; sent once released

    def core_status(self, live: bool, was_off: bool, back: bool) -> None:
        """After the hearing took core's status: say a clock newly off; release a hold
        once core's live heartbeat agrees with our clock, or a store hold when core
        has come back (restarted: its store may work again)."""
        if self.hearing.clock_off != was_off:
            self.changed.set()
            if self.hearing.clock_off:
                log.warning(
                    "camera %s: %s; core refuses its messages",
                    self.camera_id,
                    self.hearing.clock_sentence(),
                )
        if self.holding == "clock" and live and not self.hearing.clock_off:
            self.release("the clock agrees with core's again")
        elif self.holding == "store" and back:
            self.release("core is back")
        if back:
            self.resend.set()

    # --- holding ---------------------------------------------------------------------

    def hold(self, kind: Hold, why: str) -> None:
        if self.holding == kind:
            return
        self.holding = kind
        self.changed.set()
        self._probe_at = time.monotonic() + self._backoff[kind].next_delay()
        what = "cannot store" if kind == "store" else "refuses for the clock"
        log.warning(
            "camera %s: core %s its messages (%s); holding the backlog, probing with one",
            self.camera_id,
            what,
            why,
        )

    def release(self, why: str) -> None:
        """Core can take the backlog (again): everything unacknowledged goes now."""
        if self.holding:
            log.info("camera %s: %s; sending the held backlog", self.camera_id, why)
        self.holding = None
        for backoff in self._backoff.values():
            backoff.reset()
        self.resend.set()
        self.changed.set()

    # --- the sender's questions -------------------------------------------------------

    def check_clock(self) -> None:
        """On the sender thread, each round: a stepped clock, or one known to be off."""
        step = self._steps.step()
        if step:
            log.warning("camera %s: the clock was stepped by %+.1f s", self.camera_id, step)
            self.hearing.stepped(step)
            self.release("the clock was stepped")
        if self.hearing.clock_off:
            self.hold("clock", self.hearing.clock_sentence())

    def next(self) -> list[Due]:
        """What to send now: the due window, or while holding at most one probe."""
        if self.resend.is_set():
            self.resend.clear()
            self.outbox.reset_sent()
        if self.holding is None:
            return self.outbox.due(
                ack_timeout_s=self.ecfg.ack_timeout_s, limit=self.ecfg.max_inflight
            )
        if time.monotonic() < self._probe_at:
            return []
        self._probe_at = time.monotonic() + self._backoff[self.holding].next_delay()
        newest = self.outbox.newest()  # made with the clock as it is now
        return [] if newest is None else [newest]
