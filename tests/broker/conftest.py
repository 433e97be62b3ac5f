"""Run the security tests against both brokers: the embedded one and Mosquitto."""

from __future__ import annotations

import pytest

from tests.brokers import BrokerHandle


@pytest.fixture(
    params=[
        "amqtt",
        pytest.param("mosquitto", marks=pytest.mark.mosquitto),
        pytest.param("nats", marks=pytest.mark.nats),
    ]
)
def any_broker(request: pytest.FixtureRequest) -> BrokerHandle:
    name = {"amqtt": "srs_broker", "mosquitto": "mosquitto_broker", "nats": "nats_broker"}
    handle: BrokerHandle = request.getfixturevalue(name[request.param])
    return handle
