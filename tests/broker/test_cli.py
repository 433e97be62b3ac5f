"""`srs user ...` and `srs broker export` through the real command line."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from broker.users import UserStore
from srs.app.cli import main


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def test_user_lifecycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SRS_CONFIG", raising=False)
    code, out, _ = run(capsys, tmp_path, "user", "add", "cam1", "--role", "camera")
    assert code == 0
    password = out.split("store it now): ")[1].strip()
    store = UserStore(tmp_path / "broker" / "users.json")
    assert store.verify("cam1", password)

    monkeypatch.setattr(sys, "stdin", io.StringIO("operator-password\n"))
    code, out, _ = run(
        capsys, tmp_path, "user", "add", "op1", "--role", "operator", "--password-stdin"
    )
    assert code == 0 and "operator-password" not in out
    assert store.verify("op1", "operator-password")

    code, out, _ = run(capsys, tmp_path, "user", "list", "--json")
    assert json.loads(out) == [
        {"name": "cam1", "role": "camera"},
        {"name": "op1", "role": "operator"},
    ]

    code, out, _ = run(capsys, tmp_path, "user", "passwd", "op1")
    assert code == 0
    assert store.verify("op1", out.split("store it now): ")[1].strip())

    code, _, err = run(capsys, tmp_path, "user", "add", "cam1", "--role", "camera")
    assert code == 1 and "already exists" in err
    code, _, err = run(capsys, tmp_path, "user", "add", "a/b", "--role", "camera")
    assert code == 1 and "not valid" in err

    assert run(capsys, tmp_path, "user", "remove", "cam1")[0] == 0
    code, _, err = run(capsys, tmp_path, "user", "remove", "cam1")
    assert code == 1 and "no user" in err

    code, out, _ = run(capsys, tmp_path, "broker", "export", "--out", str(tmp_path / "mq"))
    assert code == 0 and (tmp_path / "mq" / "mosquitto.conf").exists()


def test_export_for_nats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SRS_CONFIG", raising=False)
    assert run(capsys, tmp_path, "user", "add", "cam1", "--role", "camera")[0] == 0
    out_dir = tmp_path / "nats"
    code, out, _ = run(
        capsys, tmp_path, "broker", "export", "--format", "nats", "--out", str(out_dir)
    )
    assert code == 0 and '"cam1"' in (out_dir / "nats-server.conf").read_text()
    assert "run: nats-server -c" in out and "nats-server" in out.rsplit("then ", 1)[1]
