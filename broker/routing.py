"""Message routing for the SRS broker: each PUBLISH goes to its subscribers at once.

amqtt 0.12.1 routes a message in several event-loop turns: the topic check of the
publish and of every delivery is a task per plugin gathered by the plugin manager,
and the message then waits in a broadcast queue for a task created for it alone, which
also formats the whole payload into a debug string whether or not debug is on (0.27 ms
for a camera's 19 KB message). On the 2-core build machine one hop through the broker
took ~2.5 ms, whatever the payload size; see docs/positions.md ("Latency").

Here the only topic plugin SRS loads is awaited in place, and a QoS 1 message is
routed by the task that read it (:meth:`DirectRouting.route_incoming`, called by
``broker.handler.SrsProtocolHandler``) instead of passing through the session's
delivery queue and the client loop's ``asyncio.wait`` (~0.45 ms). amqtt's own checks
of a received message still run (``_handle_message_delivery``), and its routing rules
are unchanged: the subscriptions whose filter matches, the receive check for each
subscriber, messages kept for an offline persistent session at QoS 1 and 2. Each
delivery is put in the subscriber's bounded session queue (broker.session_queue),
which its connection's pump sends (broker.delivery); amqtt made a task per delivery
and kept an offline session's messages in an unbounded queue. Messages of one client
keep their order: routing never waits, so each is routed before the task of the
client's next message runs.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.mqtt.constants import QOS_1, QOS_2
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import IncomingApplicationMessage, Session

from broker.delivery import existing_queue, queue_of
from broker.drop_log import DropLog
from broker.session_queue import DropTally, Pending, QueueBound

log = logging.getLogger(__name__)

TOPIC_PLUGIN = "SrsTopicPlugin"

# The QoS of the PUBLISH being routed: a subscriber gets min(publish QoS, granted QoS)
# (MQTT 3.1.1 §3.8.4); amqtt's broadcast only knows the subscription's.
_PUBLISH_QOS: ContextVar[int | None] = ContextVar("srs_publish_qos", default=None)


class DirectRouting(Broker):
    """Overrides amqtt's topic check and broadcast with the direct versions above."""

    _topic_plugin: Any = None
    # Each session's bound, and the drops over all of them (SrsBroker sets its own).
    queue_bound = QueueBound()
    drop_tally = DropTally()
    drop_log = DropLog()

    async def _topic_filtering(self, session: Session, topic: str, action: Action) -> bool:
        plugin = self._topic_plugin
        if plugin is None:
            plugin = self._topic_plugin = self.plugins_manager.get_plugin(TOPIC_PLUGIN)
        if plugin is None:  # deny by default: no access rules, no traffic
            log.error("refusing %s on %r: the %s plugin is not loaded", action, topic, TOPIC_PLUGIN)
            return False
        return bool(await plugin.topic_filtering(session=session, topic=topic, action=action))

    async def route_incoming(
        self, session: Session, handler: BrokerProtocolHandler, message: IncomingApplicationMessage
    ) -> bool:
        """Check and route one received PUBLISH now; False: close the connection (a
        malformed topic, as amqtt decides)."""
        received: asyncio.Future[IncomingApplicationMessage] = self._loop.create_future()
        received.set_result(message)  # what the client loop's delivery wait would return
        token = _PUBLISH_QOS.set(message.qos)
        try:
            return bool(await self._handle_message_delivery(session, handler, received))
        finally:
            _PUBLISH_QOS.reset(token)

    async def _broadcast_message(
        self,
        session: Session | None,
        topic: str | None,
        data: bytes | bytearray | None,
        force_qos: int | None = None,
    ) -> None:
        if not topic:
            return
        self._forget_finished_deliveries()
        published_qos = _PUBLISH_QOS.get()
        payload = data if isinstance(data, bytes) else bytes(data or b"")  # one copy for all
        for topic_filter, subscriptions in list(self._subscriptions.items()):
            if not self._matches(topic, topic_filter):
                continue
            for target, subscribed_qos in list(subscriptions):
                qos = subscribed_qos if force_qos is None else min(subscribed_qos, force_qos)
                if published_qos is not None:
                    qos = min(qos, published_qos)
                if not await self._topic_filtering(target, topic, Action.RECEIVE):
                    continue
                connected = target.transitions.state == "connected"
                if qos == QOS_2 and connected:
                    handler = self._get_handler(target)  # amqtt's flow (SRS uses no QoS 2)
                    if handler is not None:
                        self._tasks_queue.append(
                            self._loop.create_task(handler.mqtt_publish(topic, data, qos, False))
                        )
                    continue
                # Kept for an offline persistent session at QoS 1/2 (MQTT 3.1.2.4), as
                # amqtt does, but in the session's bounded queue (broker.session_queue).
                if connected or (
                    not target.clean_session and qos in (QOS_1, QOS_2) and not target.is_anonymous
                ):
                    self.queue_delivery(target, Pending(topic, payload, qos))

    def queue_delivery(self, target: Session, item: Pending) -> None:
        """Queue ``item`` for ``target`` (its pump sends it); count and log any drop."""
        queue = queue_of(target, self.queue_bound, self.drop_tally)
        dropped = queue.put(item)
        if dropped:
            self.drop_log.note(queue, dropped)

    def queue_totals(self) -> dict[str, int]:
        """Clients connected, and what every session's queue holds now."""
        sessions = [s for s, _ in list(self._sessions.values())]
        queues = [q for s in sessions if (q := existing_queue(s)) is not None]
        return {
            "clients_connected": sum(s.transitions.state == "connected" for s in sessions),
            "queued": sum(q.queued for q in queues),
            "inflight": sum(q.inflight for q in queues),
            "queued_bytes": sum(q.bytes for q in queues),
        }

    def _forget_finished_deliveries(self) -> None:
        """Drop finished delivery tasks (amqtt's broadcast loop did this per message)."""
        tasks = self._tasks_queue
        while tasks and tasks[0].done():
            task = tasks.popleft()
            if task.cancelled():
                continue
            exc = task.exception()
            if exc is not None:  # a subscriber that went away must not stop the broker
                log.warning("a delivery failed and was skipped: %s", exc)
