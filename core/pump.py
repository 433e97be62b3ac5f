"""paho driven from core's worker thread: one thread owns the socket, the store and the key.

Why not ``loop_start()``: with paho's network thread beside the worker, each publish
woke that thread, which then waited for the interpreter lock the worker held (or
took it at the worker's next C call), so the two threads handed the lock back and
forth for every message in and out. On the 2-core dev machine a position published
by the worker waited ~1 ms (p90 ~4 ms) before paho's thread wrote it. Driven from the
worker, ``publish()`` writes to the socket at once.

``Pump.step`` does what ``loop_forever`` does, one bounded step at a time: wait up
to ``timeout`` for the broker, read at most ``max_reads`` packets, write what is
pending, keep the connection alive, and reconnect with a growing pause (at most
``RECONNECT_MAX_S``) when it is lost. Reading only as much as the worker can take is
also the back-pressure: what core has not read stays with the broker (and in its
persistent session).

Given a :class:`srs.mqtt.Session` (``by_hand``), the pump drives the session's current
client and lets it ``tend()`` its protocol choice each step (an "auto" session swaps
its client for a 3.1.1 one when the broker does not speak MQTT 5).

While the database stalls (a table lock held for a minute) the worker cannot step, and
a broker drops a client it has not heard from in 1.5 keepalives: its will goes out and
the core looks offline. So the worker *lends* the connection while it waits on the
database (:meth:`Pump.lent`), and a :class:`Keeper` thread, which never touches the
database, steps it once a loan has lasted ``grace_s``: PINGREQ out, PINGRESP and what
arrives read into the worker's bounded inbox. Short loans (every batch's commit) are
never taken up, so the hot path stays on the one thread. One lock makes sure one
thread at a time uses the client (paho's writes are not thread-safe).
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as paho

from srs.backoff import Backoff
from srs.mqtt import Session

log = logging.getLogger(__name__)

# Core's reconnect schedule: 0.25 s, then doubling to 1 s. One client retrying a
# broker once a second costs nothing, and with the old 5 s cap core came back up to
# 4 s after a 3 s broker restart was over (issue 21 wants everything stored within 3 s).
RECONNECT_FIRST_S = 0.25
RECONNECT_MAX_S = 1.0


class Pump:
    def __init__(
        self,
        client: paho.Client | Session,
        on_connect_fail: Callable[[], None],
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = client if isinstance(client, Session) else None
        self._client = client if not isinstance(client, Session) else None
        self._clock, self._sleep = clock, sleep
        self._on_connect_fail = on_connect_fail
        self._backoff = backoff or Backoff(first_s=RECONNECT_FIRST_S, max_s=RECONNECT_MAX_S)
        self._next_attempt = 0.0  # connect at once the first time
        # Held by whoever drives the client: the worker, but for its loans (lent()).
        self._lock = threading.RLock()
        self._lent_since: float | None = None

    @property
    def client(self) -> paho.Client:
        if self._session is not None:
            return self._session.client  # a fall-back to 3.1.1 replaces it
        assert self._client is not None
        return self._client

    def step(self, timeout: float, max_reads: int) -> None:
        """Wait up to ``timeout`` s for traffic; read up to ``max_reads`` packets.

        Never raises: the worker that calls it also owns the store, and a paho error
        must not end it. An unexpected one drops the connection, which comes back
        after the usual pause.
        """
        try:
            with self._lock:
                self._step(timeout, max_reads)
        except Exception:
            delay = self._backoff.next_delay()
            log.exception(
                "the broker connection failed unexpectedly; reconnecting in %.1f s", delay
            )
            with contextlib.suppress(Exception):
                self.client.disconnect()
            self._next_attempt = self._clock() + delay
            self._sleep(timeout)  # no hot loop should it fail again at once

    def _step(self, timeout: float, max_reads: int) -> None:
        if self._session is not None:
            self._session.tend()
        client = self.client
        sock = client.socket()
        if sock is None:
            self._reconnect(timeout)
            return
        # Our own select rather than client.loop(): loop() opens a socket pair to wake
        # a paho thread, and every publish() would then also write a byte to it.
        ready = _readable(sock, timeout, client.want_write())
        rc = paho.MQTT_ERR_SUCCESS
        reads = 0
        while ready and rc == paho.MQTT_ERR_SUCCESS and reads < max_reads:
            rc = client.loop_read()  # one packet (and its PUBACK)
            reads += 1
            ready = client.socket() is not None and _readable(sock, 0.0, False)
        if rc == paho.MQTT_ERR_SUCCESS and client.want_write():
            rc = client.loop_write()
        if rc == paho.MQTT_ERR_SUCCESS:
            rc = client.loop_misc()  # keepalive: PINGREQ, or give up on a silent broker
        if rc != paho.MQTT_ERR_SUCCESS and self._fell_back():
            return  # MQTT 5 refused (CONNACK 1): the 3.1.1 client connects at once
        if rc != paho.MQTT_ERR_SUCCESS:  # paho closed the socket and said so (on_disconnect)
            delay = self._backoff.next_delay()
            log.warning(
                "lost the connection to the broker (%s); reconnecting in %.1f s",
                paho.error_string(rc),
                delay,
            )
            self._next_attempt = self._clock() + delay
        elif client.is_connected():
            self._backoff.reset()

    def _fell_back(self) -> bool:
        """True when the session just swapped its client for a 3.1.1 one: a refused
        protocol version is no lost connection, and calls for no pause."""
        if self._session is None:
            return False
        before = self._session.client
        self._session.tend()
        if self._session.client is before:
            return False
        self._next_attempt = 0.0
        return True

    def _reconnect(self, timeout: float) -> None:
        wait = self._next_attempt - self._clock()
        if wait > 0:
            self._sleep(min(wait, timeout))
            return
        try:
            self.client.reconnect()  # TCP connect and CONNECT; the CONNACK comes in a step
        except OSError as exc:
            log.debug("broker connection attempt failed: %s", exc)
            self._on_connect_fail()
            self._next_attempt = self._clock() + self._backoff.next_delay()

    # --- loans: the worker waits on the database, the keeper keeps the connection ------

    def hold(self) -> None:
        """The worker takes the connection (for its life, but for its loans)."""
        self._lock.acquire()

    def release(self) -> None:
        self._lock.release()

    @contextlib.contextmanager
    def lent(self) -> Iterator[None]:
        """Lend the connection to the keeper for the block: one that touches neither
        the client nor the inbox (it only waits on the database). Called by the holder."""
        self._lent_since = self._clock()
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()  # waits out the keeper's step (at most its timeout)
            self._lent_since = None

    def keep(self, room: int, grace_s: float, timeout: float) -> bool:
        """The keeper's step: only on a loan older than ``grace_s`` and a live
        connection (reconnecting stays the worker's, with its callbacks). Reads up to
        ``room`` packets; with no room, only while paho awaits a PINGRESP, which at
        most the broker's in-flight window of messages precedes (so a full inbox
        overflows by that window per keepalive, not by the stream). True if it stepped."""
        since = self._lent_since
        if since is None or self._clock() - since < grace_s:
            return False
        if not self._lock.acquire(timeout=timeout):
            return False
        try:
            if self._lent_since is None:
                return False  # the worker came back meanwhile
            client = self.client
            if client.socket() is None or not client.is_connected():
                return False
            # paho's own mark of a PINGREQ unanswered; no public way to ask.
            awaiting_pong = getattr(client, "_ping_t", 0) > 0
            self.step(timeout, room if room > 0 else (100 if awaiting_pong else 0))
            return True
        finally:
            self._lock.release()

    def flush(self, done: Callable[[], bool], timeout: float) -> bool:
        """Step until ``done()`` (say, a PUBACK came) or ``timeout`` s passed."""
        deadline = self._clock() + timeout
        while not done():
            left = deadline - self._clock()
            if left <= 0 or self.client.socket() is None:
                return False
            self.step(min(left, 0.05), 100)
        return True


class Keeper:
    """The thread that steps the pump while the worker waits on the database."""

    def __init__(self, pump: Pump, room: Callable[[], int], keepalive_s: float) -> None:
        self._pump, self._room = pump, room
        # A quarter keepalive: well inside the broker's 1.5, yet longer than any
        # healthy commit, so the keeper never competes with the worker's hot path.
        self.grace_s = min(1.0, keepalive_s / 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="core-keepalive", daemon=True)
        self.steps = 0  # how often it stepped (tests, and a hint in a debugger)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        pause = self.grace_s / 4
        while not self._stop.wait(pause):
            room = self._room()
            try:
                stepped = self._pump.keep(room, self.grace_s, 0.05)
            except Exception:  # never let the keeper die; the worker still steps
                log.exception("the keepalive thread failed a step")
                stepped = False
            if stepped:
                self.steps += 1
            # Reading: again soon (its select waited already). Else look every so often:
            # with the inbox full, often enough to read a PINGRESP within the keepalive.
            pause = 0.005 if stepped and room > 0 else self.grace_s / 4


def _readable(sock: Any, timeout: float, or_writable: bool) -> bool:
    """True when ``sock`` has bytes to read (TLS: already decrypted ones count); waits
    up to ``timeout`` s, or less once writable if ``or_writable``."""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending() > 0:
        return True
    try:
        readable, _, _ = select.select([sock], [sock] if or_writable else [], [], timeout)
    except (OSError, ValueError, TypeError):  # closed under us: the next step says so
        return False
    return bool(readable)
