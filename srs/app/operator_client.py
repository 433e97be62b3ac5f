"""A headless operator: signed commands to core, as the dashboard sends them.

Used by ``srs demo --script`` to do what a guard does at the desk (name the
stranger) without a display. Same protocol as the dashboard (docs/mqtt.md,
"Operator commands"): a fresh session key, announced with a RegisterKey signed
with it; every request signed with that key; core answers on the user's own
response topic.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import paho.mqtt.client as paho

from srs.config import MqttConfig, SecurityConfig
from srs.mqtt import Session, SubscriptionRefused
from srs.wire import KeyLookup, SigningKey, WireError, commands, sign, topics
from srs.wire.reading import verifier_for

log = logging.getLogger(__name__)


class OperatorError(Exception):
    """Core refused a command, or did not answer in time."""


class OperatorClient:
    """Context manager: connect, register a session key, then :meth:`run` commands."""

    def __init__(
        self, mqtt: MqttConfig, security: SecurityConfig, keys: KeyLookup, client_id: str
    ) -> None:
        if mqtt.username is None:
            raise ValueError("an operator client needs the operator's user name")
        self.user = topics.check_id(mqtt.username, "user name")
        self._mqtt, self._security = mqtt, security
        self._key = SigningKey.generate(topics.operator_issuer(self.user))
        self._verifier = verifier_for(security, keys)
        self._answers: dict[str, commands.Response] = {}
        self._answered = threading.Condition()
        self.session = Session(
            mqtt,
            client_id,
            subscriptions=[(topics.response(self.user), 1)],
            on_connect=self._on_connect,
            on_message=self._on_message,
        )

    def __enter__(self) -> OperatorClient:
        self.session.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.stop()

    def run(self, command: commands.Action, timeout_s: float = 15.0) -> Any:
        """Send ``command`` (registering the session key first); return core's result."""
        try:
            if not (
                self.session.wait_connected(timeout_s) and self.session.wait_subscribed(timeout_s)
            ):
                raise OperatorError("could not subscribe to the response topic in time")
        except SubscriptionRefused as exc:
            raise OperatorError(str(exc)) from exc
        self._call(commands.RegisterKey(public_key=self._key.public_key_b64), timeout_s)
        return self._call(command, timeout_s)

    def _call(self, command: commands.Action, timeout_s: float) -> Any:
        rid = uuid.uuid4().hex
        topic = topics.request(self.user)
        data = sign(
            commands.Request(request_id=rid, command=command),
            topic,
            self._key,
            audience=self._security.audience,
            max_age_s=self._security.max_message_age_s,
        )
        self.session.publish(topic, data, qos=1)
        with self._answered:
            if not self._answered.wait_for(lambda: rid in self._answers, timeout_s):
                raise OperatorError(f"core did not answer {command.action} in {timeout_s:.0f} s")
            answer = self._answers.pop(rid)
        if not answer.ok:
            raise OperatorError(f"core refused {command.action}: {answer.error}")
        return answer.result

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if self.session.last_error is not None:
            log.error("operator client could not connect: %s", self.session.last_error)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        try:
            answer = self._verifier.verify(msg.topic, msg.payload, commands.Response).payload
        except WireError as exc:
            log.warning("operator client ignored a response: %s", exc)
            return
        with self._answered:
            self._answers[answer.request_id] = answer
            self._answered.notify_all()
