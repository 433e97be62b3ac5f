"""The one verifier factory applies the deployment's policy; the peek reads without believing."""

from __future__ import annotations

import pytest

from srs.config import SecurityConfig
from srs.wire import SigningKey, WireError, payloads, sign, topics
from srs.wire.errors import Reason
from srs.wire.reading import unverified_data, verifier_for

NOW = 1_764_061_200.0
CORE = SigningKey.generate(topics.CORE_SENDER)


def test_the_verifier_takes_every_setting_of_the_policy() -> None:
    sec = SecurityConfig(
        audience="site-b", clock_skew_s=5, max_message_age_s=60, max_payload_bytes=2048
    )
    v = verifier_for(sec, {topics.CORE_SENDER: CORE.public_key}.get, clock=lambda: NOW)
    assert (v.audience, v.clock_skew_s, v.max_age_s, v.max_bytes) == ("site-b", 5, 60, 2048)
    topic = topics.ack("corridor")
    ack = payloads.Ack(camera_id="corridor", seqs=[1])
    token = sign(ack, topic, CORE, audience="site-b", now=NOW - 30, max_age_s=60)
    assert v.verify(topic, token, payloads.Ack).payload == ack
    stale = sign(ack, topic, CORE, audience="site-b", now=NOW - 70, max_age_s=60)
    with pytest.raises(WireError) as err:
        v.verify(topic, stale, payloads.Ack)
    assert err.value.reason is Reason.EXPIRED
    elsewhere = sign(ack, topic, CORE, now=NOW, max_age_s=60)
    with pytest.raises(WireError) as err:
        v.verify(topic, elsewhere, payloads.Ack)
    assert err.value.reason is Reason.WRONG_AUDIENCE


def test_the_peek_reads_the_data_claim_without_the_key() -> None:
    stranger = SigningKey.generate(topics.CORE_SENDER)  # not the key anyone believes
    topic = topics.key(topics.CORE_SENDER)
    announced = payloads.PublicKey(sender="core", public_key=stranger.public_key_b64)
    data = unverified_data(sign(announced, topic, stranger))
    assert data["public_key"] == stranger.public_key_b64  # read, not believed


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (b"not a token", Reason.MALFORMED),
        (b"eyJhbGciOiJub25lIn0.eyJkYXRhIjp7fX0.", Reason.BAD_ALGORITHM),  # alg none
        (
            b"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.WzFd.c2ln",  # claims are a list
            Reason.MALFORMED,
        ),
        (b"x" * 70_000, Reason.OVERSIZE),
    ],
)
def test_the_peek_refuses_what_is_not_an_srs_token(token: bytes, reason: Reason) -> None:
    with pytest.raises(WireError) as err:
        unverified_data(token)
    assert err.value.reason is reason


def test_the_peek_keeps_the_deployment_size_limit() -> None:
    topic = topics.key(topics.CORE_SENDER)
    token = sign(payloads.PublicKey(sender="core", public_key=CORE.public_key_b64), topic, CORE)
    with pytest.raises(WireError) as err:
        unverified_data(token, max_bytes=len(token) - 1)
    assert err.value.reason is Reason.OVERSIZE
