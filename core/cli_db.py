"""`srs db`: the database itself (schema upgrades ahead of a rollout)."""

from __future__ import annotations

import argparse

from core.srs_config import SrsConfig


def register_db(sub: argparse._SubParsersAction) -> None:
    from srs.subcommands import add_command, add_group

    db = add_group(sub, "db", help="the core database: upgrade its schema")
    add_command(
        db,
        "upgrade",
        db_upgrade,
        help="migrate the database to this version's schema, then exit",
        description="Migrate the configured database ([core] database_url) to the newest "
        "schema. Every core instance also does it when it starts, one at a time under a "
        "lock; run this once before starting many instances of a new version, so none "
        "of them waits for a long upgrade.",
    )


def shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def db_upgrade(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.cli_util import fail
    from core.store import StoreError
    from core.store.db import database_url, engine_for
    from core.store.schema import current_revision, migrate

    try:
        engine = engine_for(cfg)
    except StoreError as exc:
        return fail(str(exc))
    try:
        before = migrate(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    change = "already there" if before == after else f"was {before or 'empty'}"
    print(f"database {shown_url(database_url(cfg))}: schema {after} ({change})")
    return 0
