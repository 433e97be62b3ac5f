"""Authentic messages at the wrong time: a camera clock that is off, or a stale copy.

A token whose signature and addressing are good but whose time is out of bounds
(srs/wire/signing.py: ``WireError.signed``) is no forgery. It is one of:

- a *stale copy*: the broker queued it in core's session while core was away (or
  slow) and the camera, unacked, has re-sent it fresh meanwhile. Its seq is stored
  already, or the camera has moved on (a newer seq of it verified in time), or the
  camera's clock is right (its latest status, signed with its clock, says so), or,
  with no status yet, it arrives while core catches up after (re)connecting.
  Dropped, counted as ``stale``; nothing to tell anyone.
- a camera clock *behind* core's: its tokens are signed already expired. Refused.
- a camera clock *ahead*: its tokens, or its ``captured_at``, lie in the future
  (stored, such a sighting would keep its person "present" for hours). Refused.

A refusal goes to the camera as an Ack with ``refused`` (reason, sentence, the
offset core measured), at most one per camera and reason per ``window_s``, and one log line per
camera per window: the camera shows it in its status and stops re-sending the same
messages; core's retained status (``sent_at``) lets it measure the skew itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from core.holding import Item, Key
from core.status import CLOCK_AHEAD, CLOCK_BEHIND, STALE, Counters, RepeatLog
from srs.wire.payloads import Ack, DetectionBatch, Refusal, RefusalReason

log = logging.getLogger(__name__)

# After core (re)connects, how long copies signed before that count as the backlog
# its session kept, not as a camera clock behind.
CATCH_UP_S = 60.0
REFUSAL_WINDOW_S = 10.0


@dataclass(frozen=True, slots=True)
class Late:
    """An authentic detection batch whose token's time was out of bounds."""

    batch: DetectionBatch
    issued_at: float  # the token's iat: the camera's clock when it signed
    future: bool  # signed in core's future (else: expired)


class ClockCheck:
    def __init__(
        self,
        clock_skew_s: float,
        counters: Counters | None = None,
        stored: Callable[[set[Key]], set[Key]] = lambda keys: set(),
        window_s: float = REFUSAL_WINDOW_S,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock_skew_s = clock_skew_s
        self.counters = counters or Counters()
        self._stored = stored  # which keys the store holds (core/dedupe.py)
        self.window_s = window_s
        self._mono = mono
        self._connected_wall = 0.0  # core's wall clock when it last connected
        self._connected_mono = mono()
        self._top_fine: dict[str, int] = {}  # camera -> highest seq verified in time
        self._offset: dict[str, float] = {}  # camera -> its clock minus core's (status)
        self._refused_at: dict[tuple[str, str], float] = {}  # (camera, reason) -> monotonic
        self._say = RepeatLog(log, window_s)

    def sort(self, fresh: list[Item], late: list[Late], now: float) -> tuple[list[Item], list[Ack]]:
        """The messages to store (``captured_at`` not beyond the skew in the future),
        and the refused Acks for the rest; stale copies are dropped."""
        refused: dict[tuple[str, RefusalReason], tuple[list[int], float]] = {}

        def refuse(reason: RefusalReason, batch: DetectionBatch, offset: float) -> None:
            self.counters.reject(reason)
            seqs, _ = refused.setdefault((batch.camera_id, reason), ([], offset))
            seqs.append(batch.seq)

        ok = []
        for msg, batch in fresh:
            if batch.captured_at > now + self.clock_skew_s:
                refuse(CLOCK_AHEAD, batch, batch.captured_at - now)
            else:
                self.fine(batch.camera_id, batch.seq)
                ok.append((msg, batch))
        expired = []
        for item in late:
            if item.future:
                refuse(CLOCK_AHEAD, item.batch, item.issued_at - now)
            else:
                expired.append(item)
        keys = {(e.batch.camera_id, e.batch.seq) for e in expired}
        try:
            stored = self._stored(keys) if keys else set()
        except SQLAlchemyError:  # the store cannot say: nothing to refuse on
            stored = keys
        for e in expired:
            key = (e.batch.camera_id, e.batch.seq)
            if key in stored or self.is_stale_copy(*key, e.issued_at):
                self.counters.reject(STALE)
                self._say(
                    "dropped stale copies",
                    logging.INFO,
                    "dropped a stale copy of %s seq %d (signed %.0f s ago; stored or "
                    "sent again fresh since): not a forgery",
                    *key,
                    now - e.issued_at,
                )
            else:
                refuse(CLOCK_BEHIND, e.batch, e.issued_at - now)
        acks = [
            ack
            for (cam, reason), (seqs, offset) in refused.items()
            if (ack := self.refuse(cam, reason, seqs, round(offset, 1))) is not None
        ]
        return ok, acks

    def connected(self, now: float) -> None:
        """Core (re)connected to the broker at wall time ``now``: its session's backlog
        follows."""
        self._connected_wall = now
        self._connected_mono = self._mono()

    def fine(self, camera_id: str, seq: int) -> None:
        """A message of this camera verified in time."""
        self._top_fine[camera_id] = max(seq, self._top_fine.get(camera_id, -1))

    def status(self, camera_id: str, sent_at: float, now: float) -> None:
        """A camera status arrived: ``sent_at`` is the camera's clock at sending (a
        heartbeat every few seconds; statuses never expire, so a clock behind shows)."""
        self._offset[camera_id] = sent_at - now

    def is_stale_copy(self, camera_id: str, seq: int, issued_at: float) -> bool:
        """An expired (authentic) token of a seq not stored: a copy, or a clock behind?

        A camera numbers its messages upwards: one older than a seq that verified in
        time is a copy from before (a clock that went wrong since shows in its newer
        messages, which are refused)."""
        if seq < self._top_fine.get(camera_id, -1):
            return True
        offset = self._offset.get(camera_id)
        if offset is not None:
            return offset > -self.clock_skew_s  # its clock is not behind: a copy
        catching_up = self._mono() - self._connected_mono < CATCH_UP_S
        return catching_up and issued_at < self._connected_wall + self.clock_skew_s

    def refuse(
        self, camera_id: str, reason: RefusalReason, seqs: list[int], offset_s: float | None
    ) -> Ack | None:
        """The refused Ack to send, unless this camera had one within the window."""
        if not seqs:
            return None
        mono = self._mono()
        last = self._refused_at.get((camera_id, reason))
        if last is not None and mono - last < self.window_s:
            return None
        self._refused_at[(camera_id, reason)] = mono
        if reason in (CLOCK_AHEAD, CLOCK_BEHIND) and offset_s is not None:
            side = "ahead of" if offset_s > 0 else "behind"
            message = (
                f"clock {abs(offset_s):,.0f} s {side} core's (allowed: "
                f"{self.clock_skew_s:g} s); set the node's clock (NTP)"
            )
        else:
            message = "core cannot write its database; it holds these and stores them later"
        self._say(
            f"{reason} {camera_id}",
            logging.WARNING,
            "camera %s: refused %d message(s): %s",
            camera_id,
            len(seqs),
            message,
        )
        refusal = Refusal(reason=reason, message=message[:256], clock_offset_s=offset_s)
        return Ack(camera_id=camera_id, seqs=sorted(set(seqs))[:1024], refused=refusal)
