"""srs.mqtt.client: the protocol and persistence each client is built with (no broker)."""

from __future__ import annotations

import paho.mqtt.client as paho

from srs.config import MqttConfig
from srs.mqtt.client import connect_options, make_client


def test_the_protocol_comes_from_the_setting_and_auto_alone_means_3_1_1() -> None:
    assert make_client(MqttConfig(protocol="5"), "a").protocol == paho.MQTTv5
    assert make_client(MqttConfig(protocol="3.1.1"), "a").protocol == paho.MQTTv311
    assert make_client(MqttConfig(), "a").protocol == paho.MQTTv311  # no one to fall back
    assert make_client(MqttConfig(), "a", protocol="5").protocol == paho.MQTTv5


def test_a_persistent_mqtt_5_session_never_starts_clean_and_expires_as_set() -> None:
    cfg = MqttConfig(session_expiry_s=600)
    persistent = connect_options(cfg, "5", clean_session=False)
    assert persistent["clean_start"] is False
    assert persistent["properties"].SessionExpiryInterval == 600
    fresh = connect_options(cfg, "5", clean_session=True)
    assert fresh["clean_start"] is True
    assert not hasattr(fresh["properties"], "SessionExpiryInterval")
    assert connect_options(cfg, "3.1.1", clean_session=False) == {}  # said in the client
