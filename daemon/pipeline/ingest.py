"""One poll's items into the database, in one transaction: store → group → match → outbox.

This is where the pipeline's decisions meet storage. For each parsed item: is it new, changed
or known (identity within its feed; tombstones count as known); which story does a new item
join (same canonical URL first, then near-duplicate text through the LSH band index); which
topics does it match; does that raise an alert (one per topic and story, only for items no
older than ``alerts.max_age``); and which outbox rows go with the alert. Everything is written
on the one connection of ``tx`` so a crash leaves either all of it or none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter

from daemon.feeds.dates import parse_date
from daemon.feeds.item import TEXT_FIELDS, ParsedItem
from daemon.feeds.parse import identity_aliases
from daemon.feeds.urls import leads_nowhere
from daemon.grouping import candidates
from daemon.grouping import stories as grouping
from daemon.grouping.events import Signature
from daemon.pipeline import events as eventing
from daemon.pipeline.prepare import PreparedItem, completed, doc_of, prepare_item
from daemon.pipeline.rules import IngestStats, Rules
from daemon.storage import events as event_store
from daemon.storage.items import ExistingItem, NewItem
from daemon.storage.outbox import AlertRecord
from daemon.storage.store import Tx
from daemon.topics.match import TopicMatch

PROVISIONAL = 10**15  # story ids above this are stories opened in the current batch
# An item of a full-text feed whose link no fetch follows to the article (Google News'):
# not queued, and this says why where its full-text state is shown
NO_ARTICLE_PAGE = "skipped: the link is an aggregator's and leads to no article page"


class BandCandidates:
    """stories.CandidateSource over the band index, on the ingest connection.

    ``prefetch`` reads the band rows of a whole batch in one go (at most
    ``KeyBudget.rows_per_key`` per key, see ``Tx.band_rows``; none of the stop words that
    the only writer knows already, ``candidates.StopMemo``); lookups are then answered from
    memory by ``candidates.rank``, each with the stop words of its own window
    (``stop_words``), and the text of a candidate item is read only when some item actually
    shares a band with it. ``overlay`` holds the batch's own items, not written yet: two
    copies of one story in one poll must find each other too."""

    def __init__(self, tx: Tx, exclude_item: int | None = None) -> None:
        self.tx = tx
        self.exclude_item = exclude_item
        self.overlay: list[grouping.Candidate] = []
        # band -> (index into overlay, published as epoch seconds), the latest added first:
        # the rows ``candidates.rank`` takes, kept as it wants them (not rebuilt per lookup)
        self.overlay_rows: dict[int, list[tuple[int, float]]] = {}
        # band -> (item, published as whole epoch seconds, as the band index keeps it),
        # newest first
        self.rows: dict[int, list[tuple[int, int]]] | None = None
        self.known: set[int] = set()  # stop words in every window of the batch (not read)
        self.full: set[int] = set()  # keys read to the cap: maybe stop words (a C test)
        self.docs: dict[int, grouping.Candidate] = {}
        self._answers: dict[tuple[tuple[int, ...], datetime, datetime, int], list[int]] = {}
        # the stop words of a lookup in the stored rows: asked by the lookup and again by
        # the batch's own rows (``candidates``), the same answer
        self._stops: dict[tuple[tuple[int, ...], datetime, datetime], set[int]] = {}

    def prefetch(
        self, fps: Sequence[grouping.Fingerprint], docs: Sequence[grouping.Doc], window: timedelta
    ) -> None:
        """Read the band rows of the batch, then the text of every item that some lookup of
        the batch will return, each in a few statements rather than one per item."""
        if not docs:
            return
        keyed = [fp.url_key for fp in fps]  # each item's URL key, as its fingerprint filed it
        url_keys = {k for k in keyed if k is not None}
        bands = {b for fp in fps for b in fp.bands} - url_keys
        first = min(d.published_at for d in docs)
        last = max(d.published_at for d in docs)
        memo = self.tx.cache.stops if self.tx.cache is not None else None
        known: dict[int, list[tuple[int, int]]] = {}
        if memo is not None:  # stop words in the window of every item of the batch
            known = memo.known(bands, (last - window).timestamp(), (first + window).timestamp())
        rows = _by_key(
            self.tx.band_rows(bands - known.keys(), first - window, last + window, url_keys)
        )
        self.full = {k for k, v in rows.items() if len(v) >= candidates.BUDGET.rows_per_key}
        if memo is not None:
            memo.note(rows, candidates.stop_keys(rows, self.full))
        rows.update(known)
        self.rows, self.known = rows, set(known)
        if not rows:
            return
        span = timedelta(days=grouping.URL_SPAN_DAYS)
        wanted: set[int] = set()
        for fp, d, k in zip(fps, docs, keyed, strict=True):
            if k is not None:
                wanted.update(self._lookup([k], d.published_at - span, d.published_at + span, 1))
            wanted.update(
                self._lookup(
                    fp.bands, d.published_at - window, d.published_at + window,
                    grouping.CANDIDATE_LIMIT,
                )
            )  # fmt: skip
        self.load([i for i in wanted if i != self.exclude_item])

    def load(self, ids: Sequence[int]) -> None:
        """Candidates with their stored features; the text only of those without usable
        ones (stored before migration 0005, or by another version of the features). The
        only writer keeps the candidates it built in the store's ``ItemCache``: most are
        met again by later polls."""
        cache = self.tx.cache
        todo = [i for i in ids if i not in self.docs]
        if cache is not None:
            missed = []
            for i in todo:
                c = cache.get(i)
                if c is None:
                    missed.append(i)
                else:
                    self.docs[i] = c
            todo = missed
        rows = self.tx.candidate_items(todo, text=False)
        textless = [r.id for r in rows if not grouping.stored_usable(r.features)]
        if textless:
            rows = [r for r in rows if grouping.stored_usable(r.features)]
            rows += self.tx.candidate_items(textless)
        for r in rows:
            if r.story_id is None:
                continue
            stored = r.features if grouping.stored_usable(r.features) else None
            doc = grouping.Doc(
                title=r.title,
                summary=r.summary,
                content=r.fulltext or r.content or "",
                url=r.url,
                published_at=r.published_at,
            )
            c = self.docs[r.id] = (
                grouping.Candidate(r.id, r.story_id, doc)
                if stored is None
                else grouping.Candidate.from_store(r.id, r.story_id, doc, stored)
            )
            if cache is not None and stored is not None:  # not those holding their text
                cache.put(r.id, c)

    def add(self, bands: Sequence[int], cand: grouping.Candidate) -> None:
        k = len(self.overlay)
        self.overlay.append(cand)
        row = (k, cand.doc.published_at.timestamp())
        index = self.overlay_rows
        for b in bands:
            if b not in index:
                index[b] = [row]
            elif index[b][0][0] != k:  # a key listed twice counts once
                index[b].insert(0, row)  # (a few rows per key: a batch is one poll)

    def _lookup(
        self, bands: Sequence[int], since: datetime, until: datetime, limit: int
    ) -> list[int]:
        """Item ids sharing the most keys with ``bands`` in [since, until]. Prefetch asks the
        same questions that ``choose_story`` asks again a moment later: answers are kept."""
        if self.rows is not None and self.rows.keys().isdisjoint(bands):
            return []  # most lookups: no key has a row (a C test, before building the memo key)
        memo = (tuple(bands), since, until, limit)
        found = self._answers.get(memo)
        if found is None:
            found = self._answers[memo] = self._lookup_rows(bands, since, until, limit)
        return found

    def _lookup_rows(
        self, bands: Sequence[int], since: datetime, until: datetime, limit: int
    ) -> list[int]:
        rows = self.rows
        if rows is None:  # no prefetch (a single item, as in enrich): read these keys now
            rows = _by_key(self.tx.band_rows(bands, since, until))
        stop = self._stored_stops(bands, since, until, rows)
        return candidates.rank(bands, rows, since.timestamp(), until.timestamp(), limit, stop=stop)

    def _stored_stops(
        self,
        bands: Sequence[int],
        since: datetime,
        until: datetime,
        rows: dict[int, list[tuple[int, int]]] | None = None,
    ) -> set[int]:
        """``stop_words`` without the batch's rows, once per lookup after a prefetch."""
        if self.rows is None:
            return self.stop_words(bands, since, until, rows)
        memo = (tuple(bands), since, until)
        found = self._stops.get(memo)
        if found is None:
            lo, hi = since.timestamp(), until.timestamp()
            found = self._stops[memo] = self._stop_words(bands, lo, hi, None, None)
        return found

    def stop_words(
        self,
        bands: Sequence[int],
        since: datetime,
        until: datetime,
        rows: dict[int, list[tuple[int, int]]] | None = None,
        *,
        batch: bool = False,
    ) -> set[int]:
        """Those of ``bands`` that are stop words in [since, until] (``candidates.stop_keys``).
        ``batch``: the batch's own items added so far count too (which keys a new item gets
        no rows under: the table then holds about ``rows_per_key`` of a key per window)."""
        lo, hi = since.timestamp(), until.timestamp()
        extra: dict[int, int] | None = None
        index = self.overlay_rows
        if batch and index and not index.keys().isdisjoint(bands):
            extra = {}
            for b in bands:
                for _, p in index.get(b, ()):
                    if lo <= p <= hi:
                        extra[b] = extra.get(b, 0) + 1
        if not extra and not rows and self.rows is not None:
            # none of the batch's rows counts: the lookup's answer (asked a moment ago)
            return self._stored_stops(bands, since, until)
        return self._stop_words(bands, lo, hi, rows, extra)

    def _stop_words(
        self,
        bands: Sequence[int],
        lo: float,
        hi: float,
        rows: dict[int, list[tuple[int, int]]] | None,
        extra: dict[int, int] | None,
    ) -> set[int]:
        if self.rows is None:  # no prefetch: ``rows`` were read for these keys alone
            maybe = [b for b in bands if b in (rows or {})]
        elif extra:
            maybe = [b for b in bands if b in self.full or b in extra]
        elif self.full.isdisjoint(bands):
            maybe = []  # most lookups: no key was read to the cap
        else:
            maybe = [b for b in bands if b in self.full]
        found = (
            candidates.stop_keys(self.rows or rows or {}, maybe, lo, hi, extra=extra)
            if maybe
            else set()
        )
        return found | (self.known & set(bands)) if self.known else found

    def candidates(
        self, bands: Sequence[int], since: datetime, until: datetime, limit: int
    ) -> list[grouping.Candidate]:
        ids = [i for i in self._lookup(bands, since, until, limit) if i != self.exclude_item]
        missing = [i for i in ids if i not in self.docs]
        if missing:
            self.load(missing)
        out = [self.docs[i] for i in ids if i in self.docs]
        index = self.overlay_rows
        if index and not index.keys().isdisjoint(bands):  # (a C test; most share none)
            # the batch's own items, ranked as the table's are (newest: the latest added)
            found = candidates.rank(
                bands, index, since.timestamp(), until.timestamp(), limit,
                stop=self._stored_stops(bands, since, until),
            )  # fmt: skip
            overlay = self.overlay
            out += [overlay[k] for k in found]  # most shared first, then batch order
        return out


def _by_key(found: Sequence[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
    """``Tx.band_rows``' (band, item, published) as band -> (item, published), newest first
    (the order ``candidates.rank`` takes a stop word's sample in)."""
    rows: dict[int, list[tuple[int, int]]] = {}
    for band, item_id, published in found:
        rows.setdefault(band, []).append((item_id, int(published)))
    newest = itemgetter(1, 0)  # (published, item), descending: one per row (the table's key)
    for v in rows.values():
        if len(v) > 1:
            v.sort(key=newest, reverse=True)
    return rows


def assign_stories(
    tx: Tx,
    new: Sequence[NewItem],
    window: timedelta,
    fps: Sequence[grouping.Fingerprint],
) -> tuple[set[int], list[set[int]]]:
    """Give every new item a story (``it.story_id``); returns the ids of the stories opened
    and, per item, its stop-word keys (``_Candidates.stop_words``), which get no band rows.

    Stories are chosen item by item, each item seeing the ones before it (written or not),
    then written in bulk: one INSERT for the new stories, one UPDATE per joined story. The
    band index is read once for the whole batch (``BandCandidates.prefetch``)."""
    docs = [doc_of(it) for it in new]
    tx.lock_story_keys(k for fp in fps for k in fp.bands)
    source = BandCandidates(tx)
    source.prefetch(fps, docs, window)
    opened: list[NewItem] = []
    sizes: dict[int, int] = {}
    chosen: list[int] = []
    stops: list[set[int]] = []
    for k, (it, doc, fp) in enumerate(zip(new, docs, fps, strict=True)):
        sid = grouping.choose_story(doc, fp, source, window)
        t = doc.published_at
        stops.append(source.stop_words(fp.bands, t - window, t + window, batch=True))
        if sid is None:
            sid = PROVISIONAL + len(opened)
            opened.append(it)
        sizes[sid] = sizes.get(sid, 0) + 1
        chosen.append(sid)
        source.add(
            fp.bands, grouping.Candidate(item_id=-(k + 1), story_id=sid, doc=doc, features=fp)
        )
    real = tx.new_stories(
        [
            (it.title, it.first_seen_at, it.published_at, sizes[PROVISIONAL + i])
            for i, it in enumerate(opened)
        ]
    )
    for sid, n in sizes.items():
        if sid < PROVISIONAL:
            tx.join_story(sid, n)
    for it, sid, fp in zip(new, chosen, fps, strict=True):
        it.story_id = real[sid - PROVISIONAL] if sid >= PROVISIONAL else sid
        it.bands = fp.bands
    return set(real), stops


def assign_events(
    tx: Tx,
    new: Sequence[NewItem],
    opened: set[int],
    window: timedelta,
    sigs: Sequence[Signature | None] | None = None,
) -> eventing.Assigned:
    """The events of the stories opened in this batch, each from the item that opened it
    (``sigs``: the items' signatures, when the parse workers computed them)."""
    first: dict[int, tuple[NewItem, Signature | None]] = {}
    for k, it in enumerate(new):
        if it.story_id in opened and it.story_id not in first:
            first[it.story_id] = (it, sigs[k] if sigs is not None else None)
    return eventing.assign_events(
        tx,
        [
            eventing.Opened(sid, doc_of(it), it.title, it.first_seen_at, sig)
            for sid, (it, sig) in first.items()
        ],
        window,
    )


def alert_record(
    rules: Rules,
    m: TopicMatch,
    *,
    story_id: int,
    item_id: int,
    it: NewItem | ParsedItem,
    outlet: str,
    event_id: int | None = None,
) -> AlertRecord:
    """The alert an item's topic match raises, addressed to the topic's notifiers."""
    return AlertRecord(
        topic=m.topic,
        story_id=story_id,
        event_id=event_id,
        event_key=event_id if rules.per == "event" else None,
        item_id=item_id,
        title=it.title,
        url=it.url,
        outlet=it.outlet or outlet,  # an aggregator's entry: the publisher it names
        published_at=it.published_at,
        matched=list(m.terms),
        snippet=m.snippet,
        notifiers=list(rules.routes.get(m.topic, ())),
    )


def raise_alerts(
    tx: Tx,
    rules: Rules,
    *,
    item_id: int,
    story_id: int,
    it: NewItem | ParsedItem,
    outlet: str,
    fulltext: str | None,
    now: datetime,
    stats: IngestStats,
    alerted: dict[int, set[str]] | None = None,
    matches: Sequence[TopicMatch] | None = None,
    event_id: int | None = None,
) -> None:
    """``alerted``: topics already alerted per unit (``Rules.unit``: event or story), known
    to the caller (one opened in this batch has none), to spare a query per matching item.
    ``matches``: the item's topic matches when the caller computed them already (outside
    the write transaction). ``event_id``: the story's event (read here when not given)."""
    if now - it.published_at > rules.max_age:
        return
    if matches is None:
        matches = rules.matcher.match(it.title, it.summary, fulltext or it.content or "")
    if not matches:
        return
    if event_id is None:
        event_id = event_store.story_events(tx, [story_id]).get(story_id)
    unit = rules.unit(story_id, event_id)
    if alerted is not None and unit in alerted:
        done = alerted[unit]
    else:
        if rules.per == "event" and event_id is not None:
            done = event_store.alerted_event_topics(tx, event_id)
        else:
            done = tx.alerted_topics(story_id)
        if alerted is not None:
            alerted[unit] = done
    for m in matches:
        if m.topic in done:
            continue
        rec = alert_record(
            rules, m, story_id=story_id, item_id=item_id, it=it, outlet=outlet, event_id=event_id
        )
        alert_id = tx.insert_alert(rec, now)
        done.add(m.topic)
        if alert_id is not None:
            stats.alerts.append(alert_id)
            stats.alerts_by_topic[m.topic] = stats.alerts_by_topic.get(m.topic, 0) + 1


@dataclass
class Plan:
    """A poll's items sorted into new, changed and known, with the pure work done: content
    hashes, fingerprints and event signatures of new items and topic matches. Built before
    the write transaction (``plan``), so the write lock is held only for SQL and the story
    and event decisions."""

    new: list[NewItem] = field(default_factory=list)
    new_fps: list[grouping.Fingerprint] = field(default_factory=list)
    new_matches: list[list[TopicMatch]] = field(default_factory=list)
    new_sigs: list[Signature | None] = field(default_factory=list)
    changed: list[tuple[ExistingItem, ParsedItem, str, list[TopicMatch], str]] = field(
        default_factory=list
    )
    known: int = 0
    total: int = 0


def plan(
    existing: Mapping[str, ExistingItem],
    dead: set[str],
    *,
    feed_id: int,
    prepared: Sequence[PreparedItem],
    rules: Rules,
    now: datetime,
    fulltext: bool = False,
    backlog: bool = False,
) -> Plan:
    """Pure: ``existing`` and ``dead`` (tombstoned identities) come from the store.
    ``fulltext``: queue each new item for its article page (see ``enrich``). ``backlog``:
    the feed's first read; its items without a readable date (not those dated in the future:
    a clock or zone that runs ahead says the item is recent) are taken as first seen now
    but may be of any age, so they are its backlog and raise no alert (as a dated item
    older than ``alerts.max_age`` does not), and are not queued for their article page
    (whose full text would match and alert late): adding such a feed must not alert on
    every story it holds."""
    out = Plan(total=len(prepared))
    for pi in prepared:
        p, h = pi.item, pi.content_hash
        old = existing.get(p.identity)
        if old is not None:
            out.known += 1
            if old.content_hash != h:
                pi = completed(pi, rules.matcher, now, rules.max_age)
                assert pi.features is not None
                out.changed.append((old, p, h, pi.matches, pi.features))
            continue
        if p.identity in dead:
            out.known += 1
            continue
        pi = completed(pi, rules.matcher, now, rules.max_age)
        assert pi.fingerprint is not None
        old_news = backlog and not p.has_date and parse_date(p.published_raw) is None
        # (no article page either: its full text would match and alert late, in ``enrich``)
        queue = fulltext and bool(p.url) and not old_news
        status = "pending" if queue else None
        if queue and leads_nowhere(p.url or ""):
            queue, status = False, NO_ARTICLE_PAGE
        it = NewItem.of(
            p,
            feed_id=feed_id,
            first_seen_at=now,
            content_hash=h,
            fulltext_status=status,
            fulltext_after=now if queue else None,
            features=pi.features,
            bands=pi.fingerprint.bands,
        )
        out.new.append(it)
        out.new_fps.append(pi.fingerprint)
        out.new_matches.append([] if old_news else pi.matches)
        out.new_sigs.append(pi.signature)
    return out


def read_state(
    tx: Tx, feed_id: int, parsed: Sequence[ParsedItem], *, read_before: bool | None = None
) -> tuple[dict[str, ExistingItem], set[str]]:
    """The stored items and tombstones of a poll's items, keyed by their identities in this
    document. An item not stored under its identity may be stored under another one: the
    scheme is the document's, and one broken item moves the whole feed to another
    (``feeds.parse.identity_aliases``). Those are looked up only for a feed that has
    stored items (not in a first cycle), each stored item claimed by one parsed item.
    ``read_before``: whether the feed was ever read (the poll knows; None: ask the store)."""
    identities = [p.identity for p in parsed]
    existing = tx.existing_items(feed_id, identities)
    missing = [p for p in parsed if p.identity not in existing]
    aliases: dict[str, list[str]] = {}
    if missing and read_before is None:
        read_before = bool(existing) or tx.feed_has_items(feed_id)
    if missing and read_before:
        aliases = {p.identity: identity_aliases(p) for p in missing}
        stored = tx.existing_items(feed_id, [a for v in aliases.values() for a in v])
        claimed = {e.id for e in existing.values()}
        for p in missing:
            for a in aliases[p.identity]:
                e = stored.get(a)
                if e is not None and e.id not in claimed:
                    existing[p.identity] = e
                    claimed.add(e.id)
                    break
    unknown = [i for i in identities if i not in existing]
    asked = unknown + [a for i in unknown for a in aliases.get(i, ())]
    dead_stored = tx.tombstoned(feed_id, asked) if asked else set()
    dead = {
        i for i in unknown if i in dead_stored or not dead_stored.isdisjoint(aliases.get(i, ()))
    }
    return existing, dead


def apply(tx: Tx, pl: Plan, *, outlet: str, rules: Rules, now: datetime) -> IngestStats:
    """Write a plan: updates, new items with their stories and bands, alerts, outbox rows."""
    stats = IngestStats(total=pl.total, known=pl.known, updated=len(pl.changed), new=len(pl.new))
    for old, p, h, m, feats in pl.changed:
        tx.update_item(
            old.id,
            {f: getattr(p, f) for f in TEXT_FIELDS}
            | {"features": feats, "content_hash": h, "updated_at": now},
        )
        if old.story_id is not None and m:
            raise_alerts(
                tx, rules, item_id=old.id, story_id=old.story_id, it=p,
                outlet=outlet, fulltext=None, now=now, stats=stats, matches=m,
            )  # fmt: skip
    if not pl.new:
        return stats
    opened, stops = assign_stories(tx, pl.new, rules.window, pl.new_fps)
    stats.new_stories = len(opened)
    ids = tx.insert_items(pl.new)  # ``items.bands`` keeps every key, stop words included
    tx.insert_bands_many(
        (item_id, it.published_at, [b for b in it.bands if b not in stop] if stop else it.bands)
        for item_id, it, stop in zip(ids, pl.new, stops, strict=True)
    )
    events = assign_events(tx, pl.new, opened, rules.events_window, pl.new_sigs)
    story_event = events.events
    joined = {it.story_id for it, m in zip(pl.new, pl.new_matches, strict=True) if m}
    joined -= story_event.keys()
    if joined:  # items that joined stories stored before: their stories' events
        story_event = {**event_store.story_events(tx, joined), **story_event}  # type: ignore[arg-type]
    # units (Rules.unit) opened here have no alerts yet, and no other transaction sees them
    fresh_units = events.opened if rules.per == "event" else opened
    alerted: dict[int, set[str]] = {u: set() for u in fresh_units}
    fresh: list[AlertRecord] = []  # their alerts: no conflict possible
    for item_id, it, m in zip(ids, pl.new, pl.new_matches, strict=True):
        if not m:
            continue
        assert it.story_id is not None
        eid = story_event.get(it.story_id)
        unit = rules.unit(it.story_id, eid)
        if unit not in fresh_units:
            raise_alerts(
                tx, rules, item_id=item_id, story_id=it.story_id, it=it, outlet=outlet,
                fulltext=None, now=now, stats=stats, alerted=alerted, matches=m, event_id=eid,
            )  # fmt: skip
            continue
        if now - it.published_at > rules.max_age:
            continue
        for mt in m:
            if mt.topic in alerted[unit]:
                continue
            alerted[unit].add(mt.topic)
            fresh.append(
                alert_record(
                    rules, mt, story_id=it.story_id, item_id=item_id, it=it, outlet=outlet,
                    event_id=eid,
                )
            )  # fmt: skip
    for rec, alert_id in zip(fresh, tx.insert_new_alerts(fresh, now), strict=True):
        stats.alerts.append(alert_id)
        stats.alerts_by_topic[rec.topic] = stats.alerts_by_topic.get(rec.topic, 0) + 1
    eventing.count_terms(tx, events)
    return stats


def ingest_items(
    tx: Tx,
    *,
    feed_id: int,
    outlet: str,
    parsed: Sequence[ParsedItem],
    rules: Rules,
    now: datetime,
    fulltext: bool = False,
) -> IngestStats:
    """Plan and apply on one transaction (``poll`` plans before taking the write lock)."""
    existing, dead = read_state(tx, feed_id, parsed)
    stored = frozenset(e.content_hash for e in existing.values())  # unchanged: not prepared
    prepared = [prepare_item(p, rules.matcher, now, rules.max_age, stored) for p in parsed]
    pl = plan(
        existing, dead, feed_id=feed_id, prepared=prepared, rules=rules, now=now,
        fulltext=fulltext,
    )  # fmt: skip
    return apply(tx, pl, outlet=outlet, rules=rules, now=now)
