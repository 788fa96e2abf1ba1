"""The dashboard's pages (Flask): a thin shell over ``daemon.web.queries`` and templates.

Why Flask: the pages are plain server-rendered HTML from a threaded WSGI server (waitress,
``daemon.web.server``) beside a daemon that is itself threaded; Flask is synchronous like
the rest of pantau, brings Jinja2 with autoescaping on for ``.html`` templates, and needs no
event loop in a thread of the daemon (Starlette would, with uvicorn's signal handling to
work around). Read-only: only GET and HEAD are answered; no page changes state.

Hostile text: every feed field reaches HTML through Jinja2's autoescaping (nothing is marked
safe), links are emitted only for http(s) URLs, and the Content-Security-Policy allows no
script at all and nothing from another origin.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import Flask, abort, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from daemon import __version__
from daemon.config import Config
from daemon.logs import log_event, shown_url
from daemon.runtime.metrics import is_loopback
from daemon.topics.match import Matcher, TopicErrors, TopicSpec
from daemon.web import charts
from daemon.web.queries import PAGE, SEARCH_PAGE, ItemView, Reader, utcnow

log = logging.getLogger("pantau.web")

CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # an outlet never learns the dashboard's address
    "Cross-Origin-Opener-Policy": "same-origin",
}
SINCE = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
MAX_QUERY = 2000  # characters of a search query


def create_app(
    reader: Reader, get_config: Callable[[], Config], *, auth: str | None = None
) -> Flask:
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=0, TEMPLATES_AUTO_RELOAD=False)
    app.jinja_env.filters.update(
        when=when,
        utc=utc_title,
        delay=delay,
        href=safe_href,
        day=charts.day_label,
        shown_url=shown_url,
    )
    app.jinja_env.globals.update(
        version=__version__,
        has_events=lambda: reader.has_events,
        xs_of=_timeline_xs,
        svg=charts.svg,
    )
    secret = auth.encode() if auth else None
    matchers = _Matchers(get_config)
    counts = charts.MatchCounts(reader.scan_items)

    def warm() -> None:
        """Count the last 30 days' matching items for the topic charts in the background."""
        counts.start(matchers.topics)

    app.config["pantau.warm"] = warm
    app.config["pantau.counts"] = counts

    @app.before_request
    def guard() -> Response | None:
        if request.method not in ("GET", "HEAD"):
            return _plain(405, "read-only: GET only", Allow="GET, HEAD")
        if secret is None:
            # Loopback without a secret: refuse other Host names, so a web page cannot
            # reach the dashboard through DNS rebinding.
            if not is_loopback(_hostname(request.host or "")):
                return _plain(421, "this dashboard answers to localhost only (set web.auth)")
            return None
        if not _authorized(request.headers.get("Authorization", ""), secret):
            return _plain(
                401, "authentication required",
                **{"WWW-Authenticate": 'Basic realm="pantau", charset="UTF-8"'},
            )  # fmt: skip
        return None

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers.update(HEADERS)
        if secret is not None or request.endpoint != "static":
            resp.headers["Cache-Control"] = "no-store"
        else:
            resp.headers["Cache-Control"] = "max-age=300"
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        return render_template(
            "error.html", code=exc.code, message=exc.description
        ), exc.code or 500

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> tuple[str, int]:
        # the exception's type only: its text may carry feed text or a database URL
        log_event(log, "warning", "web.page_failed", path=request.path, error=type(exc).__name__)
        log.debug("web page failed", exc_info=True)
        return render_template("error.html", code=500, message="the page failed; see the log"), 500

    @app.get("/")
    def index() -> str:
        if reader.has_events and request.args.get("view") != "stories":
            page = _page()
            evs = reader.events(page=page)
            return render_template(
                "events.html", events=evs[:PAGE], page=page, more=len(evs) > PAGE, nav="index"
            )
        return stories_page()

    @app.get("/stories")
    def stories_page() -> str:
        page = _page()
        multi = request.args.get("multi") == "1"
        rows = reader.stories(page=page, multi=multi)
        return render_template(
            "stories.html", stories=rows[:PAGE], page=page, more=len(rows) > PAGE,
            multi=multi, nav="index",
        )  # fmt: skip

    @app.get("/story/<int:story_id>")
    def story(story_id: int) -> str:
        s = reader.story(story_id)
        if s is None:
            abort(404, "no such story")
        return render_template(
            "story.html", story=s, alerts=reader.alerts(story_id=story_id), nav="index"
        )

    @app.get("/event/<int:event_id>")
    def event(event_id: int) -> str:
        e = reader.event(event_id)
        if e is None:
            abort(404, "no such event")
        return render_template("event.html", event=e, nav="index")

    @app.get("/alerts")
    def alerts_page() -> str:
        page = _page()
        topic = request.args.get("topic") or None
        since_key = request.args.get("since", "7d")
        if since_key not in SINCE:
            since_key = "7d"
        span = SINCE[since_key]
        rows = reader.alerts(topic=topic, since=utcnow() - span if span else None, page=page)
        topics = sorted(set(reader.alert_topics()) | {t.name for t in get_config().topics})
        return render_template(
            "alerts.html", alerts=rows[:PAGE], page=page, more=len(rows) > PAGE, topic=topic,
            topics=topics, since=since_key, sinces=list(SINCE), nav="alerts",
        )  # fmt: skip

    @app.get("/topics")
    def topics_page() -> str:
        rng = charts.RANGES.get(request.args.get("range", "7d"), charts.RANGES["7d"])
        now = utcnow()
        start = rng.start(now)
        labels = rng.labels(start)
        ticks = rng.ticks(start)
        ready = counts.catch_up(matchers.topics(), now)
        per_alerts = reader.alert_counts(start, rng.seconds)
        cfg = get_config()
        names = [t.name for t in cfg.topics]
        names += sorted(set(per_alerts) - set(names))  # topics since removed from the config
        queries = {t.name: t.query for t in cfg.topics}
        rows = []
        for name in names:
            a = charts.series(per_alerts.get(name, {}), rng.buckets)
            m = charts.series(counts.buckets(name, start, rng.seconds), rng.buckets)
            rows.append({
                "name": name,
                "query": queries.get(name),
                "alerts": charts.bar_chart(a, labels, ticks=ticks),
                "matches": charts.bar_chart(m, labels, ticks=ticks),
                "notify": next((t.notify for t in cfg.topics if t.name == name), []),
            })  # fmt: skip
        return render_template("topics.html", topics=rows, range=rng.key, ready=ready, nav="topics")

    @app.get("/feeds")
    def feeds_page() -> str:
        from daemon.feeds import health

        now = utcnow()
        start = charts.day_start(now, 14)
        per_day = reader.feed_days(start)
        labels = charts.RANGES["30d"].labels(start)[:14]
        rows = []
        for f in reader.feeds():
            shown = health.shown(f)
            state, problem = shown.state, shown.problem
            spark = charts.bar_chart(per_day.get(f.id, [0] * 14), labels, width=112, height=22)
            rows.append({"feed": f, "state": state, "problem": problem, "spark": spark})
        bad = sum(1 for r in rows if r["state"] not in ("ok", "new"))
        return render_template("feeds.html", feeds=rows, bad=bad, now=now, nav="feeds")

    @app.get("/search")
    def search_page() -> str:
        q = (request.args.get("q") or "").strip()[:MAX_QUERY]
        before = _int_arg("before")
        error = result = None
        if q:
            try:
                m = Matcher.compile([TopicSpec("search", q)])
            except TopicErrors as exc:
                err = exc.errors[0][1]
                error = {"message": err.message, "position": err.position,
                         "before": q[: err.position], "at": q[err.position : err.position + 1],
                         "after": q[err.position + 1 :]}  # fmt: skip
            else:
                result = reader.search(m, before=before, want=SEARCH_PAGE)
        return render_template(
            "search.html", q=q, error=error, result=result, before=before, nav="search",
            topics=get_config().topics,
        )  # fmt: skip

    return app


class _Matchers:
    """The configured topics compiled once per config (a reload brings a new object)."""

    def __init__(self, get_config: Callable[[], Config]) -> None:
        self._get = get_config
        self._cfg: Config | None = None
        self._m: Matcher | None = None
        self._lock = threading.Lock()

    def topics(self) -> Matcher:
        cfg = self._get()
        with self._lock:
            if cfg is not self._cfg or self._m is None:
                self._m = Matcher.compile([TopicSpec(t.name, t.query) for t in cfg.topics])
                self._cfg = cfg
            return self._m


def _timeline_xs(its: list[ItemView], width: int) -> list[float]:
    delays = [i.delay.total_seconds() if i.delay else 0.0 for i in its]
    return charts.timeline_rows(delays, width=width)[0]


def _hostname(netloc: str) -> str:
    """The host of a Host header: ``[::1]:8080`` -> ``[::1]``, ``localhost:8080`` ->
    ``localhost``."""
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1]
    return netloc.rsplit(":", 1)[0]


def _authorized(header: str, secret: bytes) -> bool:
    """``Bearer <secret>``, or HTTP Basic with the secret as the password (any user name),
    compared in constant time."""
    scheme, _, value = header.partition(" ")
    value = value.strip()
    given = b""
    if scheme.lower() == "bearer":
        given = value.encode("utf-8", "replace")
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return False
        given = decoded.partition(b":")[2]
    return hmac.compare_digest(given, secret)


def _plain(status: int, text: str, **headers: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain", headers=headers)


def _int_arg(name: str) -> int | None:
    v = request.args.get(name, "")
    return int(v) if v.isdigit() and len(v) < 19 else None


def _page() -> int:
    return min(_int_arg("page") or 0, 10_000)


# -- filters ------------------------------------------------------------------------------


def when(dt: datetime | None, now: datetime | None = None) -> str:
    """WIB, as short as is unambiguous: "14:12" today, "6 Des 14:12" this year."""
    if dt is None:
        return "–"
    d = charts.wib(dt)
    today = charts.wib(now or utcnow())
    if d.date() == today.date():
        return f"{d:%H:%M}"
    if d.year == today.year:
        return f"{charts.day_label(dt)} {d:%H:%M}"
    return f"{charts.day_label(dt)} {d.year} {d:%H:%M}"


def utc_title(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def delay(td: timedelta | None) -> str:
    """``+14m``, ``+1h 02m``, ``+2d 3h``; the first publication is "first"."""
    if td is None:
        return ""
    s = int(td.total_seconds())
    if s <= 0:
        return "first"
    if s < 3600:
        return f"+{max(1, s // 60)}m"
    if s < 86400:
        return f"+{s // 3600}h {s % 3600 // 60:02d}m"
    return f"+{s // 86400}d {s % 86400 // 3600}h"


def safe_href(url: str | None) -> str | None:
    """Only http(s) links leave the dashboard (no ``javascript:`` or ``data:``)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None
