"""How a component adds its sub-commands to ``srs``.

Each component's ``cli`` module has ``register(subparsers)``, which calls
:func:`add_command` (a leaf command) or :func:`add_group` (a command with verbs).
Handlers take ``(args, config)`` and return an exit code; the application
(``srs.app.cli``) parses, loads the configuration once and calls them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

# The configuration a handler reads: each component names its own view of it
# (<component>/srs_config.py); the application passes the whole SrsConfig.
Config = TypeVar("Config")
Handler = Callable[[argparse.Namespace, Config], int]


def common_options() -> argparse.ArgumentParser:
    """Options every leaf command accepts (also after the sub-command name)."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML configuration file (default: $SRS_CONFIG or ./srs.toml)",
    )
    g.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where the database, keys and state live (default: ./var)",
    )
    g.add_argument(
        "--check-config",
        action="store_true",
        help="validate the configuration, print a summary and exit",
    )
    g.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="override [logging] level",
    )
    return p


COMMON = common_options()


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    handler: Handler[Config] | None,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """Add a leaf command with the common options; ``handler`` runs it."""
    parser = sub.add_parser(
        name,
        help=help,
        description=description or help,
        parents=[COMMON],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def add_group(
    sub: argparse._SubParsersAction, name: str, help: str, description: str | None = None
) -> argparse._SubParsersAction:
    """Add a command with its own verbs (``srs person add``...)."""
    parser = sub.add_parser(name, help=help, description=description or help)
    parser.set_defaults(handler=None, group_parser=parser)
    return parser.add_subparsers(title="verbs", metavar="VERB")
