"""`srs` sub-commands of the broker component: `srs broker [export]`, `srs user ...`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from broker.srs_config import SrsConfig
from srs.subcommands import add_command, add_group

if TYPE_CHECKING:
    from broker.users import UserStore

ROLE_HELP = (
    "camera (its own cameras/<id>/... topics; the user name IS the camera id), "
    "core, operator (GUI), integrator (positions and events only), admin (read-only, "
    "no detections)"
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this component's commands to the `srs` parser."""
    verbs = add_group(
        sub,
        "broker",
        help="run the embedded MQTT broker (or export its rules)",
        description="Without a verb: run the embedded, hardened amqtt broker in "
        "the foreground until SIGTERM/SIGINT.",
    )
    group = sub.choices["broker"]
    group.set_defaults(handler=_run)
    # `srs broker --config FILE` (no verb) must take the common options too.
    group.add_argument("--config", type=Path, metavar="FILE", help="TOML configuration file")
    group.add_argument("--data-dir", type=Path, metavar="DIR", help="data directory")
    group.add_argument("--check-config", action="store_true", help="validate and exit")
    group.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p = add_command(
        verbs,
        "export",
        _export,
        help="write Mosquitto's or NATS's config, passwords and ACL",
        description="Write mosquitto.conf, passwd and acl (--format mosquitto) or "
        "nats-server.conf (--format nats) enforcing the same users and rules as the "
        "embedded broker (see docs/broker.md).",
    )
    p.add_argument("--format", choices=["mosquitto", "nats"], default="mosquitto")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.add_argument(
        "--owner",
        metavar="USER",
        help="the user the broker runs as, who must read the files (default: "
        "mosquitto or nats when run as root and that user exists)",
    )

    users = add_group(
        sub, "user", help="manage broker users (roles: camera, core, operator, integrator, admin)"
    )
    p = add_command(users, "add", _user_add, help="add a user; prints a generated password once")
    p.add_argument("name", help="user name (a camera's user name is its camera id)")
    p.add_argument(
        "--role",
        required=True,
        choices=["camera", "core", "operator", "integrator", "admin"],
        help=ROLE_HELP,
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of generating",
    )
    p = add_command(users, "list", _user_list, help="list users and roles")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add_command(users, "remove", _user_remove, help="remove a user (takes effect at once)")
    p.add_argument("name")
    p = add_command(
        users, "passwd", _user_passwd, help="set a new password (generated unless --password-stdin)"
    )
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true")


def _store(cfg: SrsConfig) -> UserStore:
    from broker.users import UserStore, default_path

    return UserStore(default_path(cfg))


def _read_password(args: argparse.Namespace) -> str | None:
    if not args.password_stdin:
        return None
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


def _fail(message: str) -> int:
    print(f"srs: {message}", file=sys.stderr)
    return 1


def _run(args: argparse.Namespace, cfg: SrsConfig) -> int:
    import logging

    from broker.server import BrokerStartError, run_foreground

    logging.getLogger("transitions").setLevel(logging.WARNING)  # amqtt's state-machine chatter
    # amqtt's DEBUG lines dump whole payloads (face encodings): never below INFO, and
    # no chattier than the configured level ([logging] level = "WARNING" is quiet).
    logging.getLogger("amqtt").setLevel(max(logging.INFO, logging.getLogger().level))
    try:
        return run_foreground(cfg)
    except BrokerStartError as exc:
        return _fail(str(exc))


def _export(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from broker import export, export_nats

    nats = args.format == "nats"
    owner = args.owner or export.default_owner(
        export_nats.NATS_USER if nats else export.MOSQUITTO_USER
    )
    skipped: list[str] = []
    try:
        if nats:
            paths, skipped = export_nats.export_nats(cfg, _store(cfg), args.out, owner)
        else:
            paths = export.export_mosquitto(cfg, _store(cfg), args.out, owner)
    except (OSError, ValueError) as exc:  # UserError is a ValueError
        return _fail(str(exc))
    for path in paths:
        print(f"wrote {path}" + (f" (owner {owner})" if owner else ""))
    for name in skipped:
        print(f"left out user {name}: set its password again (`srs user passwd {name}`)")
    print(f"run: {'nats-server' if nats else 'mosquitto'} -c {paths[-1]}")
    hint = export_nats.RELOAD_HINT if nats else export.RELOAD_HINT
    print(f"after `srs user` changes: export again, then {hint}")
    return 0


def _user_add(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from broker.users import UserError

    try:
        password = _store(cfg).add(args.name, args.role, _read_password(args))
    except (OSError, UserError) as exc:
        return _fail(str(exc))
    print(f"added {args.name} ({args.role})")
    if not args.password_stdin:
        print(f"password (shown once, store it now): {password}")
    return 0


def _user_list(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from broker.users import UserError

    try:
        users = _store(cfg).list()
    except (OSError, UserError) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([{"name": u.name, "role": u.role} for u in users]))
    else:
        for u in users:
            print(f"{u.name:<32} {u.role}")
        if not users:
            print("no broker users yet: add one with `srs user add NAME --role ROLE`")
    return 0


def _user_remove(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from broker.users import UserError

    try:
        _store(cfg).remove(args.name)
    except (OSError, UserError) as exc:
        return _fail(str(exc))
    print(f"removed {args.name}")
    return 0


def _user_passwd(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from broker.users import UserError, generate_password

    password = _read_password(args)
    if password is None:
        password = generate_password()
    try:
        _store(cfg).set_password(args.name, password)
    except (OSError, UserError) as exc:
        return _fail(str(exc))
    print(f"new password set for {args.name}")
    if not args.password_stdin:
        print(f"password (shown once, store it now): {password}")
    return 0
