"""Date reading with Indonesian conventions. Expected instants are worked out by hand:
WIB is UTC+7, WITA UTC+8, WIT UTC+9, so 18:20 WIB is 11:20 UTC."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from daemon.feeds.dates import CLOCK_SKEW, effective_published, parse_date


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[misc]


CASES = [
    # RFC 822 as outlets write it
    ("Thu, 27 Apr 2017 22:28:55 +0700", utc(2017, 4, 27, 15, 28, 55)),
    ("Fri, 28 Apr 2017 06:21:03 GMT", utc(2017, 4, 28, 6, 21, 3)),
    ("Fri, 28 Apr 2017 06:21:03 +0000", utc(2017, 4, 28, 6, 21, 3)),
    ("Fri, 28 Apr 2017 06:21:03 UT", utc(2017, 4, 28, 6, 21, 3)),
    ("Fri, 28 Apr 2017 06:21:03 -0500", utc(2017, 4, 28, 11, 21, 3)),
    ("Fri, 28 Apr 2017 06:21:03 EST", utc(2017, 4, 28, 11, 21, 3)),
    ("Thu, 27 Apr 17 22:28:55 +0700", utc(2017, 4, 27, 15, 28, 55)),
    ("27 Apr 2017 22:28:55 +0700", utc(2017, 4, 27, 15, 28, 55)),
    ("Thu,27 Apr 2017 22:28:55 +0700", utc(2017, 4, 27, 15, 28, 55)),
    ("  Thu, 27 Apr 2017 22:28:55 +0700\n", utc(2017, 4, 27, 15, 28, 55)),
    # Tempo's mislabelled +0100 is kept as written (23:46:29 +0100 = 22:46:29 UTC)
    ("Thu, 27 Apr 2017 23:46:29 +0100", utc(2017, 4, 27, 22, 46, 29)),
    # Viva's channel date labelled +0800
    ("Fri, 28 Apr 2017 08:33:21 +0800", utc(2017, 4, 28, 0, 33, 21)),
    # ISO 8601 / W3C-DTF
    ("2009-11-30T12:19:29+00:00", utc(2009, 11, 30, 12, 19, 29)),
    ("2005-11-17T12:05:21+0000", utc(2005, 11, 17, 12, 5, 21)),
    ("2025-06-01T09:15:00+07:00", utc(2025, 6, 1, 2, 15)),
    ("2025-06-01T02:00:00Z", utc(2025, 6, 1, 2, 0)),
    ("2025-06-01T02:00:00.123456Z", utc(2025, 6, 1, 2, 0)),
    ("2025-06-01t02:00z", utc(2025, 6, 1, 2, 0)),
    ("2025-06-01 09:15:00 WIB", utc(2025, 6, 1, 2, 15)),
    ("2025-06-01T09:15:00+07", utc(2025, 6, 1, 2, 15)),
    # Indonesian article-page forms with zone names
    ("Kamis, 24 Apr 2025 18:20 WIB", utc(2025, 4, 24, 11, 20)),
    ("Jum'at, 5 Des 2025 09:00 WITA", utc(2025, 12, 5, 1, 0)),
    ("Jum\u2019at, 5 Des 2025 09:00 WITA", utc(2025, 12, 5, 1, 0)),
    ("Jumat, 5 Desember 2025 09:00 WITA", utc(2025, 12, 5, 1, 0)),
    ("Senin, 12 Mei 2025 07:15 WIT", utc(2025, 5, 11, 22, 15)),
    ("Thursday, 16 Dec 2021 20:20 WIB", utc(2021, 12, 16, 13, 20)),
    ("Senin, 3 Maret 2025 | 08.15 WIB", utc(2025, 3, 3, 1, 15)),
    ("13/05/2025, 15:37 WIB", utc(2025, 5, 13, 8, 37)),
    ("13-05-2025 15.37 WIB", utc(2025, 5, 13, 8, 37)),
    ("Selasa, 13/05/2025 pukul 15.37 WIB", utc(2025, 5, 13, 8, 37)),
    ("Minggu, 7 Sep 2025 - 21:05 WIB", utc(2025, 9, 7, 14, 5)),
    ("Ahad, 7 Sept 2025 21:05 WIB", utc(2025, 9, 7, 14, 5)),
    ("Sabtu, 16 Agu 2025 20:05:30 WIB", utc(2025, 8, 16, 13, 5, 30)),
    ("Sabtu, 16 Agt 2025 20:05 WIB", utc(2025, 8, 16, 13, 5)),
    ("Sabtu, 16 Ags 2025 20:05 WIB", utc(2025, 8, 16, 13, 5)),
    ("Sabtu, 16 Agustus 2025 20:05 WIB", utc(2025, 8, 16, 13, 5)),
    ("Rabu, 1 Okt 2025 06:45 WIB", utc(2025, 9, 30, 23, 45)),
    ("Rabu, 1 Oktober 2025 06:45 WIB", utc(2025, 9, 30, 23, 45)),
    ("Selasa, 4 Pebruari 2025 10:00 WIB", utc(2025, 2, 4, 3, 0)),
    ("Selasa, 4 Februari 2025 10:00 WIB", utc(2025, 2, 4, 3, 0)),
    ("Senin, 10 Nop 2025 10:00 WIB", utc(2025, 11, 10, 3, 0)),
    ("Rabu, 1 Januari 2025 00:30 WIB", utc(2024, 12, 31, 17, 30)),
    ("Kamis, 19 Juni 2025 07:00 WIB", utc(2025, 6, 19, 0, 0)),
    ("Kamis, 17 Juli 2025 07:00 WIB", utc(2025, 7, 17, 0, 0)),
    ("24 April 2025 18:20 wib", utc(2025, 4, 24, 11, 20)),
    ("KAMIS, 24 APR 2025 18:20 WIB", utc(2025, 4, 24, 11, 20)),
    ("Kamis, 24 Apr 2025 18:20 GMT+7", utc(2025, 4, 24, 11, 20)),
    ("Kamis, 24 Apr 2025 18:20 (WIB)", utc(2025, 4, 24, 11, 20)),
    # month-first English and asctime
    ("April 24, 2025 6:20 PM", utc(2025, 4, 24, 11, 20)),
    ("Apr 24, 2025 06:20 am +0000", utc(2025, 4, 24, 6, 20)),
    ("Thu Apr 27 22:28:55 2017", utc(2017, 4, 27, 15, 28, 55)),
    # asctime with its zone before the year, as Twitter's and Ruby's feeds write it, and
    # JavaScript's Date#toString from feeds a script builds (shapes feedparser's date tests
    # read and pantau missed: such items were filed under the time they were first seen)
    ("Sun Jul 15 01:16:00 +0000 2012", utc(2012, 7, 15, 1, 16)),
    ("Kam Apr 24 18:20:00 +0700 2025", utc(2025, 4, 24, 11, 20)),
    ("Mon Nov 24 2025 10:30:00 GMT+0700 (Western Indonesia Time)", utc(2025, 11, 24, 3, 30)),
    ("Mon Nov 24 2025 10:30:00 GMT+0700 (Waktu Indonesia Barat)", utc(2025, 11, 24, 3, 30)),
    ("Mon Nov 24 2025 10:30:00 GMT+0800", utc(2025, 11, 24, 2, 30)),
    # shapes from Miniflux's collection of dates real feeds write (its date parser tests),
    # in this project's own examples: a zone by its IANA name (PHP's date('e')), an English
    # ordinal day, a stray Z after an offset, and month-first numbers where the second
    # number cannot be a month (day-first stays the reading wherever both can be)
    ("Senin, 24 Nov 2025 10:30:00 Asia/Jakarta", utc(2025, 11, 24, 3, 30)),
    ("Kamis, 27 Nov 2025 08:00:00 Asia/Makassar", utc(2025, 11, 27, 0, 0)),
    ("Fri, 28 Nov 2025 20:19:00 America/New_York", utc(2025, 11, 29, 1, 19)),
    ("Mon, 24th Nov 2025 10:30:00 +0700", utc(2025, 11, 24, 3, 30)),
    ("Sun, 23rd Nov 2025 10:30:00 GMT", utc(2025, 11, 23, 10, 30)),
    ("2025-11-24T10:30:00+07:00Z", utc(2025, 11, 24, 3, 30)),
    ("11/24/2025 10:30", utc(2025, 11, 24, 3, 30)),
    ("Mon, 11/24/2025 - 10:30", utc(2025, 11, 24, 3, 30)),
    ("05/11/2025 10:30", utc(2025, 11, 5, 3, 30)),
    # without a zone: wall-clock time in Asia/Jakarta
    ("Minggu, 9 Nop 2025 10:00", utc(2025, 11, 9, 3, 0)),
    ("2025-11-09T10:00:00", utc(2025, 11, 9, 3, 0)),
    ("24 April 2025", utc(2025, 4, 23, 17, 0)),
    ("2025-04-24", utc(2025, 4, 23, 17, 0)),
    ("Thu, 27 Apr 2017 22:28:55", utc(2017, 4, 27, 15, 28, 55)),
    # leap second is clamped
    ("2016-12-31T23:59:60Z", utc(2016, 12, 31, 23, 59, 59)),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_parse_date(raw: str, expected: datetime) -> None:
    got = parse_date(raw)
    assert got == expected
    assert got is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        ("Minggu, 9 Nop 2025 10:00", "Asia/Makassar", utc(2025, 11, 9, 2, 0)),
        ("Minggu, 9 Nop 2025 10:00", "Asia/Jayapura", utc(2025, 11, 9, 1, 0)),
        ("Minggu, 9 Nop 2025 10:00", "UTC", utc(2025, 11, 9, 10, 0)),
        # a written zone wins over the feed's zone
        ("Minggu, 9 Nop 2025 10:00 WIB", "UTC", utc(2025, 11, 9, 3, 0)),
        # DST zones resolve by the date's own rules (New York is UTC-5 in January)
        ("2025-01-15 10:00", "America/New_York", utc(2025, 1, 15, 15, 0)),
        # an unknown zone name falls back to WIB rather than raising
        ("2025-01-15 10:00", "Mars/Olympus", utc(2025, 1, 15, 3, 0)),
        # a zone as an Indonesian operator writes it in the config
        ("Minggu, 9 Nop 2025 10:00", "WITA", utc(2025, 11, 9, 2, 0)),
        ("Minggu, 9 Nop 2025 10:00", "wit", utc(2025, 11, 9, 1, 0)),
        ("Minggu, 9 Nop 2025 10:00", "+08:00", utc(2025, 11, 9, 2, 0)),
        ("Minggu, 9 Nop 2025 10:00", "UTC+9", utc(2025, 11, 9, 1, 0)),
        ("Minggu, 9 Nop 2025 10:00", "asia/makassar", utc(2025, 11, 9, 2, 0)),
    ],
)
def test_zone_for_dates_without_zone(raw: str, tz: str, expected: datetime) -> None:
    assert parse_date(raw, tz) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "kemarin sore",
        "2 jam yang lalu",
        "Thu, 27 Apr 2017 22:28:55 CEST",  # unknown zone: no guess
        "Thu, 27 Foo 2017 22:28:55 +0700",  # unknown month
        "Thu, 32 Apr 2017 22:28:55 +0700",
        "Thu, 31 Apr 2017 22:28:55 +0700",
        "Thu, 27 Apr 2017 25:28:55 +0700",
        "Thu, 27 Apr 2017 22:61:55 +0700",
        "Thu, 27 Apr 2017 22:28:55 +2500",
        "2025-13-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "April 24, 2025 13:20 PM",
        "1714000000",
        "Kamis, 24 Apr 2025 18:20 WIB " + "WIB " * 40,  # over the length bound
        "x" * 10_000,
    ],
)
def test_unreadable_dates_are_none(raw: str | None) -> None:
    assert parse_date(raw) is None


def test_never_raises_on_garbage() -> None:
    rng = random.Random(7)
    alphabet = "0123456789 :+-/.,|'TZWIBTAaprMeiOktSenKamis\u00a0\u2019\x00\ud800"
    for _ in range(3000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        got = parse_date(raw)
        assert got is None or got.tzinfo is not None
    assert parse_date(12345) is None  # type: ignore[arg-type]


NOW = utc(2025, 6, 1, 5, 0)


@pytest.mark.parametrize(
    ("parsed", "expected"),
    [
        (None, (NOW, False)),
        (utc(2025, 6, 1, 4, 0), (utc(2025, 6, 1, 4, 0), True)),
        (utc(2017, 4, 27, 15, 28), (utc(2017, 4, 27, 15, 28), True)),
        (NOW + timedelta(minutes=3), (NOW + timedelta(minutes=3), True)),  # clock skew
        (NOW + CLOCK_SKEW, (NOW + CLOCK_SKEW, True)),
        (NOW + CLOCK_SKEW + timedelta(seconds=1), (NOW, False)),
        (utc(2100, 1, 1), (NOW, False)),
        (datetime(2025, 6, 1, 4, 0), (NOW, False)),  # naive: not trusted
    ],
)
def test_effective_published(parsed: datetime | None, expected: tuple[datetime, bool]) -> None:
    assert effective_published(parsed, NOW) == expected


def test_future_date_through_parse_date_becomes_now() -> None:
    parsed = parse_date("Fri, 01 Jan 2100 00:00:00 +0700")
    assert parsed == utc(2099, 12, 31, 17, 0)
    assert effective_published(parsed, NOW) == (NOW, False)
