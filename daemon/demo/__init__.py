"""``pantau demo``: the whole pipeline on bundled sample feeds, offline, with no config.

It is the first thing a new user runs, so it uses the real parts only: a loopback HTTP
server (``daemon.demo.server``) serves the sample outlets, a config is built in code and
validated by the real loader, ``run_once`` polls into a throw-away SQLite database and
delivers to a console notifier, and the ``stories`` / ``alerts`` printers show the result.
The sample feeds hold the cases pantau exists for (syndicated copies under other headlines,
an Antara story re-run without its dateline or cut short) and its traps ("emas" is not
``AS``, "Renato" is not ``NATO``, yesterday's gold price is not today's, a 10-day-old item
never alerts).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from daemon.demo.server import OUTLETS, render_all, serve
from daemon.views import plural

if TYPE_CHECKING:
    from daemon.feeds.poll import PollOutcome

__all__ = ["DEMO_TOPICS", "demo_config_text", "run_demo"]

#: (name, query): the topics the demo watches, all routed to the console notifier.
DEMO_TOPICS: tuple[tuple[str, str], ...] = (
    ("Ukraina", "Ukraina OR Ukraine OR Kyiv OR Zelensky*"),
    ("NATO", 'NATO OR "Pakta Pertahanan Atlantik Utara"'),
    ("Rusia-China", "(Rusia OR Moskow) (China OR Tiongkok OR Beijing)"),
    ("AS", 'AS OR "Amerika Serikat"'),
    ("Harga Emas", '"harga emas" OR title:Antam'),
)
NOTIFIER = "log"
SHOW_SINCE = timedelta(days=30)
WEB_LISTEN = "127.0.0.1:0"  # `demo --web`: any free loopback port (the URL is printed)


def _q(s: str) -> str:
    """A YAML scalar that cannot be misread: JSON strings are valid YAML."""
    return json.dumps(s)


def demo_config_text(
    feeds: Sequence[tuple[str, str]],
    database: str,
    topics: Sequence[tuple[str, str]] = DEMO_TOPICS,
) -> str:
    """The demo's config.yaml, as a user would write it; ``feeds`` is (name, url) pairs."""
    lines = [
        f"database: {_q(database)}",
        # One fetch at a time: originals (Antara, IHRAM) are seen before their copies, so
        # the output is the same on every run; eight loopback fetches take milliseconds.
        "polling: {timeout: 5s, concurrency: 1}",
        "feeds:",
    ]
    lines += [f"  - {{name: {_q(name)}, url: {_q(url)}}}" for name, url in feeds]
    lines.append("topics:")
    lines += [
        f"  - {{name: {_q(name)}, query: {_q(query)}, notify: [{NOTIFIER}]}}"
        for name, query in topics
    ]
    lines += ["notifiers:", f"  {NOTIFIER}: {{type: console}}", ""]
    return "\n".join(lines)


def _say(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


def _header(base: str) -> None:
    _say(
        f"pantau demo: {len(OUTLETS)} sample Indonesian feeds served on {base} "
        "(offline; the articles are made up for the demo).",
        "It polls each feed once into a temporary database, groups the copies of each story",
        "across outlets, matches these topics and delivers alerts to a console notifier:",
    )
    for name, query in DEMO_TOPICS:
        _say(f"  {name:<12} {query}")
    _say("", f"Alerts printed by the console notifier {NOTIFIER!r} as they are delivered:")


def _poll_summary(outcomes: Sequence[PollOutcome]) -> int:
    """Prints one line per feed; returns how many polls failed."""
    failed = 0
    _say("", "Feeds polled:")
    for o in outcomes:
        if o.result != "ok":
            failed += 1
            _say(f"  {o.name:<14} FAILED: {o.error}")
            continue
        s = o.stats
        _say(
            f"  {o.name:<14} {plural(s.new, 'item'):>9}, "
            f"{plural(s.new_stories, 'new story', 'new stories'):>15}, "
            f"{plural(len(s.alerts), 'alert'):>9}"
        )
    return failed


def _show(database: str) -> None:
    from daemon.cli import cmd_alerts, cmd_stories
    from daemon.storage.store import Store

    store = Store.open(database)
    try:
        _say(
            "",
            "== Stories ==  (copies of one story from several outlets are grouped: the",
            "   indented lines under a story are its outlet copies, each with its own headline)",
        )
        cmd_stories(store, SHOW_SINCE, as_json=False)
        _say(
            "",
            "== Alerts ==  (one per topic and story; 'juga:' lists the other outlets carrying it;",
            "   items published more than 48h before pantau first sees them are stored, never alerted)",
        )
        cmd_alerts(store, SHOW_SINCE, None, False)
    finally:
        store.close()


def _footer() -> None:
    _say(
        "",
        "Look for: IHRAM and Republika carrying one Russia-China report under two headlines",
        "(one story, one alert per topic); Antara's energy story re-run by Sindonews without its",
        "dateline and by Okezone cut to two sentences (one story); gold price items ('emas')",
        "raising no AS alert and 'Renato' no NATO alert; today's and yesterday's gold price",
        "reports staying two stories; Antara's 10-day-old NATO item stored but not alerted.",
        "",
        "Next: put your own feeds, topics and notifiers in config.yaml (the example in the",
        "repository reads real outlet feeds), validate it with `pantau check`, then poll once",
        "with `pantau run --once` and look with `pantau stories` / `pantau alerts`;",
        "`pantau run` is the daemon (see systemd/pantau.service).",
    )


class _QuietInfo:
    """Per-feed INFO log lines would bury the demo's output; warnings still show."""

    def __enter__(self) -> None:
        self.root = logging.getLogger()
        self.level = self.root.level
        if self.root.getEffectiveLevel() > logging.DEBUG:
            self.root.setLevel(max(self.level, logging.WARNING))

    def __exit__(self, *exc: object) -> None:
        self.root.setLevel(self.level)


def run_demo(*, web: bool = False) -> int:
    """Serve, poll once, show (and with ``web`` serve the dashboard over the result until
    Ctrl-C); the temporary database is removed whatever happens."""
    from daemon.config import parse_config
    from daemon.runtime.service import run_once

    bodies = render_all(datetime.now(timezone.utc))
    tmp = Path(tempfile.mkdtemp(prefix="pantau-demo-"))
    try:
        database = f"sqlite:///{tmp / 'demo.db'}"
        with serve(bodies) as server:
            feeds = [(o.name, server.url(o.path)) for o in OUTLETS]
            loaded = parse_config(demo_config_text(feeds, database), env={}, path="<demo>")
            _header(server.base)
            with _QuietInfo():
                outcomes, _stats = run_once(loaded)
        failed = _poll_summary(outcomes)
        _show(database)
        _footer()
        if web:
            from daemon.cli import serve_web

            _say("")
            rc = serve_web(WEB_LISTEN, database, lambda: loaded.config, auth=None)
            return rc or (1 if failed else 0)
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
