"""core/merging.py: core's periodic merge of look-alike anonymous identities, as the
ingest drives it (the store's side is tests/core/store/test_identities.py; the
running ingest with real faces, tests/core/test_identities.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core import store
from core.merging import merge_identities
from core.observation import Locator, LocatorResult, NullLocator, Observation
from core.srs_config import SrsConfig
from core.store.db import Database
from core.track_identity import EvidenceRules, TrackBook
from srs.wire import topics
from srs.wire.payloads import PersonPosition
from tests.core.ingest_helpers import camera_key, core_config
from tests.core.store.helpers import anonymous, sighting_row, vector

NOW = 1_000_000.0


class RenamingLocator:
    """Records renames and answers each with the merged identity's new position."""

    def __init__(self, fail: bool = False) -> None:
        self.renamed: list[tuple[str, str, str, str]] = []
        self.fail = fail

    def observe(self, observations: list[Observation], now: float) -> LocatorResult:
        return LocatorResult()

    def rename(
        self, old_key: str, new_key: str, label: str, now: float, identity: str = "known"
    ) -> LocatorResult:
        if self.fail:
            raise RuntimeError("locator broke")
        self.renamed.append((old_key, new_key, label, identity))
        pos = PersonPosition(person_key=new_key, identity="unknown", label=label, x=1, y=1,
                             confidence=1, last_seen=now, cameras=["near"])  # fmt: skip
        return LocatorResult(positions=[pos])


class Core:
    """The part of core.ingest.Ingest that merging reads and changes."""

    def __init__(self, cfg: SrsConfig, db: Database, locator: Locator) -> None:
        self.cfg, self.db, self.locator = cfg, db, locator
        self.clock: Callable[[], float] = lambda: NOW
        self.tracks = TrackBook(EvidenceRules())
        self.refreshed: list[dict[str, bool]] = []

    def refresh(
        self, force: bool = False, check_now: bool = False, keep_votes: bool = False
    ) -> None:
        self.refreshed.append({"force": force, "keep_votes": keep_votes})


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = store.open_store(core_config(tmp_path))
    with database.session() as s:
        store.add_camera(s, "near", camera_key("near").public_key_b64)
    yield database
    database.close()


def look_alikes(db: Database, seq: int = 1) -> tuple[int, int]:
    """Two anonymous identities 0.11 apart, seen a minute apart on one camera."""
    with db.session() as s:
        a, b = anonymous(s, vector(0.10), NOW - 120), anonymous(s, vector(0.11), NOW - 60)
        sighting_row(s, "near", seq, NOW - 120, unknown_id=a.id)
        sighting_row(s, "near", seq + 1, NOW - 60, unknown_id=b.id, track_id=2)
        return a.id, b.id


def test_look_alikes_merge_and_the_live_view_is_renamed(tmp_path: Path, db: Database) -> None:
    a, b = look_alikes(db)
    locator = RenamingLocator()
    core = Core(core_config(tmp_path, merge_distance=0.4), db, locator)
    out = merge_identities(core)
    assert locator.renamed == [(f"u{b}", f"u{a}", f"Unknown {a}", "unknown")]
    assert [(o.topic, o.retain) for o in out] == [(topics.position(f"u{a}"), True)]
    assert core.refreshed == [{"force": True, "keep_votes": True}]
    with db.session() as s:
        assert [r["person_key"] for r in store.query_sightings(s)] == [f"u{a}", f"u{a}"]


def test_nothing_close_changes_nothing(tmp_path: Path, db: Database) -> None:
    look_alikes(db)
    core = Core(core_config(tmp_path, merge_distance=0.05), db, RenamingLocator())
    assert merge_identities(core) == []
    assert core.refreshed == []


def test_a_locator_without_rename_or_a_failing_one_costs_only_the_republish(
    tmp_path: Path, db: Database
) -> None:
    look_alikes(db)
    core = Core(core_config(tmp_path, merge_distance=0.4), db, NullLocator())
    assert merge_identities(core) == []
    assert len(core.refreshed) == 1  # merged all the same
    look_alikes(db, seq=3)
    core = Core(core_config(tmp_path, merge_distance=0.4), db, RenamingLocator(fail=True))
    assert merge_identities(core) == []
    assert len(core.refreshed) == 1


class BrokenDatabase(Database):
    @contextmanager
    def session(self) -> Iterator[Session]:
        raise OperationalError("select", {}, Exception("disk I/O error"))
        yield  # a generator, as the real one


def test_a_store_failure_is_logged_not_raised(
    tmp_path: Path, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    core = Core(core_config(tmp_path), BrokenDatabase(db.engine), RenamingLocator())
    assert merge_identities(core) == []
    assert "merging close anonymous identities failed" in caplog.text
    assert core.refreshed == []
