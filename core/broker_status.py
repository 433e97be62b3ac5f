"""The embedded broker's status, verified, for core's own (issue 17).

The broker counts what it drops or refuses (oversize publishes, retained detections,
queue overflows...) and publishes those counts, signed with its own key, retained on
``srs/v1/broker/status`` (broker/status.py); only core may read that topic. Core
believes a status only under the key pinned at ``<keys_dir>/broker.key.pub``: the
broker makes it on its first start in its data dir, which is core's in the default
setup; on separate hosts copy the file there. Without it core ignores broker status
and says so once. The key is looked for again when a status arrives, so a broker
started for the first time after core is believed without a restart.

A status that does not verify is rejected like any forged message: counted by its
reason in core's ``rejected``, logged in bursts, audited (``reject``). Mosquitto and
NATS publish no status: core's status then carries no broker counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from core.messages import Incoming
from srs.wire import topics
from srs.wire.errors import WireError
from srs.wire.keys import public_key_from_b64
from srs.wire.payloads import BrokerStatus
from srs.wire.reading import SecurityPolicy, verifier_for
from srs.wire.signing import Verifier

log = logging.getLogger(__name__)

BROKER_KEY_FILE = "broker.key.pub"  # beside broker/status.py's keys/broker.key

Reject = Callable[[str, str, str], None]  # (reason, sentence, where): Ingest.reject


class BrokerStatusReader:
    def __init__(self, security: SecurityPolicy, keys_dir: Path, reject: Reject) -> None:
        self._security = security
        self._path = keys_dir / BROKER_KEY_FILE
        self._reject = reject
        self._verifier: Verifier | None = None
        self._said_no_key = False

    def read(self, msg: Incoming) -> BrokerStatus | None:
        """The verified status, or None (no pinned key yet, or rejected and counted)."""
        if not msg.data:
            return None  # an emptied retained topic: nothing to read
        verifier = self._load()
        if verifier is None:
            return None
        try:
            return verifier.verify(msg.topic, msg.data, BrokerStatus).payload
        except WireError as exc:
            self._reject(exc.reason.value, exc.message, msg.topic)
            return None

    def _load(self) -> Verifier | None:
        if self._verifier is not None:
            return self._verifier
        try:
            key = public_key_from_b64(self._path.read_text().strip())
        except (OSError, ValueError) as exc:
            if not self._said_no_key:  # once: a status arrives each time a count changes
                self._said_no_key = True
                problem = "no file" if isinstance(exc, OSError) else f"not a key: {exc}"
                log.info(
                    "ignoring the broker's status: no broker key at %s (%s); the broker "
                    "writes it in its data dir's keys/: copy it here to count its drops",
                    self._path,
                    problem,
                )
            return None
        self._verifier = verifier_for(
            self._security, lambda who: key if who == topics.BROKER_SENDER else None
        )
        log.info("reading the broker's status with the key pinned at %s", self._path)
        return self._verifier
