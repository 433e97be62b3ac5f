"""broker.reader: the connection's LimitedReader (bounded reads, screened bytes put back)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from amqtt.adapters import ReaderAdapter

from broker.reader import LimitedReader, PacketTooLarge


class BytesSource(ReaderAdapter):
    """A socket's bytes, served in order; records what was asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[int] = []
        self.eof = False

    async def read(self, n: int = -1) -> bytes:
        self.asked.append(n)
        head, self.data = self.data[:n], self.data[n:]
        return head

    def feed_eof(self) -> None:
        self.eof = True


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


@pytest.mark.parametrize("n", [-1, 101])
def test_a_read_above_the_cap_or_unbounded_is_refused(n: int) -> None:
    async def scenario() -> None:
        source = BytesSource(b"x" * 200)
        reader = LimitedReader(source, cap=100)
        with pytest.raises(PacketTooLarge, match="limit 100"):
            await reader.read(n)
        assert source.asked == []  # nothing was buffered for it

    run(scenario())


def test_a_read_up_to_the_cap_passes_through() -> None:
    async def scenario() -> None:
        reader = LimitedReader(BytesSource(b"a" * 100 + b"b"), cap=100)
        assert await reader.read(100) == b"a" * 100
        assert await reader.read(1) == b"b"

    run(scenario())


def test_put_back_bytes_are_read_first_then_the_stream() -> None:
    async def scenario() -> None:
        source = BytesSource(b"CDEF")
        reader = LimitedReader(source, cap=100)
        reader.unread(b"B")
        reader.unread(b"A")  # in front of what was put back before
        assert await reader.read(1) == b"A"
        assert source.asked == []
        assert await reader.read(3) == b"BCD"  # the rest of the put-back, then the socket
        assert source.asked == [2]
        assert await reader.read(2) == b"EF"

    run(scenario())


def test_end_of_stream_is_passed_to_the_socket_reader() -> None:
    async def scenario() -> None:
        source = BytesSource(b"")
        LimitedReader(source, cap=10).feed_eof()
        assert source.eof

    run(scenario())
