"""`srs site` commands (validate and summarise the site model)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add `srs site ...` to the `srs` parser."""
