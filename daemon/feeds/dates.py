"""Feed and article dates with Indonesian conventions.

feedparser's own date handlers map ``WIB`` to UTC and know no Indonesian month names, so every
raw date string is read here instead. Accepted shapes (case-insensitive; the weekday, when
present, is ignored and never validated, because feeds get it wrong):

* RFC 822 / 2822: ``Thu, 27 Apr 2017 22:28:55 +0700``, ``... GMT``, two-digit years;
* ISO 8601 / W3C-DTF: ``2009-11-30T12:19:29+00:00``, ``+0000``, ``Z``, fractions, date only;
* day-first text: ``Kamis, 24 Apr 2025 18:20 WIB``, ``Senin, 3 Maret 2025 | 08.15 WIB``,
  ``Thursday, 16 Dec 2021 20:20 WIB``, ``24 April 2025`` (a dot may separate hours and
  minutes; ``,``, ``|``, ``-``, ``pukul`` or ``jam`` may separate the date from the time);
* day-first numbers: ``13/05/2025, 15:37 WIB``, ``13-05-2025 15.37``;
* month-first English: ``April 24, 2025 6:20 PM``, and asctime ``Thu Apr 27 22:28:55 2017``
  (also with its zone before the year, ``Sun Jul 15 01:16:00 +0000 2012``);
* JavaScript's ``Date#toString``: ``Mon Nov 24 2025 10:30:00 GMT+0700 (Western Indonesia
  Time)``, the zone's name after the offset ignored.

Zones: ``WIB`` +07:00, ``WITA`` +08:00, ``WIT`` +09:00, ``GMT``/``UTC``/``UT``/``Z``, the
RFC 822 US zones, numeric offsets (``+0700``, ``+07:00``, ``+07``, ``GMT+7``), IANA names
(``Asia/Jakarta``, as PHP's ``date('e')`` writes). Day-first numbers stay day-first unless
the second cannot be a month (``11/24/2025``); an English ordinal day (``24th``) is read.
A numeric offset is kept exactly as written even when the outlet is known to mislabel it
(Tempo's ``+0100``): guessing would break the feeds that are right. A date without a zone is
wall-clock time in the feed's zone. Anything else, including an unknown zone name, is None
rather than a guess.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["CLOCK_SKEW", "effective_published", "parse_date"]

#: A date this far ahead of "now" is still taken as given (the outlet's clock may run fast).
CLOCK_SKEW = timedelta(minutes=5)

_MAX_RAW = 120
_JAKARTA = timezone(timedelta(hours=7), "WIB")

_MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    (
        "januari jan january",
        "februari feb pebruari peb february",
        "maret mar march mrt",
        "april apr",
        "mei may",
        "juni jun june",
        "juli jul july",
        "agustus agu agt ags aug august agst",
        "september sep sept",
        "oktober okt oct october",
        "november nov nop nopember",
        "desember des dec december",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _num

_ZONES: dict[str, int] = {  # minutes east of UTC
    "z": 0,
    "ut": 0,
    "utc": 0,
    "gmt": 0,
    "wib": 7 * 60,
    "wita": 8 * 60,
    "wit": 9 * 60,
    "est": -5 * 60,
    "edt": -4 * 60,
    "cst": -6 * 60,
    "cdt": -5 * 60,
    "mst": -7 * 60,
    "mdt": -6 * 60,
    "pst": -8 * 60,
    "pdt": -7 * 60,
}

_WD = r"(?:[a-z'\u2019]+\.?(?:\s*,\s*|\s+))"
_TIME = (
    r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2})(?:[.,]\d{1,9})?)?"
    r"(?:\s*(?P<ampm>[ap]\.?m(?![a-z])\.?))?"  # (not the "Am" of America/...)
)
_ZONE = (
    r"\(?(?P<Z>[+-]\d{2}:?\d{2}|[+-]\d{2}"
    r"|(?:gmt|utc)\s*[+-]\d{1,2}(?::?\d{2})?"
    r"|z|ut|utc|gmt|wita|wib|wit|[ecmp][sd]t"
    r"|[a-z]{3,14}/[a-z_+-]{2,30}(?:/[a-z_+-]{2,30})?)\)?"  # IANA: Asia/Jakarta
)
_DATE_TIME_SEP = r"(?:\s*(?:[,|/\-]|\bpukul\b|\bjam\b|\bat\b)?\s*)"
_TAIL = rf"(?:{_DATE_TIME_SEP}{_TIME})?\s*(?:{_ZONE})?\s*$"
_FLAGS = re.IGNORECASE | re.ASCII

_ISO_RE = re.compile(
    r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:(?:t|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d{1,9})?)?)?"
    rf"\s*(?:{_ZONE})?z?\s*$",  # (a stray Z after an offset: "+07:00Z")
    _FLAGS,
)
_DAY_FIRST_RE = re.compile(
    rf"^{_WD}?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*[-\s/.]\s*(?P<mon>[a-z]+)\.?\s*[-\s/.,]\s*(?P<y>\d{{4}}|\d{{2}})"
    + _TAIL,
    _FLAGS,
)
_NUMERIC_RE = re.compile(
    rf"^{_WD}?(?P<d>\d{{1,2}})[/.\-](?P<m>\d{{1,2}})[/.\-](?P<y>\d{{4}})" + _TAIL,
    _FLAGS,
)
_MONTH_FIRST_RE = re.compile(
    rf"^{_WD}?(?P<mon>[a-z]+)\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(?P<y>\d{{4}})" + _TAIL,
    _FLAGS,
)
_ASCTIME_RE = re.compile(
    r"^[a-z]+\s+(?P<mon>[a-z]+)\s+(?P<d>\d{1,2})\s+"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s+(?P<y>\d{4})"
    rf"\s*(?:{_ZONE})?\s*$",
    _FLAGS,
)
# Twitter's and Ruby's asctime, its zone before the year: ``Sun Jul 15 01:16:00 +0000 2012``
_ASCTIME_ZONED_RE = re.compile(
    r"^[a-z]+\s+(?P<mon>[a-z]+)\s+(?P<d>\d{1,2})\s+"
    rf"(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}}))?\s+{_ZONE}\s+(?P<y>\d{{4}})\s*$",
    _FLAGS,
)
# JavaScript's Date#toString names the zone after its offset, in the reader's language:
# ``Mon Nov 24 2025 10:30:00 GMT+0700 (Western Indonesia Time)``; the offset says it all
_JS_ZONE_NAME_RE = re.compile(r"(?<=[Gg][Mm][Tt][+-]\d{4})\s*\([^()]{0,60}\)$")
_OFFSET_RE = re.compile(r"^(?:gmt|utc)?\s*([+-])(\d{1,2}):?(\d{2})?$", _FLAGS)


_SHAPES = (_ISO_RE, _DAY_FIRST_RE, _NUMERIC_RE, _MONTH_FIRST_RE, _ASCTIME_RE, _ASCTIME_ZONED_RE)


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    """The configured zone; an unknown name (or a system without tzdata) falls back to WIB."""
    return configured_zone(name) or _JAKARTA


def configured_zone(name: str) -> tzinfo | None:
    """A feed's ``timezone`` as an Indonesian operator writes it: an IANA name (as written,
    else in its usual capitals: ``asia/makassar``), ``WIB``, ``WITA``, ``WIT``, ``UTC``, or an
    offset (``+07:00``, ``UTC+8``); None for anything else (``CST`` and the like name
    several zones, so only an IANA key of that name counts)."""
    token = name.strip()
    try:
        return ZoneInfo(token)
    except (ValueError, OSError, KeyError):
        pass
    low = token.lower()
    if "/" in token or low in ("wib", "wita", "wit", "utc", "gmt") or _OFFSET_RE.match(low):
        return _fixed_zone(token)
    return None


@lru_cache(maxsize=256)
def _fixed_zone(token: str) -> tzinfo | None:
    if "/" in token:  # an IANA name, as written or in its usual capitals
        for name in (token, "/".join(p.title() for p in token.split("/"))):
            try:
                return ZoneInfo(name)
            except (ValueError, OSError, KeyError):
                continue
        return None
    low = token.lower()
    minutes = _ZONES.get(low)
    if minutes is None:
        m = _OFFSET_RE.match(low)
        if not m:
            return None
        hours, mins = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or mins > 59:
            return None
        minutes = (hours * 60 + mins) * (-1 if m.group(1) == "-" else 1)
    return timezone(timedelta(minutes=minutes))


def _year(raw: str) -> int:
    y = int(raw)
    if len(raw) == 2:  # RFC 822 two-digit year
        y += 2000 if y < 50 else 1900
    return y


def _build(m: re.Match[str], month: int, tz: str, day: int | None = None) -> datetime | None:
    g = m.groupdict()
    year = _year(g["y"])
    if not 1900 <= year <= 2200:
        return None
    hour = int(g["H"] or 0)
    minute = int(g["M"] or 0)
    second = min(int(g.get("S") or 0), 59)  # leap second
    ampm = (g.get("ampm") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    zone_tok = g.get("Z")
    zone = _fixed_zone(zone_tok) if zone_tok else _zone(tz)
    if zone is None:
        return None
    local = datetime(year, month, day or int(g["d"]), hour, minute, second, tzinfo=zone)
    return local.astimezone(timezone.utc)


def _month_of(m: re.Match[str]) -> int | None:
    mon = m.groupdict().get("mon")
    if mon is None:
        return int(m.group("m"))
    return _MONTHS.get(mon.lower())


def parse_date(raw: str | None, tz: str = "Asia/Jakarta") -> datetime | None:
    """An aware UTC datetime for ``raw``, or None when it cannot be read. Never raises."""
    if not raw or not isinstance(raw, str):
        return None
    s = raw.strip()
    if not s or len(s) > _MAX_RAW:
        return None
    s = s.replace("\u00a0", " ")
    if s[-1] == ")":
        s = _JS_ZONE_NAME_RE.sub("", s)
    try:
        for regex in _SHAPES:
            m = regex.match(s)
            if m is None:
                continue
            month = _month_of(m)
            if month is None:
                return None
            if regex is _NUMERIC_RE and month > 12 and 1 <= int(m.group("d")) <= 12:
                # "11/24/2025": the second number cannot be a month, so the first is (the
                # US order); wherever both can be, day-first stands
                return _build(m, int(m.group("d")), tz, day=month)
            return _build(m, month, tz)
    except (ValueError, OverflowError, TypeError):
        return None
    return None


def effective_published(parsed: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """The date an item is filed under: its own, unless it has none or claims to be from the
    future (then the time it was first seen). The flag says whether the item's date was used."""
    if parsed is None or parsed.tzinfo is None or parsed > now + CLOCK_SKEW:
        return now, False
    return parsed, True
