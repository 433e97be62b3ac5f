"""The minimal amqtt 0.12.1 pieces SRS must override, because no plugin hook exists.

The broker's part is here; the protocol handler's (payload size, keepalive, PUBACK
waiter, stopping, packet order) is in broker.handler and broker.ordering, the reader
loop (whole packets, malformed ones close the connection) in broker.reader, and
message routing in broker.routing.

* **The first packet is read whole first** (broker.first_packet): a CONNECT in a
  protocol version other than 3.1.1 (MQTT 5's probe) is answered with CONNACK 1 at
  once; amqtt's decoder misread it and left the client waiting.
* **Authenticate before touching sessions.** Stock amqtt deletes the old session
  of a clean-session client id (and performs a takeover) *before* it knows whether
  the new client is authenticated, so anyone could drop core's subscriptions by
  connecting as "core". Here the CONNECT is authenticated first and refused with the
  proper CONNACK code; only then does amqtt's session logic run.
* **Payload size.** ``topic_filtering`` sees only the topic, and the
  ``MESSAGE_RECEIVED`` event cannot veto, so the check lives in the protocol handler:
  an oversize PUBLISH is acknowledged (QoS 1, like Mosquitto's
  ``message_size_limit``) and dropped before any subscriber or retained store sees
  it. A reader wrapper also refuses to buffer any packet much larger than the limit
  (the connection is closed), so a 20 MiB publish never sits in memory.
* **Keepalive.** amqtt times out a silent reader and then does nothing; here the
  connection is closed after 1.5 x keepalive (MQTT 3.1.1 §3.1.2.10), which also
  makes amqtt send the client's last will. One timer per connection keeps it
  (broker.silence), not a task and a timer per packet.
* **Retained messages on subscribe** are sent only to the subscriber and only for
  topics it may receive (stock amqtt replays retained messages for *every* client's
  filters on reconnect, with no receive check).
* **In flight before the send.** Stock amqtt sends a QoS 1 PUBLISH and only then
  registers the future its PUBACK resolves. When the send yields (socket buffer full,
  TLS, a loaded host) the client's PUBACK is read first, dropped as "unknown", and the
  sender waits 5 s for nothing: the retained site plan arrived 5 s after SUBSCRIBE,
  the positions 10 s (one stall per filter). Here every PUBLISH to a client goes
  through its session's queue (broker.delivery), which records it in flight first.
* **Stopping a handler.** amqtt cancels the reader task once and waits for it without
  bound; on Python 3.11 ``asyncio.wait_for`` swallows a cancel that races a completed
  read, so with a busy client the reader kept reading and broker shutdown hung for
  its full 15 s. Here the reader is cancelled until it ends (then the socket is
  aborted), and a client that reads nothing cannot hold the final flush forever.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from amqtt.adapters import ReaderAdapter, StreamReaderAdapter, StreamWriterAdapter, WriterAdapter
from amqtt.contexts import Action
from amqtt.errors import MQTTError
from amqtt.mqtt.connack import CONNECTION_ACCEPTED, NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import Session

from broker import first_packet
from broker.drop_log import DropLog
from broker.handler import SrsProtocolHandler
from broker.plugins import CONNACK_ATTR
from broker.reader import LimitedReader, PacketTooLarge
from broker.routing import DirectRouting
from broker.session_queue import DropTally, Pending, QueueBound
from broker.throttle import CameraThrottle

log = logging.getLogger(__name__)

# Room for the topic (up to 64 KiB by MQTT) and headers on top of the payload limit.
HEADER_ALLOWANCE = 65_536 + 16
# A client must send CONNECT this soon after opening the socket (amqtt waits forever).
CONNECT_TIMEOUT_S = 10.0
# Keepalive 0 ("never time me out") or anything longer is treated as this, so no
# half-open connection lives forever (SRS clients use 30 s).
MAX_KEEPALIVE_S = 3600


class SrsBroker(DirectRouting):
    """amqtt Broker with the overrides described in the module docstring and in
    broker.routing (each message routed at once)."""

    def __init__(
        self,
        config: dict[str, Any],
        max_payload_bytes: int,
        loop: asyncio.AbstractEventLoop | None = None,
        throttle: CameraThrottle | None = None,
        queue_bound: QueueBound | None = None,
    ) -> None:
        super().__init__(config, loop=loop)
        self.max_payload_bytes = max_payload_bytes
        self.throttle = throttle
        self.queue_bound = queue_bound or QueueBound()
        self.drop_tally = DropTally()
        self.drop_log = DropLog()
        handler_cls = type(
            "BoundSrsProtocolHandler",
            (SrsProtocolHandler,),
            {
                "max_payload": max_payload_bytes,
                "oversize_dropped": 0,
                "retain_refused": 0,
                "throttle": throttle,  # read by broker.reader
                "queue_bound": self.queue_bound,
                "drop_tally": self.drop_tally,
            },
        )
        self.handler_cls: type[SrsProtocolHandler] = handler_cls

    async def stream_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
    ) -> None:
        limited = LimitedReader(
            StreamReaderAdapter(reader), self.max_payload_bytes + HEADER_ALLOWANCE
        )
        out = StreamWriterAdapter(writer)
        host, port = out.get_peer_info() or ("?", 0)
        # An MQTT 5 CONNECT is answered (CONNACK 1) before amqtt misreads it.
        if not await first_packet.screen(limited, out, f"{host}:{port}", CONNECT_TIMEOUT_S):
            return
        try:
            await self._client_connected(listener_name, limited, out)
        except PacketTooLarge as exc:
            log.warning("closed a connection: %s", exc)

    async def _initialize_client_session(
        self,
        reader: ReaderAdapter,
        writer: WriterAdapter,
        remote_address: str,
        remote_port: int,
    ) -> tuple[BrokerProtocolHandler, Session]:
        try:
            handler, session = await asyncio.wait_for(
                self.handler_cls.init_from_connect(reader, writer, self.plugins_manager),
                CONNECT_TIMEOUT_S,
            )
        except TimeoutError:
            await writer.close()
            raise MQTTError(
                f"no CONNECT from {remote_address}:{remote_port} within {CONNECT_TIMEOUT_S:.0f} s"
            ) from None
        except PacketTooLarge:
            await writer.close()
            raise
        except MQTTError as exc:
            await writer.close()
            raise MQTTError(exc) from exc
        if session.will_flag and session.will_qos not in (0, 1, 2):
            await writer.close()  # a malformed CONNECT gets no CONNACK (MQTT-3.1.4-1)
            raise MQTTError(
                f"connection from {remote_address}:{remote_port} closed: will QoS "
                f"{session.will_qos} (MQTT-3.1.2-14)"
            )
        session.remote_address, session.remote_port = remote_address, remote_port
        handler.route = self.route_incoming
        await self._authenticate(session, None)
        code = getattr(session, CONNACK_ATTR, NOT_AUTHORIZED)
        if code != CONNECTION_ACCEPTED:
            # Refuse before amqtt deletes or takes over any existing session.
            await ConnackPacket.build(0, code).to_stream(writer)
            await writer.close()
            raise MQTTError(f"connection from {remote_address}:{remote_port} refused ({code})")
        # Hand the rest (clean session, resume) to amqtt, with the handler we built.
        return await self._resume(handler, session)

    async def _resume(
        self,
        handler: BrokerProtocolHandler,
        session: Session,
    ) -> tuple[BrokerProtocolHandler, Session]:
        if session.clean_session:
            existing = self._sessions.get(session.client_id or "")
            if existing is not None and existing[0].transitions.is_connected():
                # MQTT-3.1.4-2: the older connection of the same client id is closed
                # (stock amqtt leaves it running, detached from its session).
                await existing[1].handle_connection_closed()
            await self._delete_session(session.client_id or "")
            session.parent = 0
        elif session.client_id in self._sessions:
            old, _ = self._sessions[session.client_id]
            for attr in (
                "will_flag",
                "will_message",
                "will_topic",
                "will_qos",
                "will_retain",
                "keep_alive",
                "username",
                "password",
            ):
                setattr(old, attr, getattr(session, attr))
            setattr(old, CONNACK_ATTR, CONNECTION_ACCEPTED)
            session = old
            session.parent = 1
        else:
            session.parent = 0
        keep_alive = session.keep_alive
        if keep_alive <= 0 or keep_alive > MAX_KEEPALIVE_S:
            keep_alive = MAX_KEEPALIVE_S
        session.keep_alive = math.ceil(keep_alive * 1.5)
        return handler, session

    async def _authenticate(self, session: Session, _: Any) -> bool:
        if getattr(session, CONNACK_ATTR, None) is not None:
            return bool(getattr(session, CONNACK_ATTR) == CONNECTION_ACCEPTED)
        return await super()._authenticate(session, _)

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        topic_filter, qos = subscription
        subscribers = self._subscriptions.get(topic_filter, [])
        if not any(s.client_id == session.client_id for s, _ in subscribers):
            return  # amqtt calls this with every client's filters on reconnect
        for topic, retained in list(self._retained_messages.items()):
            if not self._matches(topic, topic_filter):
                continue
            if not await self._topic_filtering(session, topic, Action.RECEIVE):
                continue
            # Through the session's queue (broker.delivery): in order, bounded, and
            # re-sent on reconnect like any other QoS 1 message.
            qos_out = min(qos, retained.qos or qos)
            self.queue_delivery(
                session, Pending(retained.topic, bytes(retained.data), qos_out, retain=True)
            )
