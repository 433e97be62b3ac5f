"""Schema migration (alembic ``upgrade head``), safe when several instances start at once.

Every core instance, `srs init` and `srs db upgrade` migrate before they use the
database. Without a lock, three processes starting on an empty PostgreSQL database
raced through the same CREATE TABLEs and two of them crashed. Now the upgrade runs
under a lock held for its whole transaction: PostgreSQL's advisory lock (keyed by
the schema, so two SRS sites in one database do not wait for each other), or a
file lock next to an SQLite database. Whoever waited finds the schema at head and
does nothing.

A database already at head (every start but the first after an upgrade) is told so
without alembic: importing it cost 0.6 s of each core start, and core's start-up is
most of its recovery after a crash (issue 21: everything stored within 3 s).
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# First key of PostgreSQL's two-key advisory lock: "SRS" in ASCII, so other
# applications' locks in the same database are unlikely to collide.
PG_LOCK_KEY = 0x535253


_ASSIGNED = re.compile(r"""^(revision|down_revision)\s*=\s*['"]([^'"]+)['"]""", re.MULTILINE)


def head_revision(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The newest migration, read from the files (the revision none revises); None
    when that is not one (a branch, a merge): alembic decides then."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions.glob("*.py"):
        for name, value in _ASSIGNED.findall(path.read_text()):
            (revisions if name == "revision" else revised).add(value)
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> str | None:
    """The head revision if the database is at it already, else None."""
    head = head_revision()
    if head is None:
        return None
    try:
        with engine.connect() as conn:
            found = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except SQLAlchemyError:  # never migrated (no such table), or unreadable: alembic's turn
        return None
    return head if found == [head] else None


def _alembic_upgrade(conn: Connection) -> str | None:
    """Upgrade to head; the revision found first (None: an empty database)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    found = MigrationContext.configure(conn).get_current_revision()

    acfg = Config()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    acfg.attributes["connection"] = conn
    command.upgrade(acfg, "head")
    return found


def _sqlite_lock(engine: Engine) -> AbstractContextManager[object]:
    path = engine.url.database
    if not path or path == ":memory:":
        return nullcontext()
    from filelock import FileLock

    return FileLock(f"{path}.migrate-lock")


def migrate(engine: Engine) -> str | None:
    """Bring the schema to the newest revision, one migrating process at a time.

    Returns the revision the database was at when this process got the lock."""
    at_head = _at_head(engine)
    if at_head is not None:
        return at_head
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # A large table's upgrade may take longer than a batch is allowed, and
            # waiting for another instance's upgrade is the point.
            conn.execute(text("SET LOCAL lock_timeout = 0"))
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"),
                {"key": PG_LOCK_KEY},
            )
            return _alembic_upgrade(conn)
    lock = _sqlite_lock(engine) if engine.dialect.name == "sqlite" else nullcontext()
    with lock, engine.begin() as conn:
        return _alembic_upgrade(conn)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
