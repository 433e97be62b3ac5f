"""``CoreService``: the MQTT side of core around the ingest pipeline.

One worker thread owns the broker connection (driven by ``core.pump``, not by a
paho thread), the database and the signing key. While it waits on the database it
lends the connection to a keepalive thread (``core.pump.Keeper``), so a stalled
database never makes the broker drop core. Per batch of what has arrived it
calls the ingest's two halves: ``locate`` (verify, recognise, locate) returns the
live view, which it publishes at once; ``store`` writes the sightings in one
transaction, and only after its commit does it ack each camera end-to-end and
publish the sightings.
The session is persistent (client id "core", QoS 1; MQTT 3.1.1 clean_session False,
MQTT 5 clean_start False with ``[mqtt] session_expiry_s``), so a restart picks up the
backlog the broker kept; cameras re-send what was not acked and the (camera, seq)
unique key stores nothing twice. A subscription the broker refuses stops core with
the broker's sentence (exit status 1): a core that hears no camera is no core.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from pydantic import BaseModel

from core.broker_status import BrokerStatusReader
from core.commands import CommandHandler
from core.core_key import load_core_key
from core.flood import FloodWatch
from core.homeassistant import ONLINE
from core.ingest import Ingest
from core.locating import HaMessage, LocatorLink, default_locator
from core.messages import Incoming, Outgoing
from core.observation import Locator
from core.partition import client_id
from core.pump import Keeper, Pump
from core.retention import purge
from core.scale_out import ScaleOut
from core.srs_config import SrsConfig
from core.status import Counters, RepeatLog
from core.store import open_store
from core.store.db import Database
from core.store.people import done_clears, pending_clears
from core.store.users import sync_users
from srs.mqtt import ConnectionWatcher, Session, SubscriptionRefused, Will
from srs.sdnotify import Notifier
from srs.wire import topics
from srs.wire.payloads import Ack, DetectionBatch, PersonPosition, PublicKey
from srs.wire.signing import sign

log = logging.getLogger(__name__)
CLIENT_ID = "core"
# On stop, how long the worker waits for enrolments still being encoded, to answer
# and store them (a few photos take seconds; the unit allows 30 s to stop).
ENROL_DRAIN_S = 15.0
SUBSCRIPTIONS = (
    (topics.ALL_DETECTIONS, 1),
    (topics.ALL_CAMERA_STATUS, 1),
    (topics.ALL_REQUESTS, 1),
)
# Welcome, not needed: the embedded broker's counts (core/broker_status.py). Mosquitto
# and NATS publish none; an ACL written before it may refuse it: core runs on (logged).
OPTIONAL_SUBSCRIPTIONS = ((topics.BROKER_STATUS, 1),)
# Home Assistant's birth message is plain text any integrator may send: it makes core
# re-announce every tracker, at most this often.
HA_BIRTH_EVERY_S = 5.0


class CoreService:
    def __init__(
        self, cfg: SrsConfig, *, locator: Locator | None = None, db: Database | None = None
    ) -> None:
        self.cfg = cfg
        # systemd's notify socket, when run by a Type=notify unit (else it does nothing).
        self.notifier = Notifier()
        self.db = db or open_store(cfg)
        try:  # the key every instance shares (core/core_key.py)
            self.key = load_core_key(cfg, self.db)
        except Exception:
            if db is None:  # ours to close; a caller's stays the caller's
                self.db.close()
            raise
        self.counters = Counters()
        self.link = LocatorLink(
            locator if locator is not None else default_locator(cfg),
            homeassistant=cfg.core.homeassistant,
            include_unknown=cfg.core.homeassistant_include_unknown,
        )
        self.ingest = Ingest(self.db, cfg, self.link.locator, counters=self.counters)
        self.flood = FloodWatch(cfg.core.camera_max_rate)
        self._flood_alerts: list[Outgoing] = []
        self.ingest.on_verified = self._watch_flood
        self.broker_status = BrokerStatusReader(cfg.security, cfg.keys_dir, self.ingest.reject)
        self.commands = CommandHandler(self.db, cfg, self.ingest, self.link)
        # One of several instances? (None: the only one, as always; docs/scale.md)
        self.scale = ScaleOut.create(cfg, self.db, self.ingest, self.link.locator)
        self._pending: list[Incoming] = []  # read from the broker, not yet handled
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name="core-ingest", daemon=True)
        self.watcher = ConnectionWatcher()
        offline = self.counters.status("offline", cfg.core.status_interval_s)
        will = Will(topics.core_status(), self._sign(offline, topics.core_status()))
        # Why core stopped by itself (a refused subscription), else None.
        self.failure: str | None = None
        self.session = Session(
            cfg.mqtt,
            CLIENT_ID if self.scale is None else client_id(self.scale.instance, cfg.mqtt.username),
            # Several instances keep no session (a camera moves between them; its own
            # re-sends carry what was not acked) and no will: one instance going away
            # is not core going offline (docs/scale.md).
            clean_session=self.scale is not None,
            will=will if self.scale is None else None,
            # Several instances subscribe to what they hold, as it changes (_rebalance).
            subscriptions=SUBSCRIPTIONS if self.scale is None else (),
            optional=OPTIONAL_SUBSCRIPTIONS
            + (((topics.HA_BIRTH, 1),) if cfg.core.homeassistant else ()),
            on_connect=self._on_connect,
            on_disconnect=self.watcher.on_disconnect,
            on_message=self._on_message,
            on_refused=self._on_refused,
            by_hand=True,  # driven by the pump, on the worker thread
        )
        # paho calls on_connect_fail only from its own loops; the pump reports instead.
        self.pump = Pump(self.session, self._on_connect_fail)
        if self.scale is not None:  # its lookups wait on the database: lend the connection
            self.scale.lend = self._away
        self.keeper = Keeper(self.pump, self._room_held, cfg.mqtt.keepalive_s)
        self._started = False
        self._vouched: dict[str, str] = {}  # camera keys published (camera id -> key)
        self._ha_birth_at = -HA_BIRTH_EVERY_S  # monotonic time of the last re-discovery
        # A failure that repeats every tick (a full disk) is one line and a summary.
        self._errors = RepeatLog(log)

    # --- lifecycle ---------------------------------------------------------------

    @property
    def client(self) -> paho.Client:
        """The session's client of the moment (a fall-back to MQTT 3.1.1 replaces it)."""
        return self.session.client

    def start(self) -> CoreService:
        self.session.start()
        if self.scale is not None:
            self.scale.start()
        self._worker.start()
        self.keeper.start()
        self._started = True
        log.info(
            "core started: broker %s:%d, %d people in the gallery",
            self.cfg.mqtt.host,
            self.cfg.mqtt.port,
            len(self.ingest.names),
        )
        return self

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.watcher.connected.wait(timeout)

    def stop(self) -> None:
        """Drain what was received, ack it, say offline, disconnect; join the worker."""
        if not self._started:
            self.db.close()
            return
        self.notifier.stopping("draining and acknowledging what was received")
        self._started = False
        self._stop.set()
        self._worker.join(30)
        self.keeper.stop()
        self.session.stop()
        self.commands.close()  # joins the enrolment process, when one was started
        self.db.close()
        log.info("core stopped")

    def __enter__(self) -> CoreService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- callbacks (run inside Pump.step, on the worker thread) ----------------------

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any = None
    ) -> None:
        self.watcher.on_connect(client, userdata, flags, reason, properties)
        if not self.watcher.connected.is_set():
            self._errors(
                "core could not connect",
                logging.ERROR,
                "core could not connect: %s",
                self.watcher.last_error,
            )
            self.notifier.status(f"not connected: {self.watcher.last_error}")
            return
        # What the session kept while core was away arrives first: copies of it that
        # expired meanwhile are stale, not forged (core/clocks.py).
        self.ingest.clocks.connected(time.time())
        if self.scale is not None and self.scale.subscriptions():
            # The cameras held (none before the first renewal); SUBACKs checked.
            self.session.subscribe(self.scale.subscriptions())
        if self._once():
            self._announce()
        self.notifier.status("connected to the broker")
        log.info(
            "core connected to the broker over MQTT %s (session present: %s)",
            self.session.protocol,
            getattr(flags, "session_present", "?"),
        )

    def _announce(self) -> None:
        """What the one core (or the leader) publishes on each connection."""
        pub = PublicKey(sender=topics.CORE_SENDER, public_key=self.key.public_key_b64)
        self._publish(topics.key(topics.CORE_SENDER), pub, retain=True)
        self._vouched = {}  # (re)publish every camera key on each connection
        self._vouch_for_cameras()
        site = self.link.site_message()
        if site is not None:
            self._publish(site.topic, site.payload, retain=True)
        self._heartbeat()
        self._publish_plain(self.link.ha_availability(True))

    def _once(self) -> bool:
        """Run the once-only duties here? (The only core, or the leader of several.)"""
        return self.scale is None or self.scale.once()

    def _rebalance(self) -> None:
        """Renew the leases; follow the cameras and the leadership that moved."""
        assert self.scale is not None
        change = self._away(self.scale.renew)
        if not self.watcher.connected.is_set():
            return  # _on_connect subscribes to all that is held
        if change.unsubscribe:
            self.client.unsubscribe(list(change.unsubscribe))
        if change.subscribe:
            self.session.subscribe([(t, 1) for t in change.subscribe])
        if change.leader_changed and change.leader:
            self.session.subscribe([(t, 1) for t in self.scale.leader_topics()])
            self._announce()
        elif change.leader_changed:
            self.client.unsubscribe(self.scale.leader_topics())

    def _on_refused(self, refused: SubscriptionRefused) -> None:
        # Running on would look healthy and hear nothing: stop, and say why.
        self.failure = f"core stops: {refused}"
        log.error("%s", self.failure)
        self.notifier.status(self.failure)
        self._stop.set()

    def _on_connect_fail(self) -> None:
        self._errors(
            "cannot reach the broker",
            logging.WARNING,
            "cannot reach the broker at %s:%d; retrying",
            self.cfg.mqtt.host,
            self.cfg.mqtt.port,
        )

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        self._pending.append(
            Incoming(msg.topic, bytes(msg.payload), bool(msg.dup), retained=bool(msg.retain))
        )

    # --- worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        self.pump.hold()  # the connection is the worker's, but for its loans (_away)
        try:
            self._loop()
        finally:
            self.pump.release()

    def _away(self, fn: Any, *args: Any) -> Any:
        """``fn`` waits on the database and touches neither client nor inbox: the
        keepalive thread may drive the connection meanwhile (core.pump)."""
        with self.pump.lent():
            return fn(*args)

    def _loop(self) -> None:
        next_beat = time.monotonic() + self.cfg.core.status_interval_s
        next_purge = time.monotonic()  # purge once at start, then every interval
        next_clear = time.monotonic()
        # Ready once the store, key and loop are up; the broker connection comes and
        # goes on its own (STATUS says which), and waiting for it here would have
        # systemd restart core in a loop while the broker is down.
        self.notifier.ready("running; connecting to the broker")
        while True:
            # Fed here, after each batch and tick: a batch or a tick that hangs stops
            # the keep-alives, and systemd restarts core (WatchdogSec in the unit).
            self.notifier.alive()
            if self.scale is not None and self.scale.due():
                self._guard(self._rebalance)
            batch = self._gather()
            if batch:
                self._guard(self._handle, batch)
            elif self._stop.is_set():
                break
            elif self.ingest.holding and self.ingest.holding.due():
                self._guard(self._detections, [])  # the store's retry, with nothing new
            if self.commands.enrolments.busy:
                self._guard(self._enrolled)
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self.cfg.core.status_interval_s
                self._guard(self._heartbeat)
            if now >= next_purge:
                next_purge = now + self.cfg.core.retention_interval_s
                self._guard(self._purge)
            if now >= next_clear:
                next_clear = now + 1.0
                self._guard(self._clear_positions)
                self._guard(self._away, self.ingest.refresh)
                self._guard(self._vouch_for_cameras)
                self._guard(self._tick)
                self._guard(self._sync_users)
                self._guard(self._away, self.ingest.flush_audit)
        drained = time.monotonic() + ENROL_DRAIN_S
        while self.commands.enrolments.busy and time.monotonic() < drained:
            self._guard(self._enrolled, drained - time.monotonic())
        if self.scale is not None:
            self._guard(self.scale.leave)
        self._guard(self._say_offline)

    def _say_offline(self) -> None:
        # Of several instances, only the last one going says core is offline.
        if self.watcher.connected.is_set() and (self.scale is None or self.scale.alone()):
            status = self.counters.status("offline", self.cfg.core.status_interval_s)
            self._publish_plain(self.link.ha_availability(False))
            info = self._publish(topics.core_status(), status, retain=True)
            self.pump.flush(info.is_published, 2.0)
        self.client.disconnect()
        self.pump.flush(lambda: not self.client.want_write(), 1.0)

    def _guard(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - the worker loop outlives any one task
            self._errors(
                f"core worker: {fn.__name__} failed",
                logging.ERROR,
                "core worker: %s failed (the service keeps running)",
                fn.__name__,
                exc_info=True,
            )

    def _gather(self) -> list[Incoming]:
        """What has arrived, up to one batch: waits up to 0.2 s when nothing has (less
        when stopping), then takes whatever else came meanwhile, so batches grow by
        themselves under load; ``commit_window_ms`` waits for more."""
        core = self.cfg.core
        idle = not self._pending
        self.pump.step(0.0 if not idle or self._stop.is_set() else 0.2, self._room())
        if self._pending and core.commit_window_ms > 0:
            deadline = time.monotonic() + core.commit_window_ms / 1000.0
            while len(self._pending) < core.max_batch_messages:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.pump.step(left, self._room())
        batch = self._pending[: core.max_batch_messages]
        del self._pending[: core.max_batch_messages]
        return batch

    def _room(self) -> int:
        # Read one batch ahead at most (and never past queue_size): a single thread gains
        # nothing from reading further, and what it has read is already PUBACKed. The
        # rest waits in core's session at the broker; acks keep flowing batch by batch.
        core = self.cfg.core
        return max(1, min(core.queue_size, core.max_batch_messages) - len(self._pending))

    def _room_held(self) -> int:
        # The keeper's: while the worker waits on the database, read up to queue_size
        # (acked by the broker's session; the cameras re-send what core never acks).
        return max(0, self.cfg.core.queue_size - len(self._pending))

    def _handle(self, batch: list[Incoming]) -> None:
        detections, statuses, requests = [], [], []
        for item in batch:
            if topics.matches(topics.ALL_DETECTIONS, item.topic):
                detections.append(item)
            elif topics.matches(topics.ALL_CAMERA_STATUS, item.topic):
                statuses.append(item)
            elif item.topic == topics.BROKER_STATUS:
                self._broker_status(item)
            elif item.topic == topics.HA_BIRTH:
                self._ha_birth(item)
            else:
                requests.append(item)
        if self.scale is not None:
            detections = self.scale.mine(detections)
        if detections:
            self._detections(detections)
        for item in statuses:
            status = self._away(self.ingest.camera_status, item)
            if status is not None:
                self._send(self.link.camera_status(status, time.time()))
        for item in requests:
            self._send(self._away(self.commands.handle, item))
        if requests:  # a name or merge empties the old key's retained position now
            self._guard(self._clear_positions)
        if statuses or requests:
            self._away(self.ingest.flush_audit)

    def _detections(self, detections: list[Incoming]) -> None:
        """One try at storing: what arrived (and what core holds from a store error)."""
        located = self._away(self.ingest.locate, detections)
        # The live view leaves now, before the sightings are written: it needs
        # nothing the commit creates, and every millisecond shows on a screen.
        # Should the store fail, core holds the batch and tries again (core/holding.py).
        self._send(located.live)
        result = self._away(self.ingest.store, located)
        for cam, seqs in result.acks.items():
            for i in range(0, len(seqs), 1024):
                self._publish(topics.ack(cam), Ack(camera_id=cam, seqs=seqs[i : i + 1024]))
        for refused in result.refused:  # "not stored, and why" (core/clocks.py)
            self._publish(topics.ack(refused.camera_id), refused)
        done = time.perf_counter()
        for t in result.received_at:
            self.counters.latency(done - t)
        self._send(result.outgoing)
        self._send(self._flood_alerts)
        self._flood_alerts = []

    def _broker_status(self, item: Incoming) -> None:
        status = self.broker_status.read(item)  # None: no pinned key, or rejected
        if status is not None:
            self.counters.broker(status)

    def _ha_birth(self, item: Incoming) -> None:
        """Home Assistant (re)started: announce every tracker to it again (HA's own
        way; no retained message has to reach its wildcard subscription)."""
        now = time.monotonic()
        if item.data.strip() != ONLINE or now - self._ha_birth_at < HA_BIRTH_EVERY_S:
            return
        self._ha_birth_at = now
        sent = self.link.ha_rediscover()
        if self._once():
            sent += self.link.ha_availability(True)
        self._publish_plain(sent)
        log.info("Home Assistant is online: sent it %d discovery message(s) again", len(sent))

    def _publish_plain(self, messages: list[HaMessage]) -> None:
        """Home Assistant's plain JSON (unsigned: HA cannot verify JWS)."""
        for topic, data, retain in messages:
            self.client.publish(topic, data, qos=1, retain=retain)

    def _watch_flood(self, batch: DetectionBatch) -> None:
        for alert in self.flood.observe(batch.camera_id, batch.seq, batch.captured_at, time.time()):
            self._flood_alerts.append(Outgoing(topics.alerts(), alert))

    def _enrolled(self, wait_s: float = 0.0) -> None:
        """Answer the enrolments whose photos are encoded (encodings stored here, on the
        worker thread, which owns the database); checked after every step, so at most
        one idle wait (0.2 s) after they are ready."""
        self._send(self._away(self.commands.finished, wait_s))

    def _send(self, outgoing: list[Outgoing]) -> None:
        # Each message leaves as soon as it is signed: publish() writes to the socket
        # from this thread (see core.pump), so the first position need not wait for
        # the last one's signature.
        for out in outgoing:
            # A person who is gone leaves no retained topic behind: live subscribers get
            # the signed "gone" position, then the empty retained payload that clears it,
            # so the retained set stays the people present (not everyone ever seen).
            gone = isinstance(out.payload, PersonPosition) and out.payload.gone
            self.link.recent.record(out.payload)
            try:
                self._publish(out.topic, out.payload, retain=out.retain and not gone)
                if gone and out.retain:
                    self.client.publish(out.topic, b"", qos=1, retain=True)
                self._publish_plain(self.link.ha_messages(out))
            except Exception:  # noqa: BLE001 - one unpublishable message must not stop the rest
                self._errors(
                    f"could not publish a {type(out.payload).__name__}",
                    logging.ERROR,
                    "could not publish on %s",
                    out.topic,
                    exc_info=True,
                )

    def _sign(self, payload: BaseModel, topic: str) -> bytes:
        return sign(
            payload,
            topic,
            self.key,
            audience=self.cfg.security.audience,
            max_age_s=self.cfg.security.max_message_age_s,
        )

    def _publish(
        self, topic: str, payload: BaseModel, retain: bool = False
    ) -> paho.MQTTMessageInfo:
        return self.session.publish(topic, self._sign(payload, topic), qos=1, retain=retain)

    def _vouch_for_cameras(self) -> None:
        """Publish (retained, signed by core) the key of each enabled camera, and clear
        it when a camera is removed or disabled: the dashboard verifies camera status
        with it (docs/mqtt.md)."""
        if not self.watcher.connected.is_set() or not self._once():
            return
        current = self.ingest.keyring.vouched()
        for cam, key in current.items():
            if self._vouched.get(cam) != key:
                pub = PublicKey(sender=topics.camera_issuer(cam), public_key=key)
                self._publish(topics.camera_key(cam), pub, retain=True)
        for cam in self._vouched.keys() - current.keys():
            self.client.publish(topics.camera_key(cam), b"", qos=1, retain=True)
        self._vouched = current

    def _heartbeat(self) -> None:
        if not self._once():
            return
        status = self.counters.status("online", self.cfg.core.status_interval_s)
        self._publish(topics.core_status(), status, retain=True)

    def _tick(self) -> None:
        ring = self.ingest.keyring
        disabled = frozenset(ring.known - ring.enabled)
        out = self.link.tick(time.time(), self.counters.security_rejections(), disabled)
        self._send(out if self.scale is None else self.scale.local_only(out))

    def _sync_users(self) -> None:
        # Every instance with the users file keeps the mirror (it writes only on a
        # change); those without it read their operators' roles from the mirror.
        if not self._once() and not self.commands.roles.has_file():
            return
        from core.bootstrap import tidy

        self._away(self._sync_users_now, tidy)

    def _sync_users_now(self, tidy: Any) -> None:
        if self._once():
            tidy(self.commands.roles.users())
        users = self.commands.roles.changed_users()
        if users is not None:
            with self.db.session() as s:
                sync_users(s, users)

    def _purge(self) -> None:
        if not self._once():
            return
        self._away(self._purge_now)

    def _purge_now(self) -> None:
        with self.db.session() as s:
            purge(s, self.cfg.core.retention_days)

    def _clear_positions(self) -> None:
        """Empty the retained position of erased/merged people (retained topics forget)."""
        if not self.watcher.connected.is_set() or not self._once():
            return
        keys = self._away(self._pending_clears)
        for key in keys:
            self._send(self.link.forget(key, time.time()))
            self.client.publish(topics.position(key), b"", qos=1, retain=True)
            self._publish_plain(self.link.ha_remove(key))
        if keys:
            self._away(self._done_clears, keys)  # a crash before it only clears twice
            log.info("cleared the retained position of %s", ", ".join(keys))

    def _pending_clears(self) -> list[str]:
        with self.db.session() as s:
            return list(pending_clears(s))

    def _done_clears(self, keys: list[str]) -> None:
        with self.db.session() as s:
            done_clears(s, keys)

    def run_forever(self) -> int:
        """Run until SIGTERM / SIGINT; the CLI entry point."""
        import signal

        stop = threading.Event()
        # The handlers go back when core stops: a process that ran core and goes on
        # (a test, a tool) must not keep ignoring SIGTERM, nor hand that to its forks.
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            with self:
                while not stop.wait(1.0) and self.failure is None:
                    pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0 if self.failure is None else 1  # the sentence was logged
