"""Configuration of the embedded broker (``[broker]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class BrokerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bind: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 1883
    tls_port: Annotated[int, Field(ge=0, le=65535)] = 8883
    cert_file: Path | None = None
    key_file: Path | None = None
    max_payload_bytes: Annotated[int, Field(ge=1024, le=16 * 1024 * 1024)] = 64 * 1024
    # With a network bind the plaintext listener stays on loopback (local core and
    # dashboard); only TLS faces the network. True puts plaintext on `bind` too.
    plaintext_on_network: bool = False
    # Detection messages per second each camera may send on average (0: no limit), and
    # at once: a camera over it is slowed by TCP back-pressure (broker/throttle.py).
    camera_rate: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] = 100.0
    camera_burst: Annotated[int, Field(ge=1, le=1_000_000)] = 500
    # What the broker holds for one client session (queued while it is offline or slow,
    # plus sent and not yet acknowledged), by messages and bytes; over it the oldest
    # queued message is dropped and counted (broker/session_queue.py). The defaults
    # hold core's traffic for minutes (20 cameras at 10 msg/s of ~2 KB: 100 s, 40 MB).
    session_max_messages: Annotated[int, Field(ge=1, le=10_000_000)] = 20_000
    session_max_bytes: Annotated[int, Field(ge=64 * 1024, le=16 * 1024**3)] = 64 * 1024 * 1024
    # QoS 1 messages sent to one client and not yet acknowledged (then it waits).
    session_inflight: Annotated[int, Field(ge=1, le=65_535)] = 100


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")
