"""The parts of SRS's configuration the embedded broker reads.

The application loads the whole configuration once (``srs.app.config.SrsConfig``) and
passes it down. The broker names here only what it reads, so it imports nothing from
the application above it (docs/architecture.md); mypy checks that the whole
configuration provides every part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from broker.config import BrokerConfig


class DataDir(Protocol):
    """Only where the data live: all the users file's default path needs."""

    @property
    def data_dir(self) -> Path: ...


class Audience(Protocol):
    """Of [security]: the deployment the broker's signed status is addressed to."""

    @property
    def audience(self) -> str: ...


class SrsConfig(DataDir, Protocol):
    """Read-only (loaded once): data_dir, [broker], [security] audience."""

    @property
    def broker(self) -> BrokerConfig: ...

    @property
    def security(self) -> Audience: ...
