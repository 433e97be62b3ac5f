"""Every test that reaches core's store runs on PostgreSQL too (``make test-postgres``).

CI runs the whole suite on SQLite, then ``PG_TESTS`` (the Makefile) on a real
PostgreSQL: the tests that open core's store, in the process or in a core they
start. Running the rest twice would prove nothing new (the edge's outbox is SQLite
by design; the broker and the wire never touch core's store) and would push CI past
its time. This guard keeps the list whole: a new test file that reaches the store
outside ``PG_TESTS`` fails here, with the line to change.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What reaching core's store looks like in a test file.
STORE_USE = re.compile(
    r"open_store|CoreService|core\.store|core\.provision|from core import store"
    r"|start_core|run_core|\"srs\", \"core\"|database_url"
)
# Left out on purpose, with the reason (or not reaching the store at all).
SQLITE_ONLY = {
    "tests/resilience": "its faults are SQLite's own (another writer's file lock, a full "
    "disk under the database file) and its checker reads the SQLite file",
    # They name the store's modules as text, and open none.
    "tests/test_layers.py": "the import rules",
    "tests/test_engines.py": "this guard",
}


def pg_tests() -> list[str]:
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")  # continued lines
    (line,) = re.findall(r"^PG_TESTS \?= (.+)$", makefile, re.MULTILINE)
    return line.split()


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def test_pg_tests_name_existing_paths() -> None:
    assert all((ROOT / p).exists() for p in pg_tests()), pg_tests()


def test_every_test_that_reaches_the_store_runs_on_postgresql() -> None:
    missing = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if _under(rel, pg_tests()) or _under(rel, list(SQLITE_ONLY)):
            continue
        if STORE_USE.search(path.read_text()):
            missing.append(rel)
    assert not missing, (
        f"these tests reach core's store but CI never runs them on PostgreSQL: {missing}; "
        "add them to PG_TESTS in the Makefile (or to SQLITE_ONLY here, with the reason)"
    )
