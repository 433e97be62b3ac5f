"""Core's answer to the first-run request: verified with a pinned key, forged ones refused."""

from __future__ import annotations

from gui.first_run import _read
from srs.config import SecurityConfig
from srs.wire import SigningKey, commands, sign, topics
from srs.wire.reading import verifier_for

CORE = SigningKey.generate(topics.CORE_SENDER)
TOPIC = topics.bootstrap_response()
ANSWER = commands.Response(request_id="r-1", ok=True, result={"name": "root"})


def read(pinned: SigningKey | None, data: bytes) -> commands.Response | None:
    key = pinned.public_key if pinned else None
    verifier = verifier_for(SecurityConfig(), lambda iss: key if iss == CORE.issuer else None)
    return _read(verifier, key, TOPIC, data)


def test_a_pinned_desk_believes_only_core() -> None:
    assert read(CORE, sign(ANSWER, TOPIC, CORE)) == ANSWER
    forger = SigningKey.generate(topics.CORE_SENDER)
    assert read(CORE, sign(ANSWER, TOPIC, forger)) is None
    assert read(CORE, b"not a token") is None


def test_without_a_pin_the_answer_only_chooses_the_sentence() -> None:
    # No key to verify with (docs: the new administrator's sign-in proves it).
    assert read(None, sign(ANSWER, TOPIC, SigningKey.generate(topics.CORE_SENDER))) == ANSWER
    assert read(None, b"not a token") is None
