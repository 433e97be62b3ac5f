"""gui/config.py: the [gui] section and where the pinned core key is found."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gui.config import GuiConfig, core_key_path


def test_an_explicit_key_file_wins(tmp_path: Path) -> None:
    pinned = tmp_path / "elsewhere.pub"
    (tmp_path / "core.key.pub").write_text("x")
    assert core_key_path(GuiConfig(core_public_key_file=pinned), tmp_path) == pinned


def test_the_default_key_file_is_pinned_only_when_it_exists(tmp_path: Path) -> None:
    assert core_key_path(GuiConfig(), tmp_path) is None  # trust on first use
    (tmp_path / "core.key.pub").write_text("x")
    assert core_key_path(GuiConfig(), tmp_path) == tmp_path / "core.key.pub"


@pytest.mark.parametrize(
    "field, value",
    [("offline_after_heartbeats", 1.0), ("frame_hz", 1000), ("max_events", 1), ("nope", 1)],
)
def test_bad_values_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        GuiConfig.model_validate({field: value})
