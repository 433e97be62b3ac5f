"""broker.amqtt_broker: each SrsBroker binds its own protocol handler class.

The handler's limits and counters are class attributes (amqtt makes the handler
itself): each broker must get its own, or two brokers in one process (tests, the
demo) would share a payload limit and each other's drop counts.
"""

from __future__ import annotations

import asyncio
from typing import Any

from broker.amqtt_broker import SrsBroker
from broker.handler import SrsProtocolHandler
from broker.session_queue import QueueBound
from broker.throttle import CameraThrottle

CONFIG: dict[str, Any] = {"listeners": {"default": {"type": "tcp", "bind": "127.0.0.1:0"}}}


def brokers(*limits: int, **kwargs: Any) -> list[SrsBroker]:
    async def make() -> list[SrsBroker]:
        return [SrsBroker(dict(CONFIG), limit, **kwargs) for limit in limits]

    return asyncio.run(make())


def test_each_broker_s_handlers_carry_its_own_payload_limit() -> None:
    small, large = brokers(2048, 65536)
    for broker, limit in ((small, 2048), (large, 65536)):
        assert issubclass(broker.handler_cls, SrsProtocolHandler)
        assert broker.handler_cls.max_payload == limit
    assert small.handler_cls is not large.handler_cls
    assert SrsProtocolHandler.max_payload == 64 * 1024  # the base class is untouched


def test_drop_counters_are_per_broker() -> None:
    one, two = brokers(1024, 1024)
    one.handler_cls.oversize_dropped += 3
    one.handler_cls.retain_refused += 1
    assert (two.handler_cls.oversize_dropped, two.handler_cls.retain_refused) == (0, 0)
    assert SrsProtocolHandler.oversize_dropped == 0


def test_the_handlers_share_the_broker_s_queue_bound_throttle_and_tally() -> None:
    bound = QueueBound()
    throttle = CameraThrottle(5.0, 10)
    (broker,) = brokers(1024, queue_bound=bound, throttle=throttle)
    assert broker.handler_cls.queue_bound is bound is broker.queue_bound
    assert broker.handler_cls.drop_tally is broker.drop_tally
    assert getattr(broker.handler_cls, "throttle", None) is throttle  # read by broker.reader
