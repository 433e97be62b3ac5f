"""The contract owns every reading of the wire (srs/wire/registry.py and reading.py).

Parsed with ``ast`` from every module of the SRS packages and the bench tools:
outside srs/wire, nobody builds a ``Verifier`` (they call ``reading.verifier_for``),
keeps a topic-kind -> payload-model map of their own (``registry.MODELS``), reads a
token with PyJWT, or peeks at unverified claims, except the readers named below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from srs.wire import commands, registry

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("srs", "edge", "broker", "core", "gui", "bench")
# Who may read a token's claims unverified (srs/wire/reading.py says why each one).
PEEKERS = {
    "gui/core_key.py": "core's self-signed PublicKey: the key to verify it with",
    "core/commands.py": "RegisterKey's key; the request id of a request with an unknown key",
    "core/bootstrap.py": "CreateAdmin's key: the key to verify it with",
    "gui/first_run.py": "core's answer on a desk without core's pinned key",
}
MODEL_NAMES = {m.__name__ for m in registry.MODELS.values()} | {commands.CreateAdmin.__name__}


def sources() -> Iterator[tuple[str, ast.AST]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts or name.startswith("srs/wire/"):
                continue
            yield name, ast.parse(path.read_text(), name)


SOURCES = dict(sources())


def _name(node: ast.AST) -> str:
    """The last name of ``x``, ``a.b.x`` or ``f(...)``'s callee."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def offences(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node) == "Verifier":
            yield node.lineno, "builds a Verifier: use srs.wire.reading.verifier_for"
        elif isinstance(node, ast.Call) and _name(node) in ("unverified_payload", "header_of"):
            yield node.lineno, "reads a token unverified past srs.wire.reading"
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names]
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module == "jwt" or "jwt" in names or any(n.startswith("jwt.") for n in names):
                yield node.lineno, "reads tokens with PyJWT: srs.wire reads the wire"
        elif isinstance(node, ast.Dict):
            kinds = [k for k in node.keys if k is not None and _name(k) != "" and _is_kind(k)]
            models = [v for v in node.values if _name(v) in MODEL_NAMES]
            if kinds and models:
                yield node.lineno, "maps topic kinds to models: use srs.wire.registry"


def _is_kind(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and _name(node.value) == "TopicKind"


def test_every_reader_uses_the_registry_and_the_factory() -> None:
    found = [
        f"{name}:{line}: {why}" for name, tree in SOURCES.items() for line, why in offences(tree)
    ]
    assert not found, "\n".join(found)


def test_only_the_named_readers_peek_at_unverified_claims() -> None:
    peeking = {
        name
        for name, tree in SOURCES.items()
        if any(isinstance(n, ast.Call) and _name(n) == "unverified_data" for n in ast.walk(tree))
    }
    assert peeking == set(PEEKERS)


@pytest.mark.parametrize(
    "code",
    [
        "from srs.wire import Verifier\nv = Verifier(keys)",
        "from srs.wire import signing\nv = signing.Verifier(keys, audience='a')",
        "import jwt",
        "from jwt import decode",
        "M = {TopicKind.POSITION: PersonPosition}",
        "M = {topics.TopicKind.ACK: payloads.Ack}",
        "from srs.wire import jws\njws.unverified_payload(b'')",
    ],
)
def test_the_rules_catch_a_reader_of_its_own(code: str) -> None:
    assert list(offences(ast.parse(code)))


def test_the_rules_leave_ordinary_code_alone() -> None:
    code = (
        "from srs.wire.reading import verifier_for\n"
        "v = verifier_for(sec, keys)\n"
        "signals = {TopicKind.SITE: self.site_received}\n"
    )
    assert not list(offences(ast.parse(code)))
