"""srs.mqtt.reasons: the broker's codes as sentences (pure; paho's own ReasonCode objects)."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from srs.mqtt.reasons import (
    SubscriptionRefused,
    connack_sentence,
    disconnect_sentence,
    is_failure,
    reason_text,
    refused_filters,
)


def _suback(code: int) -> ReasonCode:
    return ReasonCode(PacketTypes.SUBACK, identifier=code)


def test_a_suback_failure_is_a_code_from_0x80() -> None:
    reasons = [_suback(1), _suback(0x80), _suback(0x87), _suback(0)]
    assert refused_filters(["a", "b", "c", "d"], reasons) == [("b", reasons[1]), ("c", reasons[2])]
    assert not is_failure(_suback(2)) and is_failure(0x80)


def test_the_refusal_names_each_filter_and_the_brokers_reason() -> None:
    mqtt5 = SubscriptionRefused([("srs/v1/cameras/+/detections", _suback(0x87))], "5")
    assert str(mqtt5) == (
        "the broker refused the subscription to 'srs/v1/cameras/+/detections' "
        "(Not authorized, 0x87)"
    )
    assert mqtt5.refused == [("srs/v1/cameras/+/detections", 0x87)]
    v311 = SubscriptionRefused([("a/b", _suback(0x80)), ("c", _suback(0x80))], "3.1.1")
    assert "'a/b' (0x80: MQTT 3.1.1 gives no reason" in str(v311) and "'c' (" in str(v311)


def test_connack_and_disconnect_sentences() -> None:
    assert connack_sentence(ReasonCode(PacketTypes.CONNACK, identifier=0x87)) == (
        "the broker refused the user name or password"
    )
    assert connack_sentence(ReasonCode(PacketTypes.CONNACK, identifier=0x85)) == (
        "the broker refused this client id"
    )
    assert "0x9F" in connack_sentence(ReasonCode(PacketTypes.CONNACK, identifier=0x9F))
    taken = ReasonCode(PacketTypes.DISCONNECT, identifier=0x8E)
    assert disconnect_sentence(taken, "5") == (
        "the broker closed the connection: Session taken over, 0x8E"
    )
    assert disconnect_sentence(taken, "3.1.1") == "the connection to the broker was lost"
    assert reason_text(ReasonCode(PacketTypes.PUBACK, identifier=0x87)) == "Not authorized, 0x87"
