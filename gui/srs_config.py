"""The parts of SRS's configuration the dashboard reads.

The application loads the whole configuration once (``srs.app.config.SrsConfig``) and
passes it down. The dashboard names here only what it reads, so it imports nothing from
the application above it (docs/architecture.md); mypy checks that the whole
configuration provides every part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from gui.config import GuiConfig
from srs.config import MqttConfig, SecurityConfig


class SrsConfig(Protocol):
    """Read-only (loaded once): data_dir, keys_dir, [mqtt], [security], [gui]."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def keys_dir(self) -> Path: ...

    @property
    def mqtt(self) -> MqttConfig: ...

    @property
    def security(self) -> SecurityConfig: ...

    @property
    def gui(self) -> GuiConfig: ...
