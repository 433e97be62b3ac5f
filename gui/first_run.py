"""First run, without Qt: ask core for the first administrator with the one-time code.

Connects as the broker user ``bootstrap`` (the code is its password), publishes one
signed :class:`~srs.wire.commands.CreateAdmin` and waits for core's answer. The
answer is verified with core's pinned key when the desk has one; otherwise it only
decides what the dialog says next, and signing in as the new administrator is what
proves it (the broker accepts that password or not).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as paho
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from srs.config import MqttConfig, SecurityConfig
from srs.mqtt import Session, SubscriptionRefused
from srs.wire import commands, sign, topics
from srs.wire.reading import unverified_data, verifier_for
from srs.wire.signing import SigningKey, Verifier, WireError

MIN_PASSWORD = 12
REFUSED = (
    "the broker refused the first-run code: it is wrong, expired or already used "
    "(run `srs init` on the server for a new one)"
)


class FirstRunError(Exception):
    """Why the administrator was not created: one sentence for the operator."""


def check_form(code: str, name: str, password: str, again: str) -> str | None:
    """A sentence for the first problem in the form, or None."""
    from broker.bootstrap import normalise

    if len(normalise(code).replace("-", "")) < 8:
        return "Enter the first-run code that `srs init` printed on the server."
    try:
        topics.check_id(name, "administrator name")
    except topics.TopicError as exc:
        return str(exc)
    if name == topics.BOOTSTRAP_USER:
        return f"{name!r} is reserved; choose another administrator name."
    if len(password) < MIN_PASSWORD:
        return f"The administrator's password needs at least {MIN_PASSWORD} characters."
    if password != again:
        return "The two passwords differ."
    return None


def create_first_admin(
    mqtt: MqttConfig,
    security: SecurityConfig,
    code: str,
    name: str,
    password: str,
    *,
    core_key: Ed25519PublicKey | None = None,
    timeout_s: float = 20.0,
) -> None:
    """Blocking; returns once core created the admin, else raises FirstRunError."""
    from broker.bootstrap import normalise

    code = normalise(code)
    key = SigningKey.generate(topics.operator_issuer(topics.BOOTSTRAP_USER))
    request = commands.CreateAdmin(
        request_id=uuid.uuid4().hex,
        public_key=key.public_key_b64,
        code=code,
        name=name,
        password=password,
    )
    topic = topics.bootstrap_request()
    verifier = verifier_for(
        security, lambda issuer: core_key if issuer == topics.CORE_SENDER else None
    )
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def finish(**result: Any) -> None:
        outcome.update(result)
        done.set()

    def on_connect(
        client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        if reason.is_failure:
            finish(error=REFUSED)

    def on_refused(refused: SubscriptionRefused) -> None:
        finish(error=f"{refused}: core's answer could not be read")

    def on_message(client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        response = _read(verifier, core_key, msg.topic, bytes(msg.payload))
        if response is not None and response.request_id == request.request_id:
            finish(response=response)

    session = Session(
        mqtt,
        f"{topics.BOOTSTRAP_USER}:{secrets.token_hex(4)}",
        username=topics.BOOTSTRAP_USER,
        password=code,
        subscriptions=[(topics.bootstrap_response(), 1)],
        on_connect=on_connect,
        on_message=on_message,
        on_refused=on_refused,
        on_connect_fail=lambda *a: finish(
            error=f"the broker at {mqtt.host}:{mqtt.port} cannot be reached"
        ),
    )
    deadline = time.monotonic() + timeout_s
    with session:
        # Publish once subscribed (granted), so core's answer cannot go unheard.
        while not done.is_set() and not session.subscribed.is_set():
            if time.monotonic() >= deadline:
                break
            session.subscribed.wait(0.05)
        if not done.is_set() and session.connected.is_set() and session.refused is None:
            session.publish(
                topic,
                sign(
                    request,
                    topic,
                    key,
                    audience=security.audience,
                    max_age_s=security.max_message_age_s,
                ),
                qos=1,
            )
        if not done.wait(max(0.0, deadline - time.monotonic())):
            raise FirstRunError(
                f"core did not answer within {timeout_s:.0f} s (is core running?); try again"
            )
    if "error" in outcome:
        raise FirstRunError(outcome["error"])
    response = outcome["response"]
    if not response.ok:
        raise FirstRunError(response.error or "core refused to create the administrator")


def _read(
    verifier: Verifier, core_key: Ed25519PublicKey | None, topic: str, data: bytes
) -> commands.Response | None:
    try:
        if core_key is not None:
            return verifier.verify(topic, data, commands.Response).payload
        # No key to verify with: the answer only chooses what the dialog says next.
        return commands.Response.model_validate(unverified_data(data, max_bytes=verifier.max_bytes))
    except (WireError, ValueError):
        return None
