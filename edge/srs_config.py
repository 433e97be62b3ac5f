"""The parts of SRS's configuration a camera node reads.

The application loads the whole configuration once (``srs.app.config.SrsConfig``) and
passes it down. The edge names here only what it reads, so it imports nothing from
the application above it (docs/architecture.md); mypy checks that the whole
configuration provides every part.
"""

from __future__ import annotations

from typing import Protocol

from edge.config import EdgeConfig
from srs.config import ClientConfig


class SrsConfig(ClientConfig, Protocol):
    """Read-only (loaded once): data_dir, keys_dir, [mqtt], [security], [edge]."""

    @property
    def edge(self) -> EdgeConfig: ...

    @property
    def data_dir_chosen(self) -> bool: ...
