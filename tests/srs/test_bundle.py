"""srs/bundle.py: the camera bundle round-trips, stays private and refuses junk by name."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from srs.bundle import MAX_BYTES, BundleBroker, BundleError, CameraBundle
from srs.wire.keys import SigningKey

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def bundle(**changes: object) -> CameraBundle:
    fields: dict[str, object] = {
        "camera_id": "door",
        "private_key_pem": SecretStr("-----BEGIN PRIVATE KEY-----\nx\n"),
        "broker": BundleBroker(
            host="srs.local", port=8883, username="door", password=SecretStr("s3cret")
        ),
        "ca_pem": CA,
        "core_public_key": SigningKey.generate("core").public_key_b64,
        "edge": {"source": "picamera2"},
    }
    return CameraBundle.model_validate({**fields, **changes})


def test_a_saved_bundle_is_private_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "door.bundle"
    original = bundle()
    original.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = CameraBundle.load(path)
    assert loaded == original
    assert loaded.broker.password.get_secret_value() == "s3cret"
    assert loaded.edge == {"source": "picamera2"}


def test_the_file_holds_the_secrets_but_repr_does_not() -> None:
    data = json.loads(bundle().dumps())
    assert data["broker"]["password"] == "s3cret"
    assert data["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert "s3cret" not in repr(bundle())


@pytest.mark.parametrize(
    "changes",
    [
        {"camera_id": "hall/door"},
        {"ca_pem": "not a certificate"},
        {"core_public_key": "short"},
        {"version": 2},
    ],
)
def test_bad_fields_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        bundle(**changes)


def test_load_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no bundle at"):
        CameraBundle.load(tmp_path / "missing.bundle")
    big = tmp_path / "big.bundle"
    big.write_bytes(b" " * (MAX_BYTES + 1))
    with pytest.raises(BundleError, match="too large"):
        CameraBundle.load(big)
    other = tmp_path / "other.bundle"
    other.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(BundleError, match=r"is not a camera bundle.*format"):
        CameraBundle.load(other)
