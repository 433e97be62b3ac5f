"""core/store/errors.py: a store refusal is a ValueError whose sentence is the message."""

from __future__ import annotations

import pytest

from core import store
from core.store.db import Database
from core.store.errors import StoreError


def test_a_store_error_is_a_value_error_callers_can_print() -> None:
    err = StoreError("no person 'Zed'")
    assert isinstance(err, ValueError)
    assert str(err) == "no person 'Zed'"
    assert store.StoreError is StoreError


def test_store_operations_refuse_with_it(db: Database) -> None:
    with db.session() as s, pytest.raises(StoreError, match="no camera 'door'"):
        store.remove_camera(s, "door")
