"""Why a message was refused: a machine reason code and a sentence for people."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails


class Reason(StrEnum):
    """Why a message was refused: the value readers count refusals by.

    ``oversize`` (over the payload limit), ``malformed`` (not a token, or claims
    missing or of the wrong type), ``bad_topic`` (outside the tree, or the wrong model
    for it), ``bad_algorithm`` (not EdDSA), ``unknown_sender`` (no key for the issuer
    the topic implies), ``bad_signature``, ``wrong_issuer`` / ``wrong_audience`` /
    ``wrong_topic`` (a valid token addressed elsewhere: a replay across topics or
    deployments), ``expired`` / ``future`` (outside the time window), ``replayed``
    (a ``jti`` already accepted), ``invalid_payload`` (``data`` fails its model).
    CoreStatus ``rejected`` counts by these values.
    """

    OVERSIZE = "oversize"
    MALFORMED = "malformed"
    BAD_TOPIC = "bad_topic"
    BAD_ALGORITHM = "bad_algorithm"
    UNKNOWN_SENDER = "unknown_sender"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_TOPIC = "wrong_topic"
    EXPIRED = "expired"
    FUTURE = "future"
    REPLAYED = "replayed"
    INVALID_PAYLOAD = "invalid_payload"


class WireError(Exception):
    """A message that is not accepted, with a machine reason and a human sentence."""

    def __init__(self, reason: Reason, message: str, signed: Any = None) -> None:
        """Refuse with ``reason``; ``signed``: the authentic content of a late token."""
        super().__init__(message)
        self.reason = reason
        self.message = message
        # Only for EXPIRED and FUTURE: the token's signature and addressing were good,
        # so its content (a ``Verified``) is the sender's own; a reader may tell a
        # clock fault or a stale copy from forgery by it, but never act on it as fresh.
        self.signed = signed

    def __str__(self) -> str:
        """The sentence, then the machine reason in brackets (for logs)."""
        return f"{self.message} [{self.reason.value}]"


def describe_validation_error(exc: ValidationError, *, under: str | None = None) -> str:
    """One sentence per problem, naming the field path and the bad value.

    ``under`` drops a leading path element (the ``data`` claim around a payload), so
    the sentence names the payload's own field.
    """
    errors: list[ErrorDetails] = exc.errors()
    parts = []
    for err in errors[:5]:
        loc = list(err["loc"])
        if under is not None and loc[:1] == [under]:
            loc = loc[1:]
        where = ".".join(str(p) for p in loc) or "payload"
        value = json.dumps(err.get("input"), default=str)
        if len(value) > 60:
            value = value[:57] + "..."
        parts.append(f"{where}: {err['msg']} (got {value})")
    more = len(errors) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
