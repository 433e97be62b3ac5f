"""broker/ordering.py: a SUBSCRIBE holds its connection's later packets until acknowledged."""

from __future__ import annotations

import asyncio
import logging

import pytest

from broker import ordering
from broker.ordering import PacketOrder


def test_an_acknowledgement_releases_the_waiter() -> None:
    async def scenario() -> list[str]:
        order = PacketOrder()
        done: list[str] = []

        async def subscribe() -> None:
            async with order.lock:
                fut = order.expect_ack(7)
                asyncio.get_running_loop().call_soon(order.acked, 7)
                await order.wait(fut, 7, "cam1")
                done.append("subscribe")

        async def publish() -> None:
            async with order.lock:
                done.append("publish")

        first = asyncio.create_task(subscribe())
        second = asyncio.create_task(publish())  # sent after: applied after
        await asyncio.gather(first, second)
        assert order._acks == {}
        return done

    assert asyncio.run(scenario()) == ["subscribe", "publish"]


def test_an_unknown_or_repeated_ack_is_ignored() -> None:
    async def scenario() -> None:
        order = PacketOrder()
        order.acked(3)  # nothing expected
        fut = order.expect_ack(3)
        order.acked(3)
        order.acked(3)
        assert fut.done()

    asyncio.run(scenario())


def test_a_missing_ack_gives_up_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ordering, "ACK_WAIT_S", 0.01)

    async def scenario() -> PacketOrder:
        order = PacketOrder()
        await order.wait(order.expect_ack(9), 9, "cam1")
        return order

    with caplog.at_level(logging.WARNING, logger="broker.ordering"):
        order = asyncio.run(scenario())
    assert order._acks == {}
    assert "packet 9 not acknowledged" in caplog.text
