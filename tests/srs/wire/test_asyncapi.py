"""docs/asyncapi.json is what srs.wire.asyncapi generates, and lists every topic the
contract builds (regenerate: python -m srs.wire.asyncapi > docs/asyncapi.json)."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

from srs.wire import asyncapi, topics

DOC = Path(__file__).parents[3] / "docs" / "asyncapi.json"
# Functions of srs.wire.topics that build no topic.
# Helpers of the topics module that build no topic (shared/unshared turn a filter into
# its $share form and back; tests/srs/wire/test_topics.py checks them).
NOT_BUILDERS = {
    "check_id",
    "may_retain",
    "camera_issuer",
    "operator_issuer",
    "parse",
    "matches",
    "shared",
    "unshared",
}


def _builders() -> dict[str, object]:
    return {
        name: fn
        for name, fn in inspect.getmembers(topics, inspect.isfunction)
        if fn.__module__ == topics.__name__
        and not name.startswith(("_", "acl_"))
        and name not in NOT_BUILDERS
    }


def test_the_committed_document_is_the_generated_one() -> None:
    assert json.loads(DOC.read_text()) == asyncapi.document(), (
        "docs/asyncapi.json drifted from srs/wire: run "
        "`python -m srs.wire.asyncapi > docs/asyncapi.json`"
    )


def test_every_topic_the_contract_builds_has_a_channel() -> None:
    doc = asyncapi.document()
    patterns = [
        re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(c["address"])) + "$")
        for c in doc["channels"].values()
    ]
    builders = _builders()
    assert len(builders) >= 16
    for name, fn in builders.items():
        args = ["x1" for _ in inspect.signature(fn).parameters]  # type: ignore[arg-type]
        topic = fn(*args)  # type: ignore[operator]
        assert any(p.match(topic) for p in patterns), f"topics.{name} ({topic}) has no channel"
    kinds = {c.kind for c in asyncapi.CHANNELS if c.kind is not None}
    assert kinds == set(topics.TopicKind)


def test_examples_are_on_their_own_topic_and_valid() -> None:
    for c in asyncapi.CHANNELS:
        channel = asyncapi.document()["channels"][c.name]
        for message in channel["messages"].values():
            for example in message.get("examples", []):
                claims = example["payload"]
                parsed = topics.parse(claims["topic"])
                assert parsed.kind == c.kind
                assert ("exp" in claims) == parsed.fresh
                assert claims["data"]["schema_version"] == 1
