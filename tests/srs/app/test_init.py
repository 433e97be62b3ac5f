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
    args = argparse.Namespace(rotate_core_password=False, env_file=None, tls_name=[])
    assert init.run(args, cfg) == 0
    out = capsys.readouterr()
    assert "First run: create the administrator" in out.out
    assert (tmp_path / "tls" / "ca.pem").is_file() and (tmp_path / "tls" / "broker.pem").is_file()
    assert "SHA-256 fingerprint" in out.out
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


def test_env_file_receives_cores_password_with_mode_0600(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = SrsConfig(data_dir=tmp_path / "var")
    env_file = tmp_path / "etc" / "core.env"
    args = argparse.Namespace(rotate_core_password=False, env_file=env_file)
    assert init.run(args, cfg) == 0
    user_line, line = env_file.read_text().strip().splitlines()
    assert user_line == "SRS_MQTT__USERNAME=core"
    assert line.startswith("SRS_MQTT__PASSWORD=")
    assert env_file.stat().st_mode & 0o777 == 0o600
    users = UserStore(default_path(cfg))
    assert users.verify("core", line.split("=", 1)[1])
    out = capsys.readouterr()
    assert line.split("=", 1)[1] not in out.out + out.err  # written, not printed
    rotate = argparse.Namespace(rotate_core_password=True, env_file=env_file)
    assert init.run(rotate, cfg) == 0
    assert env_file.read_text().strip().splitlines()[1] != line


def test_a_database_urls_password_is_not_printed() -> None:
    from core.config import CoreConfig

    cfg = SrsConfig(core=CoreConfig(database_url="postgresql://srs:s3cret@db.lan/srs"))
    shown = init._shown_url(cfg)
    assert "s3cret" not in shown and "db.lan" in shown
