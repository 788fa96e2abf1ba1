"""Console sender: one clean line per alert, whatever the feed put in the title."""

from __future__ import annotations

import io
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from daemon.delivery import AlertMessage, Source, build_notifier
from daemon.delivery.console import ConsoleNotifier
from tests.alerts import alert as shared_alert

STORY = "https://www.antaranews.com/berita/4242/menlu-bahas-ukraina"


def alert(**kw: Any) -> AlertMessage:
    """The notifier tests' alert, shorter: one outlet, one matched term."""
    short: dict[str, Any] = dict(
        alert_id=7,
        url=STORY,
        title="Menlu RI bahas bantuan untuk Ukraina",
        matched=("Ukraina",),
        snippet="Jakarta (ANTARA) - ...",
        sources=(Source("Antara", STORY, "Menlu RI bahas bantuan untuk Ukraina"),),
    )
    return shared_alert(**{**short, **kw})


def test_line_format() -> None:
    out = io.StringIO()
    result = ConsoleNotifier("log", out).send([alert()])
    assert result.ok
    assert out.getvalue() == (
        "[pantau] Ukraina | Antara | Kamis, 16 Des 2021 20:20 WIB | "
        "Menlu RI bahas bantuan untuk Ukraina | " + STORY + "\n"
    )


def test_naive_time_is_taken_as_utc() -> None:
    out = io.StringIO()
    ConsoleNotifier("log", out).send([alert(published_at=datetime(2022, 1, 2, 17, 5))])
    # 17:05 UTC on Sunday 2 January 2022 is 00:05 WIB on Monday 3 January.
    assert "| Senin, 03 Jan 2022 00:05 WIB |" in out.getvalue()


@pytest.mark.parametrize(
    "title",
    [
        "Judul\n2026-01-01 ERROR palsu: basis data rusak",
        "Judul\r\x1b[2K\x1b[1A[pantau] baris palsu",
        "Merah \x1b[31mBAHAYA\x1b[0m \x1b]0;judul jendela\x07 \x9b31m",
        "Teks \u202eterbalik\u202c dan \x00NUL\x7f",
    ],
)
def test_injection_prints_one_clean_line(title: str) -> None:
    out = io.StringIO()
    assert ConsoleNotifier("log", out).send([alert(title=title, outlet=title, topic=title)]).ok
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    line = text[:-1]
    assert "\r" not in line and "\u2028" not in line
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F for c in line), repr(line)
    assert "\u202e" not in line
    assert "[31m" not in line and "[2K" not in line and "judul jendela" not in line


def test_non_http_url_is_not_printed() -> None:
    out = io.StringIO()
    ConsoleNotifier("log", out).send([alert(url="javascript:alert(1)")])
    assert out.getvalue().rstrip("\n").endswith("| -")


def test_several_alerts_one_line_each_and_default_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    n = build_notifier("log", SimpleNamespace(type="console"))
    assert n.digest is None
    assert n.send([alert(alert_id=1, title="Satu"), alert(alert_id=2, title="Dua")]).ok
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(" | ")[3] for ln in lines] == ["Satu", "Dua"]


def test_send_test(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_notifier("log", {"type": "console"}).send_test().ok
    assert capsys.readouterr().out.startswith("[pantau] pantau: pesan uji dari ")


def test_closed_stream_is_a_failed_send_not_a_crash() -> None:
    out = io.StringIO()
    out.close()
    result = ConsoleNotifier("log", out).send([alert()])
    assert not result.ok and not result.permanent
