"""The events of a poll's new stories, on the ingest transaction: read, decide, write.

Runs after story assignment (``daemon.pipeline.ingest.assign_stories``) for the stories
opened in the batch; a story that an item joined keeps its event. For each new story: its
signature (``daemon.grouping.events.signature``, from the item that opened it), the term
frequencies of the stored corpus, the candidate events filed under its rarest terms within
``events.window`` (one indexed read for the whole batch, ``PER_KEY`` rows per key at most),
the decision (``choose_event``), then one bulk write: new events, updated profiles, index
rows, ``stories.event_id`` and the frequencies. Stories of the batch see the events opened
or joined before them in the batch.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from daemon.grouping import events as grouping
from daemon.grouping.stories import Doc
from daemon.logs import log_event
from daemon.storage import events as store
from daemon.storage.bands import pack_bands

if TYPE_CHECKING:
    from daemon.storage.store import Tx

log = logging.getLogger(__name__)

PROVISIONAL = 10**15  # event ids above this are events opened in the current batch
# What a decision over signatures and stored profiles can raise on input no test foresaw (a
# profile of an unexpected shape, a figure Python will not convert); never a database error
DECISION_ERRORS = (ValueError, TypeError, ArithmeticError, LookupError)
MIN_HITS = 1  # index keys a candidate event must share with the story


@dataclass
class Opened:
    """A story opened in this batch: its id, the text of its first item, when it was seen."""

    story_id: int
    doc: Doc
    title: str
    first_seen_at: datetime
    signature: grouping.Signature | None = None  # computed from ``doc`` when None


@dataclass
class Assigned:
    events: dict[int, int] = field(default_factory=dict)  # story id -> event id
    opened: set[int] = field(default_factory=set)  # events opened by this batch
    # term key -> stories of the batch using it: for ``count_terms``, the transaction's
    # last write
    terms: dict[int, int] = field(default_factory=dict)


@dataclass
class _Event:
    keys: list[int]
    stories: int = 0  # stories added by this batch
    earliest: datetime | None = None
    stored: grouping.Profile | None = None  # the profile, once read or built
    # An event this batch opened that no story has joined yet: its profile is its
    # opening story's, built only if a later story of the batch compares with it or joins
    # it (most never are: ``grouping.solo_profile`` writes them).
    solo: grouping.Signature | None = None
    solo_square: float | None = None  # its ``grouping.weights_and_square``

    @property
    def profile(self) -> grouping.Profile:
        if self.stored is None:
            assert self.solo is not None
            self.stored = grouping.Profile.of(self.solo)
        return self.stored


@dataclass
class Decided:
    """What ``decide_events`` settled for a batch, for ``write_events`` to store. Event ids
    above ``PROVISIONAL`` are events the batch opens, numbered in ``opened``'s order; the
    database gives them their ids when they are written. Nothing in it refers to the
    connection it was read on: the decision could be made on a read connection, even in
    another process, and written by the writer (docs/design.md, "The seventh pass")."""

    events: dict[int, int] = field(default_factory=dict)  # story id -> event id
    # per opened event: title, first seen, earliest published, stories, profile, index keys
    opened: list[tuple[str, datetime, datetime | None, int, str, bytes]] = field(
        default_factory=list
    )
    # per stored event a story joined: id, stories added, profile, index keys, earliest
    updated: list[tuple[int, int, str, bytes, datetime | None]] = field(default_factory=list)
    keys: list[tuple[int, datetime, int]] = field(default_factory=list)  # index rows to add
    terms: dict[int, int] = field(default_factory=dict)  # term key -> stories of the batch


def assign_events(tx: Tx, new: Sequence[Opened], window: timedelta) -> Assigned:
    if not new:
        return Assigned()
    return write_events(tx, decide_events(tx, new, window))


def write_events(tx: Tx, d: Decided) -> Assigned:
    """New events, joined events' profiles, index rows and the stories' events, in that
    order (the frequencies are written last in the transaction: ``count_terms``)."""
    made = store.new_events(tx, d.opened)
    real = dict(zip(range(PROVISIONAL, PROVISIONAL + len(made)), made, strict=True))
    store.update_events(tx, d.updated)
    store.insert_keys(tx, ((k, p, real.get(e, e)) for k, p, e in d.keys))
    events = {s: real.get(e, e) for s, e in d.events.items()}
    store.set_story_events(tx, list(events.items()))
    return Assigned(events=events, opened=set(made), terms=d.terms)


def decide_events(tx: Tx, new: Sequence[Opened], window: timedelta) -> Decided:
    """The events of a batch's new stories: reads (frequencies, index rows, profiles) and
    decisions, no writes. On PostgreSQL it also takes the index keys' advisory locks
    (``store.lock_event_keys``; none on SQLite), so there it runs on the writer's
    transaction."""
    out = Decided()
    if not new:
        return out
    sigs = [o.signature or grouping.signature(o.doc) for o in new]
    # term -> stories of the batch using it (a signature's terms are distinct)
    used = Counter(itertools.chain.from_iterable(sig.terms for sig in sigs))
    keyed = {t: grouping.event_key(t) for t in used}  # each distinct term hashed once
    term_keys: dict[int, int] = {}  # ``used`` by key
    for t, n in used.items():
        k = keyed[t]
        term_keys[k] = term_keys.get(k, 0) + n
    # the stored frequencies plus this batch's own (a first poll has only its own)
    df = store.term_frequencies(tx, term_keys)
    for k, n in term_keys.items():
        df[k] = df.get(k, 0) + n
    rarity = grouping.Rarity(df, store.story_total(tx))
    rarity.prime(keyed)
    weighed = [grouping.weights_and_square(sig, rarity) for sig in sigs]
    weights = [w for w, _ in weighed]
    filed = [
        grouping.index_keys(sig, rarity, weights=w) if sig.enough else []
        for sig, w in zip(sigs, weights, strict=True)
    ]
    store.lock_event_keys(tx, (k for ks in filed for k in ks))
    lo = min(s.published_at for s in sigs) - window
    hi = max(s.published_at for s in sigs) + window
    # key -> [(event id, published epoch)] : the stored index, then this batch's rows
    rows: dict[int, list[tuple[int, int]]] = {}
    # below MIN_CORPUS nothing merges (``choose_event``): no stored candidate to read
    wanted = [k for ks in filed for k in ks] if rarity.total >= grouping.MIN_CORPUS else []
    for k, e, p in store.key_rows(tx, wanted, lo, hi):
        rows.setdefault(k, []).append((e, p))
    known: dict[int, _Event | None] = {}  # event id -> state (None: no profile, never joined)

    def remember(ids: list[int]) -> None:
        """Read these stored events' profiles into ``known`` (an event gone from the store
        has no profile either)."""
        found = store.profiles(tx, ids)
        for e in ids:
            prof, ks = found.get(e, (None, ()))
            known[e] = None if prof is None else _Event(list(ks), stored=prof)

    def ranked_for(sig: grouping.Signature, keys: list[int]) -> list[int]:
        """The candidates of a story: events sharing index keys with it, within the window.
        An event met only under a figure that the story's lead states in passing is none:
        one shared figure in neither headline is no evidence (``grouping.events._cosine``),
        and on the farms such keys brought most of the candidates (bench/README.md,
        "Events: second pass on cost")."""
        a, b = (
            int((sig.published_at - window).timestamp()),
            int((sig.published_at + window).timestamp()),
        )
        weak = {grouping.event_key(f) for f in sig.figures - sig.headline_figures}
        hits: dict[int, int] = {}
        strong: set[int] = set()  # met under a key that is not such a figure
        for k in keys:
            passing = k in weak
            for e, p in rows.get(k, ()):
                if a <= p <= b:
                    hits[e] = hits.get(e, 0) + 1
                    if not passing:
                        strong.add(e)
        return grouping.rank_candidates(
            {e: n for e, n in hits.items() if n >= MIN_HITS and (n > 1 or e in strong)}
        )

    # The stored candidates of every story, read in one query: the batch's own events only
    # take places in a ranking, so a story's stored candidates are (nearly always) among
    # these; any other is read when met below.
    first: list[list[int]] = [[] for _ in sigs]
    top = grouping.CANDIDATES  # the reserve (``grouping.RESERVE``) is read when reached
    if rows:
        first = [ranked_for(sig, keys) for sig, keys in zip(sigs, filed, strict=True)]
        remember(sorted({e for r in first for e in r[:top]}))

    def read(ranked: list[int]) -> Iterator[tuple[int, grouping.Profile]]:
        """The candidates' profiles in rank order, each read when ``choose_event`` reaches
        it (the first ``top`` together, any other one by one)."""
        for i, e in enumerate(ranked):
            if e not in known and e < PROVISIONAL:
                remember(
                    [x for x in ranked[: max(i + 1, top)] if x not in known and x < PROVISIONAL]
                )
            if (ev := known.get(e)) is not None:
                yield e, ev.profile

    new_rows: list[tuple[int, datetime, int]] = []
    opened: list[int] = []
    touched: set[int] = set()  # keys the batch's own rows were added to
    for o, sig, keys, (w, square), ranked in zip(new, sigs, filed, weighed, first, strict=True):
        if not touched.isdisjoint(keys):  # else the first pass's ranking stands
            ranked = ranked_for(sig, keys)
        try:
            eid = grouping.choose_event(sig, read(ranked), rarity, window, weights=w)
        except DECISION_ERRORS:
            # One story's failed decision costs that story its merge, not the whole poll
            # (which would fail again at every poll): it opens an event of its own.
            log_event(log, "error", "event.decision_failed", exc_info=True, story=o.story_id)
            eid = None
        if eid is None:
            eid = PROVISIONAL + len(opened)
            opened.append(eid)
            known[eid] = _Event(list(keys), 1, sig.published_at, solo=sig, solo_square=square)
        else:
            ev = known[eid]
            assert ev is not None
            if not ev.stories:  # a stored event, first joined: its profile is the store's
                ev.stored = ev.profile.copy()  # (``store.ProfileCache`` shares it)
            ev.profile.add(sig)
            ev.solo = None
            ev.keys += [k for k in keys if k not in ev.keys]
            ev.stories += 1
            if ev.earliest is None or sig.published_at < ev.earliest:
                ev.earliest = sig.published_at
        out.events[o.story_id] = eid
        epoch = int(sig.published_at.timestamp())
        touched.update(keys)
        for k in keys:
            seen = rows.setdefault(k, [])
            seen.append((eid, epoch))
            if len(seen) > 2 * grouping.PER_KEY:  # a hot key: the batch's own rows capped too
                del seen[: -grouping.PER_KEY]
            new_rows.append((k, sig.published_at, eid))

    def encoded(ev: _Event) -> str:
        if (
            ev.solo is not None
            and (done := grouping.solo_profile(ev.solo, rarity, ev.solo_square)) is not None
        ):
            return done
        if ev.profile.norm is None:  # the norm is stored with the profile
            grouping.centroid_norm(ev.profile, rarity)
        return ev.profile.encode()

    head = {eid: o for o in reversed(new) if (eid := out.events[o.story_id]) >= PROVISIONAL}
    out.opened = [
        (
            head[e].title,
            head[e].first_seen_at,
            known[e].earliest,  # type: ignore[union-attr]
            known[e].stories,  # type: ignore[union-attr]
            encoded(known[e]),  # type: ignore[arg-type]
            pack_bands(known[e].keys),  # type: ignore[union-attr]
        )
        for e in opened
    ]
    out.updated = [
        (e, ev.stories, encoded(ev), pack_bands(ev.keys), ev.earliest)
        for e, ev in known.items()
        if ev is not None and ev.stories and e < PROVISIONAL
    ]
    out.keys = new_rows
    out.terms = term_keys
    return out


def count_terms(tx: Tx, assigned: Assigned) -> None:
    """Add the batch's terms to the stored frequencies. Called last in the transaction: on
    PostgreSQL the upsert locks the terms' rows (in key order) until commit, and a writer
    that took them before waiting for another's alert (the unique index on an event's
    alerts) could close a cycle with it; taken last, after every other lock, it cannot."""
    store.add_term_frequencies(tx, assigned.terms)
