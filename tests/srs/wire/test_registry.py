"""One kind -> model map: complete, read-only, and the same pairs the AsyncAPI document shows."""

from __future__ import annotations

import pytest

from srs.wire import asyncapi, commands, payloads, registry, topics
from srs.wire.errors import Reason, WireError
from srs.wire.topics import TopicKind


def test_every_kind_has_one_model() -> None:
    assert set(registry.MODELS) == set(TopicKind)
    with pytest.raises(TypeError):
        registry.MODELS[TopicKind.ACK] = payloads.CoreStatus  # type: ignore[index]


def test_the_asyncapi_channels_carry_the_registered_models() -> None:
    for channel in asyncapi.CHANNELS:
        if channel.kind is not None:
            assert channel.model is registry.MODELS[channel.kind], channel.name
    request = next(c for c in asyncapi.CHANNELS if c.kind is TopicKind.REQUEST)
    assert [model for model, _, _ in request.also] == [commands.CreateAdmin]


def test_the_bootstrap_request_carries_create_admin() -> None:
    assert registry.model_for(topics.bootstrap_request()) is commands.CreateAdmin
    assert registry.model_for(topics.request("ada")) is commands.Request
    assert registry.model_for(topics.camera_status("corridor")) is payloads.CameraStatus


def test_a_topic_outside_the_tree_is_refused() -> None:
    with pytest.raises(WireError) as err:
        registry.model_for("srs/v1/elsewhere")
    assert err.value.reason is Reason.BAD_TOPIC


def test_a_payload_naming_another_camera_than_its_topic_is_refused() -> None:
    status = payloads.CameraStatus(camera_id="hall", state="online", sent_at=1.0)
    registry.check_subject(topics.parse(topics.camera_status("hall")), status)
    with pytest.raises(WireError) as err:
        registry.check_subject(topics.parse(topics.camera_status("corridor")), status)
    assert err.value.reason is Reason.WRONG_TOPIC
    ack = payloads.Ack(camera_id="hall", seqs=[1])
    with pytest.raises(WireError):
        registry.check_subject(topics.parse(topics.ack("corridor")), ack)
