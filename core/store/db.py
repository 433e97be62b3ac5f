"""Engine, sessions and schema migration of the core database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.srs_config import SrsConfig
from core.store.engine import Timeouts, make_engine
from core.store.schema import MIGRATIONS, migrate

log = logging.getLogger(__name__)

__all__ = [
    "MIGRATIONS",
    "Database",
    "database_url",
    "engine_for",
    "make_engine",
    "migrate",
    "open_database",
]


def database_url(cfg: SrsConfig) -> str:
    if cfg.core.database_url:
        return cfg.core.database_url
    return f"sqlite:///{cfg.data_dir / 'srs.db'}"


def engine_for(cfg: SrsConfig) -> Engine:
    """The configured database's engine, with the configured timeouts."""
    timeouts = Timeouts(
        lock_s=cfg.core.database_lock_timeout_s,
        statement_s=cfg.core.database_statement_timeout_s,
    )
    return make_engine(database_url(cfg), timeouts)


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
    engine = engine_for(cfg)
    if migrate_schema:
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
    return Database(engine)
