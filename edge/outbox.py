"""The on-disk outbox: every message stays here until core acknowledges it.

SQLite in WAL mode, one row per unsigned payload (signing happens at send time so
every attempt carries a fresh ``iat``/``jti``). A committed row survives ``kill -9``
and broker outages. The sequence counter lives in the same database so sequence
numbers keep growing across restarts, even when the outbox is empty. Bounded by
message count and age; whatever the bounds drop is counted (persistently).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    payload TEXT NOT NULL,
    sent_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Outbox:
    def __init__(
        self,
        path: Path,
        *,
        max_messages: int = 100_000,
        max_age_s: float = 7 * 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_messages = max_messages
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a process crash (kill -9); only a
        # power cut can lose the last transactions.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

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
        return self.get_meta("dropped")

    @property
    def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    # --- writing -----------------------------------------------------------------

    def add(self, build: Callable[[int], str], meta: dict[str, int] | None = None) -> int:
        """Store ``build(seq)`` under the next sequence number (one transaction)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._next_seq()
                self._db.execute(
                    "INSERT INTO outbox(seq, created_at, payload) VALUES(?, ?, ?)",
                    (seq, self._clock(), build(seq)),
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
        dropped = self._db.execute(
            "DELETE FROM outbox WHERE created_at < ?", (self._clock() - self.max_age_s,)
        ).rowcount
        excess = (
            int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]) - self.max_messages
        )
        if excess > 0:
            dropped += self._db.execute(
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)",
                (excess,),
            ).rowcount
        if dropped:
            self._set_meta("dropped", self._meta("dropped") + dropped)

    def prune(self) -> int:
        """Apply the age bound now (also done on every add); returns the dropped total."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._enforce_bounds()
            self._db.execute("COMMIT")
            return self._meta("dropped")

    # --- sending -------------------------------------------------------------------

    def due(self, *, ack_timeout_s: float, limit: int) -> list[tuple[int, str]]:
        """Messages to (re)send, in sequence order: never sent, or unacked too long,
        at most ``limit`` minus those still waiting for their ack."""
        with self._lock:
            cutoff = self._clock() - ack_timeout_s
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
                "SELECT seq, payload FROM outbox WHERE sent_at IS NULL OR sent_at < ? "
                "ORDER BY seq LIMIT ?",
                (cutoff, room),
            ).fetchall()
            return [(int(s), str(p)) for s, p in rows]

    def mark_sent(self, seqs: Iterable[int]) -> None:
        with self._lock:
            now = self._clock()
            self._db.executemany(
                "UPDATE outbox SET sent_at=?, attempts=attempts+1 WHERE seq=?",
                [(now, s) for s in seqs],
            )

    def reset_sent(self) -> None:
        """After a reconnect: everything unacknowledged goes again, in order."""
        with self._lock:
            self._db.execute("UPDATE outbox SET sent_at=NULL")

    def ack(self, seqs: Iterable[int]) -> int:
        """Forget acknowledged messages; returns how many were still here."""
        with self._lock:
            cur = self._db.executemany("DELETE FROM outbox WHERE seq=?", [(s,) for s in seqs])
            return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
