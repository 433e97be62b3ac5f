"""srs.app.operator_client: a headless operator's signed commands and core's answers.

No broker: the session's publish is answered by a stand-in core that verifies the
request with the operator's session key and signs its answer as core would.
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as paho
import pytest

from srs.app.operator_client import OperatorClient, OperatorError
from srs.config import MqttConfig, SecurityConfig
from srs.wire import SigningKey, commands, sign, topics
from srs.wire.signing import Verifier

SECURITY = SecurityConfig()
CORE = SigningKey.generate(topics.CORE_SENDER)


def core_keys(issuer: str) -> Any:
    return CORE.public_key if issuer == topics.CORE_SENDER else None


def operator(user: str = "guard") -> OperatorClient:
    return OperatorClient(MqttConfig(username=user), SECURITY, core_keys, "test-operator")


def message(topic: str, data: bytes) -> paho.MQTTMessage:
    msg = paho.MQTTMessage(topic=topic.encode())
    msg.payload = data
    return msg


class StandInCore:
    """Answers each published request on the user's response topic, as core does."""

    def __init__(self, client: OperatorClient, refuse: set[str] | None = None) -> None:
        self.client, self.refuse = client, refuse or set()
        self.actions: list[str] = []

    def keys(self, issuer: str) -> Any:
        # the operator's session key: what its RegisterKey announces
        return (
            self.client._key.public_key
            if issuer == topics.operator_issuer(self.client.user)
            else None
        )

    def publish(self, topic: str, data: bytes, qos: int = 0) -> None:
        assert topic == topics.request(self.client.user)
        verifier = Verifier(self.keys, audience=SECURITY.audience)
        request = verifier.verify(topic, data, commands.Request).payload
        action = request.command.action
        self.actions.append(action)
        if isinstance(request.command, commands.RegisterKey):
            assert request.command.public_key == self.client._key.public_key_b64
        refused = action in self.refuse
        answer = commands.Response(
            request_id=request.request_id,
            ok=not refused,
            error="not allowed" if refused else None,
            result=None if refused else {"done": action},
        )
        reply_topic = topics.response(self.client.user)
        signed = sign(answer, reply_topic, CORE, audience=SECURITY.audience)
        self.client._on_message(None, None, message(reply_topic, signed))  # type: ignore[arg-type]


@pytest.fixture
def connected(monkeypatch) -> tuple[OperatorClient, StandInCore]:
    client = operator()
    core = StandInCore(client)
    monkeypatch.setattr(client.session, "wait_connected", lambda timeout: True)
    monkeypatch.setattr(client.session, "wait_subscribed", lambda timeout: True)
    monkeypatch.setattr(client.session, "publish", core.publish)
    return client, core


def test_an_operator_client_needs_a_user_name() -> None:
    with pytest.raises(ValueError, match="user name"):
        OperatorClient(MqttConfig(), SECURITY, core_keys, "test-operator")


def test_a_command_registers_the_session_key_first_and_returns_core_s_result(
    connected,
) -> None:
    client, core = connected
    assert client.run(commands.ListPeople(), timeout_s=1.0) == {"done": "list_people"}
    assert core.actions == ["register_key", "list_people"]


def test_a_refusal_is_an_operator_error_naming_the_command(connected) -> None:
    client, core = connected
    core.refuse = {"list_people"}
    with pytest.raises(OperatorError, match="refused list_people: not allowed"):
        client.run(commands.ListPeople(), timeout_s=1.0)


def test_a_response_not_signed_by_core_is_ignored(caplog) -> None:
    client = operator()
    reply_topic = topics.response(client.user)
    forger = SigningKey.generate(topics.CORE_SENDER)
    forged = sign(
        commands.Response(request_id="r1", ok=True, result={"x": 1}),
        reply_topic,
        forger,
        audience=SECURITY.audience,
    )
    client._on_message(None, None, message(reply_topic, forged))  # type: ignore[arg-type]
    assert "r1" not in client._answers
    assert "ignored a response" in caplog.text
