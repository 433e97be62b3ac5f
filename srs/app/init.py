"""``srs init``: prepare a data directory for a real installation.

Idempotent: an existing key, database or user is kept (and said so); only
``--rotate-core-password`` replaces core's broker password.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from srs.app.config import SrsConfig
from srs.wire import SigningKey, topics

if TYPE_CHECKING:
    from broker.users import UserStore


def register(sub: argparse._SubParsersAction) -> None:
    from srs.subcommands import add_command

    p = add_command(
        sub,
        "init",
        run,
        help="prepare the data dir: core key, database, core's broker user",
        description=__doc__,
    )
    p.add_argument(
        "--rotate-core-password",
        action="store_true",
        help="give core's broker user a new password (prints it once)",
    )
    p.add_argument(
        "--tls-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a name or address camera nodes and dashboards use to reach this server "
        "(repeat for several); the broker's certificate covers it, this host's names "
        "and loopback",
    )
    p.add_argument(
        "--env-file",
        type=Path,
        metavar="PATH",
        help="write core's broker user and new password there (SRS_MQTT__USERNAME, "
        "SRS_MQTT__PASSWORD; mode 0600; srs-core.service reads /etc/srs/core.env) "
        "instead of printing the password",
    )


def run(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from broker.users import UserStore, default_path
    from core.store import StoreError
    from core.store.db import open_database

    cfg.data_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    key_path = cfg.keys_dir / "core.key"
    existed = key_path.exists()
    key = SigningKey.load_or_create(topics.CORE_SENDER, key_path)
    print(f"core signing key: {key_path} ({'kept' if existed else 'created'})")
    print(f"  public key (give to camera nodes and integrators): {key.public_key_b64}")

    _tls(cfg, getattr(args, "tls_name", []))

    try:
        db = open_database(cfg)  # creates and migrates the schema
    except StoreError as exc:  # e.g. a PostgreSQL URL without its driver
        print(f"srs: {exc}", file=sys.stderr)
        return 1
    db.close()
    print(f"database: {_shown_url(cfg)} (migrated)")

    users = UserStore(default_path(cfg))
    if users.role_of("core") is None:
        password = users.add("core", "core")
        _hand_over("core's broker password", password, args.env_file)
    elif args.rotate_core_password:
        password = _rotate(users)
        _hand_over("core's new broker password", password, args.env_file)
    else:
        print("broker user core: kept (use --rotate-core-password for a new password)")

    if not any(u.role == "admin" for u in users.list()):
        _first_run_code(users)
    print("\nNext: see docs/deploy.md (systemd units, cameras, site file).")
    return 0


def _tls(cfg: SrsConfig, names: list[str]) -> None:
    from broker.tls import ensure_broker_cert, ensure_ca, fingerprint, tls_files

    files = tls_files(cfg)
    made_ca = ensure_ca(files)
    print(f"site CA: {files.ca_cert} ({'created' if made_ca else 'kept'}; give it to clients)")
    print(f"  SHA-256 fingerprint: {fingerprint(files.ca_cert)}")
    if cfg.broker.cert_file:
        print(f"broker certificate: {cfg.broker.cert_file} (configured in [broker])")
        return
    existed = files.cert.is_file()
    made = ensure_broker_cert(files, names)
    state = "kept" if not made else "re-issued: restart the broker" if existed else "issued"
    print(f"broker certificate: {files.cert} ({state}) for")
    from broker.tls import covered_names

    print("  " + ", ".join(sorted(covered_names(files.cert))))


def _first_run_code(users: UserStore) -> None:
    import time

    from broker.bootstrap import issue

    code, expires_at = issue(users)  # a new code each run; an earlier one stops working
    until = time.strftime("%H:%M", time.localtime(expires_at))
    print(
        '\nNo administrator yet. In the dashboard (srs gui) choose "First run: create '
        'the administrator" and enter the one-time code below (valid until '
        f"{until}, 15 minutes; run `srs init` again for a new one). Or on this server:\n"
        "  srs user add NAME --role admin\n"
        "and operators for the security desk with --role operator."
    )
    print("first-run code (shown once, works once):", file=sys.stderr)
    print(f"  {code}", file=sys.stderr)


def _rotate(users: UserStore) -> str:
    from broker.users import generate_password

    password = generate_password()
    users.set_password("core", password)
    return password


def _shown_url(cfg: SrsConfig) -> str:
    """The database, without a password a PostgreSQL URL may carry."""
    if not cfg.core.database_url:
        return str(cfg.data_dir / "srs.db")
    from sqlalchemy.engine import make_url

    return make_url(cfg.core.database_url).render_as_string(hide_password=True)


def _hand_over(what: str, secret: str, env_file: Path | None) -> None:
    if env_file is None:
        _print_secret(what, secret)
        return
    env_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = env_file.with_name(env_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"SRS_MQTT__USERNAME=core\nSRS_MQTT__PASSWORD={secret}\n")
    os.replace(tmp, env_file)
    print(f"{what}: written to {env_file} (mode 0600, as SRS_MQTT__PASSWORD)")


def _print_secret(what: str, secret: str) -> None:
    # Printed once, to the terminal only: it is not stored anywhere in clear.
    print(
        f"{what} (shown once; put it in core's environment as SRS_MQTT__PASSWORD):", file=sys.stderr
    )
    print(f"  {secret}", file=sys.stderr)
