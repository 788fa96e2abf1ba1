"""Text hygiene: the fast paths of ``normalize`` and ``fold_ws`` give exactly what the plain
definitions give (NFKC with the invisible characters removed and exotic spaces made plain;
runs of whitespace folded to one space; control characters removed)."""

from __future__ import annotations

import random
import re
import unicodedata

from daemon.text import CLEANUP_TABLE, fold_ws, normalize, strip_control


def by_definition(s: str) -> str:
    if not s:
        return ""
    return unicodedata.normalize("NFKC", s.translate(CLEANUP_TABLE)).translate(CLEANUP_TABLE)


ALPHABET = (
    "abc XYZ 19.,-’“”\u00ad\u200b\u200d\u00a0\u2007\u202f\u3000\u1680\u2028\ufeff\u180e"
    "\u034f\u061cﬁ①Ａ\u0301e\u0065\u0301é\ufb01\t\n\r\x00\x85"
)


def test_normalize_is_nfkc_without_invisibles_on_every_code_point() -> None:
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        s = f"a{chr(c)}b"
        assert normalize(s) == by_definition(s), hex(c)


def test_normalize_matches_the_definition_on_random_mixtures() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        s = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 24)))
        assert normalize(s) == by_definition(s), repr(s)
    assert normalize("Ukra\u00adina\u00a0dan\u200bNATO") == "Ukraina danNATO"


def test_fold_ws_is_one_space_per_run_of_unicode_whitespace() -> None:
    rng = random.Random(8)
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert "\u3000" in spaces and "\x85" in spaces
    for _ in range(20_000):
        s = "".join(rng.choice(["a", "b", "c", *spaces]) for _ in range(rng.randrange(0, 16)))
        assert fold_ws(s) == re.sub(r"\s+", " ", s).strip(), repr(s)


CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # the definition


def test_strip_control_removes_exactly_the_controls_on_every_code_point() -> None:
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        s = f"a{chr(c)}b"
        assert strip_control(s) == CONTROLS.sub("", s), hex(c)


def test_strip_control_matches_the_definition_on_random_mixtures() -> None:
    rng = random.Random(7)
    pool = ALPHABET + "\x01\x08\x0b\x1f\x7f\x9f\x80"
    for _ in range(20_000):
        s = "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
        assert strip_control(s) == CONTROLS.sub("", s), repr(s)
