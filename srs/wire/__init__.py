"""The SRS wire contract: topics, payload models, signing. Every component imports this."""

from srs.wire import commands, payloads, registry, site, topics
from srs.wire.errors import Reason, WireError
from srs.wire.keys import KeyLookup, SigningKey, public_key_from_b64, public_key_to_b64
from srs.wire.signing import Verified, Verifier, sign

__all__ = [
    "KeyLookup",
    "Reason",
    "SigningKey",
    "Verified",
    "Verifier",
    "WireError",
    "commands",
    "payloads",
    "public_key_from_b64",
    "public_key_to_b64",
    "registry",
    "sign",
    "site",
    "topics",
]
