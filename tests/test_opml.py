"""OPML export and import through the CLI, and hostile OPML files."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.config import parse_config
from daemon.opml import OpmlError, read, to_yaml

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
database: sqlite:///{db}
feeds:
  - url: https://www.antaranews.com/rss/terkini.xml
    name: Antara
    interval: 5m
    fulltext: true
  - url: https://rss.detik.com/index.php/detikcom
    name: "Detik: <Berita> & \\"Kabar\\""
    timezone: Asia/Makassar
  - url: https://www.cnnindonesia.com/nasional/rss
  - url: https://example.org/rss?key=${{FEED_KEY}}
    name: Berbayar
    fulltext: false
"""


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            stdin: bytes | None = None) -> subprocess.CompletedProcess:  # type: ignore[type-arg]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args], input=stdin, capture_output=True, timeout=120,
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )  # fmt: skip


def cli(
    args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """The CLI's own entry point in this process, for the many small cases where a fresh
    interpreter each would cost more than the case (the round trip runs subprocesses)."""
    from daemon.cli import main

    monkeypatch.chdir(cwd)
    monkeypatch.delenv("PANTAU_CONFIG", raising=False)
    rc = main(args)
    out, err = capfd.readouterr()
    return rc, out, err


def test_export_then_import_round_trips_feeds_and_their_options(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(db=tmp_path / "p.db"))
    env = {"FEED_KEY": "kunci-rahasia-77"}
    r = run_cli("--config", str(cfg), "opml", "export", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert b"kunci-rahasia-77" not in r.stdout + r.stderr  # a ${} value is a secret
    root = ET.fromstring(r.stdout)
    assert root.tag == "opml" and root.get("version") == "2.0"
    outlines = root.findall("./body/outline")
    assert [o.get("text") for o in outlines] == [
        "Antara", 'Detik: <Berita> & "Kabar"', "www.cnnindonesia.com", "Berbayar"
    ]  # fmt: skip
    assert {o.get("type") for o in outlines} == {"rss"}
    (tmp_path / "feeds.opml").write_bytes(r.stdout)

    # import, as someone starting a new config elsewhere (no config file there)
    other = tmp_path / "fresh"
    other.mkdir()
    r = run_cli("opml", "import", str(tmp_path / "feeds.opml"), cwd=other)
    assert r.returncode == 0, r.stderr
    block = r.stdout.decode()
    pasted = parse_config(block.replace("${FEED_KEY}", "kunci-rahasia-77"), env={})
    original = parse_config(CONFIG.format(db=tmp_path / "p.db"), env=env)
    assert pasted.config.feeds == original.config.feeds

    # importing it into the config it came from adds nothing and says why
    r = run_cli("--config", str(cfg), "opml", "import", str(tmp_path / "feeds.opml"),
                cwd=tmp_path, env=env)  # fmt: skip
    assert r.returncode == 0
    assert r.stderr.decode().count("already in the config as feeds[") == 4
    assert cfg.read_text() == CONFIG.format(db=tmp_path / "p.db")  # never rewritten


READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Langganan saya</title></head>
  <body>
    <outline text="Nasional" title="Nasional">
      <outline type="rss" text="Kompas Nasional" xmlUrl="https://www.kompas.com/rss/nasional" htmlUrl="https://nasional.kompas.com"/>
      <outline text="Daerah">
        <outline type="rss" title="Hanya judul" xmlUrl="https://daerah.example.id/feed"/>
      </outline>
    </outline>
    <outline type="rss" text="Kompas lagi" xmlUrl="HTTPS://WWW.KOMPAS.COM/rss/nasional#top"/>
    <outline type="rss" text="Skrip" xmlUrl="javascript:alert(document.cookie)"/>
    <outline type="rss" text="Berkas" xmlUrl="file:///etc/passwd"/>
    <outline type="rss" text="Tanpa nama" xmlUrl="https://tanpanama.example.id/rss"/>
    <outline type="rss" xmlUrl="https://host-saja.example.id/rss"/>
    <outline type="include" text="Lainnya" url="https://example.org/more.opml"/>
    <outline type="rss" text="Waktu aneh" xmlUrl="https://w.example.id/rss" xmlns:p="https://github.com/pantau-monitor/pantau/opml/1" p:interval="sebentar" p:timezone="Mars/Olympus"/>
  </body>
</opml>
"""


def test_import_flattens_folders_and_reports_duplicates_and_bad_urls(tmp_path: Path) -> None:
    r = run_cli("opml", "import", "-", cwd=tmp_path, stdin=READER_EXPORT)  # stdin: "-"
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(r.stdout) == {
        "feeds": [
            {"url": "https://www.kompas.com/rss/nasional", "name": "Kompas Nasional"},
            {"url": "https://daerah.example.id/feed", "name": "Hanya judul"},
            {"url": "https://tanpanama.example.id/rss", "name": "Tanpa nama"},
            {"url": "https://host-saja.example.id/rss"},
            {"url": "https://w.example.id/rss", "name": "Waktu aneh"},
        ]
    }
    err = r.stderr.decode()
    assert "outline 5 ('Kompas lagi'): skipped, duplicate of outline 2" in err
    assert "not an http(s) URL: 'javascript:alert(document.cookie)'" in err
    assert "not an http(s) URL: 'file:///etc/passwd'" in err
    assert "an include is not followed" in err
    assert "pantau:interval left out" in err and "pantau:timezone left out" in err
    # what it printed is a valid feeds: block as is
    parse_config(r.stdout.decode(), env={})


def test_taken_names_get_their_host_so_the_block_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.yaml").write_text(
        "feeds:\n- {url: 'https://a.example.id/rss', name: Berita Terkini}\n"
    )
    (tmp_path / "x.opml").write_bytes(
        b'<opml version="2.0"><body>'
        b'<outline text="berita terkini" xmlUrl="https://detik.example.id/rss"/>'
        b'<outline text="Berita Terkini" xmlUrl="https://kompas.example.id/rss"/>'
        b'<outline text="Berita Terkini" xmlUrl="https://kompas.example.id/rss2"/>'
        b"</body></opml>"
    )
    rc, out, err = cli(["opml", "import", "x.opml"], tmp_path, monkeypatch, capfd)
    assert rc == 0, err
    names = [f["name"] for f in yaml.safe_load(out)["feeds"]]
    assert names == ["berita terkini (detik.example.id)", "Berita Terkini (kompas.example.id)",
                     "Berita Terkini (kompas.example.id 2)"]  # fmt: skip
    assert err.count("the name is taken") == 3
    config = (tmp_path / "config.yaml").read_text() + out.removeprefix("feeds:\n")
    parse_config(config, env={})  # one feeds: list, every name unique


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (b"", 1, "not well-formed"),
        (b"<rss><channel/></rss>", 1, "not OPML"),
        (b"<opml><body><outline text='x'/></body></opml>", 1, "no feeds found"),
        (b"<opml><body><outline", 1, "not well-formed"),
    ],
)
def test_import_failures_exit_1_with_one_line(
    tmp_path: Path, content: bytes, code: int, message: str, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    (tmp_path / "x.opml").write_bytes(content)
    rc, out, err = cli(["opml", "import", "x.opml"], tmp_path, monkeypatch, capfd)
    assert rc == code and message in err and out == "" and "Traceback" not in err


def test_import_of_a_missing_file_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = cli(["opml", "import", "tidak-ada.opml"], tmp_path, monkeypatch, capfd)
    assert rc == 2 and "cannot read tidak-ada.opml" in err


LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE opml [\n<!ENTITY a "hahahahahahahahahaha">\n'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n'.encode() for i in range(9)
    )
    + b']>\n<opml version="2.0"><body><outline text="&j;" xmlUrl="https://x.example/"/></body></opml>'
)
EXTERNAL = (
    b'<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<opml version="2.0"><body><outline text="&xxe;" xmlUrl="https://x.example/"/></body></opml>'
)


@pytest.mark.parametrize("doc", [LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_entity_declarations_are_refused(
    tmp_path: Path, doc: bytes, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bomb.opml").write_bytes(doc)
    rc, out, err = cli(["opml", "import", "bomb.opml"], tmp_path, monkeypatch, capfd)
    assert rc == 1 and "refused: the document declares entities" in err
    assert "root:" not in out + err and out == ""


def test_huge_and_deep_documents_are_refused_without_reading_them_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "huge.opml"
    with huge.open("wb") as f:
        f.write(b'<opml version="2.0"><body>')
        f.write(b"<!-- " + b"x" * (11 * 1024 * 1024) + b" -->")
        f.write(b"</body></opml>")
    rc, _, err = cli(["opml", "import", str(huge)], tmp_path, monkeypatch, capfd)
    assert rc == 1 and "larger than 10 MB" in err
    deep = tmp_path / "deep.opml"
    deep.write_bytes(b"<opml><body>" + b"<outline>" * 200_000 + b"</outline>" * 200_000
                     + b"</body></opml>")  # fmt: skip
    rc, _, err = cli(["opml", "import", str(deep)], tmp_path, monkeypatch, capfd)
    assert rc == 1 and "nested deeper than" in err and "Traceback" not in err


def test_ten_thousand_outlines_import_every_feed(tmp_path: Path) -> None:
    body = "".join(
        f'<outline text="Folder {i}">'
        + "".join(
            f'<outline text="Feed {i}-{j}" xmlUrl="https://f{i}.example.id/{j}.xml"/>'
            for j in range(100)
        )  # fmt: skip
        + "</outline>"
        for i in range(100)
    )
    (tmp_path / "big.opml").write_text(f'<opml version="2.0"><body>{body}</body></opml>')
    r = run_cli("opml", "import", "big.opml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    feeds = yaml.load(r.stdout, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["feeds"]
    assert len(feeds) == 10_000 and feeds[-1] == {
        "url": "https://f99.example.id/99.xml", "name": "Feed 99-99"
    }  # fmt: skip


def test_export_with_a_broken_config_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.yaml").write_text("feeds: [{url: 'ftp://x'}]\n")
    rc, out, err = cli(["opml", "export"], tmp_path, monkeypatch, capfd)
    assert rc == 2 and "feeds[0].url" in err and out == ""


# --------------------------------------------------------------------------------------------
# Properties: a name from an OPML file cannot inject YAML or lose a feed


names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=150, deadline=None)
@given(st.lists(names, min_size=1, max_size=10))
def test_property_names_survive_as_text_and_add_no_keys(labels: list[str]) -> None:
    outlines = "".join(
        f'<outline xmlUrl="https://o{i}.example.id/rss" text="{_attr(label)}"/>'
        for i, label in enumerate(labels)
    )
    doc = f'<opml version="2.0"><body>{outlines}</body></opml>'.encode()
    try:
        result = read(doc)
    except OpmlError:  # a label with characters XML 1.0 cannot carry: refused whole
        return
    loaded = yaml.safe_load(to_yaml(result.feeds))
    assert list(loaded) == ["feeds"] and len(loaded["feeds"]) == len(labels)
    for i, feed in enumerate(loaded["feeds"]):
        assert set(feed) <= {"url", "name"} and feed["url"] == f"https://o{i}.example.id/rss"
        assert "\n" not in feed.get("name", "") and "\x00" not in feed.get("name", "")
    parse_config(to_yaml(result.feeds), env={})


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(st.lists(names, min_size=1, max_size=10))
def test_property_names_long_budget(labels: list[str]) -> None:
    test_property_names_survive_as_text_and_add_no_keys.hypothesis.inner_test(labels)  # type: ignore[attr-defined]


def _attr(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


# --------------------------------------------------------------------------------------------
# Exports that are not quite XML. Readers and hand-edited lists write bare "&" in URLs and
# names, HTML's named entities, a stray or missing end tag, two exports pasted into one
# file, miscapitalised attribute names (the kinds listparser's and Miniflux's test suites
# keep, bench/opml_corpus.py): one such slip must not cost the whole list.


def _doc(body: str, tail: str = "</body></opml>") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"><body>{body}{tail}'.encode()
    )


@pytest.mark.parametrize(
    ("doc", "feeds"),
    [
        pytest.param(
            _doc('<outline text="Hukum & Kriminal" xmlUrl="https://a.example.id/rss?kanal=5&sub=2"/>'),
            [{"url": "https://a.example.id/rss?kanal=5&sub=2", "name": "Hukum & Kriminal"}],
            id="bare-ampersands",
        ),
        pytest.param(
            _doc('<outline text="Kaf&eacute;&nbsp;Ekonomi &mdash; Bisnis" xmlUrl="https://b.example.id/rss"/>'),
            [{"url": "https://b.example.id/rss", "name": "Kafé Ekonomi — Bisnis"}],
            id="html-named-entities",
        ),
        pytest.param(
            _doc('<outline text="Sapa&tidakada;Warga" xmlUrl="https://c.example.id/rss"/>'),
            [{"url": "https://c.example.id/rss", "name": "Sapa&tidakada;Warga"}],
            id="undefined-entity-kept-as-text",
        ),
        pytest.param(
            _doc('<outline text="Olah&#0;raga&#xD800;" xmlUrl="https://d.example.id/rss"/>'
                 '<outline text="Kota\x01" xmlUrl="https://e.example.id/rss"/>'),
            [{"url": "https://d.example.id/rss", "name": "Olahraga\ufffd"},
             {"url": "https://e.example.id/rss", "name": "Kota"}],
            id="references-and-controls-xml-cannot-carry",
        ),
        pytest.param(
            _doc('<outline Text="Satu" XMLURL="https://f.example.id/rss"/>'
                 '<outline TITLE="Dua" xmlURL="https://g.example.id/rss"/>'
                 '<outline text="  " title="Tiga" xmlUrl="https://h.example.id/rss"/>'),
            [{"url": "https://f.example.id/rss", "name": "Satu"},
             {"url": "https://g.example.id/rss", "name": "Dua"},
             {"url": "https://h.example.id/rss", "name": "Tiga"}],
            id="miscapitalised-attributes-and-blank-text",
        ),
    ],
)  # fmt: skip
def test_sloppy_exports_import_every_feed(doc: bytes, feeds: list[dict[str, str]]) -> None:
    result = read(doc)
    assert result.feeds == feeds and result.problems == []
    parse_config(to_yaml(result.feeds), env={})


def test_an_outline_with_a_long_description_keeps_its_feed() -> None:
    """The feeds' hygiene cuts a start tag past 4 KB to its name (feedparser is quadratic in
    attributes); an OPML outline's description can be that long, and it must not take the
    feed URL with it."""
    about = "Kanal berita daerah. " * 300  # ~6,300 characters
    result = read(
        _doc(f'<outline text="Daerah" description="{about}" xmlUrl="https://d.example.id/rss"/>')
    )
    assert result.feeds == [{"url": "https://d.example.id/rss", "name": "Daerah"}]


def test_a_broken_document_keeps_the_outlines_before_the_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    two = '<outline text="Satu" xmlUrl="https://a.example.id/rss"/><outline text="Dua" xmlUrl="https://b.example.id/rss"/>'
    cut = _doc(two, tail="\n")  # the file ends before </body></opml> (a truncated download)
    stray = _doc(two + "</kategori>" + '<outline text="Tiga" xmlUrl="https://c.example.id/rss"/>')
    for doc in (cut, stray):
        (tmp_path / "x.opml").write_bytes(doc)
        rc, out, err = cli(["opml", "import", "x.opml"], tmp_path, monkeypatch, capfd)
        assert rc == 0, err
        assert [f["name"] for f in yaml.safe_load(out)["feeds"]] == ["Satu", "Dua"]
        assert "not well-formed XML after outline 2" in err and "not read" in err


def test_two_exports_in_one_file_import_both(tmp_path: Path) -> None:
    one = _doc('<outline text="Satu" xmlUrl="https://a.example.id/rss"/>')
    two = _doc('<outline text="Dua" xmlUrl="https://b.example.id/rss"/>'
               '<outline text="Satu lagi" xmlUrl="https://a.example.id/rss"/>')  # fmt: skip
    r = run_cli("opml", "import", "-", cwd=tmp_path, stdin=one + b"\n" + two + b"\n")
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(r.stdout)["feeds"] == [
        {"url": "https://a.example.id/rss", "name": "Satu"},
        {"url": "https://b.example.id/rss", "name": "Dua"},
    ]
    assert "outline 3 ('Satu lagi'): skipped, duplicate of outline 1" in r.stderr.decode()


def test_subscription_lists_are_reported_not_imported_as_feeds() -> None:
    result = read(_doc(
        '<outline text="Daftar lain" type="source" xmlUrl="https://x.example.id/daftar.opml"/>'
        '<outline text="Berita" type="rss" xmlUrl="https://y.example.id/rss"/>'
    ))  # fmt: skip
    assert result.feeds == [{"url": "https://y.example.id/rss", "name": "Berita"}]
    assert result.problems == [
        "outline 1 ('Daftar lain'): a subscription list is not followed (import that file)"
    ]


def test_stray_ampersands_cannot_smuggle_an_entity_declaration() -> None:
    for doc in (
        b'<!DOCTYPE opml [<!ENTITY a "&b;&b;">]><opml><body>'
        b'<outline text="&a;" xmlUrl="https://x.example.id/rss"/></body></opml>',
        b'<!DOCTYPE opml [<!EN\x01TITY a "x">]><opml><body>'
        b'<outline text="&a;" xmlUrl="https://x.example.id/rss"/></body></opml>',
    ):
        with pytest.raises(OpmlError, match="refused: the document declares entities"):
            read(doc)


sloppy = st.lists(
    st.sampled_from(
        ["&", ";", "#", "x", "amp", "lt", "nbsp", "eacute", "0", "9", "D800", " ", "é", ">", "'"]
    ),
    max_size=20,
).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(sloppy, min_size=1, max_size=6), st.integers(0, 5))
def test_property_one_sloppy_name_costs_no_feed(labels: list[str], at: int) -> None:
    """Names written as a careless exporter writes them (only the quote and "<" escaped):
    every outline still imports, with its URL intact."""
    outlines = "".join(
        f'<outline xmlUrl="https://o{i}.example.id/rss?a=1&b={i}" '
        f'text="{label.replace(chr(34), "&quot;").replace("<", "&lt;")}"/>'
        for i, label in enumerate(labels)
    )
    result = read(_doc(outlines))
    assert [f["url"] for f in result.feeds] == [
        f"https://o{i}.example.id/rss?a=1&b={i}" for i in range(len(labels))
    ]
    parse_config(to_yaml(result.feeds), env={})


def test_a_password_written_in_a_feeds_address_is_not_exported(tmp_path: Path) -> None:
    """A credential written in the address itself (not through ``${...}``) is masked in the
    export, and the export says so on stderr: the reader it goes to needs it added back."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database: sqlite:///{tmp_path / 'p.db'}\n"
        "feeds:\n"
        "  - {url: 'https://desk:rahasia-desk-91@premium.example.id/rss', name: Premium}\n"
        "  - {url: 'https://berita.example.id/rss?token=tok3n-rahasia-55', name: Token}\n"
        "  - {url: 'https://www.antaranews.com/rss/terkini.xml', name: Antara}\n"
    )
    r = run_cli("--config", str(cfg), "opml", "export", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert b"rahasia-desk-91" not in r.stdout + r.stderr
    assert b"tok3n-rahasia-55" not in r.stdout + r.stderr
    urls = [o.get("xmlUrl") for o in ET.fromstring(r.stdout).findall("./body/outline")]
    assert urls == [
        "https://desk:***@premium.example.id/rss",
        "https://berita.example.id/rss?token=***",
        "https://www.antaranews.com/rss/terkini.xml",
    ]
    assert r.stderr.decode().splitlines() == [
        "pantau: feeds[0].url: its credentials are exported as ***",
        "pantau: feeds[1].url: its credentials are exported as ***",
    ]
