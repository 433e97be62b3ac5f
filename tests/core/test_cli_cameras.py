"""core/cli_cameras.py: `srs camera ...` and `srs sightings` through the real CLI entry point."""

from __future__ import annotations

import json

from tests.core.ingest_helpers import camera_key
from tests.core.test_cli import run


def test_camera_registry_commands(tmp_path, capsys):
    d = str(tmp_path)
    key = camera_key("cam1")
    key_file = tmp_path / "camera-cam1.key"
    key.save(key_file)
    assert (
        run(capsys, "camera", "add", "cam1", "--key-file", f"{key_file}.pub", "--data-dir", d)[0]
        == 0
    )
    rc, _, err = run(capsys, "camera", "add", "cam2", "--public-key", "nonsense", "--data-dir", d)
    assert rc == 1 and "Ed25519" in err
    assert run(capsys, "camera", "disable", "cam1", "--data-dir", d)[0] == 0
    rc, out, _ = run(capsys, "camera", "list", "--json", "--data-dir", d)
    assert [(c["id"], c["enabled"], c["public_key"]) for c in json.loads(out)] == [
        ("cam1", False, key.public_key_b64)
    ]
    rc, _, err = run(capsys, "camera", "remove", "cam9", "--data-dir", d)
    assert rc == 1 and "no camera 'cam9'" in err
