"""gui/core_key.py: which core key the dashboard trusts (pinned, or first seen)."""

from __future__ import annotations

import pytest

from gui.core_key import load_pinned


def test_pinned_key_file_problems_are_sentences(tmp_path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_pinned(tmp_path / "missing.pub")
    bad = tmp_path / "bad.pub"
    bad.write_text("not-a-key")
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        load_pinned(bad)
