"""Story grouping: which earlier story, if any, a new item joins.

Syndication rewrites headlines but keeps the body, so items are compared by the lead of their
text, never by title. A new item is fingerprinted (word 3-shingles of its lead, MinHash, LSH
band keys); the store returns the earlier items that share a band key inside the time window;
each candidate is confirmed by exact shingle containment and by guards that keep templated
reports apart (the day's gold price differs from yesterday's only in dates and figures).

Pure code: no database access. The store keeps ``Fingerprint.bands`` in an indexed table and
implements :class:`CandidateSource` over it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol

from daemon.feeds.urls import article_identity
from daemon.grouping.candidates import BUDGET
from daemon.text import normalize, strip_control

__all__ = [
    "Candidate",
    "CandidateSource",
    "Doc",
    "Fingerprint",
    "Texts",
    "choose_story",
    "fingerprint",
    "same_story",
    "similarity",
    "texts_of",
]

# Tuned on tests/data/stories_labelled.jsonl with bench/eval_stories.py (see bench/README).
LEAD_WORDS = 40  # words of the lead that feed the MinHash
CONFIRM_WORDS = 400  # words of each text compared exactly
GUARD_WORDS = 120  # words searched for dates and figures
MIN_WORDS = 12  # fewer distinct words than this: never merged by text
NUM_HASHES = 16  # LSH bins, one band key each (rewritten copies share ~30 % of shingles)
THRESHOLD = 0.5  # shingle containment needed to confirm a candidate
ANCHORED_THRESHOLD = 0.3  # ... when both state the same two money figures
CANDIDATE_LIMIT = BUDGET.per_item  # candidates confirmed per item (see candidates.py)
_LEAD_DAY_CHARS = 300  # the report's own day is named in its first sentence or two
URL_SPAN_DAYS = 3650  # an identical link joins its story this far apart
_MAX_CHARS = 30_000  # never run a regex over more of a field than this

_UTC = timezone.utc


# A decoded form not computed yet (None is a decoding's answer)
_UNSET: Any = object()


# Doc and Fingerprint are slotted: the only writer keeps 32,768 candidates, each with both
# (``storage.writer.ItemCache``), and a ``__dict__`` each made an entry ~1.5 KB.
@dataclass(frozen=True, slots=True)
class Doc:
    """What grouping sees of one item: plain text already cleaned by the parser."""

    title: str
    summary: str
    content: str = ""
    url: str | None = None
    published_at: datetime = field(kw_only=True)

    def __post_init__(self) -> None:
        # A naive time is taken as UTC so comparisons never raise.
        if self.published_at.tzinfo is None:
            object.__setattr__(self, "published_at", self.published_at.replace(tzinfo=_UTC))


@dataclass(frozen=True, slots=True)
class Fingerprint:
    bands: tuple[int, ...]
    enough_text: bool
    url: str | None = None
    # The confirmation shingles as 32-bit hashes packed little-endian (see ``shingle_ids``):
    # a worker ships one bytes object instead of hundreds of strings, the store keeps it per
    # item (``encode_features``), and the set (``shingles``) is built only when an item
    # actually meets a candidate.
    shingle_blob: bytes = b""
    dates: frozenset[str] = frozenset()
    weekdays: frozenset[str] = frozenset()
    figures: frozenset[str] = frozenset()
    lead_day: str | None = None  # weekday of the first day the lead names: the report's day
    lead_move: str | None = None  # "up", "down" or "flat": the first movement the lead reports
    _shingles: Any = field(default=_UNSET, init=False, compare=False, repr=False)

    @property
    def shingles(self) -> frozenset[int]:
        """The shingle set, built from ``shingle_blob`` the first time it is asked for."""
        v = self._shingles
        if v is _UNSET:
            v = frozenset(_unpack(self.shingle_blob))
            object.__setattr__(self, "_shingles", v)
        return v  # type: ignore[no-any-return]

    @property
    def url_key(self) -> int | None:
        """The band key of its URL, or None without one: ``fingerprint`` files it first, so
        the main process reads it here instead of reading the URL again (``url_key``)."""
        if not self.url:
            return None
        return self.bands[0] if self.bands else _url_key(self.url)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled compactly: a parse worker ships one per new item to the main process,
        whose one GIL unpickles it. The keys go as one bytes object, the sets as tuples, and
        the copy is rebuilt without ``__init__`` (nor the ``shingles`` cache)."""
        keys = self.bands
        return (
            _revive_fingerprint,
            (
                struct.pack(f"<{len(keys)}q", *keys), self.enough_text, self.url,
                self.shingle_blob, tuple(self.dates), tuple(self.weekdays),
                tuple(self.figures), self.lead_day, self.lead_move,
            ),
        )  # fmt: skip


_NO_STRINGS: frozenset[str] = frozenset()

# Stored guard sets already decoded, by their stored (sorted) form: candidates kept by the
# only writer share one set per distinct value. On a 1,000-feed templated first cycle the
# item cache held 13,771 non-empty sets of 4,689 distinct values (216 bytes per set, plus
# its strings). Cleared when full, as the signature's token memo is.
_GUARD_SETS: dict[tuple[str, ...], frozenset[str]] = {}
_GUARD_SETS_MAX = 65_536


def _guard_set(values: list[str]) -> frozenset[str]:
    if not values:
        return _NO_STRINGS
    key = tuple(values)
    found = _GUARD_SETS.get(key)
    if found is None:
        if len(_GUARD_SETS) >= _GUARD_SETS_MAX:
            _GUARD_SETS.clear()
        found = _GUARD_SETS[key] = frozenset(values)
    return found


def _revive_fingerprint(
    keys: bytes,
    enough_text: bool,
    url: str | None,
    blob: bytes,
    dates: tuple[str, ...],
    weekdays: tuple[str, ...],
    figures: tuple[str, ...],
    lead_day: str | None,
    lead_move: str | None,
) -> Fingerprint:
    fp = object.__new__(Fingerprint)
    for slot, v in zip(
        _FP_SLOTS,
        (
            struct.unpack(f"<{len(keys) // 8}q", keys), enough_text, url, blob,
            frozenset(dates) if dates else _NO_STRINGS,
            frozenset(weekdays) if weekdays else _NO_STRINGS,
            frozenset(figures) if figures else _NO_STRINGS,
            lead_day, lead_move, _UNSET,
        ),
        strict=True,
    ):  # fmt: skip
        slot.__set__(fp, v)  # (a frozen class's own setattr refuses)
    return fp


# Fingerprint's slot descriptors in field order (``_revive_fingerprint`` fills them)
_FP_SLOTS = tuple(getattr(Fingerprint, f.name) for f in fields(Fingerprint))


def _pack(ids: Iterable[int]) -> bytes:
    a = array("I", ids)
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def _unpack(blob: bytes) -> array[int]:
    a = array("I")
    a.frombytes(blob)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def _with_shingles(fp: Fingerprint, shingles: frozenset[int]) -> Fingerprint:
    """``fp`` with its shingle set already in place (it was just computed)."""
    object.__setattr__(fp, "_shingles", shingles)  # what ``shingles`` would keep
    return fp


@dataclass(frozen=True, slots=True)
class Candidate:
    item_id: int
    story_id: int
    doc: Doc
    features: Fingerprint | None = None  # ``fingerprint(doc)``, when already computed
    # ``encode_features`` as the store keeps it (usable version); without its shingles
    # when built by ``from_store`` (they are then in ``stored_ids`` already)
    stored: str | None = None
    # What confirmation reads of ``stored``, decoded the first time it is needed and kept
    # with the candidate, which the only writer keeps across polls (``ItemCache``):
    # templated news brings the same earlier items up for item after item (issue 29). Kept
    # here, not in caches keyed by the features' text, which at 1,024 and 4,096 entries
    # missed 80 % and 42 % of lookups in a 1,000-feed templated first cycle. Slots, not a
    # ``__dict__``: 32,768 candidates are kept.
    _ids: Any = field(default=_UNSET, compare=False, repr=False)
    _guards: Any = field(default=_UNSET, compare=False, repr=False)

    @classmethod
    def from_store(cls, item_id: int, story_id: int, doc: Doc, data: str) -> Candidate:
        """A stored item with its features (``encode_features``) as read: its shingles
        decoded now (it was read because an item of the batch will compare with it), and
        ``stored`` kept without them, so that the only writer's 32,768 kept candidates do
        not hold each one's shingles twice (base64 in the text, then decoded)."""
        span = _shingle_span(data)
        if span is None:
            return cls(item_id, story_id, doc, stored=data)
        ids = _stored_ids(data, span)
        return cls(item_id, story_id, doc, stored=data[: span[0]] + data[span[1] :], _ids=ids)

    @property
    def stored_ids(self) -> array[int] | None:
        """The shingle ids of ``stored``, or None if unreadable."""
        v = self._ids
        if v is _UNSET:
            v = None if self.stored is None else _stored_ids(self.stored)
            object.__setattr__(self, "_ids", v)
        return v  # type: ignore[no-any-return]

    @property
    def stored_guards(self) -> Fingerprint | None:
        """``decode_features`` of ``stored`` without the shingles (``choose_story`` has the
        similarity already)."""
        v = self._guards
        if v is _UNSET:
            v = decode_features(self.stored, self.doc.url, shingles=False)
            object.__setattr__(self, "_guards", v)
            if v is not None and self._ids is not None and self._ids is not _UNSET:
                # Both decoded forms are kept: the text is read no more, and the only
                # writer keeps 32,768 candidates (~130 bytes each; still "stored", not None)
                object.__setattr__(self, "stored", "")
        return v  # type: ignore[no-any-return]


class CandidateSource(Protocol):
    def candidates(
        self, bands: Sequence[int], since: datetime, until: datetime, limit: int
    ) -> list[Candidate]:
        """Earlier items sharing any of ``bands``, published in [since, until]; those sharing
        the most bands first, at most ``limit``."""
        ...


# --- normalisation -------------------------------------------------------------------------

_DASH = r"(?:-{1,2}|–|—)"
# "Jakarta (ANTARA) -", "Kiev (ANTARA/Reuters) -", "REPUBLIKA.CO.ID, JAKARTA --",
# "Liputan6.com, Jakarta -", "JAKARTA, KOMPAS.com -", "KONTAN.CO.ID - JAKARTA."
_DATELINE_CI = re.compile(
    r"^\s*(?:"
    r"[^\W\d_][\w .,'/-]{0,40}?\s*\((?:antara|ant)\b[^)]{0,30}\)\s*" + _DASH + r"\s*"
    r"|[\w-]*\.(?:co\.id|com|id|co)\b[^\n]{0,40}?\s" + _DASH + r"\s*"
    r"|[^\W\d_][\w .]{0,30},\s*[\w-]+\.(?:co\.id|com|id)\s*" + _DASH + r"\s*"
    r")",
    re.IGNORECASE,
)
# "KIEV -", "WASHINGTON, D.C. —": a capitalised place before a dash (only in original case).
_DATELINE_CAPS = re.compile(r"^\s*[A-Z][A-Z .,'()-]{1,40}?\s" + _DASH + r"\s+")
# An inserted "Baca Juga: Harga Emas Hari Ini Naik Lagi" is a Title Case run with no period.
_BACA_JUGA_TITLE = re.compile(r"\b[Bb]aca [Jj]uga\s*:?\s*(?:[A-Z0-9][\w'’%,.-]*\s+){1,20}")
_BACA_JUGA = re.compile(r"\bbaca (?:juga|pula)\s*:?\s*(?:[^.!?]{0,160}?(?:[.!?]|$))?")
_CREDIT = re.compile(r"\((?:ant(?:ara)?|[a-z]{1,6}(?:/[a-z]{1,6})+|\*)\)")
TAIL_RE = re.compile(
    r"\b(?:editor|pewarta|penerjemah|reporter|penulis|redaktur)\s*:.{0,120}$"
    r"|copyright\s*(?:©|\(c\))?.{0,80}$"
)
_MONTHS = {
    "januari": 1, "jan": 1, "january": 1, "februari": 2, "feb": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3, "april": 4, "apr": 4, "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6, "juli": 7, "jul": 7, "july": 7, "agustus": 8,
    "agu": 8, "agt": 8, "aug": 8, "august": 8, "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10, "november": 11, "nov": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}  # fmt: skip
MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Patterns that would open with "\b" or a lookbehind are written first-character-first,
# the "\b" turned into a lookbehind after that character ("\b(\d{1,2})" as
# "(\d(?<!\w\d)\d?)"): a pattern that opens with a character class lets the regex engine
# skip to the next candidate character instead of trying the pattern at every position.
# The same matches (tests/test_stories.py holds each against its plain form), 2-6 times
# faster on a 300-character lead.
_SLASH_DATE = re.compile(r"(\d(?<!\w\d)\d?)/(\d{1,2})(?:/(?:\d{4}|\d{2}))?\b(?!/)")
NAMED_DATE_RE = re.compile(r"(\d(?<!\w\d)\d?)\s+(" + MONTH_RE + r")\b(?:\s+(?:19|20)\d\d\b)?")
# A day name. "minggu" is also the word for "week": as a day it needs the dateline context
# of "..., Minggu (12/6)" (``weekdays``).
_WEEKDAY = re.compile(
    r"[sjkmr](?<!\w[sjkmr])"
    r"(?:(?<=s)(?:enin|elasa|abtu)|(?<=r)abu|(?<=k)amis|(?<=j)um['’]?at|(?<=m)inggu)\b"
)
_AFTER_MINGGU = re.compile(r"\s*[(,]")
# A movement word (written first-character-first, as ``_WEEKDAY``; its plain form, in
# tests/test_stories.py, is "\b(?:(?P<up>naik|...)|(?P<down>...)|(?P<flat>...))\b")
_MOVE = re.compile(
    r"[nmtsal](?<!\w[nmtsal])(?:"
    r"(?P<up>(?<=n)aik|(?<=m)(?:enguat|elonjak|eroket|elesat|elambung|elejit)|(?<=t)erkerek)"
    r"|(?P<down>(?<=t)(?:urun|erkoreksi)|(?<=m)(?:elemah|erosot|elorot)|(?<=a)(?:njlok|mbles)"
    r"|(?<=l)ongsor)"
    r"|(?P<flat>(?<=t)(?:etap|idak berubah|ak berubah|idak bergerak)|(?<=s)(?:tagnan|tabil))"
    r")\b"
)
_NUM = r"(\d+(?:[.,]\d+)*)"
_SCALE = {"ribu": 3, "rb": 3, "juta": 6, "jt": 6, "miliar": 9, "milyar": 9, "triliun": 12}
_SCALE_RE = r"(?:\s*(ribu|rb|juta|jt|miliar|milyar|triliun)\b)?"
_MONEY_PRE = re.compile(r"(rp\.?|us\$|\$|usd|€|eur)\s?" + _NUM + _SCALE_RE)
_NUM_WORD = r"(\d(?<!\w\d)\d*(?:[.,]\d+)*)"  # "\b" + _NUM, first-character-first
_MONEY_POST = re.compile(
    _NUM_WORD + _SCALE_RE + r"\s*(dolar|dollar|usd|euro|yen|yuan|ringgit|rupiah)\b"
)
_PERCENT = re.compile(_NUM_WORD + r"\s*(?:%|persen\b)")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
# ``_TOKEN`` for ASCII text, where ``\d`` is [0-9] and ``[^\W\d_]`` is [A-Za-z]: the same
# matches, without the Unicode category test per character (``str.isascii`` is O(1); 98 % of
# the real feeds' leads are ASCII once normalised). tests/test_fuzz.py checks the two agree.
_TOKEN_ASCII = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[A-Za-z]+")
_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+$")
# the whole part of a number whose decimal point is the key: grouped by the other separator
_GROUPED = {
    ",": re.compile(r"\d{1,3}(?:\.\d{3})*"),  # "1.524.000,50"
    ".": re.compile(r"\d{1,3}(?:,\d{3})*"),  # "1,524.50"
}
_CURRENCY = {"rp": "idr", "rp.": "idr", "rupiah": "idr", "us$": "usd", "$": "usd",
             "usd": "usd", "dolar": "usd", "dollar": "usd", "€": "eur", "eur": "eur",
             "euro": "eur", "yen": "jpy", "yuan": "cny", "ringgit": "myr"}  # fmt: skip

# Literal substrings without which a pattern cannot match (lower-cased text, except where
# noted). A regex that fails tries every position of the text; a substring test is a C
# scan: with these checks first, grouping's per-item text work costs about a third less.
# tests/test_stories.py checks on the corpus and on crafted texts that every match
# contains one of its pattern's substrings.
PATTERN_NEEDS: dict[re.Pattern[str], tuple[str, ...]] = {
    # the patterns' own literal text: "baca selengkapnya..." ends a third of the templated
    # farm's summaries, and "aca " alone let the scan run for "membaca ", "kaca " too
    _BACA_JUGA_TITLE: ("aca juga", "aca Juga"),  # original case: "Baca Juga", "baca juga"
    _BACA_JUGA: ("baca juga", "baca pula"),
    _SLASH_DATE: ("/",),
    _WEEKDAY: ("senin", "selasa", "rabu", "kamis", "jum", "sabtu", "minggu"),
    _MONEY_PRE: ("rp", "$", "usd", "€", "eur"),
    _MONEY_POST: ("dolar", "dollar", "usd", "euro", "yen", "yuan", "ringgit", "rupiah"),
    _PERCENT: ("%", "persen"),
}  # fmt: skip


def may_match(rx: re.Pattern[str], s: str) -> bool:
    for w in PATTERN_NEEDS[rx]:  # a loop, not any(genexpr): this runs ~10 times per item
        if w in s:
            return True
    return False


def weekdays(s: str) -> Iterator[tuple[int, str]]:
    """The day names of lower-cased ``s`` with their positions: "senin" to "sabtu" anywhere
    as words, "minggu" only at the start or after a comma and followed by "(" or ","."""
    for m in _WEEKDAY.finditer(s):
        day = m[0]
        if day == "minggu":
            a = m.start()
            if a and not s[:a].rstrip().endswith(","):
                continue
            if not _AFTER_MINGGU.match(s, m.end()):
                continue
        yield m.start(), day.replace("'", "").replace("’", "")  # Jum'at, Jum’at: jumat


def may_have_tail(s: str) -> bool:
    """``TAIL_RE`` needs "copyright", or a colon at most 121 characters before the end."""
    return s.find(":", max(0, len(s) - 122)) >= 0 or "copyright" in s


# "... turut turun ke Rp1.604.000 per gram. Jakarta (ANTARA) - Harga emas Antam ...": Antara's
# main site opens a report with a pull quote (a sentence of the report, often its buyback
# price or a quote), then the dateline, then the lead its regional sites and reposts open
# with. The report's own lead is the one after the dateline.
PULL_QUOTE_CHARS = 400  # a dateline this far into the body ends a pull quote ...
PULL_QUOTE_WORDS = 6  # ... of at least these many words (on news-2025.csv: 8 to 38)
_PULL_QUOTE = re.compile(r"\((?:antara|ant)\b[^)]{0,30}\)\s*" + _DASH + r"\s*", re.IGNORECASE)


def after_pull_quote(s: str) -> str:
    """``s`` with its report's own lead first, when a pull quote and a dateline open it:
    the quote follows the report. Read with the quote first, the lead's day and movement
    were the quote's ("... tetap dibuka hingga akhir pekan": flat), its LSH bands others
    than the regional copy's, and the copy on Antara's main site became a story and an
    event of its own (tests/test_rewrites.py). The quote is kept, not dropped: it is a
    sentence of the report, and two reports of one template whose short leads read alike
    differ in it (two days of Bulog Sumut's rice deliveries, labelled apart)."""
    split = split_pull_quote(s)
    return s if split is None else f"{split[1]} {split[0]}"


def split_pull_quote(s: str) -> tuple[str, str] | None:
    """(the pull quote with its dateline's place, the report from its lead on), or None."""
    if s.find("(", 0, PULL_QUOTE_CHARS) < 0:
        return None
    quote = _PULL_QUOTE.search(s, 0, PULL_QUOTE_CHARS)
    # (a dateline's place alone is a few words, and the dateline rules remove it)
    if quote is not None and len(s[: quote.start()].split()) >= PULL_QUOTE_WORDS:
        return s[: quote.start()], s[quote.end() :]
    return None


def clean_body(s: str) -> str:
    """Lower-cased body text, its lead first (``after_pull_quote``), without datelines,
    credits and "Baca Juga" inserts."""
    if not s:
        return ""
    s = after_pull_quote(strip_control(normalize(s[:_MAX_CHARS])))
    for _ in range(2):  # "REPUBLIKA.CO.ID, JAKARTA -- KIEV -" has two
        s2 = _DATELINE_CAPS.sub("", s, count=1)
        s2 = _DATELINE_CI.sub("", s2, count=1)
        if s2 == s:
            break
        s = s2
    if may_match(_BACA_JUGA_TITLE, s):
        s = _BACA_JUGA_TITLE.sub(" ", s)
    s = s.lower()
    if may_match(_BACA_JUGA, s):
        s = _BACA_JUGA.sub(" ", s)
    s = _CREDIT.sub(" ", s)
    return TAIL_RE.sub(" ", s) if may_have_tail(s) else s


def canonical_dates(s: str) -> str:
    """ "(12/6/2025)" and "(12/6)", "12 Juni 2025" and "12 Juni" read alike."""
    if may_match(_SLASH_DATE, s):
        s = _SLASH_DATE.sub(lambda m: f" {int(m[1])}/{int(m[2])} ", s)
    return NAMED_DATE_RE.sub(lambda m: f"{int(m[1])} {m[2]}", s)


def text_words(s: str, limit: int) -> list[str]:
    token = _TOKEN_ASCII if s.isascii() else _TOKEN
    words = token.findall(s, 0, limit * 40)[:limit]  # no word is 40 characters on average
    return [w.replace(".", "") if "." in w and _THOUSANDS.match(w) else w for w in words]


def word_shingles(words: Sequence[str]) -> list[bytes]:
    """Word 3-shingles, UTF-8 encoded, in text order."""
    return [" ".join(words[i : i + 3]).encode() for i in range(len(words) - 2)]


def shingle_ids(words: Sequence[str]) -> list[int]:
    """The CRC-32s of ``word_shingles(words)``, in text order: compact to ship and store, and
    for sets of at most ~800 shingles a collision moves a containment score by a fraction
    of a percent, never a decision. The lead's also feed its MinHash (``band_keys``).
    Chained map()s over zip run no bytecode per shingle: 12 us for a 400-word text, 16 us
    through ``word_shingles``' list."""
    return list(
        map(zlib.crc32, map(str.encode, map(_SPACE_JOIN, zip(words, words[1:], words[2:]))))
    )


_SPACE_JOIN = " ".join


def _number(num: str, scale: str | None) -> str | None:
    """Indonesian convention: "." groups thousands, "," is the decimal point. A number
    written with both reads its last separator as the decimal point and the other as
    grouping, either way round: "Rp1.524.000,00" is "Rp1.524.000", "US$1,524.50" is
    1524.5. (Read as one run of digits they were a hundred times too large, and two copies
    of one price, one with the cents and one without, contradicted each other.)"""
    if "," in num and "." in num:
        point = max(num.rfind(","), num.rfind("."))
        whole, frac = num[:point], num[point + 1 :]
        if _GROUPED[num[point]].fullmatch(whole):
            num = f"{whole.replace('.', '').replace(',', '')}.{frac}"
    elif _THOUSANDS.match(num):
        num = num.replace(".", "")
    num = num.replace(",", ".")
    if num.count(".") > 1:
        num = num.replace(".", "")
    try:
        value = Decimal(num).scaleb(_SCALE.get(scale or "", 0))
    except InvalidOperation:
        return None
    return format(value.normalize(), "f")


_WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")


def _weekday(day: int, month: int, published: datetime) -> str | None:
    """The weekday of "d/m" in the year that puts it nearest the publication date."""
    best: date | None = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            d = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs(d - published.date()) < abs(best - published.date()):
            best = d
    return None if best is None else _WEEKDAYS[best.weekday()]


def _guards(
    s: str, published: datetime, slash: bool, weekday: bool
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Dates, weekdays and figures (money, percentages) stated in the text. A date also
    names its weekday, so "(21/9)" contradicts "Senin" when 21/9 was a Sunday. ``slash``
    and ``weekday``: whether the text holds their patterns' substrings (``may_match``)."""
    pairs = date_pairs(s, slash)
    dates = {f"{d}/{m}" for d, m in pairs}
    days: set[str] = set()
    if weekday:
        days = {day for _, day in weekdays(s)}
    days |= {w for d, m in pairs if (w := _weekday(d, m, published))}
    return frozenset(dates), frozenset(days), frozenset(stated_figures(s))


def date_pairs(s: str, slash: bool) -> set[tuple[int, int]]:
    """(day, month) of the dates the text names ("12/6", "12 Juni"). ``slash``: whether it
    holds a slash at all (``may_match``)."""
    pairs: set[tuple[int, int]] = set()
    if slash:
        pairs = {(int(m[1]), int(m[2])) for m in _SLASH_DATE.finditer(s)}
    pairs |= {(int(m[1]), _MONTHS[m[2]]) for m in NAMED_DATE_RE.finditer(s)}
    return {(d, m) for d, m in pairs if 1 <= d <= 31 and 1 <= m <= 12}


def stated_figures(s: str) -> set[str]:
    """The money and percentages the text states, normalised ("idr:1524000", "%:2.5")."""
    figures: set[str] = set()
    if may_match(_MONEY_PRE, s):
        for m in _MONEY_PRE.finditer(s):
            v = _number(m[2], m[3])
            if v is not None:
                figures.add(f"{_CURRENCY[m[1]]}:{v}")
    if may_match(_MONEY_POST, s):
        for m in _MONEY_POST.finditer(s):
            v = _number(m[1], m[2])
            if v is not None:
                figures.add(f"{_CURRENCY[m[3]]}:{v}")
    if may_match(_PERCENT, s):
        for m in _PERCENT.finditer(s):
            v = _number(m[1], None)
            if v is not None:
                figures.add(f"%:{v}")
    return figures


# --- MinHash / LSH ------------------------------------------------------------------------

# One-permutation MinHash (Li, Owen and Zhang, 2012): each shingle is hashed once, the top
# bits of the hash pick one of NUM_HASHES bins and each bin keeps its smallest hash, so the
# chance that two leads agree on a bin is their Jaccard similarity, as with NUM_HASHES
# independent hash functions, at one hash per shingle instead of NUM_HASHES. A bin that no
# shingle of a lead falls into (a 38-shingle lead leaves 1 of 16 bins empty on average)
# gives no key: "densifying" it from a neighbouring bin would only repeat that bin's event.
# Measured (bench/README, issue 9, fifth round): the same LSH loss as 16 SHAKE-128 hashes
# on the labelled corpus and news-2025 (lower on news-2025 with full text), the same or
# lower chance of missing a rewritten copy on synthetic leads, 10 % fewer keys per item,
# and 59 -> 13 us per lead.
_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15  # odd: multiplying by it permutes 64-bit values
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # splitmix64's finaliser
_BIN_SHIFT = 64 - (NUM_HASHES - 1).bit_length()  # the top bits name the bin
assert NUM_HASHES & (NUM_HASHES - 1) == 0, "a power of two: the bins are the top bits"
_NO_HASH = 1 << 64


def band_keys(ids: Iterable[int]) -> list[int]:
    """The lead's band keys from its shingles' CRC-32s (``shingle_ids``, computed for
    confirmation anyway): one per non-empty bin, signed 64-bit, mixed from the bin and its
    minimum so that every bit of a key is usable as a hash (``BandFilter`` relies on it)."""
    mins = [_NO_HASH] * NUM_HASHES
    for c in ids:
        h = c * _GOLDEN & _M64  # CRC-32s are already uniform; this spreads them over bins
        j = h >> _BIN_SHIFT
        if h < mins[j]:
            mins[j] = h
    keys = []
    for h in mins:
        if h == _NO_HASH:
            continue
        x = (h ^ (h >> 30)) * _MIX1 & _M64  # h's top bits are its bin: h names (bin, min)
        x = (x ^ (x >> 27)) * _MIX2 & _M64
        x ^= x >> 31
        keys.append(x - _NO_HASH if x >> 63 else x)
    return keys


def _key(data: bytes) -> int:
    """Signed 64-bit key: fits BIGINT on PostgreSQL and INTEGER on SQLite."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def _url_key(url: str) -> int:
    return _key(b"url\0" + article_identity(url).encode("utf-8", "surrogatepass"))


# An article's link ends in its slug: the last characters of two articles' links nearly
# never meet (``same_article``'s first test, which ``choose_story`` makes inline).
_LINK_TAIL = 16


def same_article(a: str | None, b: str | None) -> bool:
    """Whether two canonical links name one article (``urls.article_identity``). Asked of
    every candidate: links of two articles nearly always differ in their last characters,
    compared first without reading either link."""
    if not (a and b):
        return False
    if a == b:
        return True
    if a[-_LINK_TAIL:] != b[-_LINK_TAIL:]:
        return False
    return article_identity(a) == article_identity(b)


def url_key(url: str) -> int:
    """The band key that stands for a canonical URL (looked up without the time window)."""
    return _url_key(url)


# --- features and fingerprint --------------------------------------------------------------


@dataclass(frozen=True)
class Texts:
    """An item's text as grouping reads it, computed once per item: the story fingerprint
    and the event signature (``daemon.grouping.events.signature``) both start here."""

    leads: tuple[list[int], ...]  # the CRC-32s of the shingles that feed the LSH, per lead
    confirm: frozenset[int]
    guard_text: str
    distinct_words: int
    # the summary and content, cleaned (``clean_body``: lower-cased, no dateline, credit or
    # "Baca Juga") with their dates in one form; the summary empty if it only repeats the title
    summary: str = ""
    content: str = ""

    @property
    def enough_text(self) -> bool:
        return self.distinct_words >= MIN_WORDS


def clean_lead(body: str) -> str:
    """A body's opening as confirmation and the event signature read it: cleaned, dates in
    one form, as many characters as ``CONFIRM_WORDS`` words need (and, where that is the
    whole body, without a figure its feed cut: ``uncut``)."""
    limit = CONFIRM_WORDS * 25
    s = canonical_dates(clean_body(body[:limit]))
    return uncut(s) if len(body) <= limit else s


# An ellipsis that ends a description (NFKC has made "…" three dots): "[...]", "[…]", "..."
_ELLIPSIS_END = re.compile(r"(?:\[\s{0,3}(?:\.\.\.|&hellip;)\s{0,3}\]|\.\.\.+)$")
_TAIL_CHARS = 24  # the characters at a text's end that ``uncut`` reads (an ellipsis, a "(")


def uncut(s: str) -> str:
    """``s`` without the figure or date its last word may be a piece of. Feeds cut their
    descriptions at a number of characters, anywhere: "... naik ke rp1.935..." (of
    rp1.935.000), "berlaku mulai (1/1" (of 1/12), "rp1,5 ju" (of rp1,5 juta). Read as they
    stand, such pieces are other prices and days than the whole copy states, and the guards
    then keep a story's copies apart. A last word with a digit goes only where the text
    shows it was cut: an ellipsis follows it, it ends with a comma, it is inside a
    parenthesis left open, or a piece of a scale word follows it. A text that simply ends
    with a number ("... kalah dengan skor 4-2.", "... hingga 2017") keeps it: 3.6 % of
    the real feeds' descriptions end so, and a final score or price is what keeps two
    matches or two editions apart (precision first). A cut that leaves no such sign ("...
    naik ke rp1.93") is still read as it stands (docs/design.md, "Copies in another
    dress")."""
    body = s.rstrip()
    # (the pattern searched in the last characters only: from every position of a long run
    # of whitespace, "\s*...$" would scan the run again)
    tail = len(body) - _TAIL_CHARS
    end = _ELLIPSIS_END.search(body, max(tail, 0))
    cut = end is not None
    if end is not None:
        body = body[: end.start()].rstrip()
    parts = body.rsplit(None, 2)
    if not parts or not has_digit(body):
        return s
    last = parts[-1]
    if len(parts) > 1 and last in _TAIL_PREFIXES and _DIGIT_END(parts[-2]):
        return body[: body.rfind(parts[-2])].rstrip()  # "rp1,5 ju"
    if not has_digit(last):
        return s
    # "( 1/1": ``canonical_dates`` has spaced the parenthesis that the cut left open
    open_paren = body.rfind("(", max(len(body) - _TAIL_CHARS, 0)) > body.rfind(")")
    if cut or last[-1] == "," or open_paren:
        return body[: body.rfind(last)].rstrip()
    return s


has_digit = re.compile(r"\d").search  # (``events.signature`` asks it too)


def texts_of(doc: Doc) -> Texts:
    summary = clean_lead(doc.summary)
    content = clean_lead(doc.content)
    if summary and len(summary) <= 2 * len(doc.title) + 16:
        title = canonical_dates(clean_body(doc.title))
        if text_words(summary, 64) == text_words(title, 64):
            summary = ""  # a summary that only repeats the title adds no text
    sw = text_words(summary, CONFIRM_WORDS)
    cw = text_words(content, CONFIRM_WORDS)
    ns, nc = len(set(sw)), len(set(cw))  # distinct words, counted once
    s_ids, c_ids = shingle_ids(sw), shingle_ids(cw)
    # a lead's shingles are its text's first ones: those of its first LEAD_WORDS words
    leads = tuple(ids[: LEAD_WORDS - 2] for n, ids in ((ns, s_ids), (nc, c_ids)) if n >= MIN_WORDS)
    # Guards read the text, not the tokens: tokens have lost "rp1.500" and "12/6".
    guard = " ".join(_first_words(t, GUARD_WORDS) for t in (summary, content) if t)
    return Texts(
        leads=leads,
        confirm=frozenset(s_ids + c_ids),
        guard_text=guard,
        distinct_words=max(nc, ns),  # the body: the content unless the summary has more
        summary=summary,
        content=content,
    )


# Caches for the candidates a new item is compared with (the same earlier items come up
# again and again within a cycle). ``fingerprint`` bypasses them: each new item is seen once,
# and in a parse worker a cache would only hold memory.
_texts = lru_cache(maxsize=256)(texts_of)


def _first_words(s: str, n: int) -> str:
    return " ".join(cut_words(s.split(None, n + FIGURE_TAIL_WORDS), n))


# Words that finish a figure begun by the word before them: its scale ("Rp1,524 juta"), a
# percentage, a currency written after the number. A text cut between the two reads another
# figure ("Rp1,524" is idr:1.524), and a rerun under a dateline of another length is cut
# elsewhere: the two copies then state different prices and the guards keep them apart.
FIGURE_TAIL = frozenset({*_SCALE, "persen", "%", *(c for c in _CURRENCY if c.isalpha())})
FIGURE_TAIL_WORDS = 2  # "1,9 juta ton": a scale, then a unit
# prefixes of the words that finish a figure ("ju" of "juta"): a figure cut inside its scale
_TAIL_PREFIXES = frozenset(w[:i] for w in FIGURE_TAIL for i in range(1, len(w)))


def cut_words(words: Sequence[str], n: int, tail: frozenset[str] = FIGURE_TAIL) -> list[str]:
    """The first ``n`` of ``words``, and the words after them that finish a figure the
    ``n``-th begins (at most ``FIGURE_TAIL_WORDS``, each in ``tail``)."""
    k = n
    if len(words) > n and _DIGIT_END(words[n - 1]):
        while k < min(len(words), n + FIGURE_TAIL_WORDS) and words[k].strip(".,;:)") in tail:
            k += 1
    return list(words[:k])


_DIGIT_END = re.compile(r"\d[.,;:)]*$").search  # a word that ends with a number


_LONGEST_WORD = 40  # a longer run without a space is no date or movement word: cut as it is


def lead_chars(s: str, n: int = _LEAD_DAY_CHARS) -> str:
    """The first ``n`` characters of ``s``, to the end of the word the ``n``-th is in: a
    date cut as "(24/1" reads as another day (24 January), and a rerun under a dateline of
    another length is cut elsewhere."""
    if len(s) <= n:
        return s
    end = s.find(" ", n, n + _LONGEST_WORD)
    return s[:n] if end < 0 else s[:end]


def _make_features(
    doc: Doc, t: Texts, bands: tuple[int, ...] = (), *, guards: bool = True
) -> Fingerprint:
    """``guards=False``: the shingles only (see ``_text_features``)."""
    extra: dict[str, object] = {}
    if guards:
        g = t.guard_text
        # asked once for the whole text: the lead is its beginning
        slash, weekday = may_match(_SLASH_DATE, g), may_match(_WEEKDAY, g)
        extra["dates"], extra["weekdays"], extra["figures"] = _guards(
            g, doc.published_at, slash, weekday
        )
        extra["lead_day"] = _lead_day(g, doc.published_at, slash, weekday)
        extra["lead_move"] = _lead_move(t.guard_text)
    return Fingerprint(
        bands=bands,
        enough_text=t.enough_text,
        url=doc.url or None,
        shingle_blob=_pack(t.confirm),
        **extra,  # type: ignore[arg-type]
    )


@lru_cache(maxsize=2048)
def _text_features(doc: Doc) -> Fingerprint:
    """Shingles only: enough to discard the many candidates that share one band by chance."""
    t = _texts(doc)
    return _with_shingles(_make_features(doc, t, guards=False), t.confirm)


@lru_cache(maxsize=2048)
def _features(doc: Doc) -> Fingerprint:
    """Everything but the band keys: what exact confirmation of a candidate needs."""
    t = _texts(doc)
    return _with_shingles(_make_features(doc, t), t.confirm)


def _lead_move(s: str) -> str | None:
    """Yesterday's "rises to Rp1.901.000" and today's "unchanged at Rp1.901.000" share their
    figures; the direction the lead reports tells the two editions apart."""
    s = lead_chars(s)
    # (no substring test first: one of its 21 words is in ~3 in 4 real leads and headlines,
    # "tetap" and "naik" above all, and the test cost more than the search it spared:
    # 4.47 -> 3.36 us per real lead, 1.74 -> 0.88 per headline; bench/README.md, "Ninth
    # session")
    m = _MOVE.search(s)
    return None if m is None else _move_kind(m)


def movements(s: str) -> list[tuple[int, int, str]]:
    """Every movement ``s`` names, in order: (start, end, "up" | "down" | "flat")."""
    return [(m.start(), m.end(), _move_kind(m)) for m in _MOVE.finditer(s)]


def _move_kind(m: re.Match[str]) -> str:
    return "up" if m["up"] else "down" if m["down"] else "flat"


def _lead_day(s: str, published: datetime, slash: bool, weekday: bool) -> str | None:
    """Monday's "unchanged since Saturday (11/1)" names Saturday too, but names Monday first.
    ``slash``, ``weekday``: whether all of ``s`` holds those patterns' substrings."""
    s = lead_chars(s)
    found: list[tuple[int, str | None]] = []
    if weekday and (first := next(weekdays(s), None)):
        found.append(first)
    for rx in (_SLASH_DATE, NAMED_DATE_RE):
        if (rx is NAMED_DATE_RE or slash) and (m := rx.search(s)):
            month = int(m[2]) if rx is _SLASH_DATE else _MONTHS[m[2]]
            ok = 1 <= int(m[1]) <= 31 and 1 <= month <= 12
            found.append((m.start(), _weekday(int(m[1]), month, published) if ok else None))
    return min(found)[1] if found else None


def fingerprint(doc: Doc, texts: Texts | None = None) -> Fingerprint:
    """Band keys (URL identity first, then the lead's LSH bands) plus confirmation features.
    ``texts``: ``texts_of(doc)``, when the caller has it (``prepare_item``)."""
    t = texts_of(doc) if texts is None else texts
    keys: dict[int, None] = {}  # ordered and distinct
    if doc.url:
        keys[_url_key(doc.url)] = None
    if t.enough_text:
        for lead in t.leads:
            keys.update(dict.fromkeys(band_keys(lead)))
    return _make_features(doc, t, tuple(keys))


# --- stored features ------------------------------------------------------------------------

# Bump when normalisation or the features change: stored ones go stale, and a candidate
# stored by another version is read with its text and fingerprinted again. 2: numbers with
# both separators, leads cut at a word's end, cut descriptions and pull quotes read as
# docs/design.md, "Copies in another dress", says.
FEATURES_VERSION = 2


def encode_features(fp: Fingerprint) -> str:
    """What confirming a candidate needs, stored with the item so that an earlier item met
    as a candidate costs a JSON decode instead of re-reading and re-cleaning its text.

    The text is exactly ``json.dumps`` of the dict below with compact separators (the
    stored layout, see ``stored_usable``), written out directly: 1.6 us per item instead of
    5.9 (every new item of every poll is encoded in a parse worker). Values that would need
    escaping go through ``json.dumps``."""
    return (
        f'{{"v":{FEATURES_VERSION},"e":{"true" if fp.enough_text else "false"},'
        f'"s":"{base64.b64encode(fp.shingle_blob).decode("ascii")}",'
        f'"d":{_json_strings(fp.dates)},"w":{_json_strings(fp.weekdays)},'
        f'"f":{_json_strings(fp.figures)},'
        f'"ld":{_json_string(fp.lead_day)},"lm":{_json_string(fp.lead_move)}}}'
    )


# What json.dumps writes between quotes unchanged: dates ("12/6"), weekdays, figures
# ("idr:1500000", "%:2.5") and the lead's day and move are made of these characters only.
_JSON_PLAIN = re.compile(r"[\w:./%+-]*", re.ASCII)


def _json_strings(values: frozenset[str]) -> str:
    if not values:
        return "[]"
    ordered = sorted(values)
    for v in ordered:
        if not _JSON_PLAIN.fullmatch(v):
            return json.dumps(ordered, separators=(",", ":"))
    return '["' + '","'.join(ordered) + '"]'


def _json_string(value: str | None) -> str:
    if value is None:
        return "null"
    return f'"{value}"' if _JSON_PLAIN.fullmatch(value) else json.dumps(value)


_STORED_PREFIX = '{"v":' + str(FEATURES_VERSION) + ","  # json.dumps keeps key order


def stored_usable(data: str | None) -> bool:
    """Stored features written by this version (``encode_features``' own layout)."""
    return bool(data) and data.startswith(_STORED_PREFIX)  # type: ignore[union-attr]


def _shingle_span(data: str) -> tuple[int, int] | None:
    """Where the base64 shingles of stored features (``encode_features``) lie in ``data``."""
    i = data.find('"s":"')
    j = data.find('"', i + 5)
    return None if i < 0 or j < 0 else (i + 5, j)


def _stored_ids(data: str, span: tuple[int, int] | None = None) -> array[int] | None:
    """The shingle ids of stored features, or None if unreadable. ``span``:
    ``_shingle_span(data)``, when the caller has it."""
    span = span or _shingle_span(data)
    if span is None:
        return None
    try:
        blob = base64.b64decode(data[span[0] : span[1]])
    except ValueError:
        return None
    return None if len(blob) % 4 else _unpack(blob)


def stored_similarity(fp: Fingerprint, data: str | array[int] | None) -> float:
    """``similarity`` against stored features (``encode_features``, or their shingle ids:
    ``Candidate.stored_ids``), reading only their shingles: most candidates share a band by
    chance and are dropped here, before their JSON is decoded or a set of their shingles is
    built. -1.0 when the shingles cannot be read."""
    theirs = _stored_ids(data) if isinstance(data, str) else data
    if theirs is None:
        return -1.0
    ours = fp.shingles
    if not ours or not theirs:
        return 0.0
    return len(ours.intersection(theirs)) / min(len(ours), len(theirs))


def decode_features(
    data: str | None, url: str | None, *, shingles: bool = True
) -> Fingerprint | None:
    """The stored features, or None when absent, unreadable or of another version (the
    caller then computes them from the text). ``shingles=False``: without them (an empty
    ``shingle_blob``), for a caller that has the similarity already."""
    if not data:
        return None
    try:
        m = _STORED_FORM.fullmatch(data)
        if m is not None:  # as ``encode_features`` writes them: nearly always
            e, s, dates, days, figures, ld, lm = m.groups()
            d = {"e": e == "true", "s": s, "d": _plain_list(dates), "w": _plain_list(days),
                 "f": _plain_list(figures), "ld": _plain_value(ld), "lm": _plain_value(lm)}  # fmt: skip
        else:
            d = json.loads(data)
            if not isinstance(d, dict) or d.get("v") != FEATURES_VERSION:
                return None
        blob = base64.b64decode(d["s"], validate=True) if shingles else b""
        if len(blob) % 4:
            return None
        return Fingerprint(
            bands=(),
            enough_text=bool(d["e"]),
            url=url or None,
            shingle_blob=blob,
            # (most are empty, and the others repeat: shared sets in the item cache)
            dates=_guard_set(d["d"]),
            weekdays=_guard_set(d["w"]),
            figures=_guard_set(d["f"]),
            lead_day=d["ld"],
            lead_move=d["lm"],
        )
    except (ValueError, KeyError, TypeError):
        return None


# ``encode_features``' text, read as ``json.loads`` reads it where every string is made of
# ``_JSON_PLAIN``'s characters (which JSON writes as they are): one regex and splits instead
# of the parser and its dict, once per candidate the item cache did not hold (1.3-2.4x per
# decode of a candidate's guards on stored farm items; a property in tests/test_fuzz.py
# holds the two readings equal, near misses included)
_PLAIN = f'"{_JSON_PLAIN.pattern}"'
_STORED_FORM = re.compile(
    (
        r'\{"v":V,"e":(true|false),"s":"([A-Za-z0-9+/=]*)","d":\[L\],"w":\[L\],"f":\[L\],'
        r'"ld":(null|P),"lm":(null|P)\}'
    )
    .replace("V", str(FEATURES_VERSION))
    .replace("L", f"((?:{_PLAIN}(?:,{_PLAIN})*)?)")
    .replace("P", _PLAIN),
    re.ASCII,  # (``_JSON_PLAIN``'s ``\w``)
)


def _plain_list(found: str) -> list[str]:
    """A list ``_STORED_FORM`` matched, as JSON reads it (its strings hold no quote)."""
    return found[1:-1].split('","') if found else []


def _plain_value(found: str) -> str | None:
    return None if found == "null" else found[1:-1]


# --- decisions -----------------------------------------------------------------------------


def _contradict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Each side states something the other does not: a different edition, not a cut copy."""
    return bool(a - b) and bool(b - a)


def _differ(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a != b


def _guards_contradict(fa: Fingerprint, fb: Fingerprint) -> bool:
    return (
        _differ(fa.lead_day, fb.lead_day)
        or _differ(fa.lead_move, fb.lead_move)
        or _contradict(fa.dates, fb.dates)
        or _contradict(fa.weekdays, fb.weekdays)
        or _contradict(fa.figures, fb.figures)
    )


def similarity(fa: Fingerprint, fb: Fingerprint) -> float:
    """Share of the smaller text's shingles found in the other (a cut summary scores high)."""
    small, big = sorted((fa.shingles, fb.shingles), key=len)
    if not small:
        return 0.0
    return len(small & big) / len(small)


def _score(
    a: Doc,
    b: Doc,
    window: timedelta,
    fa: Fingerprint,
    fb: Fingerprint,
    sim: float | None = None,
    contradict: bool | None = None,
    same_url: bool | None = None,
) -> float:
    """Confirmation score; 0.0 means "not the same story". ``sim``: ``similarity(fa, fb)``,
    ``contradict``: ``_guards_contradict(fa, fb)``, ``same_url``: ``same_article`` of their
    links, when the caller has them already."""
    if same_article(a.url, b.url) if same_url is None else same_url:
        return 2.0
    if abs(a.published_at - b.published_at) > window:
        return 0.0
    if not (fa.enough_text and fb.enough_text):
        return 0.0
    if _guards_contradict(fa, fb) if contradict is None else contradict:
        return 0.0
    if sim is None:
        sim = similarity(fa, fb)
    return sim if sim >= _threshold(fa, fb) else 0.0


def _threshold(fa: Fingerprint, fb: Fingerprint) -> float:
    """Outlets rewrite the wording of a price report but copy its figures: two or more shared
    money figures (and no contradiction) let a looser text match confirm."""
    shared = sum(1 for f in fa.figures & fb.figures if not f.startswith("%"))
    return ANCHORED_THRESHOLD if shared >= 2 else THRESHOLD


def same_story(
    a: Doc,
    b: Doc,
    window: timedelta,
    fa: Fingerprint | None = None,
    fb: Fingerprint | None = None,
) -> bool:
    """Exact confirmation: same canonical URL, or near-duplicate text within ``window`` whose
    dates and figures do not contradict."""
    fa = fa if fa is not None else _features(a)
    fb = fb if fb is not None else _features(b)
    return _score(a, b, window, fa, fb) > 0.0


def choose_story(
    doc: Doc, fp: Fingerprint, source: CandidateSource, window: timedelta
) -> int | None:
    """The story ``doc`` joins: the best-confirmed candidate (ties: the earliest story), or
    None for a new story. Only joins, never splits, so a story that alerted stays whole."""
    if not fp.bands:
        return None
    cands = []
    if (key := fp.url_key) is not None:
        # The same canonical link is the same article however far apart the copies are.
        span = timedelta(days=URL_SPAN_DAYS)
        cands = source.candidates([key], doc.published_at - span, doc.published_at + span, 1)
    cands += source.candidates(
        fp.bands, doc.published_at - window, doc.published_at + window, CANDIDATE_LIMIT
    )
    scores: dict[int, float] = {}
    vetoed: set[int] = set()
    # Contradicting candidates whose guards were at hand: they can only veto their story,
    # and a veto matters only for a story that another candidate confirms. Their shingles
    # are compared after the loop, and only for such stories: on templated news most
    # candidates share stock sentences and differ in their figures or day (issue 29).
    later: list[Candidate] = []
    url = doc.url
    tail = url[-_LINK_TAIL:] if url else None  # ``same_article``'s first test, read once
    for c in cands:
        cu = c.doc.url
        same_url = (
            tail is not None and bool(cu) and cu[-_LINK_TAIL:] == tail and same_article(url, cu)
        )
        guards: Fingerprint | None = None  # read only for another link; not contradicting
        if not same_url:
            if c.story_id in vetoed:
                continue  # another member contradicts: only the same link could still join it
            guards = c.features if c.features is not None else (
                c.stored_guards if c.stored is not None and c.stored_ids is not None else None
            )  # fmt: skip
            if guards is not None and _guards_contradict(fp, guards):
                later.append(c)
                continue
        # A candidate that shares a band by chance is dropped on its shingles alone, before
        # its dates and figures are read (or computed).
        # The similarity computed to drop it is the one confirmation needs: kept, so that a
        # candidate's shingle set is never built (~400 ints, for ~13 candidates per item of
        # templated news; issue 29).
        fc = c.features
        sim: float | None = None
        if fc is None and c.stored is not None:
            sim = stored_similarity(fp, c.stored_ids)
            if not same_url and sim < ANCHORED_THRESHOLD:
                continue
            if sim < 0.0:  # unreadable shingles (then decoding fails too)
                sim, fc = None, decode_features(c.stored, c.doc.url)
            else:
                fc = c.stored_guards
        elif fc is not None and not same_url:
            sim = similarity(fp, fc)
            if sim < ANCHORED_THRESHOLD:
                continue
        if fc is None:
            sim = None
            if not same_url:
                sim = similarity(fp, _text_features(c.doc))  # the shingles _features has
                if sim < ANCHORED_THRESHOLD:
                    continue
            fc = _features(c.doc)
        # (the guards read above did not contradict: not asked again of the same ones)
        contradict = fc is not guards and _guards_contradict(fp, fc)
        s = _score(doc, c.doc, window, fp, fc, sim, contradict, same_url)
        if s > 0.0:
            scores[c.story_id] = max(s, scores.get(c.story_id, 0.0))
        elif contradict:
            # Complete linkage on the guards: Monday's report may share its figures with
            # Sunday's copy, but a story holding Sunday's original is not Monday's story.
            vetoed.add(c.story_id)
    for c in later:
        if c.story_id in scores and c.story_id not in vetoed:
            fc = c.features
            sim = similarity(fp, fc) if fc is not None else stored_similarity(fp, c.stored_ids)
            if sim >= ANCHORED_THRESHOLD:  # as similar as a copy, and contradicting it
                vetoed.add(c.story_id)
    eligible = [(-s, sid) for sid, s in scores.items() if sid not in vetoed or s >= 2.0]
    return min(eligible)[1] if eligible else None
