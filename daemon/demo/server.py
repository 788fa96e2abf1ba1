"""The demo's sample outlets: feed templates with relative dates, served on loopback.

The bundled feeds are templates so the demo works on any day: alerts only fire for items at
most ``alerts.max_age`` old, so fixed dates would stop alerting a few days after release.
A placeholder ``{{KIND:OFFSET}}`` becomes "now + OFFSET" written the way the outlet writes
dates (OFFSET: ``-3h``, ``-10d``, ``-2h-15m``, ``0``):

========== ============================================================================
rfc822     ``Thu, 26 Nov 2026 18:20:05 +0700`` (Antara, Republika, Detik, ...)
gmt        ``Thu, 26 Nov 2026 11:20:05 GMT`` (BBC Indonesia)
tempo      the right instant labelled ``+0100`` (Tempo's item dates)
tempowall  WIB wall-clock time labelled ``+0100`` (Tempo's lastBuildDate: 6 h "ahead")
wib        ``Kamis, 26 Nov 2026 18:20 WIB`` (an article-page date)
hari       ``Kamis`` (the WIB weekday, for body text)
tgl        ``26/11/2026`` (the WIB date, for body text)
========== ============================================================================

Serving is ``daemon.demo.loopback`` (the tests' and benchmarks' server too) bound to
127.0.0.1 on a free port; it answers the known paths only and never touches the file system
per request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from importlib import resources

from daemon.demo.loopback import LoopbackServer

__all__ = ["OUTLETS", "serve", "Outlet", "load_templates", "render", "render_all"]

WIB = timezone(timedelta(hours=7))
_TEMPO_LABEL = timezone(timedelta(hours=1))
_HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_BULAN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9]+)\s*:\s*([^}]*?)\s*\}\}")
_OFFSET_PART = re.compile(r"([+-])(\d{1,4})([smhd])")


@dataclass(frozen=True)
class Outlet:
    """One sample feed: the display name used in the config and the file it is served from."""

    name: str
    file: str

    @property
    def path(self) -> str:
        return "/" + self.file


OUTLETS: tuple[Outlet, ...] = (
    Outlet("Antara", "antara.xml"),
    Outlet("IHRAM", "ihram.xml"),
    Outlet("Republika", "republika.xml"),
    Outlet("Okezone", "okezone.xml"),
    Outlet("Sindonews", "sindonews.xml"),
    Outlet("Detik", "detik.xml"),
    Outlet("Tempo", "tempo.xml"),
    Outlet("BBC Indonesia", "bbcindonesia.xml"),
)


def parse_offset(spec: str) -> timedelta:
    """``-2h-15m`` -> -2 h 15 min; ``0`` -> zero. Anything else is a template bug."""
    if spec == "0":
        return timedelta(0)
    total, pos = 0, 0
    for m in _OFFSET_PART.finditer(spec):
        if m.start() != pos:
            break
        total += (1 if m[1] == "+" else -1) * int(m[2]) * _UNITS[m[3]]
        pos = m.end()
    if pos == 0 or pos != len(spec):
        raise ValueError(f"bad date offset {spec!r} (expected e.g. -3h, -10d, -2h-15m)")
    return timedelta(seconds=total)


def format_date(kind: str, instant: datetime) -> str:
    """``instant`` (aware) written in one outlet convention; see the module docstring."""
    wib = instant.astimezone(WIB)
    if kind == "rfc822":
        return format_datetime(wib)
    if kind == "gmt":
        return format_datetime(instant.astimezone(timezone.utc), usegmt=True)
    if kind == "tempo":
        return format_datetime(instant.astimezone(_TEMPO_LABEL))
    if kind == "tempowall":
        return format_datetime(wib.replace(tzinfo=_TEMPO_LABEL))
    if kind == "wib":
        return (
            f"{_HARI[wib.weekday()]}, {wib.day} {_BULAN[wib.month - 1]} {wib.year} "
            f"{wib.hour:02d}:{wib.minute:02d} WIB"
        )
    if kind == "hari":
        return _HARI[wib.weekday()]
    if kind == "tgl":
        return f"{wib.day}/{wib.month}/{wib.year}"
    raise ValueError(f"unknown date placeholder kind {kind!r}")


def render(template: str, now: datetime) -> str:
    """Every placeholder replaced relative to ``now``; an unknown one raises ValueError."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    out = _PLACEHOLDER.sub(lambda m: format_date(m[1], now + parse_offset(m[2])), template)
    if "{{" in out:
        raise ValueError("malformed placeholder left in template")
    return out


def load_templates() -> dict[str, str]:
    """The bundled templates by file name, read from the installed package data."""
    folder = resources.files("daemon.demo").joinpath("feeds")
    return {o.file: folder.joinpath(o.file).read_text(encoding="utf-8") for o in OUTLETS}


def render_all(now: datetime, templates: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """URL path -> UTF-8 body for every outlet."""
    templates = load_templates() if templates is None else templates
    return {o.path: render(templates[o.file], now).encode("utf-8") for o in OUTLETS}


def serve(bodies: Mapping[str, bytes]) -> LoopbackServer:
    """A server (not started) for ``bodies`` (path -> bytes) on 127.0.0.1, a free port."""
    server = LoopbackServer(name="pantau-demo-http")
    for path, body in bodies.items():
        server.static(
            path, body, etag=False, last_modified=False, headers={"Cache-Control": "no-cache"}
        )
    return server
