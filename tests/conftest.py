"""Shared fixtures: real brokers, real media, offscreen Qt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests import brokers, nats_brokers, postgres
from tests.brokers import BrokerHandle

MEDIA = Path(__file__).parent / "data" / "media"


@pytest.fixture(scope="session")
def media() -> Path:
    """Real faces and footage (see tests/data/media/ATTRIBUTION.md)."""
    return MEDIA


@pytest.fixture
def srs_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerHandle]:
    """The hardened SRS broker on a free loopback port (users in a tmp dir), stopped after
    the test. ``client_config(user, role)`` creates the user with that role."""
    with brokers.embedded_broker(tmp_path_factory.mktemp("srs-broker")) as handle:
        yield handle


@pytest.fixture
def exact_retained_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerHandle]:
    """The SRS broker under RabbitMQ 3.10's rule: retained messages reach only
    subscriptions without wildcards."""
    with (
        brokers.retained_only_to_exact_filters(),
        brokers.embedded_broker(tmp_path_factory.mktemp("exact-retained")) as handle,
    ):
        yield handle


@pytest.fixture
def mosquitto_broker(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BrokerHandle]:
    """A real Mosquitto running the `srs broker export` files, terminated after the test."""
    binary = brokers.mosquitto_binary()
    if binary is None:
        pytest.skip("the mosquitto binary is not installed (apt-get install mosquitto)")
    with brokers.mosquitto_broker(tmp_path_factory.mktemp("mosquitto"), binary) as handle:
        yield handle


@pytest.fixture
def nats_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerHandle]:
    """A real NATS MQTT gateway (the clustered engine) running the `srs broker export
    --format nats` file, terminated after the test."""
    binary = nats_brokers.nats_binary()
    if binary is None:
        pytest.skip("the nats-server binary is not installed (apt-get install nats-server)")
    with nats_brokers.nats_broker(tmp_path_factory.mktemp("nats"), binary) as handle:
        yield handle


@pytest.fixture
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[BrokerHandle]]:
    """Three NATS nodes clustered on loopback (JetStream replicas 3), one handle each."""
    binary = nats_brokers.nats_binary()
    if binary is None:
        pytest.skip("the nats-server binary is not installed (apt-get install nats-server)")
    with nats_brokers.nats_cluster(tmp_path_factory.mktemp("nats"), binary, 3) as handles:
        yield handles


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[postgres.Schemas]:
    """The PostgreSQL of this run (``SRS_TEST_DATABASE``), handing out schemas."""
    target = postgres.wanted()
    if target is None:
        pytest.skip(f"{postgres.ENV} does not name PostgreSQL")
    with postgres.schemas(target) as handed:
        yield handed


@pytest.fixture(autouse=True)
def store_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Every store a test opens without its own ``database_url``: SQLite in its data dir,
    or with ``SRS_TEST_DATABASE=postgresql`` one fresh PostgreSQL schema for the whole
    test (core processes it starts find it through ``SRS_CORE__DATABASE_URL``)."""
    if postgres.wanted() is None:
        return None
    url = request.getfixturevalue("postgres_schemas").fresh()
    import core.store.db

    monkeypatch.setattr(core.store.db, "database_url", lambda cfg: cfg.core.database_url or url)
    monkeypatch.setenv("SRS_CORE__DATABASE_URL", url)
    return url
