"""How a component adds sub-commands: leaf commands carry the common options."""

from __future__ import annotations

import argparse

from srs.subcommands import add_command, add_group


def _handler(args: argparse.Namespace, config: object) -> int:
    return 0


def test_a_leaf_command_takes_the_common_options_and_its_handler() -> None:
    parser = argparse.ArgumentParser(prog="srs")
    sub = parser.add_subparsers()
    add_command(sub, "run", _handler, help="run it")
    args = parser.parse_args(["run", "--data-dir", "/tmp/x", "--log-level", "DEBUG"])
    assert args.handler is _handler and str(args.data_dir) == "/tmp/x"
    assert args.log_level == "DEBUG" and args.config is None and not args.check_config


def test_a_group_has_verbs_and_no_handler_of_its_own() -> None:
    parser = argparse.ArgumentParser(prog="srs")
    verbs = add_group(parser.add_subparsers(), "person", help="people")
    add_command(verbs, "list", _handler, help="list them")
    assert parser.parse_args(["person"]).handler is None
    assert parser.parse_args(["person", "list"]).handler is _handler
