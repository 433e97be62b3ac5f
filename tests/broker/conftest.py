"""Run the security tests against both brokers: the embedded one and Mosquitto."""

from __future__ import annotations

import pytest

from tests.brokers import BrokerHandle


@pytest.fixture(params=["amqtt", pytest.param("mosquitto", marks=pytest.mark.mosquitto)])
def any_broker(request: pytest.FixtureRequest) -> BrokerHandle:
    name = "srs_broker" if request.param == "amqtt" else "mosquitto_broker"
    handle: BrokerHandle = request.getfixturevalue(name)
    return handle
