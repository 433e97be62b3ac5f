"""core/cli_util.py: the small helpers of the core CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core import store
from core.cli_util import emit_json, fail, iso, parse_since, read_public_key, with_store
from srs.wire import SigningKey
from tests.core.ingest_helpers import core_config


def test_parse_since() -> None:
    assert parse_since("30m", now=10_000.0) == 10_000.0 - 1800
    assert parse_since("2d", now=200_000.0) == 200_000.0 - 2 * 86400
    assert parse_since("2026-01-01T00:00:00Z") == 1767225600.0
    with pytest.raises(ValueError, match="ISO time"):
        parse_since("yesterday")


def test_a_naive_iso_time_is_utc_and_ages_may_be_fractional() -> None:
    assert parse_since("2026-01-01T00:00:00") == 1767225600.0
    assert parse_since(" 1.5h ", now=10_000.0) == 10_000.0 - 5400


def test_a_public_key_is_read_from_a_pub_file_or_a_pem(tmp_path: Path) -> None:
    key = SigningKey.generate("camera:door")
    key.save(tmp_path / "door.key")
    assert read_public_key(tmp_path / "door.key.pub") == key.public_key_b64
    pem = tmp_path / "door.pem"
    pem.write_bytes(
        key.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert read_public_key(pem) == key.public_key_b64
    rsa_pem = tmp_path / "rsa.pem"
    rsa_pem.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="not Ed25519"):
        read_public_key(rsa_pem)


def test_output_helpers(capsys: pytest.CaptureFixture[str]) -> None:
    assert iso(None) == "-"
    assert iso(1767225600.0) == "2026-01-01 00:00:00"
    emit_json({"at": Path("/x"), "n": 1})
    assert json.loads(capsys.readouterr().out) == {"at": "/x", "n": 1}
    assert fail("no camera 'cam9'") == 1
    assert capsys.readouterr().err == "srs: no camera 'cam9'\n"


def test_with_store_runs_one_transaction_or_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = core_config(tmp_path)
    key = SigningKey.generate("camera:door").public_key_b64
    assert with_store(cfg, lambda s: store.add_camera(s, "door", key).id) == (0, "door")
    assert with_store(cfg, lambda s: store.add_camera(s, "door", key)) == (1, None)
    assert "already registered" in capsys.readouterr().err
    rc, cams = with_store(cfg, store.list_cameras)
    assert (rc, [c.id for c in cams]) == (0, ["door"])
