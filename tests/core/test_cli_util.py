"""core/cli_util.py: the small helpers of the core CLI."""

from __future__ import annotations

import pytest

from core.cli_util import parse_since


def test_parse_since():
    assert parse_since("30m", now=10_000.0) == 10_000.0 - 1800
    assert parse_since("2d", now=200_000.0) == 200_000.0 - 2 * 86400
    assert parse_since("2026-01-01T00:00:00Z") == 1767225600.0
    with pytest.raises(ValueError, match="ISO time"):
        parse_since("yesterday")
