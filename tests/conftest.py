"""Shared fixtures: real brokers, real media, offscreen Qt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests import brokers, nats_brokers
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
