"""The parts of SRS's configuration the dashboard reads.

The application loads the whole configuration once (``srs.app.config.SrsConfig``) and
passes it down. The dashboard names here only what it reads, so it imports nothing from
the application above it (docs/architecture.md); mypy checks that the whole
configuration provides every part.
"""

from __future__ import annotations

from typing import Protocol

from gui.config import GuiConfig
from srs.config import ClientConfig


class SrsConfig(ClientConfig, Protocol):
    """Read-only (loaded once): data_dir, keys_dir, [mqtt], [security], [gui]."""

    @property
    def gui(self) -> GuiConfig: ...
