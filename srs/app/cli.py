"""``srs``: one command line for every SRS component.

Each component adds its own sub-commands through ``register(subparsers)`` in its
``cli`` module (see ``srs.subcommands``); handlers take ``(args, config)`` and return
an exit code. Heavy imports happen inside handlers so ``srs --help`` stays instant on
a Pi.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable

from srs import __version__
from srs.app.config import ConfigError, SrsConfig, load_config
from srs.app.extras import command_words, missing_module_sentence

# Modules that contribute sub-commands, in the order --help lists them.
COMPONENTS = (
    "srs.app.init",
    "broker.cli",
    "core.cli",
    "core.site_cli",
    "edge.cli",
    "gui.cli",
    "srs.app.demo",
)

EPILOG = """\
Every command reads the same configuration: --config FILE (or $SRS_CONFIG, or
./srs.toml), then SRS_<SECTION>__<KEY> environment variables (for secrets, e.g.
SRS_MQTT__PASSWORD), then --data-dir (or $SRS_DATA_DIR, default ./var).
See config/srs.example.toml and docs/ for details.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="srs",
        description="SRS: see who is where in the building, live, from camera nodes "
        "that publish signed face detections over MQTT.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"srs {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in COMPONENTS:
        importlib.import_module(module_name).register(sub)
    return parser


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    # Chatty libraries: their INFO lines say nothing an operator acts on.
    for noisy in ("alembic", "amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, getattr(logging, level)))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Every component's handler accepts the whole configuration (it reads its view).
    handler: Callable[[argparse.Namespace, SrsConfig], int] | None = getattr(args, "handler", None)
    if handler is None:
        (getattr(args, "group_parser", None) or parser).print_help()
        return 2
    try:
        cfg = load_config(args.config, data_dir=args.data_dir)
    except ConfigError as exc:
        print(f"srs: {exc}", file=sys.stderr)
        return 2
    if args.check_config:
        print(f"configuration OK (data dir: {cfg.data_dir})")
        return 0
    setup_logging(args.log_level or cfg.logging.level)
    # Keys, the database (face encodings) and state files: never world-readable.
    os.umask(0o027)
    try:
        return handler(args, cfg)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        sentence = missing_module_sentence(exc, command_words(argv or sys.argv[1:]))
        if sentence is None:
            raise
        print(f"srs: {sentence}", file=sys.stderr)
        return 2
    finally:
        # Run as root (an administrator's `srs user add`, `srs init`...): what it created
        # in a data dir the services own is handed to them, or they could not read it.
        import contextlib

        from srs.files import keep_owner

        with contextlib.suppress(OSError):  # never mask the command's own outcome
            keep_owner(cfg.data_dir)


if __name__ == "__main__":
    sys.exit(main())
