"""core.core_key: one signing key for every core instance, agreed through the database."""

from __future__ import annotations

import threading

import pytest

import core.store.db
from core import store
from core.core_key import CoreKeyError, core_key_path, load_core_key
from core.service import CoreService
from core.store.core_key import stored_core_key
from srs.wire import topics
from srs.wire.signing import SigningKey
from tests.core.ingest_helpers import core_config


@pytest.fixture
def hosts(tmp_path, monkeypatch):
    """Two hosts (data dirs) on one database; the second's config made on demand."""
    monkeypatch.setattr("core.core_key.FOLLOW_S", 1.0)  # the wait for a racing instance
    first = core_config(tmp_path / "a")
    # SQLite in a's data dir, or the test's PostgreSQL (the fixture patches db.database_url)
    url = core.store.db.database_url(first)

    def host(name: str, key_in_database: bool = False):
        return core_config(tmp_path / name, database_url=url, key_in_database=key_in_database)

    db = store.open_store(first)
    yield first, host, db
    db.close()


def test_the_first_core_makes_its_key_and_records_only_the_public_half(hosts) -> None:
    first, _, db = hosts
    key = load_core_key(first, db)
    assert core_key_path(first).exists()
    with db.session() as s:
        row = stored_core_key(s)
        assert row is not None
        assert row.public_key == key.public_key_b64 and row.private_pem is None
    # A restart finds the same key on disk and in the database.
    assert load_core_key(first, db).public_key_b64 == key.public_key_b64


def test_a_key_made_before_core_first_ran_is_the_one_recorded(hosts) -> None:
    first, _, db = hosts
    made = SigningKey.generate(topics.CORE_SENDER)  # `srs init` writes it before core runs
    made.save(core_key_path(first))
    assert load_core_key(first, db).public_key_b64 == made.public_key_b64
    with db.session() as s:
        assert stored_core_key(s).public_key == made.public_key_b64  # type: ignore[union-attr]


def test_a_second_host_without_the_key_refuses_and_says_what_to_copy(hosts) -> None:
    first, host, db = hosts
    key = load_core_key(first, db)
    second = host("b")
    with pytest.raises(CoreKeyError) as refused:
        load_core_key(second, db)
    said = str(refused.value)
    assert "copy core.key" in said and str(core_key_path(second)) in said
    assert key.public_key_b64 in said
    assert not core_key_path(second).exists()  # no new key made silently


def test_a_different_key_on_disk_refuses_to_start(hosts) -> None:
    first, host, db = hosts
    load_core_key(first, db)
    second = host("b")
    SigningKey.generate(topics.CORE_SENDER).save(core_key_path(second))  # its own `srs init`
    with pytest.raises(CoreKeyError, match="is not the one the database records"):
        load_core_key(second, db)
    # The service says the same sentence instead of starting (the CLI prints it).
    with pytest.raises(CoreKeyError, match="is not the one the database records"):
        CoreService(second)


def test_with_the_key_in_the_database_a_new_host_takes_it(hosts) -> None:
    first, host, db = hosts
    key = load_core_key(first, db)  # recorded before the setting was on
    shared = first.model_copy(
        update={"core": first.core.model_copy(update={"key_in_database": True})}
    )
    load_core_key(shared, db)  # the host with the key now shares it
    second = host("b", key_in_database=True)
    got = load_core_key(second, db)
    assert got.public_key_b64 == key.public_key_b64
    assert SigningKey.load(topics.CORE_SENDER, core_key_path(second)).public_key_b64 == (
        key.public_key_b64
    )


def test_instances_starting_at_once_on_an_empty_database_agree_on_one_key(hosts) -> None:
    first, _, db = hosts
    keys: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            keys.append(load_core_key(first, db).public_key_b64)  # one data dir, as on one host
        except BaseException as exc:  # noqa: BLE001 - a thread hands every failure to the test
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(keys) == 3 and len(set(keys)) == 1
    assert SigningKey.load(topics.CORE_SENDER, core_key_path(first)).public_key_b64 == keys[0]
