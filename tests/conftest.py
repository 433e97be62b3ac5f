"""Shared fixtures: real brokers, real media, offscreen Qt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.brokers import BrokerHandle, plain_amqtt  # noqa: E402

MEDIA = Path(__file__).parent / "data" / "media"


@pytest.fixture(scope="session")
def media() -> Path:
    """Real faces and footage (see tests/data/media/ATTRIBUTION.md)."""
    return MEDIA


@pytest.fixture
def srs_broker() -> Iterator[BrokerHandle]:
    """A real broker on a free loopback port, stopped after the test."""
    with plain_amqtt() as handle:
        yield handle
