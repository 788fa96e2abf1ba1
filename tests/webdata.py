"""A dashboard fixture: a migrated SQLite database with stories, alerts, deliveries and feeds
written in our own words, hostile titles among them, and a running ``WebServer`` over it.

Rows go in through SQLAlchemy Core against the real schema (the pipeline's own grouping
and matching have their own tests); what is under test here is how the dashboard reads
and shows them. Times are relative to now so the default filters (last 7 days) see them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from daemon.config import parse_config
from daemon.storage.schema import alerts, deliveries, feeds, items, stories
from daemon.storage.store import Store

NOW = datetime.now(timezone.utc).replace(microsecond=0)
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = '<script>alert("pwned")</script> Gempa di laut Banda'
HOSTILE_ERROR = 'SMTP 550 <b onmouseover="alert(2)">rejected</b>'
FLOOD = "Banjir rob rendam pesisir utara Semarang"
BRIDGE = "Jembatan Kali Kuto ambles, jalur pantura dialihkan"
HOSTILE_OUTLET = "Pantura <b>Pos</b>"
SECRET = "s3cret-token-for-tests-0123456789"

CONFIG = """
database: {db}
feeds:
  - {{url: 'http://127.0.0.1:9/kabar.xml', name: Kabar Nusantara}}
  - {{url: 'http://127.0.0.1:9/warta.xml', name: Warta Timur}}
  - {{url: 'http://127.0.0.1:9/suara.xml', name: Suara Pesisir}}
topics:
  - {{name: Banjir, query: 'banjir OR "air pasang"', notify: [desk]}}
  - {{name: Gempa, query: 'gempa~ OR tsunami'}}
notifiers:
  desk: {{type: console}}
"""


@dataclass
class Fixture:
    url: str
    flood_story: int
    hostile_story: int
    plain_story: int
    aggregated_story: int = 0  # one item carried by an aggregator, under its publisher


def config_text(db: str) -> str:
    return CONFIG.format(db=db)


def build(db: str) -> Fixture:
    store = Store.open(db)
    store.upgrade()
    store.close()
    engine = sa.create_engine(db)
    with engine.begin() as c:
        fid = {}
        for name, path, err, status in (
            ("Kabar Nusantara", "kabar", None, 200),
            ("Warta Timur", "warta", "HTTP 503: Service Unavailable", 503),
            ("Suara Pesisir", "suara", None, 200),
        ):
            fid[name] = c.execute(
                sa.insert(feeds).values(
                    url=f"http://127.0.0.1:9/{path}.xml", name=name, added_at=NOW - timedelta(days=20),
                    last_polled_at=NOW - timedelta(minutes=4), last_status=status, last_error=err,
                    last_ok_at=None if err else NOW - timedelta(minutes=4),
                    next_poll_at=NOW + timedelta(minutes=6), error_count=3 if err else 0,
                    item_count=0, health="ok" if not err else None,
                )
            ).inserted_primary_key[0]  # fmt: skip

        def story(title: str, seen: datetime, n: int) -> int:
            return c.execute(
                sa.insert(stories).values(
                    title=title, first_seen_at=seen, published_at=seen, item_count=n
                )  # fmt: skip
            ).inserted_primary_key[0]

        def item(feed: str, sid: int, title: str, url: str, published: datetime,
                 summary: str = "", outlet: str = "") -> int:  # fmt: skip
            return c.execute(
                sa.insert(items).values(
                    feed_id=fid[feed], identity=url, guid=url, url=url, title=title,
                    summary=summary, published_at=published, has_date=True,
                    first_seen_at=published + timedelta(minutes=2), content_hash=url[-32:],
                    story_id=sid, outlet=outlet,
                )
            ).inserted_primary_key[0]  # fmt: skip

        # a story three outlets carried: Kabar broke it, Suara 14 min later, Warta 2 h 5 min
        t0 = NOW - timedelta(hours=5)
        flood = story(FLOOD, t0 + timedelta(minutes=2), 3)
        first = item("Kabar Nusantara", flood, FLOOD, "https://kabar.example/banjir-rob", t0,
                     "Air pasang merendam ratusan rumah di pesisir utara; warga mengungsi ke masjid.")  # fmt: skip
        item("Suara Pesisir", flood, "Rob setinggi lutut, warga Semarang utara mengungsi",
             "https://suara.example/rob-semarang", t0 + timedelta(minutes=14),
             "Banjir rob kembali datang saat bulan purnama.")  # fmt: skip
        item("Warta Timur", flood, "Banjir rob: pemkot dirikan dapur umum",
             "https://warta.example/dapur-umum", t0 + timedelta(hours=2, minutes=5))  # fmt: skip
        # hostile text everywhere a feed controls it
        t1 = NOW - timedelta(hours=2)
        hostile = story(HOSTILE_IMG, t1, 2)
        item("Warta Timur", hostile, HOSTILE_IMG, "javascript:alert(3)", t1,
             "<script>alert(4)</script> gempa mengguncang")  # fmt: skip
        bad = item("Kabar Nusantara", hostile, HOSTILE_SCRIPT, "https://kabar.example/gempa",
                   t1 + timedelta(minutes=30), "Gempa magnitudo 5,9 terasa hingga Ambon.")  # fmt: skip
        # a report Suara carried itself and Kabar's feed (an aggregator's) carried under its
        # publisher's name, a name the feed's text wrote
        t2 = NOW - timedelta(days=4)
        bridge = story(BRIDGE, t2, 2)
        item("Suara Pesisir", bridge, BRIDGE, "https://suara.example/jembatan", t2)
        item("Kabar Nusantara", bridge, BRIDGE, "https://news.example/rss/articles/CBMi1",
             t2 + timedelta(minutes=9), outlet=HOSTILE_OUTLET)  # fmt: skip
        plain = story("Harga cabai rawit turun di pasar induk", NOW - timedelta(days=3), 1)
        item("Suara Pesisir", plain, "Harga cabai rawit turun di pasar induk",
             "https://suara.example/cabai", NOW - timedelta(days=3))  # fmt: skip

        def alert(topic: str, sid: int, iid: int, title: str, url: str, outlet: str,
                  matched: list[str], at: datetime) -> int:  # fmt: skip
            return c.execute(
                sa.insert(alerts).values(
                    topic=topic, story_id=sid, item_id=iid, title=title, url=url, outlet=outlet,
                    published_at=at, matched=json.dumps(matched), snippet="", created_at=at,
                )
            ).inserted_primary_key[0]  # fmt: skip

        a1 = alert("Banjir", flood, first, FLOOD, "https://kabar.example/banjir-rob",
                   "Kabar Nusantara", ["banjir"], t0 + timedelta(minutes=3))  # fmt: skip
        a2 = alert("Gempa", hostile, bad, HOSTILE_SCRIPT, "https://kabar.example/gempa",
                   "Kabar Nusantara", ["gempa~"], t1 + timedelta(minutes=31))  # fmt: skip
        for aid, notifier, status, attempts, err in (
            (a1, "desk", "sent", 1, None),
            (a1, "mail", "failed", 7, HOSTILE_ERROR),
            (a2, "desk", "pending", 2, "HTTP 429: rate limited"),
        ):
            c.execute(
                sa.insert(deliveries).values(
                    alert_id=aid, notifier=notifier, status=status, attempts=attempts,
                    next_attempt_at=NOW + timedelta(minutes=5), last_error=err, created_at=NOW,
                    sent_at=NOW - timedelta(hours=4) if status == "sent" else None,
                )
            )  # fmt: skip
        c.execute(sa.update(feeds).values(item_count=sa.select(sa.func.count()).where(
            items.c.feed_id == feeds.c.id).scalar_subquery()))  # fmt: skip
    engine.dispose()
    return Fixture(db, flood, hostile, plain, bridge)


EVENT = "Rob dan banjir di pantura"


def add_events(fx: Fixture) -> None:
    """What an events migration adds (the shape of the events layer's: an ``events`` table,
    ``stories.event_id``, ``alerts.event_id``): the flood and the chilli-price stories as
    event 7, the hostile story as event 8 under its hostile title."""
    engine = sa.create_engine(fx.url)
    with engine.begin() as c:
        if not sa.inspect(c).has_table("events"):  # a schema from before the events layer
            c.exec_driver_sql(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, title VARCHAR(1000) NOT NULL,"
                " first_seen_at DATETIME NOT NULL, published_at DATETIME NOT NULL,"
                " story_count INTEGER NOT NULL DEFAULT 1)"
            )
            c.exec_driver_sql("ALTER TABLE stories ADD COLUMN event_id INTEGER")
            c.exec_driver_sql("ALTER TABLE alerts ADD COLUMN event_id INTEGER")
        for eid, title, sid, n in (
            (7, EVENT, fx.flood_story, 2),
            (8, HOSTILE_IMG, fx.hostile_story, 1),
        ):
            c.exec_driver_sql(
                "INSERT INTO events (id, title, first_seen_at, published_at, story_count)"
                " SELECT ?, ?, first_seen_at, published_at, ? FROM stories WHERE id = ?",
                (eid, title, n, sid),
            )
        c.exec_driver_sql(
            "UPDATE stories SET event_id = 7 WHERE id IN (?, ?)", (fx.flood_story, fx.plain_story)
        )
        c.exec_driver_sql("UPDATE stories SET event_id = 8 WHERE id = ?", (fx.hostile_story,))
        c.exec_driver_sql(
            "UPDATE alerts SET event_id = (SELECT event_id FROM stories WHERE id = story_id)"
        )
    engine.dispose()


def loaded(db: str):  # type: ignore[no-untyped-def]
    return parse_config(config_text(db), env={}, path="<web-test>")


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    """The fixture database, once per test module (import this name into the module)."""
    return build(f"sqlite:///{tmp_path_factory.mktemp('web') / 'pantau.db'}")


@pytest.fixture(scope="module")
def site(fixture_db: Fixture) -> Iterator[str]:
    """A dashboard on loopback over ``fixture_db``: its base URL without the final slash."""
    from daemon.web.server import WebServer

    cfg = loaded(fixture_db.url).config
    with WebServer("127.0.0.1:0", fixture_db.url, lambda: cfg) as srv:
        yield srv.url.rstrip("/")


@contextmanager
def running(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """A command under test, killed if the test leaves it running; its remaining stderr
    is then in ``proc.stderr_text`` and its pipes are closed."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=30)
        proc.stderr_text = err or ""  # type: ignore[attr-defined]
