"""`srs site` commands (validate and summarise the site model)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.srs_config import SrsConfig
from srs.subcommands import add_command, add_group


def register(sub: argparse._SubParsersAction) -> None:
    """Add `srs site ...` to the `srs` parser."""
    site = add_group(sub, "site", help="the site model: floor plan, cameras, zones")
    check = add_command(
        site,
        "check",
        _check,
        help="validate a site file and print a summary",
        description="Validate a site file (floor plan, camera poses, zones) and print "
        "its size, zones (area, restricted) and cameras (pose), or every "
        "problem found. Exit status 2 when the file is not usable.",
    )
    check.add_argument(
        "file", nargs="?", type=Path, metavar="FILE", help="site file (default: [core] site_file)"
    )


def _check(args: argparse.Namespace, cfg: SrsConfig) -> int:
    from core.site import SiteError, load_site, summary

    path: Path | None = args.file or cfg.core.site_file
    if path is None:
        print("srs site check: no site file: pass FILE or set [core] site_file", file=sys.stderr)
        return 2
    try:
        site = load_site(path)
    except OSError as exc:
        print(f"srs site check: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except SiteError as exc:
        print(f"srs site check: {exc.source} is not a usable site file:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print(f"{path}: OK")
    print(summary(site))
    return 0
