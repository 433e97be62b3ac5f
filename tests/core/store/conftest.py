"""A fresh, migrated store in the test's tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core import store
from core.store.db import Database
from tests.core.ingest_helpers import core_config


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = store.open_store(core_config(tmp_path))
    yield database
    database.close()
