"""`srs init` prints a one-time first-run code while no administrator exists."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from broker.users import UserStore, default_path
from srs.app import init
from srs.app.config import SrsConfig


def test_init_issues_a_fresh_first_run_code_until_an_admin_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = SrsConfig(data_dir=tmp_path)
    args = argparse.Namespace(rotate_core_password=False)
    assert init.run(args, cfg) == 0
    out = capsys.readouterr()
    assert "First run: create the administrator" in out.out
    code = out.err.split("first-run code (shown once, works once):")[1].split()[0]
    users = UserStore(default_path(cfg))
    assert users.role_of("bootstrap") == "bootstrap" and users.verify("bootstrap", code)
    assert code not in out.out  # secrets go to the terminal's stderr only
    assert init.run(args, cfg) == 0  # a second run: a new code, the old one is dead
    again = capsys.readouterr().err.split("works once):")[1].split()[0]
    assert again != code and not users.verify("bootstrap", code)
    users.add("root", "admin", "root-password-123")
    users.remove("bootstrap")
    assert init.run(args, cfg) == 0
    assert "first-run code" not in capsys.readouterr().err
    assert users.role_of("bootstrap") is None
