"""`srs` sub-commands of the edge component."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this component's commands to the `srs` parser."""
