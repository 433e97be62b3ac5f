"""broker.first_packet on the embedded broker: the first packet read whole, a 3.1.1
CONNECT handed on intact however it arrives, anything else closed."""

from __future__ import annotations

import socket
import time

from tests.broker import raw
from tests.broker.raw import RawClient
from tests.brokers import BrokerHandle


def _password(broker: BrokerHandle) -> str:
    cfg = broker.client_config("cam1", "camera")
    assert cfg.password is not None
    return cfg.password.get_secret_value()


def test_a_connect_fed_a_byte_at_a_time_is_handed_on_whole(srs_broker: BrokerHandle) -> None:
    whole = raw.connect("cam1", "cam1", _password(srs_broker))
    with RawClient(srs_broker.host, srs_broker.port) as client:
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(whole)):
            client.send(whole[i : i + 1])
            time.sleep(0.001)  # separate segments, not a timing bound
        connack = client.read_kind(raw.CONNACK)
        assert connack.body == b"\x00\x00"
        client.send(raw.PINGREQ)
        assert client.read_kind(raw.PINGRESP)


def test_a_connection_closed_before_a_byte_leaves_the_broker_serving(
    srs_broker: BrokerHandle,
) -> None:
    socket.create_connection((srs_broker.host, srs_broker.port), timeout=raw.WAIT_S).close()
    with RawClient(srs_broker.host, srs_broker.port) as client:
        client.send(raw.connect("cam1", "cam1", _password(srs_broker)))
        assert client.read_kind(raw.CONNACK).body == b"\x00\x00"


def test_a_first_packet_larger_than_the_broker_buffers_is_closed(
    srs_broker: BrokerHandle,
) -> None:
    with RawClient(srs_broker.host, srs_broker.port) as client:
        # A CONNECT announcing 100 MB: refused on its header, nothing buffered.
        client.send(b"\x10" + raw.remaining_length(100_000_000) + b"\x00\x04MQTT\x04")
        assert client.read() is None
