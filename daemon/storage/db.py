"""Engines and migrations.

SQLite is tuned for a daemon that writes from several threads: WAL (readers never block the
writer), foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for write transactions.
Why IMMEDIATE: a deferred transaction that reads first and then writes cannot wait for the
lock when another writer got there in between; SQLite fails it at once with "database is
locked". Taking the write lock up front makes the busy timeout apply.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

# The top-level ``migrations`` package ships in the wheel beside ``daemon`` (see pyproject.toml).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
BUSY_TIMEOUT_MS = 30_000
DEFAULT_CACHE_KIB = 2000  # SQLite's own default page cache (PRAGMA cache_size=-2000)
# Page size of a database file this creates (SQLite's default is 4096; a file keeps the size
# it was created with). An item row with its text and features is ~1.9 KB, so a 4 KiB page
# holds two and splits often; with 8 KiB pages a 1,000-feed first cycle's ingest took
# 9.97 s of CPU instead of 10.50 (three alternating runs each) and the file was 11 % smaller.
PAGE_SIZE = 8192
_PG_MIGRATION_LOCK = 0x70616E746175  # "pantau"


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else sa.make_url(url_or_engine)
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: str) -> str | None:
    """The file behind a SQLite URL, or None for an in-memory database. ``~`` is the
    user's home, as an operator writing ``sqlite:///~/pantau.db`` means (SQLite itself
    would open a directory named "~"; ``check`` passed such a path and ``run`` failed)."""
    u = sa.make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return os.path.expanduser(u.database)


def _expanded(url: str) -> str | sa.URL:
    """``url`` with a SQLite path's ``~`` expanded (``sqlite_path``), else as given."""
    path = sqlite_path(url) if is_sqlite(url) else None
    if path is None or path == sa.make_url(url).database:
        return url
    return sa.make_url(url).set(database=path)


def database_problem(url: str, *, strict: bool = True) -> str | None:
    """Why ``url`` cannot be used as pantau's database, or None. Offline: the URL, its
    driver, and for SQLite the file's place; reaching a server is left to the run.
    ``strict=False`` (``pantau run``) lets a path that is a directory through: the daemon
    waits for a database it cannot open, as for a full disk (README.md, Operations).

    One rule for every command: the database file is created when missing (by `run` and
    `db upgrade`), its directory never is. A mistyped path would otherwise start an empty
    database somewhere unexpected and, with it, a first cycle that finds every item new."""
    try:
        u = sa.make_url(url)
    except Exception:  # the value may hold a password: never repeat it
        return (
            "not a database URL: write sqlite:///PATH (a file) or "
            "postgresql+psycopg://USER@HOST/NAME"
        )
    try:
        dialect = u.get_dialect()
    except Exception:
        return f"no database type {u.drivername!r} (use sqlite:/// or postgresql+psycopg://)"
    try:
        dialect.import_dbapi()
    except ImportError:
        hint = " (pip install 'pantau[postgres]')" if u.get_backend_name() == "postgresql" else ""
        return f"the {u.drivername!r} database driver ({dialect.driver}) is not installed{hint}"
    path = sqlite_path(url)
    if path is None:
        return None
    p = Path(path).expanduser()
    if p.is_dir() and strict:
        return f"{p} is a directory, not a database file"
    if not p.parent.is_dir():
        return (
            f"the directory {p.parent} does not exist: create it (mkdir -p {p.parent}) "
            "or correct the path"
        )
    return None


def lock_path(url: str) -> Path | None:
    """The lock file a pantau process holds beside its SQLite database (SQLite is one
    process at a time; see runtime.service.lock_database). None: not a SQLite file."""
    path = sqlite_path(url)
    if path is None:
        return None
    p = Path(path).expanduser()
    return p.with_name(p.name + ".lock")


def in_use(url: str) -> bool | None:
    """Whether a pantau process (`run`, `run --once`) is using the SQLite database now;
    None where that cannot be told (PostgreSQL serves several processes)."""
    import fcntl

    lp = lock_path(url)
    if lp is None:
        return None
    try:
        fh = open(lp)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def create_engine(url: str, *, pool_size: int = 10) -> Engine:
    if is_sqlite(url):
        engine = sa.create_engine(
            _expanded(url),
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
        )
        _tune_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Let us issue BEGIN ourselves (pysqlite's implicit BEGIN is always DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL: only a new file takes it
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("pantau_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A write transaction: BEGIN IMMEDIATE on SQLite, an ordinary one elsewhere."""
    with engine.connect().execution_options(pantau_write=True) as conn, conn.begin():
        yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# The newest migration. Checking it with one SELECT spares every start the import of Alembic
# (0.6 s); tests/test_store.py checks that it names the head of migrations/versions.
HEAD = "0012"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations. On PostgreSQL an advisory lock makes concurrent starts run them once."""
    if revision == "head" and current_revision(engine) == HEAD:
        return
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect().execution_options(pantau_write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_MIGRATION_LOCK})")
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_MIGRATION_LOCK})")
                conn.commit()


def current_revision(engine: Engine) -> str | None:
    """The applied revision, read straight from Alembic's table (None if there is none)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
