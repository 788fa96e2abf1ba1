"""Text hygiene shared by the parser, the story grouper and the matcher.

Feed text arrives with soft hyphens inside words ("Ukra\u00adina"), zero-width joiners,
no-break spaces, NUL bytes and C0/C1 control characters. Everything that compares or stores
text goes through these functions so that the same string always normalises the same way.
"""

from __future__ import annotations

import re
import unicodedata

# Removed outright: they sit inside words and must not split them.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e\u034f\u061c\u200e\u200f"), None
)
# Made spaces: they separate words.
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2028\u2029\u3000\u1680"), " ")
# The whole cleanup as a str.translate table: what ``normalize`` and ``fold_ws`` mean by
# definition (their regex fast paths must give the same; tests/test_text.py checks).
CLEANUP_TABLE = {**_INVISIBLE, **_SPACES}
# C0 and C1 controls except tab/newline/CR (those are folded as whitespace), plus DEL.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


_INVISIBLE_RE = re.compile("[" + "".join(map(chr, _INVISIBLE)) + "]")
_SPACES_RE = re.compile("[" + "".join(map(chr, _SPACES)) + "]")


def _translate(s: str) -> str:
    # str.translate with a mapping costs ~100 ns per character once a string is not ASCII
    # (a curly quote is enough); two regex scans cost ~3 ns and replace only what they find
    if _INVISIBLE_RE.search(s):
        s = _INVISIBLE_RE.sub("", s)
    if _SPACES_RE.search(s):
        s = _SPACES_RE.sub(" ", s)
    return s


def normalize(s: str) -> str:
    """NFKC, invisible characters removed, exotic spaces made plain spaces. Every text of
    every item passes here, often twice (parse, then grouping): ASCII and already-normal
    text, which is most of it, is returned as it is."""
    if not s:
        return ""
    if s.isascii():
        return s
    s = _translate(s)
    if unicodedata.is_normalized("NFKC", s):
        return s
    return _translate(unicodedata.normalize("NFKC", s))


def strip_control(s: str) -> str:
    """Remove NUL and other control characters (keeps tab, newline, CR)."""
    if s.isprintable():
        # Every character the pattern removes is unprintable, so a printable string has
        # none: one C scan (0.8 us for 400 characters) instead of the regex's (2.2 us).
        # Every text field of every item passes here, some of them twice.
        return s
    return _CONTROL_RE.sub("", s)


def fold_ws(s: str) -> str:
    # the same as re.sub(r"\s+", " ", s).strip() (str.split and the regex's \s both use
    # Py_UNICODE_ISSPACE; checked on every code point), three times as fast
    return " ".join(s.split())


def cap(s: str, max_len: int) -> str:
    """Cut to at most ``max_len`` characters, on a word boundary when one is near."""
    if len(s) <= max_len:
        return s
    cut = s[: max_len - 1]
    space = cut.rfind(" ")
    if space > max_len * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def clean_text(s: str | None, max_len: int = 10_000) -> str:
    """The form every stored plain-text field takes: normalised, no controls, one-line
    whitespace, capped."""
    if not s:
        return ""
    return cap(fold_ws(strip_control(normalize(s))), max_len)


def clean_line(s: str | None, max_len: int = 500) -> str:
    """For values that go into headers and log lines: no CR/LF or controls at all."""
    return clean_text(s, max_len)


# --- pointers elsewhere -------------------------------------------------------------------

# A line starting with one of these is a pointer elsewhere, never the story: "Baca juga: ...",
# "Simak juga Video ...". Shared by the feed parser (descriptions) and full-text extraction.
KICKERS = (
    r"baca\s+(?:juga|selengkapnya|lainnya)|baca\s*:|simak\s+(?:juga|video|breaking|berita|"
    r"selengkapnya|informasi|update)|simak\s*:|lihat\s+juga|tonton\s+juga|saksikan\s+juga"
    r"|advertisement|scroll\s+to\s+continue"
)
# Section labels: a pointer only as a whole line ("Berita terkait penangkapan itu ..." is news).
LABELS = (
    r"baca|simak|berita\s+terkait|artikel\s+terkait|berita\s+lainnya|artikel\s+lainnya"
    r"|berita\s+terpopuler|terpopuler|rekomendasi|pilihan\s+redaksi|sidebar|iklan"
)
# A word that every line KICKERS or LABELS match holds: looked for before any line is, so
# that a text without one costs a scan, not a regex per line (keep it in step with both).
POINTER_WORDS = ("baca", "simak", "lihat", "tonton", "saksikan", "terkait", "lainnya",
                 "terpopuler", "rekomendasi", "pilihan", "advertisement", "scroll",
                 "sidebar", "iklan")  # fmt: skip
