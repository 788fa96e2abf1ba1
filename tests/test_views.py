"""Properties of what the CLI shows and reads: durations as people write them, counts in
plain English, the duplicate-key-refusing YAML loader, and hostile `--since` values. Short
Hypothesis budgets here; `-m slow` runs the long ones."""

from __future__ import annotations

import contextlib
import io
import re
from datetime import datetime, timezone

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from daemon import config
from daemon.cli import _join_values, build_parser
from daemon.views import plural, short_duration

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
SHAPE = re.compile(r"^(\d+)([dhms])(?:(\d+)([dhms]))?$")


def _check_duration(seconds: float) -> None:
    out = short_duration(seconds)
    m = SHAPE.match(out)
    assert m, out
    parts = [(int(m[1]), m[2])] + ([(int(m[3]), m[4])] if m[3] else [])
    order = "dhms"
    assert [order.index(u) for _, u in parts] == sorted(order.index(u) for _, u in parts)
    value = sum(n * UNITS[u] for n, u in parts)
    whole = round(seconds)
    # a truncation, never a rounding up, and it drops less than the last unit shown
    assert 0 <= whole - value < UNITS[parts[-1][1]], (seconds, out)
    if len(parts) == 2:  # the second unit is the next one down, below its own carry
        hi, lo = parts[0][1], parts[1][1]
        assert parts[1][0] < UNITS[hi] // UNITS[lo]


@given(st.floats(min_value=0, max_value=10 * 365 * 86400, allow_nan=False))
@settings(max_examples=300, deadline=None)
def test_short_duration_is_two_units_at_most_and_never_rounds_up(seconds: float) -> None:
    _check_duration(seconds)


@pytest.mark.slow
@given(st.floats(min_value=0, max_value=100 * 365 * 86400, allow_nan=False))
@settings(max_examples=20_000, deadline=None)
def test_short_duration_long(seconds: float) -> None:
    _check_duration(seconds)


def test_short_duration_examples() -> None:
    assert [short_duration(s) for s in (0, 45, 60, 93.75, 600, 3605, 5400, 90000)] == [
        "0s", "45s", "1m", "1m34s", "10m", "1h", "1h30m", "1d1h",
    ]  # fmt: skip


@given(st.integers(min_value=0, max_value=10**6))
def test_plural(n: int) -> None:
    assert plural(n, "alert") == (f"{n} alert" if n == 1 else f"{n} alerts")
    assert plural(n, "story", "stories").endswith("story" if n == 1 else "stories")


KEYS = st.text(
    alphabet=st.characters(categories=["L", "N"], include_characters="_-"),
    min_size=1,
    max_size=12,
)
VALUES = st.one_of(st.integers(), st.text(max_size=20), st.booleans(), st.none())


@given(st.dictionaries(KEYS, st.one_of(VALUES, st.dictionaries(KEYS, VALUES, max_size=4))))
@settings(max_examples=200, deadline=None)
def test_the_loader_reads_what_the_safe_loader_reads(data: dict) -> None:
    """Without a duplicate key, the config's loader is PyYAML's safe loader (whose own
    round trip of some line-break characters, such as U+0085, is not exact)."""
    text = yaml.safe_dump(data, allow_unicode=True)
    assert yaml.load(text, Loader=config._YAML_LOADER) == yaml.load(
        text, Loader=config._BASE_LOADER
    )


@given(
    st.dictionaries(KEYS, VALUES, min_size=1, max_size=6),
    st.data(),
)
@settings(max_examples=200, deadline=None)
def test_a_key_written_twice_is_refused_at_any_depth(data: dict, draw: st.DataObject) -> None:
    key = draw.draw(st.sampled_from(sorted(data)))
    text = yaml.safe_dump(data, allow_unicode=True)
    dup = yaml.safe_dump({key: "lagi"}, allow_unicode=True)
    nested = draw.draw(st.booleans())
    if nested:  # the same mapping one level down
        text = "outer:\n" + "".join("  " + ln + "\n" for ln in (text + dup).splitlines())
    else:
        text = text + dup
    with pytest.raises(config.ConfigError) as ei:
        config.parse_config(text, env={})
    assert len(ei.value.errors) == 1 and "is written twice" in ei.value.errors[0]


@given(st.text(max_size=30))
@example("86400000000000")  # once an OverflowError traceback
@example("-1h")
@settings(max_examples=300, deadline=None)
def test_any_since_value_parses_or_is_one_usage_line(value: str) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            args = build_parser().parse_args(_join_values(["alerts", "--since", value]))
        except SystemExit as exc:
            assert exc.code == 2
            lines = err.getvalue().splitlines()
            assert len(lines) == 1 and lines[0].startswith("pantau: "), lines
            return
    assert args.since.total_seconds() >= 0
    datetime.now(timezone.utc) - args.since  # a start that exists: no overflow later
