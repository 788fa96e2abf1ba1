r"""One-pass matching of an item against every topic (README.md, "Topics: the query language").

``Matcher.compile`` turns all topic queries into one index when the config loads: a dict
from lower-cased word to the terms ("atoms") it satisfies (family expansions included), a
bucketed table of prefixes, and each topic's query as a small tree of evaluator objects.
``Matcher.match`` tokenises each field once, intersects the distinct tokens with the
dictionary (a C-level set operation), records the token positions of each atom that
occurs, and evaluates only the topics that have at least one non-negated atom present.
The parser guarantees that no other topic can match (``daemon.topics.query.positive``).

Tokens (``tokenize``): the text is normalised (``daemon.text.normalize``: NFKC, soft
hyphens and zero-width characters removed, no-break spaces made spaces) and control
characters are dropped, exactly as stored text is. A token is a run of letters and digits
(``[^\W_]+``); everything else separates tokens: hyphens ("NATO-Rusia", "pro-Ukraina"),
apostrophes ("Jum'at" -> jum, at; "Putin's" -> Putin, s), dots and commas in numbers
("Rp1.524.000" -> Rp1, 524, 000; "2,5" -> 2, 5), underscores and all punctuation. Letters and
digits stay together ("G20", "COVID19"). Queries are split by the same code, so a query word
that splits becomes a phrase of its parts and matches the text that splits the same way:
``Rp1.524.000`` matches "Rp1.524.000" and "Rp1,524,000", ``Jum'at`` matches "Jum'at".

Case: matching is on lower-cased tokens, except words written in ALL CAPS (two or more
letters, all capitals), which must equal the token exactly: ``AS`` matches "AS" but not
"as" or "As"; ``NATO*`` matches "NATOs" but not "Natos".

Results: ``TopicMatch.terms`` lists the query terms that made the topic match (negated
terms never), each once, ordered by first occurrence (title, then summary, then full text;
then position). ``snippet`` is about 80 characters either side of the earliest such
occurrence in the summary, else the full text, else the title: the title is already in
every alert, so the snippet shows the surrounding body text when the body has a match.
"""

from __future__ import annotations

import re
import string
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

from daemon.text import CLEANUP_TABLE, cap, fold_ws, normalize, strip_control
from daemon.topics.query import (
    FIELDS,
    WORD_RE,
    And,
    Near,
    Node,
    Not,
    Phrase,
    QueryError,
    Term,
    parse_query,
)
from daemon.topics.wordfamily import word_family

SNIPPET_RADIUS = 80
SNIPPET_MAX = 2 * SNIPPET_RADIUS + 120
_FIELD_AND_POSITION = itemgetter(1, 2)
_PREFIX_MEMO_MAX = 500_000  # distinct tokens remembered by the prefix memo
_ALL_FIELDS = (0, 1, 2)
_SNIPPET_FIELD_ORDER = (1, 2, 0)  # summary, text, title

# atom id -> positions per field [title, summary, text]
Hits = dict[int, list[list[int]]]


class Token(NamedTuple):
    text: str  # as in the prepared text
    lower: str
    start: int  # offsets into prepare(s)
    end: int


def prepare(s: str) -> str:
    """The form of a field that tokens and snippet offsets refer to: normalised, with
    control characters removed (as ``daemon.text.clean_text`` stores it)."""
    if not s:
        return ""
    if s.isascii():
        return s.encode("ascii").translate(None, _CONTROLS).decode("ascii")
    # normalize() is a per-character dict lookup on non-ASCII text; skip it when it would
    # change nothing (the usual case: curly quotes and dashes are already NFKC).
    if _CHANGED_BY_NORMALIZE.search(s) or not _is_nfkc(s):
        s = normalize(s)
    return strip_control(s)


def _is_nfkc(s: str) -> bool:
    return unicodedata.is_normalized("NFKC", s)


def tokenize(s: str) -> list[Token]:
    """Tokens of ``s`` with offsets into ``prepare(s)`` (see module docstring). The matcher
    uses the faster ``spaced`` for the same tokens."""
    return [
        Token(m.group(), m.group().lower(), m.start(), m.end())
        for m in WORD_RE.finditer(prepare(s))
    ]


_ASCII_WORD = frozenset(string.ascii_letters + string.digits)
# ASCII non-word bytes become spaces; bytes >= 0x80 (UTF-8 of non-ASCII letters) are kept.
_TABLE = bytes(c if c >= 128 or chr(c) in _ASCII_WORD else 32 for c in range(256))
# The controls strip_control removes (tab, newline and CR are kept, as whitespace).
_CONTROLS = bytes(c for c in range(128) if (c < 32 and chr(c) not in "\t\n\r") or c == 127)
# One space per character (no "+"), so spaced(s) has the length of prepare(s).
_NONASCII_NONWORD = re.compile(r"[^\x00-\x7f\w]")
# Characters daemon.text.normalize removes or turns into spaces (its own table, so the two
# cannot drift apart).
_CHANGED_BY_NORMALIZE = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted(CLEANUP_TABLE)) + "]"
)


def spaced(s: str) -> str:
    """``prepare(s)`` with every non-word character made a space: ``.split()`` yields
    exactly ``WORD_RE.findall(prepare(s))``, several times faster than the regex (most feed
    text is ASCII, which needs no normalisation and one ``bytes.translate``), and offsets
    are those of ``prepare(s)``."""
    if s.isascii():
        return s.encode("ascii").translate(_TABLE, _CONTROLS).decode("ascii")
    return _spaced_prepared(prepare(s))


def _spaced_prepared(p: str) -> str:
    if p.isascii():
        return p.encode("ascii").translate(_TABLE).decode("ascii")
    p = _NONASCII_NONWORD.sub(" ", p)  # lone surrogates go here too
    return p.encode("utf-8").translate(_TABLE).decode("utf-8")


def word_tokens(s: str) -> list[str]:
    """The tokens of ``s`` as written (case kept); queries are split with this too."""
    return spaced(s).split()


@dataclass(frozen=True)
class TopicSpec:
    name: str
    query: str


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    terms: tuple[str, ...]
    snippet: str

    def __reduce__(self) -> tuple[object, tuple[str, tuple[str, ...], str]]:
        # rebuilt without the frozen dataclass's __init__ (workers ship one per match)
        return (_revive_match, (self.topic, self.terms, self.snippet))


def _revive_match(topic: str, terms: tuple[str, ...], snippet: str) -> TopicMatch:
    m = object.__new__(TopicMatch)
    m.__dict__.update(topic=topic, terms=terms, snippet=snippet)
    return m


class TopicErrors(ValueError):
    """Every bad topic at once, so the operator fixes the config in one round."""

    def __init__(self, errors: list[tuple[str, QueryError]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"topic {name!r}: {err}" for name, err in errors))


# ---------------------------------------------------------------------------------------
# Evaluator tree. ``ev`` is the hot path; ``explain`` runs only for topics that matched.


class _Leaf:
    """A term or a phrase: consecutive atoms in one of ``fields``."""

    __slots__ = ("atoms", "fields", "label", "first", "single", "anywhere")

    def __init__(self, atoms: tuple[int, ...], fields: tuple[int, ...], label: str) -> None:
        self.atoms = atoms
        self.fields = fields
        self.label = label
        self.first = atoms[0]
        self.single = len(atoms) == 1
        self.anywhere = fields == _ALL_FIELDS

    def ev(self, h: Hits) -> bool:
        pos = h.get(self.first)
        if pos is None:
            return False
        if self.single:
            # an atom is in ``h`` only with at least one position
            return self.anywhere or any(pos[f] for f in self.fields)
        return any(self.spans(h, f) for f in self.fields)

    def spans(self, h: Hits, f: int) -> list[int]:
        """Sorted start positions of this leaf in field ``f``."""
        first = h.get(self.first)
        if first is None or not first[f]:
            return []
        if len(self.atoms) == 1:
            return first[f]
        rest = []
        for a in self.atoms[1:]:
            p = h.get(a)
            if p is None or not p[f]:
                return []
            rest.append(set(p[f]))
        return [s for s in first[f] if all(s + k in r for k, r in enumerate(rest, 1))]

    def explain(self, h: Hits, out: list[tuple[str, int, int, int]]) -> None:
        width = len(self.atoms) - 1
        for f in self.fields:
            starts = self.spans(h, f)
            if starts:
                out.append((self.label, f, starts[0], starts[0] + width))


class _Near:
    __slots__ = ("left", "right", "n", "fields")

    def __init__(self, left: _Leaf, right: _Leaf, n: int, fields: tuple[int, ...]) -> None:
        self.left, self.right, self.n, self.fields = left, right, n, fields

    def ev(self, h: Hits) -> bool:
        if self.left.first not in h or self.right.first not in h:
            return False
        return any(self._pair(h, f) for f in self.fields)

    def _pair(self, h: Hits, f: int) -> tuple[int, int] | None:
        """The first (left start, right start) within ``n`` words, not overlapping."""
        ls, rs = self.left.spans(h, f), self.right.spans(h, f)
        if not ls or not rs:
            return None
        lw, rw, n = len(self.left.atoms) - 1, len(self.right.atoms) - 1, self.n
        for s in ls:
            e = s + lw
            # right after left: its start in (e, e + n]
            i = bisect_right(rs, e)
            if i < len(rs) and rs[i] <= e + n:
                return s, rs[i]
            # right before left: its end (start + rw) in [s - n, s)
            j = bisect_left(rs, s - n - rw)
            if j < len(rs) and rs[j] + rw < s:
                return s, rs[j]
        return None

    def explain(self, h: Hits, out: list[tuple[str, int, int, int]]) -> None:
        lw, rw = len(self.left.atoms) - 1, len(self.right.atoms) - 1
        for f in self.fields:
            pair = self._pair(h, f)
            if pair:
                out.append((self.left.label, f, pair[0], pair[0] + lw))
                out.append((self.right.label, f, pair[1], pair[1] + rw))


class _And:
    __slots__ = ("children",)

    def __init__(self, children: list) -> None:
        self.children = children

    def ev(self, h: Hits) -> bool:
        for c in self.children:
            if not c.ev(h):
                return False
        return True

    def explain(self, h: Hits, out: list[tuple[str, int, int, int]]) -> None:
        for c in self.children:
            c.explain(h, out)


class _Or:
    __slots__ = ("children",)

    def __init__(self, children: list) -> None:
        self.children = children

    def ev(self, h: Hits) -> bool:
        for c in self.children:
            if c.ev(h):
                return True
        return False

    def explain(self, h: Hits, out: list[tuple[str, int, int, int]]) -> None:
        for c in self.children:
            if c.ev(h):
                c.explain(h, out)


class _Not:
    __slots__ = ("child",)

    def __init__(self, child: object) -> None:
        self.child = child

    def ev(self, h: Hits) -> bool:
        return not self.child.ev(h)  # type: ignore[attr-defined]

    def explain(self, h: Hits, out: list[tuple[str, int, int, int]]) -> None:
        return None  # an absent term explains nothing


# ---------------------------------------------------------------------------------------
# Compilation


class _Index:
    """Atoms shared by all topics: exact words (family words included) and prefixes."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}
        self.words: dict[str, list[tuple[int, str | None]]] = {}
        self.prefixes: list[tuple[str, int, str | None]] = []

    def word(self, words: frozenset[str], cs: str | None) -> int:
        key = ("w", words, cs)
        if key not in self.ids:
            atom = self.ids[key] = len(self.ids)
            for w in words:
                self.words.setdefault(w, []).append((atom, cs))
        return self.ids[key]

    def prefix(self, prefix: str, cs: str | None) -> int:
        key = ("p", prefix, cs)
        if key not in self.ids:
            atom = self.ids[key] = len(self.ids)
            self.prefixes.append((prefix, atom, cs))
        return self.ids[key]

    def term_atom(self, word: str, kind: str, case_sensitive: bool) -> int:
        cs = word if case_sensitive else None
        if kind == "family":
            return self.word(word_family(word), None)
        if kind == "prefix":
            return self.prefix(word.lower(), cs)
        return self.word(frozenset((word.lower(),)), cs)


def _fields(field: str | None) -> tuple[int, ...]:
    return _ALL_FIELDS if field is None else (FIELDS.index(field),)


def _leaf(node: Term | Phrase, index: _Index, fields: tuple[int, ...]) -> _Leaf:
    if isinstance(node, Term):
        atom = index.term_atom(node.word, node.kind, node.case_sensitive)
        return _Leaf((atom,), fields, node.label)
    atoms = []
    for word, cs in zip(node.words, node.case_sensitive):
        if word.endswith("*"):
            atoms.append(index.term_atom(word[:-1], "prefix", cs))
        else:
            atoms.append(index.term_atom(word, "word", cs))
    return _Leaf(tuple(atoms), fields, node.label)


def _build(node: Node, index: _Index, positive: list[int], negated: bool = False) -> object:
    """The evaluator for ``node``; atoms outside any NOT go to ``positive``."""
    if isinstance(node, (Term, Phrase)):
        leaf = _leaf(node, index, _fields(node.field))
        if not negated:
            positive.extend(leaf.atoms[:1])
        return leaf
    if isinstance(node, Near):
        fields = _fields(node.field)
        left, right = _leaf(node.left, index, fields), _leaf(node.right, index, fields)
        if not negated:
            positive.append(left.first)
        return _Near(left, right, node.n, fields)
    if isinstance(node, Not):
        return _Not(_build(node.child, index, positive, True))
    kids = [_build(c, index, positive, negated) for c in node.children]
    return _And(kids) if isinstance(node, And) else _Or(kids)


@dataclass
class _Topic:
    name: str
    root: object


class Matcher:
    """All topics compiled into one index. Build a new one on reload and swap it in; apart
    from a bounded internal memo it never changes, and ``match`` may run in many threads."""

    def __init__(self, topics: list[_Topic], index: _Index, by_atom: dict[int, list[int]]):
        self._topics = topics
        self.topic_names: tuple[str, ...] = tuple(t.name for t in topics)
        self._words = index.words
        self._vocab = frozenset(index.words)
        self._by_atom = by_atom
        plen = min((len(p) for p, _, _ in index.prefixes), default=0)
        self._plen = plen
        heads: dict[str, list[tuple[str, int, str | None]]] = {}
        for p, atom, cs in index.prefixes:
            heads.setdefault(p[:plen], []).append((p, atom, cs))
        self._heads = heads
        self._seen: set[str] = set()  # tokens already tested against the prefixes
        self._starting: dict[str, list[tuple[int, str | None]]] = {}  # ... that matched

    @classmethod
    def compile(cls, topics: Sequence[TopicSpec]) -> Matcher:
        """Parse and index every topic; raises ``TopicErrors`` naming all bad ones."""
        errors: list[tuple[str, QueryError]] = []
        seen: set[str] = set()
        index = _Index()
        compiled: list[_Topic] = []
        by_atom: dict[int, list[int]] = {}
        for spec in topics:
            if spec.name in seen:
                errors.append((spec.name, QueryError(0, "duplicate topic name")))
                continue
            seen.add(spec.name)
            try:
                node = parse_query(spec.query)
            except QueryError as e:
                errors.append((spec.name, e))
                continue
            positive: list[int] = []
            root = _build(node, index, positive)
            for atom in dict.fromkeys(positive):
                by_atom.setdefault(atom, []).append(len(compiled))
            compiled.append(_Topic(spec.name, root))
        if errors:
            raise TopicErrors(errors)
        return cls(compiled, index, by_atom)

    # -- matching ---------------------------------------------------------------------

    def match(self, title: str, summary: str = "", text: str = "") -> list[TopicMatch]:
        """Every topic the item matches, in config order."""
        texts = (title, summary, text)
        hits: Hits = {}
        for f, s in enumerate(texts):
            if s:
                self._scan(f, s, hits)
        if not hits:
            return []
        by_atom = self._by_atom
        candidates: set[int] = set()
        for atom in hits:
            topics = by_atom.get(atom)
            if topics:
                candidates.update(topics)
        out = []
        views: dict[int, FieldView] = {}
        for t in sorted(candidates):
            topic = self._topics[t]
            if topic.root.ev(hits):  # type: ignore[attr-defined]
                out.append(self._result(topic, hits, texts, views))
        return out

    def highlights(self, title: str, summary: str = "", text: str = "") -> list[Highlight]:
        """Where the matching topics' terms occur, for a reader to see why an item matched
        (the dashboard's search, daemon/web): every occurrence of each term that counted
        (a NEAR pair only where it is within reach; negated terms never), as character
        spans of ``prepare(field)``, sorted. Not on the hot path: ``match`` stays lean."""
        texts = (title, summary, text)
        hits: Hits = {}
        for f, s in enumerate(texts):
            if s:
                self._scan(f, s, hits)
        spans: set[tuple[int, int, int]] = set()
        for topic in self._topics:
            if hits and topic.root.ev(hits):  # type: ignore[attr-defined]
                _occurrences(topic.root, hits, spans)
        views = {f: FieldView(texts[f]) for f in {f for f, _, _ in spans}}
        out = []
        for f, first, last in spans:
            view = views[f]
            out.append(Highlight(f, view.span(first)[0], view.span(last)[1]))
        return sorted(out)

    def _scan(self, f: int, s: str, hits: Hits) -> None:
        """Record, for field ``f``, the positions of every atom that occurs in ``s``."""
        text = spaced(s)
        # Lower-casing never adds or removes whitespace, so tokens stay aligned.
        lows = text.lower().split()
        if not lows:
            return
        uniq = set(lows)
        found = uniq & self._vocab  # C-level: most tokens are in no query
        prefixed = self._prefixed(uniq) if self._heads else []
        if not found and not prefixed:
            return
        where = _where(lows, found.union(w for w, _, _ in prefixed))
        words: list[str] | None = None  # original case, only needed for ALL-CAPS atoms
        vocab = self._words
        for w in found:
            for atom, cs in vocab[w]:
                if cs:
                    words = words or text.split()
                    _add(hits, atom, f, [i for i in where[w] if words[i] == cs])
                else:
                    _add(hits, atom, f, where[w])
        for w, atom, cs in prefixed:
            if cs:
                words = words or text.split()
                _add(hits, atom, f, [i for i in where[w] if words[i].startswith(cs)])
            else:
                _add(hits, atom, f, where[w])
        for lists in hits.values():  # families and prefixes collect several words
            if len(lists[f]) > 1:
                lists[f].sort()

    def _prefixed(self, uniq: set[str]) -> list[tuple[str, int, str | None]]:
        """(token, prefix atom, case-sensitive form) for tokens that start with a prefix.

        News vocabulary repeats, so each distinct token is classified once and remembered;
        per item only set operations (C code) remain. The memo is bounded; under the GIL
        concurrent ``match`` calls at worst classify a token twice."""
        seen, starting = self._seen, self._starting
        new = uniq - seen
        if new:
            if len(seen) > _PREFIX_MEMO_MAX:
                seen.clear()
                starting.clear()
                new = uniq
            for w in new:
                found = self._classify(w)
                if found:
                    starting[w] = found
            seen.update(new)
        # .get: another thread may have cleared the memo since the intersection
        return [(w, a, cs) for w in uniq & starting.keys() for a, cs in starting.get(w, ())]

    def _classify(self, w: str) -> list[tuple[int, str | None]]:
        cands = self._heads.get(w[: self._plen])
        if not cands:
            return []
        return [(atom, cs) for p, atom, cs in cands if w.startswith(p)]

    def _result(
        self,
        topic: _Topic,
        hits: Hits,
        texts: tuple[str, str, str],
        views: dict[int, FieldView],
    ) -> TopicMatch:
        occ: list[tuple[str, int, int, int]] = []
        topic.root.explain(hits, occ)  # type: ignore[attr-defined]
        occ.sort(key=_FIELD_AND_POSITION)
        terms = tuple(dict.fromkeys([o[0] for o in occ]))
        snippet = ""
        fields_hit = {o[1] for o in occ}
        for f in _SNIPPET_FIELD_ORDER:
            if f in fields_hit:
                _, _, first, last = next(o for o in occ if o[1] == f)  # sorted: earliest
                view = views.get(f) or views.setdefault(f, FieldView(texts[f]))
                snippet = view.snippet(first, last)
                break
        return TopicMatch(topic.name, terms, snippet)


class Highlight(NamedTuple):
    field: int  # 0 title, 1 summary, 2 text (``FIELDS``)
    start: int  # character offsets into ``prepare`` of that field
    end: int


def _occurrences(node: object, h: Hits, out: set[tuple[int, int, int]]) -> None:
    """(field, first token, last token) of every occurrence that makes ``node`` true."""
    if isinstance(node, _Leaf):
        width = len(node.atoms) - 1
        for f in node.fields:
            out.update((f, s, s + width) for s in node.spans(h, f))
    elif isinstance(node, _Near):
        lw, rw = len(node.left.atoms) - 1, len(node.right.atoms) - 1
        for f in node.fields:
            ls, rs = node.left.spans(h, f), node.right.spans(h, f)
            for s in ls:  # each left with a right within n words, and that right
                for r in rs:
                    if s + lw < r <= s + lw + node.n or s - node.n <= r + rw < s:
                        out.add((f, s, s + lw))
                        out.add((f, r, r + rw))
    elif isinstance(node, _And):
        for c in node.children:
            _occurrences(c, h, out)
    elif isinstance(node, _Or):
        for c in node.children:
            if c.ev(h):
                _occurrences(c, h, out)
    # _Not: an absent term has no occurrence


def _where(lows: list[str], need: set[str]) -> dict[str, list[int]]:
    """Token positions of each word in ``need``: a C-level ``list.index`` scan per word
    when there are few, one Python pass when there are many."""
    if len(need) <= 4:
        out = {}
        for w in need:
            pos = []
            i = -1
            try:
                while True:
                    i = lows.index(w, i + 1)
                    pos.append(i)
            except ValueError:
                out[w] = pos
        return out
    where: dict[str, list[int]] = {w: [] for w in need}
    for i, w in enumerate(lows):
        if w in need:
            where[w].append(i)
    return where


def _add(hits: Hits, atom: int, f: int, pos: list[int]) -> None:
    if pos:
        lists = hits.get(atom)
        if lists is None:
            lists = hits[atom] = [[], [], []]
        lists[f].extend(pos)


class FieldView:
    """A field's prepared text, built only when a topic matched it (for its snippet)."""

    def __init__(self, raw: str) -> None:
        self.text = prepare(raw)
        self._spaced: str | None = None
        self._spans: dict[int, tuple[int, int]] = {}
        self._snippets: dict[tuple[int, int], str] = {}  # topics sharing a term share it

    def span(self, k: int) -> tuple[int, int]:
        """Character span of token ``k`` in ``self.text``: C-level splitting of the
        ``spaced`` form (same offsets, and " " is its only whitespace)."""
        found = self._spans.get(k)
        if found is None:
            if self._spaced is None:
                self._spaced = _spaced_prepared(self.text)
            text = self._spaced
            start = len(text) - len(text.split(None, k)[k])
            end = text.find(" ", start)
            found = self._spans[k] = (start, end if end >= 0 else len(text))
        return found

    def snippet(self, first_token: int, last_token: int) -> str:
        key = (first_token, last_token)
        found = self._snippets.get(key)
        if found is None:
            start, end = self.span(first_token)[0], self.span(last_token)[1]
            found = self._snippets[key] = snippet(self.text, start, end)
        return found


def snippet(s: str, start: int, end: int, radius: int = SNIPPET_RADIUS) -> str:
    """``s[start:end]`` with up to ``radius`` characters of context either side, cut at
    whitespace where possible, "…" where text was cut, whitespace folded, length capped."""
    a = max(0, start - radius)
    b = min(len(s), end + radius)
    if a > 0:
        sp = _first_space(s, a, start)
        a = sp + 1 if sp >= 0 else a
    if b < len(s):
        sp = s.rfind(" ", end, b)
        sp = max(sp, s.rfind("\n", end, b))
        b = sp if sp > end else b
    body = fold_ws(s[a:b])
    return cap(("…" if a > 0 else "") + body + ("…" if b < len(s) else ""), SNIPPET_MAX)


def _first_space(s: str, lo: int, hi: int) -> int:
    for i in range(lo, hi):
        if s[i].isspace():
            return i
    return -1
