"""The database engine: URL, driver and the timeouts every connection carries.

SQLite (the default, a file in the data dir) and PostgreSQL (``srs[postgres]``,
psycopg 3) are the engines SRS is tested on. A plain ``postgresql://`` URL means
psycopg 3 here: SQLAlchemy would otherwise pick psycopg2, which SRS does not ship.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from core.store.errors import StoreError

POSTGRES_DRIVER = "postgresql+psycopg"
DRIVER_MISSING = (
    "a PostgreSQL database_url needs the driver SRS ships in its postgres extra: "
    "pip install 'srs[postgres]'"
)


class DriverMissing(StoreError):
    """The database URL names an engine whose Python driver is not installed."""


@dataclass(frozen=True)
class Timeouts:
    """How long one statement may wait for a lock, and run at all (0: no limit).

    PostgreSQL: ``lock_timeout`` and ``statement_timeout`` of every connection, so a
    table held by someone else fails a batch (retried later) instead of stalling core.
    SQLite has one lock for the whole file: ``busy_timeout`` is the lock timeout, and
    it has no statement timeout."""

    lock_s: float = 10.0
    statement_s: float = 0.0


def normalise_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def _with_pg_options(url: URL, timeouts: Timeouts) -> URL:
    """Add the timeouts to libpq's ``options`` (kept: any the URL already has)."""
    settings = [
        f"-c lock_timeout={round(timeouts.lock_s * 1000)}",
        f"-c statement_timeout={round(timeouts.statement_s * 1000)}",
    ]
    existing = url.query.get("options")
    if isinstance(existing, tuple):
        existing = " ".join(existing)
    options = " ".join([existing, *settings] if existing else settings)
    return url.update_query_dict({"options": options})


def _sqlite_pragmas(busy_ms: int) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # WAL lets the CLI read while the service writes; busy_timeout makes a writer
        # wait for the other instead of failing with "database is locked".
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


def make_engine(url: str, timeouts: Timeouts | None = None) -> Engine:
    """An engine for ``url``; :class:`DriverMissing` names the extra to install."""
    timeouts = timeouts or Timeouts()
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if backend == "postgresql":
        parsed = _with_pg_options(parsed, timeouts)
        kwargs["pool_pre_ping"] = True  # a restarted server costs one reconnect, not a batch
    try:
        engine = create_engine(parsed, **kwargs)
    except ImportError as exc:
        if backend == "postgresql":
            raise DriverMissing(DRIVER_MISSING) from exc
        raise
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(round(timeouts.lock_s * 1000)))
    return engine
