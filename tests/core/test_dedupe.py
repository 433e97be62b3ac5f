"""Which messages are new: the store asked only when a camera is new or a key is low."""

from __future__ import annotations

from sqlalchemy import event

from core import store
from core.dedupe import Dedupe
from core.store.models import ProcessedMessage
from tests.core.ingest_helpers import core_config


def test_only_doubtful_keys_cost_a_query(tmp_path):
    db = store.open_store(core_config(tmp_path))
    with db.session() as s:
        s.add_all([ProcessedMessage(camera_id="cam1", seq=n, received_at=0.0) for n in (1, 2, 5)])
    queries: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    dedupe = Dedupe(db)
    assert dedupe.stored({("cam1", 2), ("cam1", 3), ("cam1", 6)}) == {("cam1", 2)}
    asked = len(queries)
    assert asked > 0  # a camera new to this process: its top, then the doubtful keys
    dedupe.committed([("cam1", 6)])
    assert dedupe.stored({("cam1", 7), ("cam1", 8)}) == set()
    assert len(queries) == asked  # above the top: no query
    assert dedupe.stored({("cam1", 5)}) == {("cam1", 5)}  # a re-send: looked up
    dedupe.forget()  # a batch failed: ask again
    queries.clear()
    assert dedupe.stored({("cam1", 9)}) == set() and queries
    db.close()
