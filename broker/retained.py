"""Retained messages survive a broker restart (amqtt keeps them only in memory).

amqtt's own ``SessionDBPlugin`` needs aiosqlite and a database; SRS's retained set is
small (site plan, keys, statuses, latest positions), so a JSON snapshot written
atomically on a timer and at stop is enough. Persistent *sessions* (queued QoS 1
messages for offline clients) are not saved: SRS's end-to-end acks and the edge
outbox already cover a lost queue.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def snapshot(retained: dict[str, Any]) -> list[dict[str, Any]]:
    """amqtt's ``{topic: RetainedApplicationMessage}`` as JSON-able rows."""
    return [
        {
            "topic": topic,
            "qos": int(msg.qos or 0),
            "data": base64.b64encode(bytes(msg.data)).decode(),
        }
        for topic, msg in sorted(retained.items())
        if msg.data
    ]


def save(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".retained-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"version": 1, "retained": rows}, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> list[tuple[str, bytes, int]]:
    """The saved messages, or [] (with a logged sentence) when missing or damaged."""
    try:
        raw = json.loads(path.read_text())
        return [
            (str(r["topic"]), base64.b64decode(r["data"]), int(r["qos"])) for r in raw["retained"]
        ]
    except FileNotFoundError:
        return []
    except (ValueError, KeyError, TypeError) as exc:
        log.error("ignoring damaged retained-message file %s (%s)", path, exc)
        return []
