"""srs.files: what root creates in a data dir keeps the data dir's owner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from srs.files import adopt_owner, keep_owner, make_dirs

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown)")
NOBODY = 65534


def _owner(p: Path) -> tuple[int, int]:
    st = p.lstat()
    return st.st_uid, st.st_gid


def test_new_dirs_and_files_take_their_parents_owner(tmp_path: Path) -> None:
    os.chown(tmp_path, NOBODY, NOBODY)
    make_dirs(tmp_path / "a" / "b", 0o700)
    assert _owner(tmp_path / "a") == _owner(tmp_path / "a" / "b") == (NOBODY, NOBODY)
    f = tmp_path / "a" / "b" / "key"
    f.write_text("secret")
    adopt_owner(f, f.parent)
    assert _owner(f) == (NOBODY, NOBODY)


def test_keep_owner_hands_roots_files_to_the_data_dirs_owner(tmp_path: Path) -> None:
    data = tmp_path / "var"
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "core.key").write_text("k")
    (data / "srs.db").write_text("db")
    os.chown(data, NOBODY, NOBODY)
    assert keep_owner(data) == 3
    assert _owner(data / "keys" / "core.key") == (NOBODY, NOBODY)
    assert keep_owner(data) == 0


def test_a_data_dir_root_owns_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert keep_owner(tmp_path) == 0
    assert _owner(tmp_path / "f")[0] == 0
