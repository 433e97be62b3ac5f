"""core.cli_db: `srs db upgrade` migrates the configured database and says where it is."""

from __future__ import annotations

from core.cli_db import shown_url
from srs.app.cli import main
from tests import postgres


def test_db_upgrade_says_where_the_schema_is(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SRS_CORE__DATABASE_URL", raising=False)
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    again = capsys.readouterr().out
    assert "(was empty)" in first and "(already there)" in again
    if postgres.wanted() is None:  # a PostgreSQL run stores in the test's schema instead
        assert str(tmp_path / "srs.db") in first
        assert (tmp_path / "srs.db").exists()


def test_the_shown_url_hides_the_password() -> None:
    shown = shown_url("postgresql+psycopg://srs:s3cret@db.example:5432/srs")
    assert "s3cret" not in shown
    assert shown.startswith("postgresql+psycopg://srs:")
    assert shown.endswith("@db.example:5432/srs")


def test_a_sqlite_url_is_shown_as_it_is() -> None:
    assert shown_url("sqlite:////var/lib/srs/srs.db") == "sqlite:////var/lib/srs/srs.db"
