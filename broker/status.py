"""The broker's own status on ``srs/v1/broker/status``: signed, retained, when it changes.

What the broker dropped or refused used to show only in its log ("a dropped 67 KB
message shows only in the broker's log, not in core's counters"). The broker now
publishes its counters (srs.wire.payloads.BrokerStatus) as retained state, signed
with a key of its own (``keys/broker.key`` in its data dir, made on first start; the
public half beside it, ``broker.key.pub``, is what a reader pins, as core's is). No
client may publish on that topic (the ACL gives it to nobody): the broker publishes
it from inside. Core may subscribe (broker.acl) and report the counts in its own
status. Checked every ``STATUS_EVERY_S`` and published only when a counter changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from amqtt.mqtt.constants import QOS_1

from broker.routing import DirectRouting
from srs.wire import topics
from srs.wire.keys import SigningKey
from srs.wire.payloads import BROKER_COUNTERS, BrokerStatus
from srs.wire.signing import sign

log = logging.getLogger(__name__)

STATUS_EVERY_S = 5.0
MAX_NAMED_CLIENTS = 64  # BrokerStatus.queue_dropped_by_client's bound


def key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "broker.key"


def broker_key(data_dir: Path) -> SigningKey:
    return SigningKey.load_or_create(topics.BROKER_SENDER, key_path(data_dir))


def status_of(stats: Mapping[str, int], by_client: Mapping[str, int], now: float) -> BrokerStatus:
    """The wire status from the broker's counters (the most-dropping clients named)."""
    ids = [(c, n) for c, n in by_client.items() if _is_id(c)]
    named = dict(sorted(ids, key=lambda kv: (-kv[1], kv[0]))[:MAX_NAMED_CLIENTS])
    counts = {name: int(stats.get(name, 0)) for name in BROKER_COUNTERS}
    return BrokerStatus.model_validate({"sent_at": now, "queue_dropped_by_client": named, **counts})


def _is_id(client: str) -> bool:
    try:
        topics.check_id(client)
    except topics.TopicError:
        return False  # e.g. "core:reader": counted in the totals, not named
    return True


class StatusPublisher:
    def __init__(
        self,
        broker: DirectRouting,
        key: SigningKey,
        audience: str,
        stats: Callable[[], dict[str, int]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._broker = broker
        self._key = key
        self._audience = audience
        self._stats = stats
        self._clock = clock
        self._last: tuple[int, ...] | None = None
        self.published = 0

    async def publish_if_changed(self) -> bool:
        stats = self._stats()
        by_client = dict(self._broker.drop_tally.by_client)
        seen = tuple(stats.get(name, 0) for name in BROKER_COUNTERS) + tuple(
            sorted(by_client.values())
        )
        if seen == self._last:
            return False
        status = status_of(stats, by_client, self._clock())
        topic = topics.broker_status()
        token = sign(status, topic, self._key, audience=self._audience, now=status.sent_at)
        await self._broker.retain_message(None, topic, token, QOS_1)
        await self._broker._broadcast_message(None, topic, token, QOS_1)
        self._last = seen
        self.published += 1
        return True
