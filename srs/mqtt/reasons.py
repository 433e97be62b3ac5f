"""What the broker said, as sentences: CONNACK, SUBACK, PUBACK and DISCONNECT reasons.

paho 2 hands every callback a ``ReasonCode`` in both protocols: MQTT 5 carries the
broker's own reason (``Not authorized``, ``Session taken over``...), 3.1.1 only
success or failure (a refused subscription is ``0x80``, no reason given). Failures
are codes at or above 0x80 in both.
"""

from __future__ import annotations

from collections.abc import Sequence

from paho.mqtt.reasoncodes import ReasonCode

# What paho hands a callback (a ReasonCode), or a bare code (tests, older paths).
Reason = ReasonCode | int

FAILURE = 0x80
UNSUPPORTED_PROTOCOL = 0x84  # MQTT 5 CONNACK; paho maps a 3.1.1 broker's rc 1 to it


class SubscriptionRefused(Exception):
    """The broker refused at least one subscription: the client would run deaf."""

    def __init__(self, refused: Sequence[tuple[str, Reason]], protocol: str) -> None:
        self.refused = [(flt, code_of(reason)) for flt, reason in refused]
        parts = [f"{flt!r} ({reason_text(reason, protocol)})" for flt, reason in refused]
        super().__init__(f"the broker refused the subscription to {', '.join(parts)}")


def code_of(reason: Reason) -> int:
    """The numeric code of a paho ReasonCode (or of a bare int)."""
    value = getattr(reason, "value", reason)
    return int(value) if isinstance(value, int) else FAILURE


def is_failure(reason: Reason) -> bool:
    return code_of(reason) >= FAILURE


def reason_text(reason: Reason, protocol: str = "5") -> str:
    """``Not authorized, 0x87``; under 3.1.1 a bare failure says that no reason exists."""
    code = code_of(reason)
    if protocol != "5" and code == FAILURE:
        return "0x80: MQTT 3.1.1 gives no reason; the broker's ACL is the usual one"
    name = getattr(reason, "getName", lambda: str(reason))()
    return f"{name}, 0x{code:02X}"


def refused_filters(filters: Sequence[str], reasons: Sequence[Reason]) -> list[tuple[str, Reason]]:
    """The (filter, reason) pairs of a SUBACK that the broker refused, in order."""
    return [(flt, rc) for flt, rc in zip(filters, reasons, strict=False) if is_failure(rc)]


def connack_sentence(reason: Reason) -> str:
    """A sentence for a refused CONNACK, for logs and the GUI."""
    text = str(reason).lower()
    if "not authorized" in text or "bad user name or password" in text:
        return "the broker refused the user name or password"
    if "identifier" in text:
        return "the broker refused this client id"
    if "unavailable" in text:
        return "the broker is unavailable"
    return f"the broker refused the connection ({reason_text(reason)})"


def disconnect_sentence(reason: Reason, protocol: str) -> str:
    """Why a connection ended: MQTT 5 brokers say (a DISCONNECT with a reason);
    under 3.1.1 the socket just closes."""
    if protocol == "5" and is_failure(reason):
        return f"the broker closed the connection: {reason_text(reason)}"
    return "the connection to the broker was lost"
