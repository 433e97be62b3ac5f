"""broker/config.py: the [broker] section and what counts as loopback."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from broker.config import BrokerConfig, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_network_hosts(host: str) -> None:
    assert not is_loopback(host)


def test_defaults_stay_on_loopback_without_plaintext_on_the_network() -> None:
    cfg = BrokerConfig()
    assert is_loopback(cfg.bind)
    assert not cfg.plaintext_on_network


@pytest.mark.parametrize(
    "field, value",
    [
        ("port", 70000),
        ("camera_rate", float("nan")),
        ("camera_burst", 0),
        ("max_payload_bytes", 10),
    ],
)
def test_bad_values_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        BrokerConfig.model_validate({field: value})
