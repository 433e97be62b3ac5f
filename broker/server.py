"""The embedded SRS broker: hardened amqtt in a background thread with its own loop.

    with EmbeddedBroker(cfg) as broker:   # binds cfg.broker.bind:cfg.broker.port
        print(broker.port)                 # the real port (useful with port = 0)

Deny by default: only SRS's auth and topic plugins are loaded (no anonymous, no
$SYS), loopback unless configured otherwise, a TLS listener on ``tls_port`` when a
certificate and key are configured or ``srs init`` made them (broker/tls.py).
Plaintext only on loopback: with a network ``bind`` the plaintext listener stays on
127.0.0.1 and the network gets TLS alone (a network bind without a certificate is
refused).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from broker import retained
from broker.amqtt_broker import SrsBroker
from broker.config import is_loopback
from broker.memory import HeapTrim
from broker.session_queue import QueueBound
from broker.srs_config import SrsConfig
from broker.status import STATUS_EVERY_S, StatusPublisher, broker_key
from broker.throttle import CameraThrottle
from broker.tls import server_cert
from broker.users import UserStore, default_path
from srs.sdnotify import Notifier

log = logging.getLogger(__name__)

START_TIMEOUT_S = 15.0


class BrokerStartError(RuntimeError):
    """The broker could not start (port in use, bad certificate...): one sentence."""


SAVE_EVERY_S = 10.0
QUEUE_TICK_S = 2.0


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def amqtt_config(cfg: SrsConfig, users_file: Path) -> dict[str, Any]:
    """The amqtt 0.12.1 config dict: our plugins only, listeners from [broker]."""
    b = cfg.broker
    cert = server_cert(cfg)
    if cert is None and not is_loopback(b.bind) and not b.plaintext_on_network:
        raise ValueError(
            f"[broker] bind = {b.bind!r} faces the network, which gets TLS only, and there "
            "is no certificate: run `srs init` (it creates the site's CA and the broker's "
            "certificate) or set [broker] cert_file and key_file"
        )
    plain = b.bind if is_loopback(b.bind) or b.plaintext_on_network else "127.0.0.1"
    listeners: dict[str, Any] = {"default": {"type": "tcp", "bind": _bind(plain, b.port)}}
    if cert is not None:
        listeners["tls"] = {
            "type": "tcp",
            "bind": _bind(b.bind, b.tls_port),
            "ssl": True,
            "certfile": str(cert[0]),
            "keyfile": str(cert[1]),
        }
    users = str(users_file)
    return {
        "listeners": listeners,
        "timeout_disconnect_delay": 0,
        "plugins": {
            "broker.plugins.SrsAuthPlugin": {
                "users_file": users,
                "max_payload_bytes": b.max_payload_bytes,
            },
            "broker.plugins.SrsTopicPlugin": {"users_file": users},
        },
    }


class EmbeddedBroker:
    """Context manager running the SRS broker until ``stop()`` (one stop path)."""

    def __init__(
        self, cfg: SrsConfig, users_file: Path | None = None, *, notifier: Notifier | None = None
    ) -> None:
        self.cfg = cfg
        # Given by `srs broker` only: a broker embedded in another service (the demo,
        # a test) must not feed that service's watchdog.
        self.notifier = notifier
        self.users_file = users_file or default_path(cfg)
        self.retained_file = cfg.data_dir / "broker" / "retained.json"
        # Where the plaintext listener is (loopback unless the bind is and allowed).
        b = cfg.broker
        self.host = b.bind if is_loopback(b.bind) or b.plaintext_on_network else "127.0.0.1"
        self.port = cfg.broker.port
        self.tls_port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="srs-broker", daemon=True
        )
        self._broker: SrsBroker | None = None
        self._saver: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._queues: asyncio.Task[None] | None = None
        self._status: asyncio.Task[None] | None = None
        self._saved: list[dict[str, Any]] | None = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def broker(self) -> SrsBroker:
        if self._broker is None:
            raise RuntimeError("the broker is not running")
        return self._broker

    def start(self) -> None:
        b = self.cfg.broker
        if b.plaintext_on_network and not is_loopback(b.bind):
            log.warning(
                "plaintext on %s:%d (plaintext_on_network): passwords and detections "
                "cross the network in clear; clients should use the TLS port %d",
                b.bind,
                b.port,
                b.tls_port,
            )
        if not UserStore(self.users_file).list():
            log.warning(
                "no broker users in %s: every client will be refused "
                "(add some with `srs user add NAME --role ROLE`)",
                self.users_file,
            )
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(START_TIMEOUT_S)
        except BaseException as exc:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()
            if isinstance(exc, Exception):
                raise BrokerStartError(f"the broker could not start: {exc}") from exc
            raise
        log.info(
            "broker listening on %s",
            _bind(self.host, self.port)
            + (f" (TLS on port {self.tls_port})" if self.tls_port else ""),
        )

    async def _start(self) -> None:
        b = self.cfg.broker
        throttle = CameraThrottle(b.camera_rate, b.camera_burst)
        bound = QueueBound(b.session_max_messages, b.session_max_bytes, b.session_inflight)
        self._broker = SrsBroker(
            amqtt_config(self.cfg, self.users_file),
            b.max_payload_bytes,
            throttle=throttle,
            queue_bound=bound,
        )
        await self._broker.start()
        self.port = self._server_port("default")
        if "tls" in self._broker._servers:
            self.tls_port = self._server_port("tls")
        for topic, data, qos in retained.load(self.retained_file):
            await self._broker.retain_message(None, topic, data, qos)
        self._saver = asyncio.create_task(self._save_periodically())
        self._queues = asyncio.create_task(self._watch_queues())
        status = StatusPublisher(
            self._broker, broker_key(self.cfg.data_dir), self.cfg.security.audience, self.stats
        )
        self._status = asyncio.create_task(self._publish_status(status))
        if self.notifier is not None and self.notifier.watchdog_s:
            self._keepalive = asyncio.create_task(self._feed_watchdog(self.notifier))

    def stats(self) -> dict[str, int]:
        """Counters of everything refused or dropped since start (for logs and tests)."""
        manager = self.broker.plugins_manager
        auth: Any = manager.get_plugin("SrsAuthPlugin")
        topic: Any = manager.get_plugin("SrsTopicPlugin")
        throttle = self.broker.throttle
        return {
            "connections_refused": auth.refused if auth else 0,
            **{f"{action}_denied": n for action, n in (topic.denied if topic else {}).items()},
            "oversize_dropped": self.broker.handler_cls.oversize_dropped,
            "retain_refused": self.broker.handler_cls.retain_refused,
            "publishes_slowed": throttle.slowed if throttle else 0,
            "slowed_total_s": round(throttle.waited_s) if throttle else 0,
            "queue_dropped": self.broker.drop_tally.messages,
            "queue_dropped_bytes": self.broker.drop_tally.bytes,
            **self.broker.queue_totals(),
        }

    def _server_port(self, name: str) -> int:
        instance: Any = self.broker._servers[name].instance
        return int(instance.sockets[0].getsockname()[1])

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_S)
            self._save()

    async def _watch_queues(self) -> None:
        """The drop summary's next line when due; the heap back after a backlog."""
        trim = HeapTrim()
        while True:
            await asyncio.sleep(QUEUE_TICK_S)
            self.broker.drop_log.flush()
            trim.observe(self.broker.queue_totals()["queued_bytes"])

    async def _publish_status(self, status: StatusPublisher) -> None:
        while True:
            try:
                await status.publish_if_changed()
            except Exception:  # the status must never stop the broker
                log.exception("could not publish the broker's status")
            await asyncio.sleep(STATUS_EVERY_S)

    async def _feed_watchdog(self, notifier: Notifier) -> None:
        # On the loop that serves every client: when a handler blocks it, the
        # keep-alives stop and systemd restarts the broker.
        assert notifier.watchdog_s is not None
        while True:
            notifier.alive()
            await asyncio.sleep(notifier.watchdog_s / 6)

    def _save(self) -> None:
        rows = retained.snapshot(self.broker.retained_messages)
        if rows != self._saved:
            try:
                retained.save(self.retained_file, rows)
                self._saved = rows
            except OSError as exc:
                log.error("could not save retained messages to %s: %s", self.retained_file, exc)

    async def _stop(self) -> None:
        for task in (self._saver, self._keepalive, self._queues, self._status):
            if task is not None:
                task.cancel()
        if self._broker is not None:
            self._save()  # before shutdown: amqtt clears retained messages on shutdown
            self._broker.drop_log.flush(force=True)
            log.info("broker totals: %s", ", ".join(f"{k} {v}" for k, v in self.stats().items()))
            await self._broker.shutdown()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(15)
        except Exception:
            log.exception("broker shutdown was not clean")
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
            self._broker = None
        log.info("broker stopped")


def run_foreground(cfg: SrsConfig) -> int:
    """``srs broker``: serve until SIGTERM or SIGINT, then stop cleanly (exit 0)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        log.info("received %s: stopping the broker", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    notifier = Notifier()
    try:
        with EmbeddedBroker(cfg, notifier=notifier) as broker:
            notifier.ready(f"listening on {_bind(broker.host, broker.port)}")
            while not stop.wait(0.5):
                pass
            notifier.stopping("saving retained messages")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
