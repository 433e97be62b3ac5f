"""core/cli_cameras.py: `srs camera ...` and `srs sightings` through the real CLI entry point."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core import store
from core.cli_cameras import _evidence
from tests.core.ingest_helpers import camera_key, core_config
from tests.core.store.helpers import sighting_row
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


@pytest.fixture
def seen(tmp_path: Path) -> str:
    """A data dir whose store holds a camera, Ada and three sightings."""
    db = store.open_store(core_config(tmp_path))
    with db.session() as s:
        store.add_camera(s, "door", camera_key("door").public_key_b64)
        ada, _ = store.get_or_create_person(s, "Ada")
        sighting_row(s, "door", 1, time.time() - 30, person_id=ada.id, evidence="matched",
                     confidence=0.91, distance=0.31, x=1.0, y=2.0, zone="lab")  # fmt: skip
        sighting_row(s, "door", 2, time.time() - 20, evidence="carried", evidence_age_s=1.5)
        sighting_row(s, "door", 3, time.time() - 7200)
    db.close()
    return str(tmp_path)


def test_sightings_prints_who_where_and_how(seen: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "sightings", "--since", "1h", "--data-dir", seen)
    assert rc == 0
    lines = out.splitlines()
    assert len(lines) == 2  # the one two hours ago is older than --since
    assert "carried 1.5s" in lines[0]
    assert "Ada" in lines[1]
    assert "matched (0.91) d=0.31 at (1.0, 2.0) in lab" in lines[1]
    rc, out, _ = run(capsys, "sightings", "--person", "Ada", "--json", "--data-dir", seen)
    assert [r["seq"] for r in json.loads(out)] == [1]
    rc, out, _ = run(capsys, "sightings", "--camera", "hall", "--data-dir", seen)
    assert out.strip() == "no sightings match"
    rc, _, err = run(capsys, "sightings", "--since", "yesterday", "--data-dir", seen)
    assert rc == 1 and "ISO time" in err


def test_a_camera_with_sightings_is_removed_only_with_purge(
    seen: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = run(capsys, "camera", "remove", "door", "--data-dir", seen)
    assert rc == 1 and "has 3 sighting(s)" in err and "--purge" in err
    rc, out, _ = run(capsys, "camera", "remove", "door", "--purge", "--data-dir", seen)
    assert (rc, out.strip()) == (0, "camera door removed with its 3 sighting(s)")
    rc, out, _ = run(capsys, "camera", "list", "--data-dir", seen)
    assert "no cameras registered" in out


@pytest.mark.parametrize(
    "row, shown",
    [
        ({}, "-"),
        ({"evidence": "matched", "confidence": 0.5}, "matched (0.50)"),
        ({"evidence": "possible", "candidate": "Ada"}, "possibly Ada"),
        ({"evidence": "possible"}, "possibly ?"),
        ({"evidence": "unidentified", "confidence": 0.0}, "unidentified"),
    ],
)
def test_evidence_reads_as_a_short_phrase(row: dict[str, object], shown: str) -> None:
    assert _evidence(row) == shown
