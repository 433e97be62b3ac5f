"""Password checks that a wrong-password flood cannot put ahead of legitimate clients.

argon2 costs ~64 MiB and a few hundred ms per check, so the broker runs only a few
at once; with a plain first-come queue, 40 concurrent wrong-password CONNECTs held a
camera's reconnect back from 0.15 s to 5 s. Two rules keep the rightful clients
ahead:

* **Known credentials skip argon2.** After a successful check the gate remembers an
  HMAC of the password (a per-process random key; never the password) with the hash
  it matched. The same user with the same password, while that hash is unchanged and
  the user not expired, is accepted at once: every camera, core and dashboard
  reconnect after a broker restart's first check.
* **A flood waits at the back.** Checks that must run queue by the recent failures
  and the checks already waiting of their user and of their peer host: the 40th
  attempt of a burst from one host queues behind a first attempt from another.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import hmac
import itertools
import secrets
import time
from collections.abc import Callable

from broker.users import UserStore

FORGET_FAILURES_S = 600.0  # failure counts start over this often
MAX_TRACKED = 10_000  # users and hosts with failures remembered, at most


class AuthGate:
    """``await gate.check(user, password, host)``: True when the password is right."""

    def __init__(
        self,
        store: UserStore,
        concurrent: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._limit = concurrent
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._known: dict[str, tuple[bytes, str]] = {}  # user -> (password MAC, hash)
        self._failures: dict[str, int] = {}  # "u:<user>" / "h:<host>" -> recent failures
        self._failures_since = clock()
        self._pending: dict[str, int] = {}  # same keys -> checks queued or running
        self._running = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.fast = 0  # accepted without argon2 (for stats and tests)

    async def check(self, user: str, password: str, host: str) -> bool:
        mac = hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        current = self.store.password_hash(user)
        known = self._known.get(user)
        if (
            known is not None
            and current is not None
            and known[1] == current
            and hmac.compare_digest(known[0], mac)
            and not self.store.expired(user)
        ):
            self.fast += 1
            return True
        keys = (f"u:{user}", f"h:{host}")
        # Behind this user's and this host's recent failures and checks still waiting:
        # the 40th of a burst from one host queues behind a first attempt from another.
        priority = sum(self._recent_failures(k) + self._pending.get(k, 0) for k in keys)
        for k in keys:
            self._pending[k] = self._pending.get(k, 0) + 1
        try:
            await self._acquire(priority)
            try:
                loop = asyncio.get_running_loop()
                ok = await loop.run_in_executor(None, self.store.verify, user, password)
            finally:
                self._release()
        finally:
            for k in keys:
                left = self._pending[k] - 1
                if left:
                    self._pending[k] = left
                else:
                    del self._pending[k]
        if ok and current is not None:
            self._known[user] = (mac, current)
            self._failures.pop(f"u:{user}", None)
        elif not ok:
            self._known.pop(user, None)
            for key in (f"u:{user}", f"h:{host}"):
                if len(self._failures) < MAX_TRACKED or key in self._failures:
                    self._failures[key] = self._failures.get(key, 0) + 1
        return ok

    def _recent_failures(self, key: str) -> int:
        now = self._clock()
        if now - self._failures_since > FORGET_FAILURES_S:
            self._failures.clear()
            self._failures_since = now
        return self._failures.get(key, 0)

    async def _acquire(self, priority: int) -> None:
        if self._running < self._limit and not self._waiting:
            self._running += 1
            return
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), slot))
        try:
            await slot  # _release hands its slot over: _running is unchanged
        except asyncio.CancelledError:
            if slot.done() and not slot.cancelled():
                self._release()  # handed a slot just as we were cancelled: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, slot = heapq.heappop(self._waiting)
            if not slot.done():
                slot.set_result(None)
                return
        self._running -= 1
