"""Shared fixtures: a store on SQLite and on PostgreSQL, a loopback server per module, and
Indonesian feed builders."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.demo.loopback import LoopbackServer

# Wall-clock bound for tests that feed hostile input to a parser: it catches quadratic or
# exponential cost (tens of seconds to hours on those inputs), not speed, and leaves room
# for a loaded 2-core CI machine. Speed targets live in bench/ (README: "How we test").
HOSTILE_GUARD_S = 15.0

PG_BASE = os.environ.get("PANTAU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL unreachable at {PG_BASE}: {type(exc).__name__}"
    return None


_PG_SKIP: str | None | bool = False


def pg_skip_reason() -> str | None:
    global _PG_SKIP
    if _PG_SKIP is False:
        _PG_SKIP = _pg_reachable()
    return _PG_SKIP  # type: ignore[return-value]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    reason = pg_skip_reason()
    if reason:
        pytest.skip(reason)
    import sqlalchemy as sa

    schema = f"pantau_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_BASE)
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pantau.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url: str):  # type: ignore[no-untyped-def]
    from daemon.storage.store import Store

    s = Store.open(db_url)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    """One loopback server per test module, for the notifiers' stubs (Slack, Telegram,
    webhook receivers register their routes on it)."""
    with LoopbackServer() as srv:
        yield srv


# The dashboard's fixture database and server, one per test module that asks (tests/webdata.py).
from tests.webdata import fixture_db, site  # noqa: E402, F401
