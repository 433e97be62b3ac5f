"""The protocol handler of one SRS broker client: amqtt's, with the overrides listed in
broker.amqtt_broker's docstring (payload size, keepalive, prompt stop), QoS 1 messages
routed by the task that read them (broker.routing), and what the broker sends the
client passed through its session's queue by one pump, re-sent on reconnect until
acknowledged (broker.delivery)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from amqtt.mqtt.constants import QOS_0, QOS_1
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.mqtt.puback import PubackPacket
from amqtt.mqtt.publish import PublishPacket
from amqtt.mqtt.subscribe import SubscribePacket
from amqtt.mqtt.unsubscribe import UnsubscribePacket
from amqtt.session import (
    IncomingApplicationMessage,
    Session,
)

from broker import delivery
from broker.delivery import queue_of
from broker.ordering import PacketOrder
from broker.reader import LimitedReader, read_packets
from broker.session_queue import DropTally, QueueBound
from broker.silence import SilenceWatch
from srs.wire import topics

log = logging.getLogger(__name__)

# Stopping a client's handler: retries of the reader cancel, then the socket is aborted.
READER_CANCELS = 5
STOP_GRACE_S = 2.0


class SrsProtocolHandler(BrokerProtocolHandler):
    max_payload = 64 * 1024
    oversize_dropped = 0
    retain_refused = 0
    # The broker's DirectRouting.route_incoming, set when the client connects.
    route: (
        Callable[[Session, BrokerProtocolHandler, IncomingApplicationMessage], Awaitable[bool]]
        | None
    ) = None
    _silence: SilenceWatch | None = None
    _pump: asyncio.Task[None] | None = None
    # Set by SrsBroker to its own (broker.session_queue).
    queue_bound = QueueBound()
    drop_tally = DropTally()
    _order: PacketOrder | None = None

    @property
    def order(self) -> PacketOrder:
        """This connection's packet order (broker.ordering), made on first use."""
        if self._order is None:
            self._order = PacketOrder()
        return self._order

    async def handle_subscribe(self, subscribe: SubscribePacket) -> None:
        async with self.order.lock:
            header = subscribe.variable_header
            if header is None or header.packet_id is None:
                await super().handle_subscribe(subscribe)  # amqtt raises its own error
                return
            acked = self.order.expect_ack(header.packet_id)
            await super().handle_subscribe(subscribe)
            await self.order.wait(acked, header.packet_id, self._client_id())

    async def handle_unsubscribe(self, unsubscribe: UnsubscribePacket) -> None:
        async with self.order.lock:
            header = unsubscribe.variable_header
            if header is None or header.packet_id is None:
                await super().handle_unsubscribe(unsubscribe)
                return
            acked = self.order.expect_ack(header.packet_id)
            await super().handle_unsubscribe(unsubscribe)
            await self.order.wait(acked, header.packet_id, self._client_id())

    async def mqtt_acknowledge_subscription(self, packet_id: int, return_codes: list[int]) -> None:
        await super().mqtt_acknowledge_subscription(packet_id, return_codes)
        self.order.acked(packet_id)

    async def mqtt_acknowledge_unsubscription(self, packet_id: int) -> None:
        await super().mqtt_acknowledge_unsubscription(packet_id)
        self.order.acked(packet_id)

    async def _reader_loop(self) -> None:
        await read_packets(self)  # whole packets, checked, in order (broker.reader)

    def _client_id(self) -> str | None:
        return self.session.client_id if self.session else None

    async def start(self) -> None:
        """amqtt's start (which re-sends the in-flight messages: _retry_deliveries),
        with the keepalive kept by a SilenceWatch (broker.silence); then the pump that
        sends the session's queue (broker.delivery)."""
        await self._start_reading()
        session = self.session
        if session is not None:
            queue = queue_of(session, self.queue_bound, self.drop_tally)
            self._pump = asyncio.create_task(delivery.pump(self, session, queue))

    async def _start_reading(self) -> None:
        session, reader = self.session, self.reader
        if session is None or not isinstance(reader, LimitedReader) or session.keep_alive <= 0:
            await super().start()
            return
        limit_s = session.keep_alive
        session.keep_alive, self.keepalive_timeout = 0, None  # the reader reads it at start
        try:
            await super().start()
        finally:
            session.keep_alive = limit_s
        self._silence = SilenceWatch(
            asyncio.get_running_loop(), limit_s, lambda: reader.last_read, self.handle_read_timeout
        )
        self._silence.start()

    async def _retry_deliveries(self) -> None:
        """On (re)connect: unacknowledged QoS 1 messages again, DUP=1 (MQTT-4.4.0-1).
        amqtt's version waited up to 10 s for their PUBACKs before the connection went on."""
        if self.session is not None:
            resent = await delivery.resend_inflight(self, self.session)
            if resent:
                log.info("re-sent %d unacknowledged messages to %r", resent, self._client_id())

    async def handle_puback(self, puback: PubackPacket) -> None:
        header = puback.variable_header
        session = self.session
        if (
            header is not None
            and session is not None
            and header.packet_id not in self._puback_waiters
            and delivery.acknowledged(session, header.packet_id)
        ):
            return
        await super().handle_puback(puback)

    def handle_read_timeout(self) -> None:
        """Nothing heard for 1.5 x keepalive: treat as a lost connection (sends the will)."""
        client = self.session.client_id if self.session else None
        log.warning("client %r silent past its keepalive: disconnecting", client)
        waiter = self._disconnect_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def stop(self) -> None:
        """amqtt's stop, made prompt (see the module docstring)."""
        if self._silence is not None:
            self._silence.cancel()
        if self._pump is not None:
            self._pump.cancel()  # its in-flight messages stay for the next connection
            self._pump = None
        await self._end_reader()
        try:
            await asyncio.wait_for(super().stop(), STOP_GRACE_S)
        except TimeoutError:  # the final flush to a client that reads nothing
            self._abort()

    async def _end_reader(self) -> None:
        task = self._reader_task
        if task is None or task is asyncio.current_task():
            return
        for _ in range(READER_CANCELS):
            if task.done():
                return
            task.cancel()
            await asyncio.wait({task}, timeout=0.2)
        self._abort()  # end of stream ends any read
        await asyncio.wait({task}, timeout=1.0)

    def _abort(self) -> None:
        stream = getattr(self.writer, "_writer", None)
        transport = getattr(stream, "transport", None)
        if transport is not None:
            transport.abort()

    async def handle_publish(self, publish_packet: PublishPacket) -> None:
        async with self.order.lock:  # after the SUBSCRIBE/UNSUBSCRIBE sent before it
            await self._handle_publish(publish_packet)

    async def _handle_publish(self, publish_packet: PublishPacket) -> None:
        data = publish_packet.data or b""
        topic = publish_packet.topic_name
        client = self.session.client_id if self.session else None
        if len(data) > self.max_payload:
            type(self).oversize_dropped += 1
            log.warning(
                "dropped a %d-byte publish on %r from %r: over the %d-byte limit",
                len(data),
                topic,
                client,
                self.max_payload,
            )
        elif publish_packet.retain_flag and topic and not topics.may_retain(topic):
            # A retained detection would sit in the broker's retained file (face
            # encodings) and reach core again on every reconnect.
            type(self).retain_refused += 1
            log.warning(
                "refused a retained publish on %r from %r: that topic is a stream, never retained",
                topic,
                client,
            )
        else:
            await self._accept_publish(publish_packet)
            return
        await self._drop(publish_packet)

    async def _drop(self, publish_packet: PublishPacket) -> None:
        """Acknowledge a refused QoS 1 publish without routing it (the sender must not
        re-send it forever); a refused QoS 2 one closes the connection (SRS does not use
        QoS 2); QoS 0 is simply dropped."""
        header = publish_packet.variable_header
        if publish_packet.qos == QOS_1 and header is not None and header.packet_id is not None:
            await self._send_packet(PubackPacket.build(header.packet_id))
        elif publish_packet.qos != QOS_1 and publish_packet.qos:
            await self.handle_connection_closed()  # QoS 2 is not used by SRS

    async def _accept_publish(self, packet: PublishPacket) -> None:
        """QoS 0 and 1 (all SRS traffic): routed by this task, then a QoS 1 one is
        acknowledged (see broker.routing); QoS 2 takes amqtt's way."""
        header, session, route = packet.variable_header, self.session, self.route
        qos = packet.qos or QOS_0
        packet_id = header.packet_id if header is not None else None
        if (
            qos not in (QOS_0, QOS_1)
            or (qos == QOS_1 and packet_id is None)
            or session is None
            or route is None
            or not packet.topic_name
        ):
            await super().handle_publish(packet)
            return
        message = IncomingApplicationMessage(
            packet_id, packet.topic_name, qos, packet.data or b"", packet.retain_flag
        )
        message.publish_packet = packet
        keep = await route(session, self, message)
        if qos == QOS_1 and packet_id is not None:
            await asyncio.sleep(0)  # the deliveries just created write first, then the PUBACK
            message.puback_packet = PubackPacket.build(packet_id)
            await self._send_packet(message.puback_packet)
        if not keep:  # a protocol error: close the connection (its will is sent)
            await self.handle_connection_closed()
