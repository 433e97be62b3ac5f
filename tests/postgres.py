"""A throwaway PostgreSQL for the test run, and a fresh schema per test.

``SRS_TEST_DATABASE=postgresql`` (``make test-postgres``) starts a cluster from
Debian's binaries (``initdb``/``pg_ctl`` on PATH or under /usr/lib/postgresql/*/bin)
in a temporary directory on a free loopback port; ``SRS_TEST_DATABASE`` set to a
``postgresql://`` URL uses that server instead. initdb refuses to run as root (CI
runs as root): the cluster then belongs to the ``postgres`` user (``nobody`` when the
machine has none), and its commands run through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from tests.brokers import free_port

ENV = "SRS_TEST_DATABASE"


def wanted() -> str | None:
    """The PostgreSQL the run targets: "postgresql" (start one) or a server URL."""
    value = os.environ.get(ENV, "").strip()
    return value if value.startswith("postgres") else None


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"{name} not found: apt-get install postgresql")
    return found


def _owner() -> str | None:
    """The user the cluster runs as when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root, and no postgres or nobody user to run PostgreSQL")


def _run(cmd: list[str], owner: str | None) -> None:
    if owner is not None:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, text=True, cwd="/")


@contextmanager
def cluster() -> Iterator[URL]:
    """A running cluster (trust authentication, loopback only); its superuser's URL."""
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="srs-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if owner is not None:
        entry = pwd.getpwnam(owner)
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    _run([_binary("initdb"), "-D", str(data), "-U", "srs", "-A", "trust", "-E", "UTF8"], owner)
    # Durability is not under test: no fsync keeps thousands of schemas quick.
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=300 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl = _binary("pg_ctl")
    log = root / "server.log"
    _run([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], owner)
    try:
        yield URL.create(
            "postgresql+psycopg", username="srs", host="127.0.0.1", port=port, database="postgres"
        )
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], owner)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Schemas:
    """Hands out a fresh schema of one server per test."""

    server: URL
    count: int = 0
    # An existing server keeps nothing of the run: its schemas are dropped at the end.
    drop_at_close: bool = False

    def __post_init__(self) -> None:
        self._admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self._names: list[str] = []

    def fresh(self) -> str:
        """A new, empty schema's URL: every connection of it finds its tables there."""
        self.count += 1
        name = f"srs_test_{os.getpid()}_{self.count}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        self._names.append(name)
        url = self.server.update_query_dict({"options": f"-csearch_path={name}"})
        return url.render_as_string(hide_password=False)

    def close(self) -> None:
        if self.drop_at_close:
            with self._admin.connect() as conn:
                for name in self._names:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        self._admin.dispose()


@contextmanager
def schemas(target: str) -> Iterator[Schemas]:
    if target == "postgresql":
        with cluster() as server:
            handed = Schemas(server)
            try:
                yield handed
            finally:
                handed.close()
        return
    server = make_url(target)
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    handed = Schemas(server, drop_at_close=True)
    try:
        yield handed
    finally:
        handed.close()
