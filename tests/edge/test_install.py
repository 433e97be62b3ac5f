"""`srs edge install BUNDLE`: a Pi set up from one file, idempotent, --dry-run, --root."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from core.provision import provision
from edge.install import MARKER, Installer
from srs.bundle import BundleError, CameraBundle
from srs.wire.signing import SigningKey
from tests.site_helpers import server_config

AS_ROOT = os.geteuid() == 0
USER = "nobody" if AS_ROOT else pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> CameraBundle:
    cfg = server_config(tmp_path_factory.mktemp("server"))
    return provision(cfg, "lobby", host="srs.lan", edge={"source": "rtsp://10.0.0.7/s"}).bundle


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_dry_run_says_everything_and_writes_nothing(bundle: CameraBundle, tmp_path: Path) -> None:
    said: list[str] = []
    Installer(bundle, root=tmp_path, user=USER, dry_run=True, say=said.append).run()
    assert _files(tmp_path) == []
    text = "\n".join(said)
    assert "would: write" in text and "edge-lobby.env (mode 600, secret)" in text
    assert bundle.broker.password.get_secret_value() not in text


def test_install_writes_private_secrets_for_the_service_user(
    bundle: CameraBundle, tmp_path: Path
) -> None:
    said: list[str] = []
    Installer(bundle, root=tmp_path, user=USER, say=said.append).run()
    etc, var = tmp_path / "etc" / "srs", tmp_path / "var" / "lib" / "srs"
    uid = pwd.getpwnam(USER).pw_uid
    for secret in (etc / "edge-lobby.env", var / "keys" / "camera-lobby.key"):
        assert secret.stat().st_mode & 0o777 == 0o600, secret
        assert secret.stat().st_uid == uid, secret
    assert (var / "keys").stat().st_mode & 0o777 == 0o700
    password = bundle.broker.password.get_secret_value()
    assert (etc / "edge-lobby.env").read_text() == f"SRS_MQTT__PASSWORD={password}\n"
    key = SigningKey.load("camera:lobby", var / "keys" / "camera-lobby.key")
    assert (var / "keys" / "camera-lobby.key.pub").read_text().strip() == key.public_key_b64
    assert (var / "keys" / "core.key.pub").read_text().strip() == bundle.core_public_key
    toml = (etc / "srs.toml").read_text()
    assert 'host = "srs.lan"' in toml and "tls = true" in toml and password not in toml
    assert 'source = "rtsp://10.0.0.7/s"' in toml
    unit = (tmp_path / "etc" / "systemd" / "system" / "srs-edge@.service").read_text()
    assert "/opt/srs/.venv/bin/srs" not in unit and "Type=notify" in unit
    assert any("systemctl enable --now srs-edge@lobby" in line for line in said)

    # Idempotent: a second run changes nothing and says so.
    again = Installer(bundle, root=tmp_path, user=USER, say=lambda s: None)
    again.run()
    assert again.changed == 0


def test_a_config_someone_else_wrote_is_kept(bundle: CameraBundle, tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "srs"
    etc.mkdir(parents=True)
    (etc / "srs.toml").write_text('[edge]\nsource = "1"\n')
    said: list[str] = []
    Installer(bundle, root=tmp_path, user=USER, say=said.append).run()
    assert (etc / "srs.toml").read_text() == '[edge]\nsource = "1"\n'
    assert any(line.startswith(f"kept {etc / 'srs.toml'}") for line in said)
    assert not (etc / "srs.toml").read_text().startswith(MARKER)


def test_a_damaged_bundle_is_named_not_dumped(tmp_path: Path) -> None:
    bad = tmp_path / "cam.bundle"
    bad.write_text('{"format": "srs-camera-bundle", "camera_id": "x y"}')
    with pytest.raises(BundleError, match="is not a camera bundle"):
        CameraBundle.load(bad)
    with pytest.raises(BundleError, match="no bundle"):
        CameraBundle.load(tmp_path / "missing.bundle")
