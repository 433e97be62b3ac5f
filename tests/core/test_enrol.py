"""core.enrol on real photos: one face each, clear sentences for the rest, a quiet bar."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core import enrol, store
from tests.core.ingest_helpers import core_config


def test_a_portrait_gives_one_encoding(media: Path) -> None:
    result = enrol.encode_image(media / "faces/train/obama/obama.jpg")
    assert result.problem is None and result.encoding is not None
    assert result.encoding.shape == (128,)


def test_a_photo_of_two_people_is_refused_with_a_sentence(media: Path) -> None:
    result = enrol.encode_image(media / "faces/two_people.jpg")
    assert result.encoding is None
    assert result.problem == "2 faces found (enrol photos must show one person)"


def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    result = enrol.encode_image(bad)
    assert result.encoding is None and result.problem is not None
    assert result.problem.startswith("cannot read the image")


def test_import_off_a_terminal_prints_no_progress_bar(
    tmp_path: Path, media: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "people"
    shutil.copytree(media / "faces/train/obama", root / "Barack Obama")
    assert set(enrol.scan_folder(root)) == {"Barack Obama"}
    db = store.open_store(core_config(tmp_path / "var"))
    try:
        summary = enrol.import_people(db, root, progress=True)
    finally:
        db.close()
    assert [entry["name"] for entry in summary] == ["Barack Obama"]
    assert capsys.readouterr().err == ""  # captured output is no terminal: no bar
