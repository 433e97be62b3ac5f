"""Engine, sessions and schema migration of the core database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from core.srs_config import SrsConfig

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def database_url(cfg: SrsConfig) -> str:
    if cfg.core.database_url:
        return cfg.core.database_url
    return f"sqlite:///{cfg.data_dir / 'srs.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the CLI read while the service writes; busy_timeout makes a writer
    # wait for the other instead of failing with "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    acfg = Config()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        acfg.attributes["connection"] = conn
        command.upgrade(acfg, "head")


class Database:
    """An engine plus a session factory; ``session()`` commits or rolls back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()


def open_database(cfg: SrsConfig, *, migrate_schema: bool = True) -> Database:
    engine = make_engine(database_url(cfg))
    if migrate_schema:
        migrate(engine)
    return Database(engine)
