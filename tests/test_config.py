"""Config loading: units, ${ENV}, unknown keys, all errors at once with key paths, CLI exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from daemon.config import ConfigError, load_config, parse_config, parse_duration, parse_size

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "raw,seconds",
    [("30s", 30), ("10m", 600), ("2h", 7200), ("3d", 259200), (45, 45), ("90", 90), ("1.5h", 5400)],
)
def test_durations(raw: object, seconds: float) -> None:
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["10x", "-5", "m", "", True, None, [1]])
def test_bad_durations(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(raw)


@pytest.mark.parametrize(
    "raw,n", [("512KB", 512 * 1024), ("5MB", 5 * 1024 * 1024), (100, 100), ("1gb", 1024**3)]
)
def test_sizes(raw: object, n: int) -> None:
    assert parse_size(raw) == n


def test_defaults_match_spec() -> None:
    cfg = parse_config("feeds: []", env={}).config
    assert cfg.polling.interval == 600 and cfg.polling.timeout == 20
    assert cfg.polling.max_bytes == 10 * 1024 * 1024
    assert cfg.polling.min_interval == 120 and cfg.polling.max_interval == 3600
    assert cfg.polling.concurrency == 8 and cfg.polling.per_host == 2
    assert cfg.polling.user_agent.startswith("pantau/")
    assert cfg.alerts.max_age == 48 * 3600 and cfg.stories.window == 72 * 3600
    assert (cfg.delivery.retry_initial, cfg.delivery.retry_max, cfg.delivery.give_up_after) == (
        30,
        3600,
        86400,
    )


def test_env_expansion_and_secrets() -> None:
    text = """
notifiers:
  s: {type: slack, webhook_url: "https://hooks.example/${HOOK}"}
  e: {type: email, host: smtp.example.org, from: a@example.org, to: [b@example.org], password: "${PW}"}
"""
    loaded = parse_config(text, env={"HOOK": "T000/B000/xyz", "PW": "rahasia"})
    assert loaded.config.notifiers["s"].webhook_url == "https://hooks.example/T000/B000/xyz"
    assert loaded.config.notifiers["e"].from_ == "a@example.org"
    assert "rahasia" in loaded.secrets and "T000/B000/xyz" in loaded.secrets


def test_all_errors_at_once_with_key_paths() -> None:
    text = """
polling: {interval: 10x, intreval: 5}
feeds:
  - url: ftp://example.org/feed
  - url: https://example.org/rss
    timezone: Asia/Atlantis
topics:
  - {name: A, query: "Ukraina"}
  - {name: B, query: "x", notify: [log, nobody]}
notifiers:
  log: {type: console}
  s: {type: slack, webhook_url: "${MISSING_HOOK}"}
  e: {type: email, host: h, from: a@b.c, to: [x@y.z], bogus: 1}
"""
    with pytest.raises(ConfigError) as ei:
        parse_config(text, env={})
    errs = "\n".join(ei.value.errors)
    for expected in [
        "polling.interval:",
        "polling.intreval: unknown key",
        "feeds[0].url:",
        "feeds[1].timezone:",
        "notifiers.s.webhook_url: environment variable MISSING_HOOK is not set",
        "notifiers.e.bogus: unknown key",
    ]:
        assert expected in errs, (expected, errs)


def test_yaml_1_1_scalars_where_text_belongs_say_what_yaml_read() -> None:
    """YAML reads an unquoted NO, ON or yes as a boolean, 2024 as a number and 0123... as an
    octal number: a feed named NO (a real outlet abbreviation), a topic named ON or a
    webhook secret of digits failed with "Input should be a valid string" and nothing to
    say why. The message now names what YAML read and the fix; a secret is never shown."""
    text = """
feeds:
  - url: https://a.example.id/rss
    name: NO
  - url: https://b.example.id/rss
    name: 2024
topics:
  - {name: ON, query: Ukraina, notify: [hook]}
notifiers:
  hook: {type: webhook, url: "https://hooks.example.id/x", secret: 01234567012345670}
"""
    with pytest.raises(ConfigError) as ei:
        parse_config(text, env={})
    errs = "\n".join(ei.value.errors)
    for line in (
        'feeds[0].name: NO on line 4 is read by YAML as the boolean false; write it in quotes: "NO"',
        'feeds[1].name: 2024 on line 6 is read by YAML as a number; write it in quotes: "2024"',
        'topics[0].name: ON on line 8 is read by YAML as the boolean true; write it in quotes: "ON"',
        "notifiers.hook.secret: *** on line 10 is read by YAML as a number; write it in quotes",
    ):
        assert line in ei.value.errors, errs
    assert "01234567012345670" not in errs and str(0o1234567012345670) not in errs
    quoted = (
        text.replace("NO\n", '"NO"\n').replace("2024", '"2024"').replace("name: ON", 'name: "ON"')
    )
    parse_config(quoted.replace("01234567012345670", '"01234567012345670"'), env={})


def test_cross_references_and_duplicates() -> None:
    text = """
feeds:
  - url: https://example.org/rss
  - url: https://example.org/rss
topics:
  - {name: A, query: Ukraina, notify: [nobody]}
  - {name: A, query: NATO}
notifiers: {}
"""
    with pytest.raises(ConfigError) as ei:
        parse_config(text, env={})
    errs = ei.value.errors
    assert any(e.startswith("topics[0].notify[0]: no notifier named 'nobody'") for e in errs)
    assert any(e.startswith("feeds[1].url: duplicate") for e in errs)
    assert any(e.startswith("topics[1].name: duplicate") for e in errs)


def test_bad_query_names_topic_and_position() -> None:
    text = "topics:\n  - {name: Perang, query: 'Ukraina AND (Rusia'}\n"
    with pytest.raises(ConfigError) as ei:
        parse_config(text, env={})
    (err,) = ei.value.errors
    assert err.startswith("topics[0].query: topic 'Perang':") and "position" in err


def test_yaml_syntax_error_is_one_line() -> None:
    with pytest.raises(ConfigError) as ei:
        parse_config("feeds: [\n  - {url: x", env={}, path="c.yaml")
    assert len(ei.value.errors) == 1 and "not valid YAML" in ei.value.errors[0]


def test_a_tab_in_the_indentation_is_named() -> None:
    """An editor that indents with a tab gets "found character that cannot start any
    token" from YAML; the error now says it is the tab."""
    with pytest.raises(ConfigError) as ei:
        parse_config("feeds:\n\t- {url: 'https://a.example.id/rss'}\n", env={}, path="c.yaml")
    assert ei.value.errors == [
        "c.yaml: line 2, column 1: not valid YAML: found character that cannot start any "
        "token (a tab: YAML indents with spaces only)"
    ]
    with pytest.raises(ConfigError) as ei:  # any other character: no word of tabs
        parse_config("feeds:\n  - {url: x\n  @\n", env={}, path="c.yaml")
    assert "tab" not in ei.value.errors[0]


def test_example_config_is_valid() -> None:
    loaded = load_config(str(ROOT / "config.yaml"), env={})
    cfg = loaded.config
    assert len(cfg.feeds) >= 10 and cfg.topics and "log" in cfg.notifiers
    assert all(f.url.startswith("https://") for f in cfg.feeds)


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("database: sqlite:///x.db\n")
    monkeypatch.setenv("PANTAU_CONFIG", str(p))
    assert load_config(None).path == str(p)


def test_cli_check_config_error_exit_2_no_traceback(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("polling: {interval: never}\nfeeds: [{url: 'https://a.example/', bogus: 1}]\n")
    r = subprocess.run(
        [sys.executable, "-m", "daemon", "--config", str(p), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "polling.interval" in r.stderr and "feeds[0].bogus: unknown key" in r.stderr
    assert r.stdout == ""


def test_cli_check_ok_prints_summary() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "daemon", "--config", str(ROOT / "config.yaml"), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert "feeds:" in r.stdout and "Antara" in r.stdout and "topics:" in r.stdout


def test_readme_topic_examples_compile() -> None:
    """The query examples the README shows must be valid queries."""
    import re

    from daemon.topics.match import Matcher, TopicSpec

    text = (ROOT / "README.md").read_text()
    section = text[
        text.index("## Topics: the query language") : text.index("## Stories and alerts")
    ]
    queries = re.findall(r"query: '([^']+)'", section)
    queries += [q for q in re.findall(r"^\| `([^`]+)`", section, flags=re.M) if "," not in q]
    assert len(queries) >= 12
    Matcher.compile([TopicSpec(f"t{i}", q) for i, q in enumerate(queries)])
