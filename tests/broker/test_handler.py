"""broker.handler: what the protocol handler does with a PUBLISH before any routing.

A handler without a connection: what it would send, accept or close is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from amqtt.mqtt.packet import MQTTPacket
from amqtt.mqtt.publish import PublishPacket

from broker.handler import SrsProtocolHandler
from srs.wire import topics

LIMIT = 1024


class Recorded(SrsProtocolHandler):
    max_payload = LIMIT
    oversize_dropped = 0
    retain_refused = 0

    def __init__(self) -> None:
        super().__init__(plugins_manager=None)
        self.sent: list[MQTTPacket[Any, Any, Any]] = []
        self.accepted: list[PublishPacket] = []
        self.closed = False

    async def _send_packet(self, packet: Any) -> None:
        self.sent.append(packet)

    async def _accept_publish(self, packet: PublishPacket) -> None:
        self.accepted.append(packet)

    async def handle_connection_closed(self) -> None:
        self.closed = True


def publish(topic: str, size: int, qos: int, retain: bool = False) -> PublishPacket:
    packet_id = 7 if qos else None
    return PublishPacket.build(topic, b"x" * size, packet_id, False, qos, retain)


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def test_a_publish_within_the_limit_is_accepted() -> None:
    async def scenario() -> None:
        handler = Recorded()
        await handler.handle_publish(publish(topics.detections("cam-1"), LIMIT, 1))
        assert len(handler.accepted) == 1 and handler.sent == [] and not handler.closed

    run(scenario())


def test_an_oversize_qos1_publish_is_acknowledged_and_dropped() -> None:
    # acknowledged: the sender must not re-send it forever
    async def scenario() -> None:
        handler = Recorded()
        await handler.handle_publish(publish(topics.detections("cam-1"), LIMIT + 1, 1))
        assert handler.accepted == []
        assert [type(p).__name__ for p in handler.sent] == ["PubackPacket"]
        assert handler.sent[0].variable_header.packet_id == 7
        assert Recorded.oversize_dropped == 1
        assert not handler.closed

    Recorded.oversize_dropped = 0
    run(scenario())


@pytest.mark.parametrize(("qos", "closes"), [(0, False), (2, True)])
def test_an_oversize_qos0_publish_is_just_dropped_and_qos2_closes(qos: int, closes: bool) -> None:
    async def scenario() -> None:
        handler = Recorded()
        await handler.handle_publish(publish(topics.detections("cam-1"), LIMIT + 1, qos))
        assert handler.accepted == [] and handler.sent == []
        assert handler.closed is closes

    run(scenario())


def test_a_retained_detection_is_refused_but_a_retained_site_plan_is_kept() -> None:
    async def scenario() -> None:
        handler = Recorded()
        await handler.handle_publish(publish(topics.detections("cam-1"), 10, 1, retain=True))
        assert handler.accepted == [] and Recorded.retain_refused == 1
        await handler.handle_publish(publish(topics.site(), 10, 1, retain=True))
        assert [p.topic_name for p in handler.accepted] == [topics.site()]

    Recorded.retain_refused = 0
    run(scenario())


def test_the_packet_order_is_made_once_per_connection() -> None:
    async def scenario() -> None:
        handler = Recorded()
        assert handler.order is handler.order
        assert Recorded().order is not handler.order

    run(scenario())
