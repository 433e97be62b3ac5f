"""Sending a session's messages: one pump per connection, re-sends on reconnect.

Everything the broker sends a client as a PUBLISH passes the session's
:class:`~broker.session_queue.SessionQueue` (routed messages, and retained ones on
SUBSCRIBE): broker.routing queues, and while the client is connected one task, the
pump, sends them in order, QoS 1 ones while fewer than the window are unacknowledged.
A QoS 1 message sent stays in amqtt's ``session.inflight_out`` until its PUBACK
(handled by ``SrsProtocolHandler.handle_puback``), with no timeout; when a
persistent session reconnects, :func:`resend_inflight` sends each again, in order,
with DUP=1 and its original packet id (MQTT-4.4.0-1), before anything newer.

One task per connection instead of one per message: a subscriber that stops reading
(core paused) holds one blocked write, not a task and a 5 s timer per message.
QoS 2 (not used by SRS) keeps amqtt's own flow, a task per message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from amqtt.errors import ProtocolHandlerError
from amqtt.mqtt.constants import QOS_0, QOS_1
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.mqtt.publish import PublishPacket
from amqtt.session import OutgoingApplicationMessage, Session

from broker.session_queue import DropTally, QueueBound, SessionQueue

log = logging.getLogger(__name__)

# Where a session's queue lives (amqtt's slot for extension-owned session state).
QUEUE_ATTR = "srs.broker.session_queue"


def queue_of(session: Session, bound: QueueBound, tally: DropTally) -> SessionQueue:
    """The session's queue, made on first use; it lives and dies with the session."""
    found = session.attributes.get(QUEUE_ATTR)
    if isinstance(found, SessionQueue):
        return found
    made = SessionQueue(session.client_id or "", bound, tally)
    session.attributes[QUEUE_ATTR] = made
    return made


def existing_queue(session: Session) -> SessionQueue | None:
    found = session.attributes.get(QUEUE_ATTR)
    return found if isinstance(found, SessionQueue) else None


async def resend_inflight(handler: BrokerProtocolHandler, session: Session) -> int:
    """Re-send every unacknowledged QoS 1 PUBLISH with DUP=1 and its original packet id
    (MQTT-4.4.0-1, MQTT-3.3.1-1), oldest first. Returns how many."""
    resent = 0
    for message in list(session.inflight_out.values()):
        if message.qos != QOS_1 or message.puback_packet is not None:
            continue
        packet = message.build_publish_packet(dup=True)
        message.publish_packet = packet
        await handler._send_packet(packet)
        resent += 1
    return resent


async def pump(handler: BrokerProtocolHandler, session: Session, queue: SessionQueue) -> None:
    """Send the session's queued messages for as long as the connection lives."""
    others: set[asyncio.Task[Any]] = set()  # QoS 2 flows (amqtt's)
    try:
        while True:
            item = queue.next_ready()
            if item is None:
                await queue.ready.wait()
                continue
            if item.qos == QOS_0:
                packet = PublishPacket.build(item.topic, item.data, None, False, QOS_0, item.retain)
                await handler._send_packet(packet)
            elif item.qos == QOS_1:
                packet_id = session.next_packet_id
                message = OutgoingApplicationMessage(
                    packet_id, item.topic, QOS_1, item.data, item.retain
                )
                # In flight before the send: a PUBACK read while the send yields finds it,
                # and a connection lost mid-send re-sends it on reconnect.
                session.inflight_out[packet_id] = message
                queue.sent(packet_id, item)
                message.publish_packet = message.build_publish_packet()
                await handler._send_packet(message.publish_packet)
            else:
                task = asyncio.create_task(
                    handler.mqtt_publish(item.topic, item.data, item.qos, item.retain)
                )
                others.add(task)
                task.add_done_callback(others.discard)
    except (asyncio.CancelledError, ProtocolHandlerError):
        pass  # the connection is stopping (amqtt turns a cancelled send into the latter)
    except Exception:  # a broken connection: end it; the in-flight messages stay
        log.exception("sending to %r failed: closing its connection", session.client_id)
        await handler.handle_connection_closed()
    finally:
        for task in others:
            task.cancel()


def acknowledged(session: Session, packet_id: int) -> bool:
    """A PUBACK for a message the pump sent: forget it, free its window slot."""
    queue = existing_queue(session)
    if queue is None or not queue.acknowledged(packet_id):
        return False
    session.inflight_out.pop(packet_id, None)
    return True
