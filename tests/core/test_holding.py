"""Store faults on a real SQLite file: held and stored when the store works again,
an operational alert (never a security one), nothing left ahead of the database."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from core import store
from core.holding import Holding, cause
from core.ingest import Ingest
from core.store.models import AuditEntry, UnknownIdentity
from srs.wire import topics
from srs.wire.payloads import Ack, Alert
from tests.core.ingest_helpers import core_config, face_data
from tests.core.test_ingest import CAM1, FailingSession, msg, stored


def disk_full() -> OperationalError:
    return OperationalError("COMMIT", None, sqlite3.OperationalError("database or disk is full"))


@pytest.fixture
def db(tmp_path):
    face_data()
    database = store.open_store(core_config(tmp_path))
    with database.session() as s:
        store.add_camera(s, "cam1", CAM1.public_key_b64)
    yield database
    database.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ing(tmp_path, db):
    ingest = Ingest(db, core_config(tmp_path))
    ingest.clock_now = Clock()  # type: ignore[attr-defined]
    ingest.holding = Holding(100, retry_s=1.0, clock=ingest.clock_now)  # type: ignore[attr-defined]
    return ingest


def alerts_of(result) -> list[Alert]:
    return [o.payload for o in result.outgoing if o.topic == topics.alerts()]


def security_audit(db) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.category == "security")))


def test_a_database_error_holds_the_messages_until_the_store_works_again(db, ing):
    assert ing.process([msg(CAM1, "cam1", 0, "test/obama1.jpg")]).acks == {"cam1": [0]}
    ing.db = FailingSession(db, disk_full())
    failed = ing.process([msg(CAM1, "cam1", 1, "test/obama1.jpg")])
    ing.db = db
    assert failed.acks == {}
    (alert,) = alerts_of(failed)
    assert (alert.kind, alert.category, alert.severity) == (
        "store_error",
        "operational",
        "critical",
    )
    assert "core cannot write its database: disk full" in alert.message
    (refused,) = failed.refused
    assert isinstance(refused, Ack) and refused.seqs == [1]
    assert refused.refused is not None and refused.refused.reason == "store_error"
    # Until the retry is due, what arrives is held: no transaction, no second alert.
    waiting = ing.process([msg(CAM1, "cam1", 2, "test/obama1.jpg")])
    assert waiting.acks == {} and alerts_of(waiting) == [] and stored(db) == (1, 1)
    assert len(ing.holding) == 2
    ing.clock_now.now += 1.0
    # A camera's re-send of a held message (fresh signature) is stored once.
    done = ing.process([msg(CAM1, "cam1", 1, "test/obama1.jpg")])
    assert done.acks == {"cam1": [1, 2]} and stored(db) == (3, 3)
    (back,) = alerts_of(done)
    assert (back.kind, back.category, back.severity) == ("store_error", "operational", "info")
    assert "can write its database again" in back.message
    # Neither a rejection nor a security event.
    assert ing.counters.rejected == {} and ing.counters.security_rejections() == 0
    assert security_audit(db) == []


def test_a_new_identity_whose_allocation_failed_does_not_outlive_the_batch(db, ing, monkeypatch):
    """The identity's own transaction fails: its provisional id must not stay in the
    clusters (the next batches would name it and fail on the foreign key), and the
    gallery is not reloaded for it."""
    from core import ingest as ingest_module

    def reload(*args: object) -> None:
        pytest.fail("the gallery was reloaded for a failed batch")

    monkeypatch.setattr(ingest_module.Gallery, "load", reload)

    def allocate(rows):
        raise disk_full()

    real = ing.allocate
    monkeypatch.setattr(ing, "allocate", allocate)
    before = list(ing.clusters.ids)
    assert ing.process([msg(CAM1, "cam1", 1, "test/kit_with_rose.jpg")]).acks == {}
    assert ing.clusters.ids == before and not ing.clusters.places
    monkeypatch.setattr(ing, "allocate", real)  # the store works again
    ing.clock_now.now += 1.0
    again = ing.process([msg(CAM1, "cam1", 2, "test/obama1.jpg")])
    assert again.acks == {"cam1": [1, 2]}
    with db.session() as s:
        in_db = set(s.scalars(select(UnknownIdentity.id)))
    assert set(ing.clusters.ids) == in_db and len(in_db) == 3  # kit, rose, obama


def test_a_failed_commit_undoes_its_joins_and_keeps_what_was_allocated(db, ing, monkeypatch):
    """Two strangers seen, stored; seen again in a batch whose commit fails: their
    centroids and counts are as the database has them, and a third stranger allocated
    during that batch (committed on its own) stays, as the live view showed it."""
    ing.process([msg(CAM1, "cam1", 1, "test/kit_with_rose.jpg")])
    centroids, counts = ing.clusters.centroids.copy(), list(ing.clusters.counts)
    ing.db = FailingSession(db, disk_full())
    real = ing.allocate

    def allocate(rows):  # its own transaction works; the batch's commit then fails
        ing.db = db
        ids = real(rows)
        ing.db = FailingSession(db, disk_full())
        return ids

    monkeypatch.setattr(ing, "allocate", allocate)
    seen_again = msg(CAM1, "cam1", 2, "test/kit_with_rose.jpg")
    newcomer = msg(CAM1, "cam1", 3, "test/johnsnow_test1.jpg")
    assert ing.process([seen_again, newcomer]).acks == {}
    ing.db = db
    n = len(centroids)
    np.testing.assert_array_equal(ing.clusters.centroids[:n], centroids)
    assert ing.clusters.counts[:n] == counts
    with db.session() as s:
        assert set(ing.clusters.ids) == set(s.scalars(select(UnknownIdentity.id)))
    assert len(ing.clusters.ids) == n + 1


def test_holding_is_bounded_and_keeps_one_copy_per_seq():
    from core.messages import Incoming
    from tests.core.ingest_helpers import batch

    hold = Holding(3)
    items = [(Incoming("t", b""), batch("cam1", seq, [])) for seq in (1, 1, 2, 3, 4)]
    hold.hold(items)
    assert len(hold) == 3 and hold.not_held == 1
    work = hold.take([(Incoming("t", b""), batch("cam1", 2, [])), items[4]], most=3)
    assert [b.seq for _, b in work] == [1, 2, 3] and len(hold) == 1


def test_the_cause_is_named_in_the_databases_words():
    assert cause(disk_full()) == "disk full (database or disk is full)"
    locked = OperationalError("x", None, sqlite3.OperationalError("database is locked"))
    assert cause(locked) == "database locked (database is locked)"
