"""``srs demo``: the whole system on the bundled footage."""

from __future__ import annotations

import argparse

from srs.config import SrsConfig


def register(sub: argparse._SubParsersAction) -> None:
    from srs.cli import add_command

    add_command(sub, "demo", run, help="run the whole system on the bundled sample footage")


def run(args: argparse.Namespace, cfg: SrsConfig) -> int:
    print("srs demo: not built yet")
    return 0
