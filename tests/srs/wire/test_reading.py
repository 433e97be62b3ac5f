"""The one verifier factory applies the deployment's policy; the peek reads without believing."""

from __future__ import annotations

import pytest

from srs.config import SecurityConfig
from srs.wire import SigningKey, WireError, payloads, sign, topics
from srs.wire.errors import Reason
from srs.wire.reading import verifier_for

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
