"""Email sender against real SMTP servers (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from daemon.delivery import build_notifier
from daemon.delivery.email import EmailNotifier
from tests.alerts import STORY, alert
from tests.smtpstub import HangServer, RecordingHandler, SMTPStub, free_port, make_cert

PASSWORD = "s3kr1t-Pa55word!"


def config(port: int, **kw: Any) -> SimpleNamespace:
    base: dict[str, Any] = dict(
        type="email",
        host="127.0.0.1",
        port=port,
        security="none",
        username=None,
        password=None,
        from_="Pantau <pantau@pantau.example>",
        to=["analis@redaksi.example", "editor@redaksi.example"],
        digest=None,
        timeout=5.0,
        tls_verify=True,
        ca_file=None,
    )
    base.update(kw)
    return SimpleNamespace(**base)


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(("plain",))
    rich = msg.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def plain() -> Iterator[SMTPStub]:
    with SMTPStub() as s:
        yield s


def test_one_alert_one_multipart_email(plain: SMTPStub) -> None:
    n = build_notifier("analysts", config(plain.port))
    result = n.send([alert()])
    assert result.ok and not result.permanent
    assert result.detail == "250 2.0.0 Ok: queued as PANTAU42"  # the server's own answer
    [got] = plain.received
    assert got.mail_from == "pantau@pantau.example"
    assert got.rcpt_tos == ["analis@redaksi.example", "editor@redaksi.example"]
    msg = parse(got.content)
    assert msg["Subject"] == "[pantau] Ukraina: Menlu RI bahas bantuan kemanusiaan untuk Ukraina"
    assert msg["To"] == "analis@redaksi.example, editor@redaksi.example"
    assert msg["Message-ID"].endswith("@pantau.example>")
    assert msg["Date"] is not None and msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    text, rich = parts(msg)
    for body in (text, rich):
        assert "Menlu RI bahas bantuan kemanusiaan" in body
        assert "Kamis, 16 Des 2021 20:20 WIB" in body
        assert "Juga dimuat: Republika, Okezone" in body
        assert "Kyiv" in body and "Jakarta (ANTARA)" in body
    assert STORY in text
    assert f'href="{STORY.replace("&", "&amp;")}"' in rich


def test_html_part_escapes_feed_text(plain: SMTPStub) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    a = alert(title=evil, snippet=evil, outlet=evil, matched=(evil,))
    assert EmailNotifier.from_config("a", config(plain.port)).send([a]).ok
    _, rich = parts(parse(plain.received[0].content))
    assert "<script" not in rich.lower() and "<img" not in rich.lower()
    assert "&lt;script&gt;" in rich


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        'https://x.example/"onmouseover=1',
    ],
)
def test_only_http_links_and_no_attribute_breakout(plain: SMTPStub, url: str) -> None:
    assert build_notifier("a", config(plain.port)).send([alert(url=url)]).ok
    text, rich = parts(parse(plain.received[0].content))
    assert "javascript" not in rich.lower() and "data:" not in rich
    assert '"onmouseover' not in rich
    assert "javascript" not in text.lower()


@pytest.mark.parametrize(
    "title",
    [
        "Judul\r\nBcc: evil@example.com",
        "Judul\nTo: evil@example.com\n\nbadan palsu",
        "Judul\rCc: evil@example.com",
        "Judul\x00\x1b[31m\u2028Bcc: evil@example.com",
    ],
)
def test_header_injection_adds_no_header_and_no_recipient(plain: SMTPStub, title: str) -> None:
    a = alert(title=title, topic="Ukraina\r\nBcc: topic@example.com", outlet=title)
    assert build_notifier("a", config(plain.port)).send([a]).ok
    [got] = plain.received
    assert got.rcpt_tos == ["analis@redaksi.example", "editor@redaksi.example"]
    msg = parse(got.content)
    assert msg["Bcc"] is None and msg["Cc"] is None
    assert msg.get_all("To") == ["analis@redaksi.example, editor@redaksi.example"]
    assert "evil@example.com" in msg["Subject"]  # kept as text, on the subject line
    head = got.content.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert not line.lower().startswith((b"bcc:", b"cc:")), line
    assert b"\x00" not in got.content and b"\x1b" not in got.content


def test_digest_groups_alerts_by_topic(plain: SMTPStub) -> None:
    alerts = [
        alert(alert_id=1, topic="Ukraina", title="Serangan drone di Kyiv"),
        alert(alert_id=2, topic="NATO", title="NATO gelar latihan di Baltik"),
        alert(alert_id=3, topic="Ukraina", title="Zelensky temui PM Jepang"),
        alert(alert_id=4, topic="NATO", title="Sekjen NATO kunjungi Jakarta"),
        alert(alert_id=5, topic="Ukraina", title="Gandum Ukraina tiba di Surabaya"),
    ]
    n = build_notifier("a", config(plain.port, digest=3600.0))
    assert n.digest == 3600.0
    assert n.send(alerts).ok
    [got] = plain.received  # one email for the whole batch
    msg = parse(got.content)
    assert msg["Subject"] == "[pantau] 5 berita baru: Ukraina, NATO"
    text, rich = parts(msg)
    for body in (text, rich):
        uk, nato = body.index("Ukraina (3)"), body.index("NATO (2)")
        assert uk < nato
        for t in ("Serangan drone", "Zelensky temui", "Gandum Ukraina"):
            assert uk < body.index(t) < nato
        for t in ("latihan di Baltik", "Sekjen NATO kunjungi"):
            assert body.index(t) > nato


def test_starttls_with_ca_file(cert: tuple[Path, Path]) -> None:
    with SMTPStub(tls="starttls", cert=cert) as srv:
        cfg = config(srv.port, security="starttls", ca_file=str(cert[0]))
        result = build_notifier("a", cfg).send([alert()])
        assert result.ok, result.detail
        assert len(srv.received) == 1


def test_self_signed_certificate_refused_without_ca_file(cert: tuple[Path, Path]) -> None:
    with SMTPStub(tls="starttls", cert=cert) as srv:
        result = build_notifier("a", config(srv.port, security="starttls")).send([alert()])
        assert srv.received == []
    assert not result.ok
    assert "certificate" in result.detail.lower()


def test_tls_verify_off_accepts_self_signed(cert: tuple[Path, Path]) -> None:
    with SMTPStub(tls="starttls", cert=cert) as srv:
        cfg = config(srv.port, security="starttls", tls_verify=False)
        assert build_notifier("a", cfg).send([alert()]).ok
        assert len(srv.received) == 1


def test_implicit_tls(cert: tuple[Path, Path]) -> None:
    with SMTPStub(tls="ssl", cert=cert) as srv:
        ok = build_notifier("a", config(srv.port, security="ssl", ca_file=str(cert[0])))
        assert ok.send([alert()]).ok
        bad = build_notifier("a", config(srv.port, security="ssl"))
        refused = bad.send([alert()])
        assert len(srv.received) == 1
    assert not refused.ok and "certificate" in refused.detail.lower()


def test_starttls_required_but_not_offered_is_permanent(plain: SMTPStub) -> None:
    """Never fall back to sending (or logging in) in clear text."""
    result = build_notifier("a", config(plain.port, security="starttls")).send([alert()])
    assert not result.ok and result.permanent
    assert plain.received == []


def test_login_over_starttls(cert: tuple[Path, Path]) -> None:
    with SMTPStub(tls="starttls", cert=cert, users={"pantau": PASSWORD}) as srv:
        good = config(
            srv.port,
            security="starttls",
            ca_file=str(cert[0]),
            username="pantau",
            password=PASSWORD,
        )
        assert build_notifier("a", good).send([alert()]).ok
        bad = build_notifier("a", config(**{**vars(good), "password": "wrong-" + PASSWORD}))
        result = bad.send([alert()])
        assert len(srv.received) == 1
    assert not result.ok and result.permanent
    assert result.detail.startswith("authentication failed: 535")
    assert PASSWORD not in result.detail
    assert PASSWORD not in repr(bad)


def test_all_recipients_refused_is_permanent() -> None:
    handler = RecordingHandler(
        refuse={
            "analis@redaksi.example": "550 5.1.1 no such user",
            "editor@redaksi.example": "550 5.1.1 no such user",
        }
    )
    with SMTPStub(handler) as srv:
        result = build_notifier("a", config(srv.port)).send([alert()])
    assert not result.ok and result.permanent
    assert "550" in result.detail


def test_one_recipient_refused_still_delivers_to_the_other() -> None:
    handler = RecordingHandler(refuse={"editor@redaksi.example": "550 5.1.1 no such user"})
    with SMTPStub(handler) as srv:
        result = build_notifier("a", config(srv.port)).send([alert()])
        [got] = srv.received
    assert result.ok and "1 of 2 recipients refused" in result.detail
    assert got.rcpt_tos == ["analis@redaksi.example"]


def test_temporary_recipient_refusal_is_retryable() -> None:
    handler = RecordingHandler(
        refuse={
            "analis@redaksi.example": "450 4.2.0 mailbox busy",
            "editor@redaksi.example": "550 5.1.1 no such user",
        }
    )
    with SMTPStub(handler) as srv:
        result = build_notifier("a", config(srv.port)).send([alert()])
    assert not result.ok and not result.permanent


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("451 4.3.0 coba lagi nanti", False), ("554 5.7.1 ditolak sebagai spam", True)],
)
def test_data_refusal_maps_by_code_class(reply: str, permanent: bool) -> None:
    with SMTPStub(RecordingHandler(data_reply=reply)) as srv:
        result = build_notifier("a", config(srv.port)).send([alert()])
    assert not result.ok and result.permanent is permanent
    assert result.detail == reply


def test_silent_server_times_out_retryably() -> None:
    with HangServer() as hang:
        start = time.monotonic()
        result = build_notifier("a", config(hang.port, timeout=0.4)).send([alert()])
        elapsed = time.monotonic() - start
        assert hang.accepted == 1
    assert not result.ok and not result.permanent
    assert "timeout" in result.detail.lower()
    assert 0.3 < elapsed < 2.0


def test_dribbling_server_is_cut_off_at_the_overall_deadline() -> None:
    """Each byte arrives well within the per-read timeout; only the deadline ends it."""
    with HangServer(dribble=0.05) as hang:
        start = time.monotonic()
        result = build_notifier("a", config(hang.port, timeout=0.3)).send([alert()])
        elapsed = time.monotonic() - start
    assert not result.ok and not result.permanent
    assert "timeout" in result.detail.lower()
    assert elapsed < 2.5


def test_connection_refused_is_retryable() -> None:
    result = build_notifier("a", config(free_port(), password=PASSWORD)).send([alert()])
    assert not result.ok and not result.permanent
    assert "refused" in result.detail and PASSWORD not in result.detail


def test_send_test_message(plain: SMTPStub) -> None:
    result = build_notifier("a", config(plain.port)).send_test()
    assert result.ok and result.detail.startswith("250")
    msg = parse(plain.received[0].content)
    assert msg["Subject"].startswith("pantau: pesan uji dari ")
    assert plain.received[0].rcpt_tos == ["analis@redaksi.example", "editor@redaksi.example"]


def test_mapping_config_with_yaml_key_from(plain: SMTPStub) -> None:
    cfg = {"type": "email", "host": "127.0.0.1", "port": plain.port, "security": "none"}
    cfg.update({"from": "pantau@pantau.example", "to": ["a@redaksi.example"]})
    assert build_notifier("a", cfg).send([alert()]).ok
    assert plain.received[0].mail_from == "pantau@pantau.example"


@pytest.mark.parametrize(
    "bad",
    [
        {"security": "tls"},
        {"to": []},
        {"to": ["bukan-alamat"]},
        {"from_": "pantau@x.example\r\nBcc: e@x.example"},
        {"host": ""},
    ],
)
def test_bad_settings_are_refused_at_build_time(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        build_notifier("a", config(25, **bad))


def test_non_ascii_subject_round_trips(plain: SMTPStub) -> None:
    title = "Pertemuan di Kyiv — “darurat” bagi warga Indonesia 🇺🇦"
    assert build_notifier("a", config(plain.port)).send([alert(title=title)]).ok
    raw = plain.received[0].content
    assert raw.isascii()  # encoded words, not raw UTF-8 in headers
    assert parse(raw)["Subject"] == f"[pantau] Ukraina: {title}"


def test_huge_feed_text_is_capped(plain: SMTPStub) -> None:
    a = alert(title="Judul " * 50_000, snippet="isi berita " * 500_000)
    assert build_notifier("a", config(plain.port)).send([a]).ok
    raw = plain.received[0].content
    assert len(raw) < 50_000
    assert len(parse(raw)["Subject"]) <= 250


def test_oversized_digest_lists_a_bounded_number_of_items(plain: SMTPStub) -> None:
    alerts = [alert(alert_id=i, title=f"Berita nomor {i}") for i in range(500)]
    assert build_notifier("a", config(plain.port, digest=60.0)).send(alerts).ok
    msg = parse(plain.received[0].content)
    assert msg["Subject"] == "[pantau] 500 berita baru: Ukraina"
    text, _ = parts(msg)
    lines = text.splitlines()
    assert "* Berita nomor 199" in lines and "* Berita nomor 200" not in lines
    assert "300 berita lainnya" in text


@pytest.mark.parametrize(
    ("greeting", "permanent"),
    [(b"421 4.3.2 layanan sibuk\r\n", False), (b"554 5.3.2 tidak melayani\r\n", True)],
)
def test_refusing_greeting_maps_by_code_class(greeting: bytes, permanent: bool) -> None:
    with HangServer(greeting=greeting) as srv:
        start = time.monotonic()
        result = build_notifier("a", config(srv.port)).send([alert()])
        elapsed = time.monotonic() - start
    assert not result.ok and result.permanent is permanent
    assert result.detail == greeting.decode().strip()
    assert elapsed < 1.0  # answered at once, not at the 5 s timeout


@pytest.mark.parametrize(
    "title",
    [
        "Ukraina =?utf-8?q?=0D=0AReply-To:_attacker@evil.example?=",
        "Ukraina =?utf-8?b?DQpSZXBseS1UbzogYXR0YWNrZXJAZXZpbC5leGFtcGxl?= lanjut",
        # an encoded word that would end the headers and replace the body
        "Kyiv =?utf-8?q?=0D=0AContent-Type:_text/html=0D=0A=0D=0A<a_href=x>klik</a>?=",
        "Judul =?iso-8859-1?q?=0AFrom:_redaksi@evil.example?= – berita",
    ],
)
def test_encoded_words_in_feed_text_stay_text(plain: SMTPStub, title: str) -> None:
    """RFC 2047: the email package decodes ``=?..?=`` when it parses a header value, so a
    title's encoded CRLF used to become a real header on the wire (issue 24)."""
    a = alert(title=title, topic="Ukraina")
    assert build_notifier("a", config(plain.port)).send([a]).ok
    [got] = plain.received
    head = got.content.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n") if line[:1] != b" "]
    assert sorted(names) == sorted(
        [b"subject", b"from", b"to", b"date", b"message-id", b"auto-submitted",
         b"user-agent", b"content-type", b"mime-version"]
    )  # fmt: skip
    msg = parse(got.content)
    assert msg["Reply-To"] is None and msg.get_all("From") == ["Pantau <pantau@pantau.example>"]
    assert msg["Subject"] == f"[pantau] Ukraina: {title}"  # exactly the feed's text, decoded once
    assert msg.get_content_type() == "multipart/alternative"
    text, rich = parts(msg)
    assert "<a href=x>" not in rich and title in text
