"""The on-disk outbox: every message stays here until core acknowledges it.

SQLite in WAL mode, one row per unsigned payload (signing happens at send time so
every attempt carries a fresh ``iat``/``jti``). A committed row survives ``kill -9``
and broker outages. The sequence counter lives in the same database so sequence
numbers keep growing across restarts, even when the outbox is empty.

Bounded by message count and age. What the bounds drop is counted persistently,
exactly: a message never sent counts at once; one that was sent may have been
stored, so it is remembered (``dropped_sent``) and uncounted again if its ack still
comes. The count bound takes never-sent messages first (oldest first), so those
already sent, which the link re-sends first after a reconnect, are not pushed out
by new ones before they go again.

Each row also keeps the node's clock base at creation (wall clock minus the boot
clock, see edge.clock): when the wall clock is stepped later (NTP fixing a wrong
clock) :meth:`due` says by how much, and the link re-times the message.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from edge.clock import STEP_MIN_S, boot_id, clock_base

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    payload TEXT NOT NULL,
    sent_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dropped_sent (seq INTEGER PRIMARY KEY);
"""
# Columns added after the first release (an old outbox gains them on open).
ADDED_COLUMNS = {"retry_at": "REAL", "clock_base": "REAL"}
MAX_DROPPED_SENT = 10_000  # sent-then-dropped seqs remembered for a late ack


@dataclass(frozen=True, slots=True)
class Due:
    """A message to (re)send; ``clock_step_s``: how far the wall clock was stepped
    since it was made (0 when not, or when that is unknown)."""

    seq: int
    payload: str
    clock_step_s: float = 0.0


class Outbox:
    def __init__(
        self,
        path: Path,
        *,
        max_messages: int = 100_000,
        max_age_s: float = 7 * 86400.0,
        clock: Callable[[], float] = time.time,
        base: Callable[[], float] | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_messages = max_messages
        self.max_age_s = max_age_s
        self._clock = clock
        self._base = base or (lambda: clock_base(clock))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a process crash (kill -9); only a
        # power cut can lose the last transactions.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        have = {r[1] for r in self._db.execute("PRAGMA table_info(outbox)")}
        for name, kind in ADDED_COLUMNS.items():
            if name not in have:
                self._db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {kind}")
        boot = boot_id()
        if self._meta("boot", -1) != boot:  # clock bases of another boot mean nothing now
            self._db.execute("UPDATE outbox SET clock_base=NULL")
            self._set_meta("boot", boot)

    # --- meta counters -------------------------------------------------------

    def _meta(self, key: str, default: int = 0) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return int(row[0]) if row else default

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def get_meta(self, key: str, default: int = 0) -> int:
        with self._lock:
            return self._meta(key, default)

    def set_meta(self, key: str, value: int) -> None:
        with self._lock:
            self._set_meta(key, value)

    @property
    def next_seq(self) -> int:
        with self._lock:
            return self._next_seq()

    def _next_seq(self) -> int:
        row = self._db.execute("SELECT MAX(seq) FROM outbox").fetchone()
        top = int(row[0]) + 1 if row and row[0] is not None else 0
        return max(self._meta("next_seq"), top)

    @property
    def dropped(self) -> int:
        """Messages the bounds dropped that core did not store (as far as the node knows)."""
        return self.get_meta("dropped")

    @property
    def refused(self) -> int:
        """Messages given up because core refused them for good (see :meth:`give_up`)."""
        return self.get_meta("refused")

    @property
    def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    # --- writing -----------------------------------------------------------------

    def add(
        self,
        build: Callable[[int], str],
        meta: dict[str, int] | None = None,
        *,
        clock_base: float | None = None,
    ) -> int:
        """Store ``build(seq)`` under the next sequence number (one transaction).

        ``clock_base``: the clock base (edge.clock) when the payload's time was read;
        without it, the base now. Give it whenever the time was read earlier (a frame
        waits for its encodings): a clock step in between would otherwise never be
        seen, and the message would stay hours off for good."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._next_seq()
                self._db.execute(
                    "INSERT INTO outbox(seq, created_at, payload, clock_base) VALUES(?, ?, ?, ?)",
                    (
                        seq,
                        self._clock(),
                        build(seq),
                        self._base() if clock_base is None else clock_base,
                    ),
                )
                self._set_meta("next_seq", seq + 1)
                for key, value in (meta or {}).items():
                    self._set_meta(key, value)
                self._enforce_bounds()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return seq

    def _enforce_bounds(self) -> None:
        old = self._db.execute(
            "SELECT seq, attempts FROM outbox WHERE created_at < ?",
            (self._clock() - self.max_age_s,),
        ).fetchall()
        excess = (
            int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            - len(old)
            - self.max_messages
        )
        if excess > 0:
            # Never-sent first, oldest first: those sent already go again first after a
            # reconnect and may be stored meanwhile.
            old += self._db.execute(
                "SELECT seq, attempts FROM outbox WHERE created_at >= ? "
                "ORDER BY attempts > 0, seq LIMIT ?",
                (self._clock() - self.max_age_s, excess),
            ).fetchall()
        if not old:
            return
        self._db.executemany("DELETE FROM outbox WHERE seq=?", [(s,) for s, _ in old])
        sent = [(s,) for s, attempts in old if attempts > 0]
        self._db.executemany("INSERT OR IGNORE INTO dropped_sent(seq) VALUES(?)", sent)
        self._db.execute(
            "DELETE FROM dropped_sent WHERE seq NOT IN "
            "(SELECT seq FROM dropped_sent ORDER BY seq DESC LIMIT ?)",
            (MAX_DROPPED_SENT,),
        )
        self._set_meta("dropped", self._meta("dropped") + len(old))

    def prune(self) -> int:
        """Apply the age bound now (also done on every add); returns the dropped total."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._enforce_bounds()
            self._db.execute("COMMIT")
            return self._meta("dropped")

    # --- sending -------------------------------------------------------------------

    def due(self, *, ack_timeout_s: float, limit: int) -> list[Due]:
        """Messages to (re)send, in sequence order: never sent, or unacked too long, and
        not held back by a refusal; at most ``limit`` minus those waiting for their ack."""
        with self._lock:
            now = self._clock()
            cutoff = now - ack_timeout_s
            waiting = int(
                self._db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL AND sent_at >= ?",
                    (cutoff,),
                ).fetchone()[0]
            )
            room = limit - waiting
            if room <= 0:
                return []
            rows = self._db.execute(
                "SELECT seq, payload, clock_base FROM outbox "
                "WHERE (sent_at IS NULL OR sent_at < ?) AND (retry_at IS NULL OR retry_at <= ?) "
                "ORDER BY seq LIMIT ?",
                (cutoff, now, room),
            ).fetchall()
            return [self._due(*row) for row in rows]

    def _due(self, seq: int, payload: str, base: float | None) -> Due:
        step = 0.0 if base is None else self._base() - base
        return Due(int(seq), str(payload), step if abs(step) >= STEP_MIN_S else 0.0)

    def newest(self) -> Due | None:
        """The newest message (the link's probe while it holds the rest back)."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, payload, clock_base FROM outbox ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            return None if row is None else self._due(*row)

    def mark_sent(self, seqs: Iterable[int]) -> None:
        with self._lock:
            now = self._clock()
            self._db.executemany(
                "UPDATE outbox SET sent_at=?, retry_at=NULL, attempts=attempts+1 WHERE seq=?",
                [(now, s) for s in seqs],
            )

    def reset_sent(self) -> None:
        """After a reconnect (or a clock fixed): everything unacknowledged goes again,
        in order, refusals' waits included."""
        with self._lock:
            self._db.execute("UPDATE outbox SET sent_at=NULL, retry_at=NULL")

    def retry_later(self, seqs: Iterable[int], delay_s: float) -> None:
        """Core refused these (not stored): send them again in ``delay_s``, not after
        the ack timeout."""
        with self._lock:
            at = self._clock() + delay_s
            self._db.executemany(
                "UPDATE outbox SET sent_at=NULL, retry_at=? WHERE seq=?",
                [(at, s) for s in seqs],
            )

    def ack(self, seqs: Iterable[int]) -> int:
        """Forget acknowledged messages; returns how many were still here."""
        with self._lock:
            rows = [(s,) for s in seqs]
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = self._db.executemany("DELETE FROM outbox WHERE seq=?", rows).rowcount
                late = self._db.executemany("DELETE FROM dropped_sent WHERE seq=?", rows).rowcount
                if late > 0:  # dropped by a bound after it was sent, yet stored: not lost
                    self._set_meta("dropped", max(0, self._meta("dropped") - late))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return removed

    def give_up(self, seqs: Iterable[int]) -> int:
        """Forget messages core refused for good (counted as ``refused``); returns how
        many were still here."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                n = self._db.executemany(
                    "DELETE FROM outbox WHERE seq=?", [(s,) for s in seqs]
                ).rowcount
                self._set_meta("refused", self._meta("refused") + max(0, n))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return n

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
