"""Event grouping: which earlier event, if any, a new story belongs to.

A story is the copies of one text (``daemon.grouping.stories``); an event is the stories
that report one happening: Antara, Detik and Kompas each writing their own report of one
KPK arrest. Independent reports share little wording but the same facts, so a story is
described by what survives rewriting (its ``Signature``):

- the content words of its headline and lead, weighted by how rare they are in the stored
  corpus (document frequencies kept by the store, ``daemon.storage.events``);
- names: capitalised words inside sentences and acronyms (``KPK``, ``BMKG``);
- figures normalised to one form (``Rp1.524.000`` = ``Rp 1.524.000`` = ``Rp1,524 juta``;
  ``1,9 juta ton``) and match scores;
- the dates the text names, and the weekday its lead names first (the report's own day);
- when it was published.

An event is kept as the aggregate of its stories (``Profile``: per term, how many of its
stories use it), and a story joins an event only when it is close to that aggregate (cosine
of rarity-weighted term vectors against the centroid), so a chain of stories that each
resemble only the previous one never becomes one event. Guards keep templated and recurring
reports apart whatever their wording: two editions of the gold price state different prices
and name different days, yesterday's weather warning names yesterday's date, two matches of
one team have different scores.

Precision comes first (merging two events loses the second one's alert), so every guard
vetoes and ties go to no merge. Pure code: the store keeps the index and the profiles.
Thresholds are tuned on the ``dev`` split of tests/data/events_labelled.jsonl with
bench/eval_events.py (see bench/README.md).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import pairwise

from daemon.grouping import stories as st
from daemon.text import normalize, strip_control

__all__ = [
    "Profile",
    "Signature",
    "choose_event",
    "event_key",
    "index_keys",
    "signature",
    "similarity",
    "solo_profile",
]

LEAD_WORDS = 40  # words of the body, after the headline, that describe the happening
TITLE_WEIGHT = 1.5  # a headline word says more about the happening than a lead word
NAME_WEIGHT = 1.3  # ... and so does a name (a person, place or institution)
FIGURE_WEIGHT = 4.0  # a precise figure both reports state (``Rp1.524.000``) is strong evidence
ROUND_WEIGHT = 2.0  # ... a round one ("Rp1,9 juta") less so
# Cosine with an event's centroid needed to join it. 0.365, not 0.36: a dev `different` pair
# (two cities' rice-stock statements) scores 0.358, and a few stored words' counts moved by
# an unrelated change tip it over; 0.365 groups the same dev pairs as 0.36 did, and with
# the pull-quote and round-figure changes 0.362-0.37 all do (bench/README.md).
THRESHOLD = 0.365
MIN_TERMS = 5  # a story with fewer content terms never joins (nothing to compare)
# Below this many stored stories the frequencies cannot tell a rare name from a common
# word, so nothing merges (a new database's first polls: precision first).
MIN_CORPUS = 100
INDEX_KEYS = 8  # rarest terms of a story written to the candidate index
# Events scored per story, those sharing the most index keys first: at most CANDIDATES that
# no guard vetoes, out of CANDIDATES + RESERVE ranked. A templated report's copy may share
# one key with its original (the template's other words are hot) and more with other days'
# editions, which the guards then veto (bench/README.md, "Events: copies"): a vetoed
# candidate leaves its place to the next. Scoring 4 always found the one such dev copy pair
# for +6 % of assign_events' CPU; a 4th read only in a vetoed one's place costs nothing
# where nothing is vetoed, and 5 ranked found nothing more.
CANDIDATES = 3
RESERVE = 1
PER_KEY = 10  # newest index rows read per key: a hot key (a word of the day) is capped
MAX_TERMS = 80  # terms kept per event profile (the most shared first)
# A term more than this share of the stored stories use (and more than HOT_MIN of them) is
# a stop word for the index: it is neither filed nor looked up. Such a key finds only the
# newest PER_KEY of its many events anyway, i.e. arbitrary ones, at the price of an index
# read, their profiles and a comparison each (docs/design.md, "Events: cost").
HOT_SHARE = 0.01
HOT_MIN = 50

_UTC = timezone.utc

# Function words and news boilerplate: never evidence that two reports share a happening.
# (Rarity weighting discounts common words too; this list spares the index and the
# document-frequency table the commonest ones.)
STOPWORDS = frozenset(
    """
    ada adalah agar akan akhirnya aku anda antara apa apabila atas atau bagai bagaimana
    bagi bahkan bahwa baik banyak baru beberapa begitu belum bersama besar bisa buat
    bukan cukup dalam dan dapat dari daripada demikian dengan di dia diri dua hal hampir
    hanya harus hari hingga ia ini itu jadi jika juga jumat kali kami kamis kamu karena
    kata ke kecil kembali kemudian kepada ketika kini kita lagi lain lalu lama lebih
    maka masih masing mau melalui memang menjadi menurut mereka merupakan minggu mulai
    namun nya oleh pada padahal para pernah pula pun rabu sabtu saat saja salah sama
    sampai sangat satu saya sebagai sebelum sebuah secara sedang sehingga sejak selasa
    selain seluruh semua senin sementara seperti serta sesuai setelah tahun tak tanpa
    tapi telah tempat tentang terhadap termasuk tersebut tetapi tiga tidak untuk waktu
    yaitu yakni yang
    mengatakan menyatakan ujar ujarnya katanya kata jelasnya tuturnya imbuhnya ungkapnya
    menjelaskan mengungkapkan menambahkan dikatakan disampaikan menyampaikan
    jakarta antara antaranews com co id kompas detik tempo republika okezone liputan6
    cnn indonesia sindonews merdeka kontan tribunnews viva suara beritasatu kumparan
    bisnis cnbc idn times jpnn inews wib wita wit pukul
    baca berita video foto simak klik selengkapnya dilansir dikutip melansir mengutip
    """.split()
)

# letters only: "rp1" of "Rp1.524.000" is no word (the figure stands for it)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_WORD_ASCII = re.compile(r"[a-z]+(?:['-][a-z]+)*")  # ``_WORD`` of lower-cased ASCII text
# an outlet's name after the headline: "... : Okezone Economy", "... |Republika Online"
_TITLE_TAIL = re.compile(
    r"\s*[|:–—-]\s*[^|:–—-]*\b(?:okezone|republika|online|kompas|detik|tempo|liputan6|"
    r"antara|merdeka|kontan|cnn|tribun|suara|kumparan|sindonews|viva)\b[^|:–—-]*$",
    re.IGNORECASE,
)
# A capitalised word that does not open a sentence, or an acronym: a name or an institution.
# (written first-character-first, the lookbehinds after it: see ``stories._SLASH_DATE``)
_NAME = re.compile(r"([A-Z](?<!\w[A-Z])(?<![.!?:\"“]\s[A-Z])(?<!^[A-Z])(?:[a-z]{2,}|[A-Z]{1,5}))\b")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")
# A headline about its own day ("Prakiraan Cuaca Jakarta Hari Ini", "Harga Emas Antam Hari
# Ini"): the day it names is its publication day, in Jakarta's time (``_TODAY_ZONE``).
_TODAY = re.compile(r"\b(?:hari|pagi|siang|sore|malam) ini\b")
_TODAY_ZONE = timezone(timedelta(hours=7))
# "2-1", "3 : 0": one or two digits, not part of a longer number. Written digit-first (the
# lookbehind after the first digit), so the regex engine skips to the next digit instead
# of trying the pattern at every position: 6.8 -> 2.0 us on a 300-character lead.
_SCORE = re.compile(r"(\d(?<![\d/.,]\d)\d?)\s?[-–:]\s?(\d{1,2})(?![\d/%]|[.,]\d)")
# "dikalahkan", "mengalahkan", "kalahkan" as well as "kalah"
_SPORT = re.compile(
    r"\b(?:skor|(?:me|di|ter)?menang|(?:di|ke)?kalah|mengalahkan|imbang|gol|laga|pertandingan"
    r"|tekuk|bungkam)"
)
_UNITS = (
    "ton", "kg", "kilogram", "gram", "hektare", "ha", "km", "kilometer", "meter", "liter",
    "barel", "orang", "jiwa", "korban", "unit", "rumah", "kendaraan", "mw", "gw", "kwh",
    "sr", "magnitudo", "derajat", "mm", "kasus", "peserta", "penumpang", "pekerja",
)  # fmt: skip
# ``stories._NUM`` opening with one digit (``\d\d*`` is ``\d+``): a pattern whose group
# opens with a repeat is tried at every position, one that opens with a character class
# lets the engine skip to the next digit (8.4 -> 6.0 us per plain-farm lead, the same
# matches: tests/test_stories.py holds it against its plain form)
_QUANTITY = re.compile(
    r"(\d\d*(?:[.,]\d+)*)"
    + st._SCALE_RE
    + r"\s*("
    + "|".join(sorted(_UNITS, key=len, reverse=True))
    + r")\b"
)
_FIGURE_TAIL = st.FIGURE_TAIL | set(_UNITS)  # a quantity's unit finishes its figure too
_MONEY = ("idr:", "usd:", "eur:", "jpy:", "cny:", "myr:")


@lru_cache(maxsize=65536)
def event_key(term: str) -> int:
    """The signed 64-bit key of a term, as the index and the frequency table keep it."""
    digest = hashlib.blake2b(b"ev\0" + term.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


@dataclass(frozen=True)
class Signature:
    """What a story's event is decided on (see the module docstring)."""

    terms: tuple[str, ...]  # distinct terms in text order: words, then names, then figures
    title_terms: frozenset[str]
    names: frozenset[str]
    figures: frozenset[str]  # "idr:1524000", "qty:1900000:ton", "%:2.5", "score:2-1"
    headline_figures: frozenset[str]  # those the headline states (see ``_cosine``)
    dates: frozenset[str]  # "d/m" named in the text
    lead_day: str | None  # weekday of the first day the lead names
    lead_move: str | None  # "up", "down", "flat": the first movement the headline or lead reports
    published_at: datetime

    @property
    def enough(self) -> bool:
        return len(self.terms) >= MIN_TERMS

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Shipped from the parse workers, one per new item, and unpickled by the main
        # process's one GIL: rebuilt without ``__init__``. (Interning its strings on arrival
        # doubled the cost, 5.3 -> 10.3 us per item, for little: the worker's token memo
        # already makes a word one object within a document's pickle.)
        return _shipped, (
            self.terms, self.title_terms, self.names, self.figures, self.headline_figures,
            self.dates, self.lead_day, self.lead_move, self.published_at,
        )  # fmt: skip


_SIGNATURE_FIELDS = tuple(f.name for f in fields(Signature))


def _shipped(*values: object) -> Signature:
    """A signature unpickled (``Signature.__reduce__``), its fields in declaration order."""
    sig = object.__new__(Signature)
    sig.__dict__.update(zip(_SIGNATURE_FIELDS, values, strict=True))
    return sig


def _word(w: str) -> str | None:
    """A token as a term, or None (short, or a stop word)."""
    w = w.replace("’", "'")
    if w.endswith("nya") and len(w) > 6:
        w = w[:-3]  # a clitic: "penangkapannya" is "penangkapan"
    return w if len(w) >= 3 and w not in STOPWORDS else None


# Token -> term ("" for none), for the tokens met so far: news repeats its vocabulary, so one
# dictionary lookup replaces the per-token rules (a third of the signature's cost).
# Cleared when full, so a stream of junk tokens cannot grow it.
_TERMS: dict[str, str] = {}
_TERMS_MAX = 50_000  # at most ~8 MB per parse worker (news repeats its commonest words)
_TERM_CHARS = 40  # longer tokens are not kept


def _words(s: str) -> list[str]:
    """The terms of lower-cased ``s``, in text order."""
    memo = _TERMS
    tokens = (_WORD_ASCII if s.isascii() else _WORD).findall(s)  # (``stories._TOKEN_ASCII``)
    new = set(tokens).difference(memo)  # set operations and a comprehension: no bytecode
    if not new:  # per known token (the signature's commonest step)
        return [t for t in map(memo.__getitem__, tokens) if t]
    if len(memo) + len(new) > _TERMS_MAX:
        memo.clear()
        new = set(tokens)
    fresh = {w: _word(w) or "" for w in new}
    memo.update((w, t) for w, t in fresh.items() if len(w) <= _TERM_CHARS)  # no junk kept
    return [t for w in tokens if (t := memo.get(w) or fresh.get(w, ""))]


def _names(raw: str, title: str) -> set[str]:
    """Names in running text (mid-sentence capitals) and acronyms anywhere. A headline is
    often in Title Case, so of the headline only its acronyms count."""
    found = {m.lower() for m in _NAME.findall(raw)}
    found |= {m.lower() for m in _ACRONYM.findall(title)}
    return {n for n in found if n not in STOPWORDS}


def _figures(s: str, sport: bool) -> tuple[set[str], set[str]]:
    """Normalised figures and "d/m" dates of lower-cased ``s`` (the story guards' money,
    percentage and date readings, see ``daemon.grouping.stories``; not their weekdays,
    which the signature does not use)."""
    dates = {f"{d}/{m}" for d, m in st.date_pairs(s, st.may_match(st._SLASH_DATE, s))}
    out = st.stated_figures(s)
    for m in _QUANTITY.finditer(s):
        if s[max(0, m.start() - 4) : m.start()].rstrip(" .").endswith(("rp", "$")):
            continue  # "Rp1.524.000/gram" is a price, already read as money
        v = st._number(m[1], m[2])
        if v is not None:
            out.add(f"qty:{v}:{m[3]}")
    if sport:  # a score is read where the headline or lead speaks of a match
        out |= {f"score:{int(m[1])}-{int(m[2])}" for m in _SCORE.finditer(s)}
    return out, dates


def signature(
    doc: st.Doc, texts: st.Texts | None = None, fp: st.Fingerprint | None = None
) -> Signature:
    """The signature of a story from its first item (title, then summary or content).
    ``texts``: ``stories.texts_of(doc)``, when the caller has it: the body is read as the
    story fingerprint cleaned it (``prepare_item`` computes both). The lead's day and
    movement are the fingerprint's (``fp``, computed here when not given), the headline's
    movement first."""
    title = _TITLE_TAIL.sub("", strip_control(normalize(doc.title[:1000])))
    body_raw = doc.summary if len(doc.summary) >= len(doc.content) / 4 else doc.content
    if not body_raw.strip():
        body_raw = doc.content
    t = st.texts_of(doc) if texts is None else texts
    # (the fingerprint's summary is empty when it only repeats the title: no lead either)
    body = t.summary if body_raw is doc.summary else t.content
    if body and (split := st.split_pull_quote(body_raw)) is not None:
        # The report's own lead, without the quote that ``clean_body`` moved after it: the
        # lead of a short description (300 characters) would otherwise end in the quote.
        body_raw = split[1]
        body = st.clean_lead(body_raw)
    tl = st.canonical_dates(title.lower())
    head = tl.split()
    reach = len(head) + LEAD_WORDS + st.FIGURE_TAIL_WORDS  # (see ``st.cut_words``)
    words_ = body.split(None, reach)[:reach]
    if (
        len(head) >= 4
        and words_
        and words_[0].strip(".,:;") == head[0].strip(".,:;")  # (most bodies: no list built)
        and [w.strip(".,:;") for w in words_[: len(head)]] == [w.strip(".,:;") for w in head]
    ):
        words_ = words_[len(head) :]  # a body that opens with its headline: the lead follows
    lead = " ".join(st.cut_words(words_, LEAD_WORDS, _FIGURE_TAIL))
    title_words = _words(tl)
    words = list(dict.fromkeys(title_words + _words(lead)))
    raw_lead = strip_control(normalize(body_raw[: LEAD_WORDS * 20])).split()[:LEAD_WORDS]
    names = _names(" ".join(raw_lead), title)
    text = tl + " . " + lead
    # a score is read where the text speaks of a match (most texts hold no score at all)
    sport = _SCORE.search(text) is not None and _SPORT.search(text) is not None
    # the headline's figures apart: a lone shared figure counts only from a headline
    # (``_cosine``); those of the lead added to them are those of the whole text
    none: tuple[set[str], set[str]] = (set(), set())
    head_figures, head_dates = _figures(tl, sport) if st.has_digit(tl) else none
    figures, dates = _figures(lead, sport) if st.has_digit(lead) else (set(), set())
    figures |= head_figures
    dates |= head_dates
    # (without the fingerprint, its readings alone: no bands)
    lead_day, move = lead_day_and_move(fp if fp is not None else st._make_features(doc, t), tl)
    named = next(st.weekdays(tl), None) if st.may_match(st._WEEKDAY, tl) else None
    if named is not None:
        lead_day = named[1]  # the headline's own day first ("Harga emas Antam Rabu naik")
    elif lead_day is None and "ini" in tl and _TODAY.search(tl):
        # A report whose lead names no day, under a headline about its own day: that day.
        # Today's headline-only forecast otherwise joined yesterday's forecast of the same
        # words, which named Tuesday (docs/design.md, "Events: a headline's own day").
        lead_day = st._WEEKDAYS[doc.published_at.astimezone(_TODAY_ZONE).weekday()]
    terms = list(dict.fromkeys([*words, *sorted(names - set(words)), *sorted(figures)]))
    return Signature(
        terms=tuple(terms),
        title_terms=frozenset(title_words) | {n for n in names if n in tl},
        names=frozenset(names),
        figures=frozenset(figures),
        headline_figures=frozenset(head_figures),
        dates=frozenset(dates),
        lead_day=lead_day,
        lead_move=move,
        published_at=doc.published_at,
    )


def lead_day_and_move(fp: st.Fingerprint, title: str) -> tuple[str | None, str | None]:
    """The day the lead names first and the movement the headline, else the lead, reports
    first: the story fingerprint's readings of the lead (its first 300 characters), which
    the parse worker has already made. Reading them again over the signature's own lead
    cost 7-9 us of its 88-92 per item; on 1,908 real articles the two readings agree on
    the day for 98.8 % and on the movement for 98.2 %, and the labelled event pairs came
    out the same, dev and test (bench/README.md, "Ninth session")."""
    return fp.lead_day, headline_move(title) or fp.lead_move


def headline_move(title: str) -> str | None:
    """The movement a lower-cased headline reports. Most name one, or several the same
    way. One that names two ways is read for what it reports: "hari ini naik atau turun?"
    asks (none: the lead answers), "sebulan naik 5,81 persen, hari ini turun" compares the
    month with the day (the day's), "ihsg ditutup turun, rupiah menguat" reports two
    markets (the first, as before). Read as its first movement, the question and the
    comparison vetoed the day's other reports of the price (bench/README.md, "Tenth
    session")."""
    found = st.movements(title)
    if len({kind for _, _, kind in found}) <= 1:
        return found[0][2] if found else None
    if any(title[end:nxt].strip() == "atau" for (_, end, _), (nxt, _, _) in pairwise(found)):
        return None
    today = title.find("hari ini")
    if today >= 0:
        for start, _, kind in found:
            if start > today:
                return kind
    return found[0][2]


# --- weights -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rarity:
    """Document frequencies of terms (stories that used them) out of ``total`` stories."""

    df: Mapping[int, int]
    total: int
    # each term's weight once per batch (a term is met by every story and candidate using
    # it, dozens of times per story): ``table`` fills it, the loops below read it directly
    _memo: dict[str, float] = field(default_factory=dict, compare=False, repr=False)
    _hot: set[str] = field(default_factory=set, compare=False, repr=False)
    serial: int = field(default_factory=itertools.count().__next__, compare=False, repr=False)

    def _add(self, term: str) -> float:
        self.prime({term: event_key(term)})
        return self._memo[term]

    def prime(self, keys: Mapping[str, int]) -> None:
        """Table every term of ``keys`` (term -> ``event_key(term)``, which the caller has
        computed anyway), in one pass: a batch's terms, before its stories are weighed."""
        memo, df, hot = self._memo, self.df, self._hot
        top = self.total + 2
        hot_above = max(HOT_MIN, HOT_SHARE * self.total)
        log = math.log
        for t, k in keys.items():
            n = df.get(k, 0)
            if n > hot_above:
                hot.add(t)
            memo[t] = log(top / (n + 1))

    def idf(self, term: str) -> float:
        w = self._memo.get(term)
        return self._add(term) if w is None else w

    def idfs(self, terms: Sequence[str]) -> list[float]:
        """Each term's idf, in order: one C pass over a batch's terms, which ``prime`` has
        tabled (any other is tabled first)."""
        try:
            return list(map(self._memo.__getitem__, terms))
        except KeyError:
            return list(map(self.table(terms).__getitem__, terms))

    def table(self, terms: Iterable[str]) -> dict[str, float]:
        """term -> idf, holding at least ``terms``."""
        memo = self._memo
        for t in set(terms).difference(memo):
            self._add(t)
        return memo

    def hot(self, term: str) -> bool:
        """A stop word for the index (``HOT_SHARE``): too common to find its event."""
        if term not in self._memo:
            self._add(term)
        return term in self._hot


def story_weights(sig: Signature, rarity: Rarity) -> dict[str, float]:
    """Each term's weight for this story: rarity, times the figure, name and headline
    factors."""
    return weights_and_square(sig, rarity)[0]


def weights_and_square(sig: Signature, rarity: Rarity) -> tuple[dict[str, float], float | None]:
    """``story_weights``, and ``_solo_square`` from the same pass when the figures come
    last (else None): both weigh each term by its rarity and figure factor, so a story that
    opens an event is weighed once, not twice (``solo_profile``'s ``square``)."""
    terms = sig.terms
    ws = rarity.idfs(terms)  # then the few terms with a factor
    head = _figures_from(sig)
    figures = range(head, len(terms)) if head is not None else [
        i for i, t in enumerate(terms) if ":" in t  # a figure (no word or name has a colon)
    ]  # fmt: skip
    for i in figures:
        ws[i] *= _figure_weight(terms[i])
    square = sum(map(operator.mul, ws, ws), 0.0) if head is not None else None
    out = dict(zip(terms, ws))
    for t in sig.names:
        if t in out and ":" not in t:
            out[t] *= NAME_WEIGHT
    for t in sig.title_terms:
        if t in out:
            out[t] *= TITLE_WEIGHT
    return out, square


def _figures_from(sig: Signature) -> int | None:
    """Where the figures start in ``sig.terms``: ``signature`` puts them last (words and
    names are letters, figures hold a colon), so a story's figures are its last terms,
    found without testing each term; None for a signature not made so."""
    terms = sig.terms
    head = len(terms) - len(sig.figures)
    if head < 0 or ":" in " ".join(terms[:head]):
        return None
    return head if all(":" in t for t in terms[head:]) else None


def _figure_weight(term: str) -> float:
    """``FIGURE_WEIGHT`` for a precise figure (three significant digits or more: a price,
    a toll), ``ROUND_WEIGHT`` for a round one ("Rp1,9 juta", "2 juta ton", a score): round
    figures are said of many things."""
    return FIGURE_WEIGHT if _precise(term) else ROUND_WEIGHT


@lru_cache(maxsize=4096)  # (a few string operations: the commonest figures are enough)
def _precise(term: str) -> bool:
    if term.startswith("score:"):
        return False
    digits = term.split(":")[1].replace(".", "").strip("0")
    return len(digits) >= 3


def index_keys(
    sig: Signature, rarity: Rarity, n: int | None = None, weights: Mapping[str, float] | None = None
) -> list[int]:
    """The keys a story is filed and looked up under: its rarest terms (weighted as in
    ``similarity``: money figures, names and headline words first among equals), hot terms
    (``Rarity.hot``) left out. Two reports of one happening share some of their rarest
    words, the names and figures: a handful of keys finds them without reading the whole
    window."""
    # ties among unseen words go to headline words, names, figures
    w = weights if weights is not None else story_weights(sig, rarity)  # tables the terms
    hot = rarity._hot
    terms = [t for t in sig.terms if t not in hot]
    ranked = heapq.nsmallest(n or INDEX_KEYS, terms, key=lambda t: (-w[t], t))
    return [event_key(t) for t in ranked]


# --- events --------------------------------------------------------------------------------


@dataclass
class Profile:
    """An event as the aggregate of its stories: how many used each term, figure and date."""

    stories: int = 0
    terms: dict[str, int] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)
    headline_figures: dict[str, int] = field(default_factory=dict)
    dates: dict[str, int] = field(default_factory=dict)
    days: dict[str, int] = field(default_factory=dict)  # lead days
    moves: dict[str, int] = field(default_factory=dict)  # lead movements
    first: datetime | None = None  # earliest and latest publication of its stories
    last: datetime | None = None
    # The norm of its weighted centroid, as of its last change (``centroid_norm``): stored
    # with it, so comparing a story with an event reads only the terms the story has.
    # Rarity drifts slowly; a norm a few polls old moves a cosine by a rounding error.
    norm: float | None = None

    def add(self, sig: Signature) -> None:
        self.norm = None
        self.stories += 1
        for t in sig.terms:
            self.terms[t] = self.terms.get(t, 0) + 1
        for f in sig.figures:
            self.figures[f] = self.figures.get(f, 0) + 1
        for f in sig.headline_figures:
            self.headline_figures[f] = self.headline_figures.get(f, 0) + 1
        for d in sig.dates:
            self.dates[d] = self.dates.get(d, 0) + 1
        if sig.lead_day:
            self.days[sig.lead_day] = self.days.get(sig.lead_day, 0) + 1
        if sig.lead_move:
            self.moves[sig.lead_move] = self.moves.get(sig.lead_move, 0) + 1
        at = sig.published_at
        self.first = at if self.first is None or at < self.first else self.first
        self.last = at if self.last is None or at > self.last else self.last
        if len(self.terms) > MAX_TERMS * 2:  # keep the most shared terms
            keep = sorted(self.terms.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS]
            self.terms = dict(keep)

    def copy(self) -> Profile:
        """A profile that can change without changing this one (a cached one is shared:
        ``daemon.storage.events.ProfileCache``)."""
        return replace(
            self, terms=dict(self.terms), figures=dict(self.figures),
            headline_figures=dict(self.headline_figures), dates=dict(self.dates),
            days=dict(self.days), moves=dict(self.moves),
        )  # fmt: skip

    def encode(self) -> str:
        return json.dumps(
            {
                "n": self.stories, "t": _pack_counts(self.terms), "f": _pack_counts(self.figures),
                "h": _pack_counts(self.headline_figures), "d": _pack_counts(self.dates),
                "w": self.days, "m": self.moves, "a": _stamp(self.first), "b": _stamp(self.last),
                "z": self.norm,
            },
            ensure_ascii=False, separators=(",", ":"),
        )  # fmt: skip

    @classmethod
    def decode(cls, data: str) -> Profile | None:
        try:
            m = _SOLO_FORMAT.fullmatch(data)
            if m is not None:  # what ``solo_profile`` writes: nearly every stored profile
                t, f, h, dt, day, move, a, b, z = m.groups()
                d = {"n": 1, "t": t, "f": f, "h": h, "d": dt, "a": int(a), "b": int(b),
                     "w": {} if day is None else {day: 1}, "z": z,
                     "m": {} if move is None else {move: 1}}  # fmt: skip
            else:
                d = json.loads(data)
            return cls(
                stories=int(d["n"]), terms=_unpack_counts(d["t"]),
                figures=_unpack_counts(d["f"]), headline_figures=_unpack_counts(d.get("h") or {}),
                dates=_unpack_counts(d["d"]), days=dict(d["w"]), moves=dict(d["m"]),
                first=_unstamp(d["a"]), last=_unstamp(d["b"]),
                norm=None if d.get("z") is None else float(d["z"]),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def of(cls, sig: Signature) -> Profile:
        p = cls()
        p.add(sig)
        return p


def solo_profile(sig: Signature, rarity: Rarity, square: float | None = None) -> str | None:
    """``Profile.of(sig)`` with its ``centroid_norm``, encoded: the same string, built
    without the profile. Nearly every story opens an event that no other story joins in
    its batch; building, weighing and encoding a profile for each was a fifth of event
    assignment's main-process CPU on the plain farm, and ``json.dumps`` half of what was
    left: the terms are words, names, figures and dates, which JSON writes as they are, so
    the string is formatted directly. None when only the general path can say (a profile
    that ``Profile.add`` would trim, a term that cannot be packed or needs escaping).
    ``square``: ``_solo_square(sig, rarity)``, when the caller has it (``weights_and_square``)."""
    terms = sig.terms
    if len(terms) > MAX_TERMS * 2:
        return None
    packed = [_pack_terms(v) for v in (terms, sig.figures, sig.headline_figures, sig.dates)]
    if None in packed:
        return None
    day, move = sig.lead_day or "", sig.lead_move or ""
    if _NEEDS_ESCAPE("".join((*packed, day, move))):  # type: ignore[arg-type]
        return None
    total = _solo_square(sig, rarity) if square is None else square
    at = _stamp(sig.published_at)
    days = f'"{day}":1' if day else ""
    moves = f'"{move}":1' if move else ""
    return (
        f'{{"n":1,"t":"{packed[0]}","f":"{packed[1]}","h":"{packed[2]}","d":"{packed[3]}",'
        f'"w":{{{days}}},"m":{{{moves}}},"a":{at},"b":{at},"z":{math.sqrt(total)!r}}}'
    )


def _solo_square(sig: Signature, rarity: Rarity) -> float:
    """``_centroid_square`` of a one-story event (every count 1), to the bit: the weights
    in one C pass, the figures' factor on the last terms, the squares summed in term order
    (``Profile.add``'s). Every new story opens such an event: the per-term loop was 70 % of
    ``solo_profile`` (bench/README.md, "Fifth session")."""
    terms = sig.terms
    head = _figures_from(sig)
    if head is None:
        return _centroid_square(((t, 1) for t in terms), 1, rarity)
    ws = rarity.idfs(terms)
    for i in range(head, len(terms)):
        ws[i] *= _figure_weight(terms[i])
    return sum(map(operator.mul, ws, ws), 0.0)


# What ``json.dumps(..., ensure_ascii=False)`` would escape in a string
_ESCAPED = r'\x00-\x1f"\\'
_NEEDS_ESCAPE = re.compile(f"[{_ESCAPED}]").search
# ``solo_profile``'s string, read as ``json.loads`` reads it: its strings hold nothing that
# JSON escapes, so one regex replaces the parser and its dict (``Profile.decode``: 1.4-2.1x
# faster per profile on the farms' stored events; a property in tests/test_fuzz.py holds
# the two readings equal on such strings and their near misses)
_JSON_TEXT = f"([^{_ESCAPED}]*)"
_INT = r"-?(?:0|[1-9][0-9]*)"  # JSON's integer: no leading zero, no plus sign
_JSON_INT = f"({_INT})"
_JSON_NUMBER = f"({_INT}(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
_SOLO_FORMAT = re.compile(
    r'\{"n":1,"t":"T","f":"T","h":"T","d":"T","w":\{(?:"T":1)?\},"m":\{(?:"T":1)?\},'
    r'"a":I,"b":I,"z":N\}'.replace("T", _JSON_TEXT)
    .replace("I", _JSON_INT)
    .replace("N", _JSON_NUMBER)
)


def _pack_terms(terms: Iterable[str]) -> str | None:
    """``_pack_counts`` of ``dict.fromkeys(terms, 1)`` when it gives a string, else None."""
    terms = tuple(terms)
    joined = " ".join(terms)
    if terms and (not all(terms) or joined.count(" ") != len(terms) - 1):
        return None
    return joined


def _pack_counts(counts: dict[str, int]) -> str | dict[str, int]:
    """Counts all 1 (a profile of one story: nearly every event) as one string of the terms
    separated by spaces, which no term holds (words, names, figures and dates are read
    without): JSON reads one string faster than an object of 40 keys (a profile of one
    real 2025 story: 9.1 -> 8.0 us to decode, 422 -> 313 characters)."""
    for k, v in counts.items():
        if v != 1 or " " in k or not k:
            return counts
    return " ".join(counts)


def _unpack_counts(v: str | dict[str, int]) -> dict[str, int]:
    if isinstance(v, str):
        return dict.fromkeys(v.split(" "), 1) if v else {}
    return dict(v)


def _stamp(dt: datetime | None) -> int | None:
    return None if dt is None else int(dt.timestamp())


def _unstamp(v: int | None) -> datetime | None:
    return None if v is None else datetime.fromtimestamp(int(v), _UTC)


def _money(figs: Iterable[str]) -> set[str]:
    return {f for f in figs if f.startswith(_MONEY)}


def _scores(figs: Iterable[str]) -> set[str]:
    return {f for f in figs if f.startswith("score:")}


def _money_clash(mine: set[str], theirs: set[str]) -> bool:
    """Whether most money figures of two texts differ: fewer than half of the smaller side's
    agree with the other's. A round figure (``_precise`` false: "hampir Rp1,9 juta", "tembus
    Rp1,7 juta") may be an approximation: it agrees with the figures it rounds
    ("Rp1.701.000"), and it is left out when the other text states no figure of its size (a
    headline's "Rp1,9 juta" against a lead that reaches only the day's changes, "Rp38.000"):
    one report may round what another states in full, two editions differ in full."""
    if all(map(_precise, mine)) and all(map(_precise, theirs)):  # the common case
        return 2 * len(mine & theirs) < min(len(mine), len(theirs))
    agree, counted = [0, 0], [0, 0]
    for side, (these, those) in enumerate(((mine, theirs), (theirs, mine))):
        sizes = {_size(g) for g in those}
        for f in these:
            if f in those or any(_rounds_to(f, g) or _rounds_to(g, f) for g in those):
                agree[side] += 1
            elif _precise(f) or _size(f) in sizes:
                counted[side] += 1
    counted = [c + a for c, a in zip(counted, agree, strict=True)]
    return bool(counted[0] and counted[1]) and 2 * min(agree) < min(counted)


def _size(figure: str) -> tuple[str, int]:
    """A money figure's currency and number of integer digits ("idr:1700000": idr, 7)."""
    cur, _, v = figure.partition(":")
    return cur, len(v.partition(".")[0])


_MONEY_DIGITS = 18  # longer "money" is no price anyone rounds (a quintillion rupiah)


@lru_cache(maxsize=4096)
def _rounds_to(figure: str, round_: str) -> bool:
    """Whether money figure ``figure`` rounds to the round figure ``round_`` at its last
    significant digit (same currency, whole numbers): 1701000 and 1692000 to 1700000, not
    1650000 or 1700000 itself."""
    cur, _, v = figure.partition(":")
    rcur, _, r = round_.partition(":")
    # whole numbers of one currency and size; no longer than a price (a feed's "Rp" and
    # 5,000 digits: ``int`` refuses more than 4,300)
    if cur != rcur or v == r or len(v) != len(r) or len(v) > _MONEY_DIGITS:
        return False
    if not (v.isdigit() and r.isdigit()) or _precise(round_):
        return False
    zeros = len(r) - len(r.rstrip("0"))
    if not zeros:
        return False
    step = 10**zeros
    return (int(v) + step // 2) // step * step == int(r)


def vetoed(sig: Signature, ev: Profile, window: timedelta) -> str | None:
    """Why ``sig`` cannot belong to ``ev`` whatever their wording, or None."""
    if ev.first is not None and ev.last is not None:
        lo, hi = min(ev.first, sig.published_at), max(ev.last, sig.published_at)
        if hi - lo > window:
            return "window"
    days = set(ev.days)
    if sig.lead_day and days and sig.lead_day not in days:
        return "day"  # the lead names another day first: another edition
    if sig.lead_move and ev.moves and sig.lead_move not in ev.moves:
        return "move"  # one says the price rose, the other that it fell: two editions
    if sig.dates and ev.dates and sig.dates.isdisjoint(ev.dates):
        return "dates"
    mine, theirs = _money(sig.figures), _money(ev.figures)
    if mine and theirs and _money_clash(mine, theirs):
        return "figures"  # most money figures differ: another edition of a price report
    mine, theirs = _scores(sig.figures), _scores(ev.figures)
    if mine and theirs and mine.isdisjoint(theirs):
        return "score"
    return None


def similarity(sig: Signature, ev: Profile, rarity: Rarity) -> float:
    """Cosine between the story's weighted terms and the event's centroid (each term
    weighted by rarity and by the share of the event's stories that use it)."""
    mine = story_weights(sig, rarity)
    return _cosine(sig, mine, math.sqrt(sum(w * w for w in mine.values())), ev, rarity)


def _cosine(
    sig: Signature, mine: Mapping[str, float], norm_s: float, ev: Profile, rarity: Rarity
) -> float:
    """Only the story's terms are looked up in the event; the event's side of the norm is
    its stored one (``centroid_norm``)."""
    if not ev.stories or not norm_s:
        return 0.0
    n = ev.stories
    counts = ev.terms
    idf = rarity._memo  # ``mine`` came from ``story_weights``, which tabled its terms
    dot = 0.0
    lone: tuple[str, float, float] | None = None  # the only shared figure: its term, weights
    figures = 0
    for t, m in mine.items():
        c = counts.get(t)
        if c is not None:
            e = (idf.get(t) or rarity.idf(t)) * c / n
            if ":" in t:
                e *= _figure_weight(t)
                figures += 1
                lone = (t, m, e)
            dot += m * e
    norm_e = ev.norm if ev.norm is not None else centroid_norm(ev, rarity)
    if figures == 1 and lone is not None and not _headline(lone[0], sig, ev):
        # One shared figure in neither headline: a coincidence of numbers, no evidence
        # either way. The story and the event are compared without it, on both sides.
        _, m, e = lone
        dot -= m * e
        norm_s = math.sqrt(max(norm_s * norm_s - m * m, 0.0))
        norm_e = math.sqrt(max(norm_e * norm_e - e * e, 0.0))
    if dot <= 0 or not norm_s or not norm_e:
        return 0.0
    return min(dot / (norm_s * norm_e), 1.0)


def _headline(figure: str, sig: Signature, ev: Profile) -> bool:
    """Whether the story's or the event's headline states ``figure``. One figure two
    reports share is evidence when a headline makes it the news (the day's gold price,
    "stok beras 1,9 juta ton"); stated in passing in both leads, it is as likely a
    coincidence: a 36-hour window of news holds many "45,6 persen" and "120 unit", and on
    the farms such figures alone merged a third of unrelated stories (bench/README.md,
    "Events: one shared figure")."""
    return figure in sig.headline_figures or figure in ev.headline_figures


def centroid_norm(ev: Profile, rarity: Rarity) -> float:
    """The norm of the event's weighted centroid (each term: rarity, figure weight, share of
    its stories), kept on the profile until it changes. A term whose frequency was not read
    (no story of the batch uses it) weighs as a rare one: unshared terms then count fully
    against a match (precision first)."""
    ev.norm = math.sqrt(_centroid_square(ev.terms.items(), ev.stories, rarity))
    return ev.norm


def _centroid_square(counts: Iterable[tuple[str, int]], n: int, rarity: Rarity) -> float:
    """The squared norm of a centroid of ``n`` stories with these term counts (the one
    sum behind ``centroid_norm`` and ``solo_profile``)."""
    memo = rarity._memo
    total = 0.0
    for t, c in counts:
        w = memo.get(t)
        if w is None:
            w = rarity.idf(t)
        if ":" in t:
            w *= _figure_weight(t) * c / n
        elif c != n:  # (else a factor of exactly 1: every term of a one-story event)
            w *= c / n
        total += w * w
    return total


def choose_event(
    sig: Signature,
    candidates: Iterable[tuple[int, Profile]],
    rarity: Rarity,
    window: timedelta,
    threshold: float | None = None,
    weights: Mapping[str, float] | None = None,
) -> int | None:
    """The event the story joins: the candidate with the highest similarity at or above
    ``threshold`` that no guard vetoes (ties: the earliest event), or None for a new one.
    ``candidates``: best first (``rank_candidates``); the first ``CANDIDATES`` that no guard
    vetoes are scored, and the rest are not read (a lazy iterable loads them on demand).
    ``weights``: ``story_weights(sig, rarity)``, when the caller has them."""
    if not sig.enough or rarity.total < MIN_CORPUS:
        return None
    if threshold is None:
        threshold = THRESHOLD
    best: tuple[float, int] | None = None
    mine = weights
    norm_s = 0.0 if mine is None else math.hypot(*mine.values())
    places = CANDIDATES
    for event_id, ev in candidates:
        if not places:
            break  # (the rest of the ranking: read only in a vetoed one's place)
        if vetoed(sig, ev, window) is not None:
            continue
        places -= 1
        if mine is None:  # the story's side once, whatever the number of candidates
            mine = story_weights(sig, rarity)
            norm_s = math.hypot(*mine.values())
        s = _cosine(sig, mine, norm_s, ev, rarity)
        if s >= threshold and (best is None or (-s, event_id) < (-best[0], best[1])):
            best = (s, event_id)
    return None if best is None else best[1]


def rank_candidates(hits: Mapping[int, int], limit: int | None = None) -> list[int]:
    """Event ids by index keys shared (most first, then the newest, highest id), at most
    ``limit`` (``CANDIDATES`` and their ``RESERVE``)."""
    n = limit or CANDIDATES + RESERVE
    if len(hits) <= n:
        return [e for _, e in sorted(((c, e) for e, c in hits.items()), reverse=True)]
    return [e for _, e in heapq.nlargest(n, ((c, e) for e, c in hits.items()))]
