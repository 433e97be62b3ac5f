"""An edge-only install answers server commands with one sentence naming the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from srs.app.extras import command_words, missing_module_sentence

# What a Pi with only `pip install 'srs[edge]'` lacks: the server and dashboard extras.
EDGE_ONLY = textwrap.dedent(
    """
    import importlib.abc, sys
    LACKING = {"sqlalchemy", "alembic", "amqtt", "argon2", "filelock", "PySide6"}
    class EdgeOnly(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in LACKING:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, EdgeOnly())
    from srs.app.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["user", "list"], "broker"),
        (["core"], "core"),
        (["gui"], "gui"),
        (["person", "list"], "core"),
        (["broker"], "broker"),
    ],
)
def test_edge_only_install_names_the_extra(tmp_path: Path, argv: list[str], extra: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", EDGE_ONLY, *argv, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"pip install 'srs[{extra}]'" in result.stderr
    assert f"'srs {' '.join(argv)}'" in result.stderr


def test_an_unrelated_missing_module_is_not_explained_away() -> None:
    exc = ModuleNotFoundError("No module named 'nosuch'", name="nosuch")
    assert missing_module_sentence(exc, "srs core") is None


def test_face_recognition_is_named_with_its_no_deps_install() -> None:
    exc = ModuleNotFoundError("No module named 'face_recognition'", name="face_recognition")
    sentence = missing_module_sentence(exc, "srs edge")
    assert sentence is not None and "--no-deps" in sentence


def test_command_words_stop_at_the_first_option() -> None:
    assert command_words(["user", "list", "--data-dir", "x"]) == "srs user list"
    assert command_words([]) == "srs"
