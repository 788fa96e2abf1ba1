"""The topic query language (README.md, "Topics: the query language"): a tokenizer and recursive-descent parser to an AST.

Grammar (juxtaposition is AND, as in Google)::

    query   := expr EOF
    expr    := unary ((AND | OR)? unary)*      all operators of one level must agree
    unary   := (NOT | '-') unary | near
    near    := primary ('NEAR/' n primary)?     operands: terms, phrases, or OR-groups of them
    primary := field? (WORD | '"' phrase '"' | '(' expr ')')
    field   := 'title:' | 'summary:' | 'text:'

Query words go through the same tokenizer as item text (``daemon.topics.match.word_tokens``), so a
term that the tokenizer splits ("NATO-Rusia", "Jum'at", "Rp1.524.000") becomes a phrase of its parts
and matches exactly the text that yields those parts. A word is case-sensitive when it has at
least two letters and all of them are capitals ("AS", "KPK", "NATO"); "A" or "G20" are not.
A word-family root (``serang~``) is never case-sensitive: its forms are generated lower-case.
Prefixes need at least 2 characters and family roots 3 letters (shorter ones match nearly
everything); NEAR distances run from 1 (adjacent) to 1000. An OR-group as a NEAR operand
distributes: ``(Prabowo OR Gibran) NEAR/5 Xi`` is ``(Prabowo NEAR/5 Xi) OR (Gibran NEAR/5
Xi)``, up to ``MAX_NEAR_PAIRS`` pairs; an AND-group has no single position and is refused. Operators are upper-case only
("and"/"or" are ordinary words). A query must need a present term (``positive``): an AND
needs one positive child, an OR needs every child positive, a NOT is never positive; so
"NOT x", "-a -b" and "a OR -b" (which would match almost every item) are errors.

Every query error is a ``QueryError`` with the 0-based character offset of the culprit, so the
config loader can say "topics[3].query: at position 12: expected ')'".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Union

FIELDS = ("title", "summary", "text")
MAX_NEAR = 1000
MAX_NEAR_PAIRS = 64  # (a OR b …) NEAR/n (c OR d …) becomes one NEAR per pair: a cost cap
MIN_PREFIX = 2
MIN_FAMILY_ROOT = 3
MAX_DEPTH = 50  # nested parentheses/negations; deeper is surely a mistake (or an attack)
# What one query may cost when matched, capped at config time: a phrase's match time grows with
# its length times the text's (1,000 repeated words against a 100,000-character text took
# 7 s and 2 GB); 16 words quote any headline fragment an editor needs.
MAX_PHRASE_WORDS = 16
MAX_QUERY_WORDS = 256  # words in all phrases and NEAR operands of one query (single terms
# are looked up in an index and cost nothing extra: a topic may list thousands of names)

# Word tokens of text and queries: runs of letters and digits. Hyphens, apostrophes, dots,
# underscores and every other non-word character separate tokens.
WORD_RE = re.compile(r"[^\W_]+")


class QueryError(ValueError):
    """A query that cannot be compiled, with the offending character offset."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"at position {position}: {message}")
        self.position = position
        self.message = message

    def pointer(self, query: str) -> str:
        """The query with a caret under the offending character, for humans."""
        line = query.replace("\n", " ").replace("\t", " ")
        return f"{line}\n{' ' * min(self.position, len(line))}^"


@dataclass(frozen=True)
class Term:
    """One word. ``kind``: 'word' (exact), 'prefix' (``word*``), 'family' (``root~``)."""

    word: str
    kind: str = "word"
    case_sensitive: bool = False
    field: str | None = None

    @property
    def label(self) -> str:
        return self.word + {"word": "", "prefix": "*", "family": "~"}[self.kind]


@dataclass(frozen=True)
class Phrase:
    """Consecutive words. A word ending in ``*`` is a prefix; ``case_sensitive`` is per word."""

    words: tuple[str, ...]
    case_sensitive: tuple[bool, ...]
    field: str | None = None

    @property
    def label(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Near:
    """``left NEAR/n right``: both within ``n`` words of each other, in either order."""

    left: Term | Phrase
    right: Term | Phrase
    n: int
    field: str | None = None


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Union[Term, Phrase, Near, And, Or, Not]  # noqa: UP007 (runtime alias, 3.10)


def is_caps(word: str) -> bool:
    """ALL-CAPS with at least two letters: such a word matches only in capitals."""
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


# ---------------------------------------------------------------------------------------
# Lexer


@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT MINUS NEAR FIELD EOF
    pos: int
    text: str = ""
    n: int = 0


_OPERATORS = {"AND", "OR", "NOT"}
_FIELD_RE = re.compile(r"([A-Za-z]+):")
_NEAR_RE = re.compile(r"NEAR/([0-9]+)")
_STOP = set('()"')


# Marks a phone or a word processor puts in for the ones the language uses: typographic
# double quotes for '"', a dash or minus sign that opens a term for '-' (one character
# for one, so error positions stay those of the text as written).
_QUOTES = str.maketrans(dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb", '"'))
_DASH_OPENS_TERM = re.compile(r"(?:^|(?<=[\s(]))[\u2013\u2014\u2212](?=\S)")
# How other search boxes write the operators: lower case, "&&" (and "|", "||": any "|")
_FOREIGN_OPERATORS = {"or": "OR", "and": "AND", "not": "NOT", "&&": "AND"}


def _typed(src: str) -> str:
    return _DASH_OPENS_TERM.sub("-", src.translate(_QUOTES))


def _lex(src: str) -> list[_Tok]:
    src = _typed(src)
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(_Tok("LPAREN", i))
            i += 1
        elif c == ")":
            toks.append(_Tok("RPAREN", i))
            i += 1
        elif c == '"':
            end = src.find('"', i + 1)
            if end < 0:
                raise QueryError(i, "unterminated quote")
            toks.append(_Tok("PHRASE", i, src[i + 1 : end]))
            i = end + 1
        elif c == "-":
            if i + 1 >= n or src[i + 1].isspace() or src[i + 1] == ")":
                raise QueryError(i, "'-' must be followed by a term, as in -Rusia")
            toks.append(_Tok("MINUS", i))
            i += 1
        else:
            i = _lex_run(src, i, toks)
    toks.append(_Tok("EOF", n))
    return toks


def _lex_run(src: str, i: int, toks: list[_Tok]) -> int:
    """A run of non-space characters: an operator, NEAR/n, a field prefix, or a word."""
    j = i
    while j < len(src) and not src[j].isspace() and src[j] not in _STOP:
        j += 1
    run = src[i:j]
    field = _FIELD_RE.match(run)
    if field:
        name = field.group(1)
        if name not in FIELDS:
            raise QueryError(i, f"unknown field {name!r} (use title:, summary: or text:)")
        end = i + field.end()
        if end >= len(src) or src[end].isspace() or src[end] == ")":
            raise QueryError(i, f"'{name}:' must be followed by a term, phrase or group")
        toks.append(_Tok("FIELD", i, name))
        return end
    bar = run.find("|")
    if bar >= 0:  # "Ukraina|Rusia", "||"
        raise QueryError(i + bar, "'|' is not an operator: write OR between terms")
    foreign = None if run in _OPERATORS else _FOREIGN_OPERATORS.get(run.lower())
    if foreign is not None:
        fix = f"write {foreign} in capitals between terms"
        if run.isalpha():
            fix += f' (or "{run}" to match it as a word)'
        raise QueryError(i, f"{run!r} is not an operator: {fix}")
    if run in _OPERATORS:
        toks.append(_Tok(run, i))
    elif run == "NEAR" or run.startswith("NEAR/"):
        m = _NEAR_RE.fullmatch(run)
        if not m:
            raise QueryError(i, "NEAR needs a distance in words, as in NEAR/5")
        digits = m.group(1).lstrip("0")
        dist = int(digits) if 0 < len(digits) <= 6 else 0  # int() of 5,000 digits raises
        if not 1 <= dist <= MAX_NEAR:
            raise QueryError(i, f"NEAR distance must be between 1 and {MAX_NEAR}")
        toks.append(_Tok("NEAR", i, run, dist))
    else:
        toks.append(_Tok("WORD", i, run))
    return j


# ---------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = _lex(src)
        self.i = 0
        self.pos_of: dict[int, int] = {}  # id(node) -> source offset, for later errors
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, node: Node, pos: int) -> Node:
        self.pos_of[id(node)] = pos
        return node

    def parse(self) -> Node:
        if self.peek().kind == "EOF":
            raise QueryError(0, "empty query")
        node = self.expr()
        tok = self.peek()
        if tok.kind == "RPAREN":
            raise QueryError(tok.pos, "unbalanced ')'")
        if tok.kind != "EOF":  # pragma: no cover - expr() consumes up to ')' or EOF
            raise QueryError(tok.pos, "unexpected input")
        self.check_positive(node)
        self.check_cost(node)
        return node

    def check_cost(self, node: Node) -> None:
        """Cap the positional work of matching: phrase lengths and the words that must be
        found in order or near each other."""
        total = 0
        for leaf in leaves(node):
            near = isinstance(leaf, Near)
            for part in (leaf.left, leaf.right) if isinstance(leaf, Near) else (leaf,):
                n = len(part.words) if isinstance(part, Phrase) else 1
                if n > MAX_PHRASE_WORDS:
                    raise QueryError(0, f"a phrase may have at most {MAX_PHRASE_WORDS} words")
                total += n if n > 1 or near else 0
        if total > MAX_QUERY_WORDS:
            raise QueryError(
                0, f"at most {MAX_QUERY_WORDS} words in all phrases and NEAR terms of a query"
            )

    def expr(self) -> Node:
        start = self.peek().pos
        items = [self.unary()]
        op: str | None = None
        while self.peek().kind not in ("EOF", "RPAREN"):
            tok = self.peek()
            if tok.kind in ("AND", "OR"):
                self.take()
                nxt = self.peek()
                if nxt.kind in ("EOF", "RPAREN", "AND", "OR"):
                    raise QueryError(tok.pos, f"{tok.kind} must be followed by a term")
                kind = tok.kind
            else:
                kind = "AND"  # juxtaposition
            if op is None:
                op = kind
            elif op != kind:
                raise QueryError(
                    tok.pos,
                    "mixing AND and OR needs parentheses (juxtaposition means AND), "
                    "as in (a AND b) OR c",
                )
            items.append(self.unary())
        if len(items) == 1:
            return items[0]
        node: Node = And(tuple(items)) if op == "AND" else Or(tuple(items))
        return self.at(node, start)

    def unary(self) -> Node:
        tok = self.peek()
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise QueryError(tok.pos, f"nested more than {MAX_DEPTH} levels deep")
            return self._unary(tok)
        finally:
            self.depth -= 1

    def _unary(self, tok: _Tok) -> Node:
        if tok.kind in ("NOT", "MINUS"):
            self.take()
            nxt = self.peek()
            if nxt.kind in ("EOF", "RPAREN", "AND", "OR", "NEAR"):
                raise QueryError(tok.pos, "NOT must be followed by a term")
            return self.at(Not(self.unary()), tok.pos)
        return self.near()

    def near(self) -> Node:
        left_pos = self.peek().pos
        left = self.primary()
        tok = self.peek()
        if tok.kind != "NEAR":
            return left
        self.take()
        lefts = _near_operands(left)
        if lefts is None:
            raise QueryError(left_pos, _NEAR_OPERAND)
        right_pos = self.peek().pos
        if self.peek().kind not in ("WORD", "PHRASE", "FIELD", "LPAREN"):
            raise QueryError(right_pos, "NEAR must be followed by a term, phrase or OR-group")
        rights = _near_operands(self.primary())
        if rights is None:
            raise QueryError(right_pos, _NEAR_OPERAND)
        if self.peek().kind == "NEAR":
            raise QueryError(self.peek().pos, "chained NEAR is not supported; use AND")
        if len(lefts) * len(rights) > MAX_NEAR_PAIRS:
            raise QueryError(
                left_pos, f"NEAR between OR-groups may form at most {MAX_NEAR_PAIRS} pairs"
            )
        pairs: list[Node] = []
        for a in lefts:
            for b in rights:
                if a.field and b.field and a.field != b.field:
                    raise QueryError(right_pos, "NEAR operands must be in the same field")
                near = Near(
                    replace(a, field=None), replace(b, field=None), tok.n, a.field or b.field
                )
                pairs.append(self.at(near, left_pos))
        if len(pairs) == 1:
            return pairs[0]
        return self.at(Or(tuple(pairs)), left_pos)

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "FIELD":
            nxt = self.peek()
            if nxt.kind not in ("WORD", "PHRASE", "LPAREN"):
                raise QueryError(nxt.pos, f"'{tok.text}:' must be followed by a term or group")
            return self.at(self.with_field(self.primary(), tok.text, tok.pos), tok.pos)
        if tok.kind == "LPAREN":
            if self.peek().kind == "RPAREN":
                raise QueryError(self.peek().pos, "empty parentheses")
            node = self.expr()
            if self.peek().kind != "RPAREN":
                raise QueryError(tok.pos, "'(' is never closed: expected ')'")
            self.take()
            return node
        if tok.kind == "WORD":
            return self.at(self.word(tok), tok.pos)
        if tok.kind == "PHRASE":
            return self.at(self.phrase(tok), tok.pos)
        if tok.kind == "EOF":
            raise QueryError(tok.pos, "unexpected end of query: expected a term")
        if tok.kind == "RPAREN":
            raise QueryError(tok.pos, "unbalanced ')'")
        shown = tok.text or tok.kind
        raise QueryError(tok.pos, f"expected a term, found {shown}")

    def word(self, tok: _Tok) -> Node:
        raw = tok.text
        kind = "word"
        if raw.endswith("~"):
            kind, raw = "family", raw[:-1]
        elif raw.endswith("*"):
            kind, raw = "prefix", raw[:-1]
        words = _words(raw)
        if not words:
            raise QueryError(tok.pos, f"{tok.text!r} contains no word")
        if any(c in "*~" for c in raw):
            raise QueryError(tok.pos, "'*' and '~' may only end a word")
        if kind == "family":
            if len(words) != 1 or not words[0].isalpha():
                raise QueryError(tok.pos, "a word family (~) needs one root word of letters")
            if len(words[0]) < MIN_FAMILY_ROOT:
                raise QueryError(tok.pos, f"a word-family root needs {MIN_FAMILY_ROOT}+ letters")
            return Term(words[0], "family", False)
        if kind == "prefix" and len(words[-1]) < MIN_PREFIX:
            raise QueryError(tok.pos, f"a prefix needs at least {MIN_PREFIX} characters")
        if len(words) == 1:
            return Term(words[0], kind, is_caps(words[0]))
        if kind == "prefix":
            words[-1] += "*"
        return Phrase(tuple(words), tuple(is_caps(w) for w in words))

    def phrase(self, tok: _Tok) -> Node:
        words: list[str] = []
        for chunk in tok.text.split():
            prefix = chunk.endswith("*")
            if "~" in chunk:
                raise QueryError(tok.pos, "word families (~) are not allowed inside a phrase")
            parts = _words(chunk.rstrip("*"))
            if prefix and parts:
                if len(parts[-1]) < MIN_PREFIX:
                    raise QueryError(tok.pos, f"a prefix needs at least {MIN_PREFIX} characters")
                parts[-1] += "*"
            words.extend(parts)
        if not words:
            raise QueryError(tok.pos, "empty phrase")
        if len(words) == 1:
            w = words[0]
            if w.endswith("*"):
                return Term(w[:-1], "prefix", is_caps(w))
            return Term(w, "word", is_caps(w))
        return Phrase(tuple(words), tuple(is_caps(w) for w in words))

    def with_field(self, node: Node, field: str, pos: int) -> Node:
        """Restrict every leaf under ``node`` to ``field``; a different inner field is an
        error because no item text is in two fields at once."""
        if isinstance(node, (Term, Phrase, Near)):
            if node.field not in (None, field):
                inner = self.pos_of.get(id(node), pos)
                raise QueryError(inner, f"field {node.field}: inside {field}: can never match")
            out: Node = replace(node, field=field)
        elif isinstance(node, Not):
            out = Not(self.with_field(node.child, field, pos))
        elif isinstance(node, And):
            out = And(tuple(self.with_field(c, field, pos) for c in node.children))
        else:
            out = Or(tuple(self.with_field(c, field, pos) for c in node.children))
        return self.at(out, self.pos_of.get(id(node), pos))

    def check_positive(self, node: Node) -> None:
        """A query must need at least one present term: otherwise it matches almost every
        item. And: some child positive. Or: every child positive. Not: never."""
        if not positive(node):
            culprit = _first_non_positive(node)
            pos = self.pos_of.get(id(culprit), 0)
            if isinstance(node, Or) and culprit is not node:
                msg = "every OR branch needs a positive term; this one is only a negation"
            else:
                msg = "the query needs at least one positive term (it has only negations)"
            raise QueryError(pos, msg)


def positive(node: Node) -> bool:
    """True when the node can only match an item that contains one of its non-negated
    terms, so the matcher may skip a topic none of whose terms occur."""
    if isinstance(node, (Term, Phrase, Near)):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(positive(c) for c in node.children)
    return all(positive(c) for c in node.children)


def _first_non_positive(node: Node) -> Node:
    if isinstance(node, Or):
        for c in node.children:
            if not positive(c):
                return _first_non_positive(c)
    if isinstance(node, And):
        return node.children[0] if node.children else node
    return node


_NEAR_OPERAND = (
    "NEAR operands must be terms, phrases or OR-groups of them (an AND-group has no one place)"
)


def _near_operands(node: Node) -> list[Term | Phrase] | None:
    """The alternatives a NEAR operand stands for, or None when it is not a term, a phrase
    or an OR of them (nested ORs flatten)."""
    if isinstance(node, (Term, Phrase)):
        return [node]
    if isinstance(node, Or):
        out: list[Term | Phrase] = []
        for child in node.children:
            sub = _near_operands(child)
            if sub is None:
                return None
            out.extend(sub)
        return out
    return None


def _words(raw: str) -> list[str]:
    from daemon.topics.match import word_tokens  # the item tokenizer; imported late (cycle)

    return word_tokens(raw)


def parse_query(text: str) -> Node:
    """Parse one topic query; raises ``QueryError`` pointing at the offending character."""
    return _Parser(text).parse()


def leaves(node: Node) -> list[Term | Phrase | Near]:
    """All leaves, negated or not, in query order."""
    if isinstance(node, (Term, Phrase, Near)):
        return [node]
    if isinstance(node, Not):
        return leaves(node.child)
    return [leaf for c in node.children for leaf in leaves(c)]
