"""One poll's items into the database, in one transaction: store → group → match → outbox.

This is where the pipeline's decisions meet storage. For each parsed item: is it new, changed
or known (identity within its feed; tombstones count as known); which story does a new item
join (same canonical URL first, then near-duplicate text through the LSH band index); which
topics does it match; does that raise an alert (one per topic and story, only for items no
older than ``alerts.max_age``); and which outbox rows go with the alert. Everything is written
on the one connection of ``tx`` so a crash leaves either all of it or none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from daemon import stories as grouping
from daemon.match import Matcher
from daemon.parse import ParsedItem
from daemon.store import AlertRecord, NewItem, Tx

CANDIDATE_LIMIT = 20


@dataclass(frozen=True)
class Rules:
    """What ingest needs from the config (rebuilt on reload)."""

    matcher: Matcher
    routes: Mapping[str, Sequence[str]]  # topic -> notifier names
    window: timedelta
    max_age: timedelta


@dataclass
class IngestStats:
    total: int = 0
    known: int = 0
    new: int = 0
    updated: int = 0
    new_stories: int = 0
    alerts: list[int] = field(default_factory=list)
    alerts_by_topic: dict[str, int] = field(default_factory=dict)


def content_hash(it: ParsedItem) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in (it.title, it.summary, it.content, it.url or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


PROVISIONAL = 10**15  # story ids above this are stories opened in the current batch


class _Candidates:
    """stories.CandidateSource over the band index, on the ingest connection, plus the items
    of the current batch that are not written yet (``overlay``): two copies of one story in
    one poll must find each other too."""

    def __init__(self, tx: Tx, exclude_item: int | None = None) -> None:
        self.tx = tx
        self.exclude_item = exclude_item
        self.overlay: list[tuple[frozenset[int], grouping.Candidate]] = []

    def add(self, bands: Sequence[int], cand: grouping.Candidate) -> None:
        self.overlay.append((frozenset(bands), cand))

    def candidates(
        self, bands: Sequence[int], since: datetime, until: datetime, limit: int
    ) -> list[grouping.Candidate]:
        out = []
        for r in self.tx.band_candidates(bands, since, until, limit):
            if r.story_id is None or r.id == self.exclude_item:
                continue
            out.append(
                grouping.Candidate(
                    item_id=r.id,
                    story_id=r.story_id,
                    doc=grouping.Doc(
                        title=r.title,
                        summary=r.summary,
                        content=r.fulltext or r.content or "",
                        url=r.url,
                        published_at=r.published_at,
                    ),
                )
            )
        if self.overlay:
            keys = set(bands)
            local = [
                (len(keys & b), c)
                for b, c in self.overlay
                if since <= c.doc.published_at <= until and not keys.isdisjoint(b)
            ]
            local.sort(key=lambda x: -x[0])
            out.extend(c for _, c in local[:limit])
        return out


def doc_of(it: ParsedItem | NewItem, fulltext: str | None = None) -> grouping.Doc:
    return grouping.Doc(
        title=it.title,
        summary=it.summary,
        content=fulltext or it.content or "",
        url=it.url,
        published_at=it.published_at,
    )


def assign_stories(tx: Tx, new: Sequence[NewItem], window: timedelta) -> set[int]:
    """Give every new item a story (``it.story_id``, with its band keys in ``it.bands``);
    returns the ids of the stories opened. Stories are chosen item by item (each sees the ones before it, written
    or not), then written in bulk: one INSERT for the new stories, one per joined story."""
    fps = [grouping.fingerprint(doc_of(it)) for it in new]
    tx.lock_story_keys(k for fp in fps for k in fp.bands)
    source = _Candidates(tx)
    opened: list[NewItem] = []
    sizes: dict[int, int] = {}
    chosen: list[int] = []
    for k, (it, fp) in enumerate(zip(new, fps, strict=True)):
        doc = doc_of(it)
        sid = grouping.choose_story(doc, fp, source, window)
        if sid is None:
            sid = PROVISIONAL + len(opened)
            opened.append(it)
        sizes[sid] = sizes.get(sid, 0) + 1
        chosen.append(sid)
        source.add(fp.bands, grouping.Candidate(item_id=-(k + 1), story_id=sid, doc=doc))
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
    return set(real)


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
) -> None:
    """``alerted``: topics already alerted per story, known to the caller (a story opened in
    this batch has none), to spare a query per matching item."""
    if now - it.published_at > rules.max_age:
        return
    matches = rules.matcher.match(it.title, it.summary, fulltext or it.content or "")
    if not matches:
        return
    if alerted is not None and story_id in alerted:
        done = alerted[story_id]
    else:
        done = tx.alerted_topics(story_id)
        if alerted is not None:
            alerted[story_id] = done
    for m in matches:
        if m.topic in done:
            continue
        alert_id = tx.insert_alert(
            AlertRecord(
                topic=m.topic,
                story_id=story_id,
                item_id=item_id,
                title=it.title,
                url=it.url,
                outlet=outlet,
                published_at=it.published_at,
                matched=list(m.terms),
                snippet=m.snippet,
                notifiers=list(rules.routes.get(m.topic, ())),
            ),
            now,
        )
        done.add(m.topic)
        if alert_id is not None:
            stats.alerts.append(alert_id)
            stats.alerts_by_topic[m.topic] = stats.alerts_by_topic.get(m.topic, 0) + 1


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
    """``fulltext``: queue each new item for its article page (see ``enrich``)."""
    stats = IngestStats(total=len(parsed))
    identities = [p.identity for p in parsed]
    existing = tx.existing_items(feed_id, identities)
    dead = tx.tombstoned(feed_id, [i for i in identities if i not in existing])
    new: list[NewItem] = []
    for p in parsed:
        h = content_hash(p)
        old = existing.get(p.identity)
        if old is not None:
            stats.known += 1
            if old.content_hash != h:
                stats.updated += 1
                tx.update_item(
                    old.id,
                    {
                        "title": p.title,
                        "summary": p.summary,
                        "content": p.content,
                        "title_html": p.title_html,
                        "summary_html": p.summary_html,
                        "content_hash": h,
                        "updated_at": now,
                    },
                )
                if old.story_id is not None:
                    raise_alerts(
                        tx, rules, item_id=old.id, story_id=old.story_id, it=p,
                        outlet=outlet, fulltext=None, now=now, stats=stats,
                    )  # fmt: skip
            continue
        if p.identity in dead:
            stats.known += 1
            continue
        new.append(
            NewItem(
                feed_id=feed_id,
                identity=p.identity,
                guid=p.guid,
                url=p.url,
                title=p.title,
                summary=p.summary,
                content=p.content,
                title_html=p.title_html,
                summary_html=p.summary_html,
                author=p.author,
                published_at=p.published_at,
                published_raw=p.published_raw,
                has_date=p.has_date,
                first_seen_at=now,
                content_hash=h,
                fulltext_status="pending" if fulltext and p.url else None,
                fulltext_after=now if fulltext and p.url else None,
            )
        )
    stats.new = len(new)
    if not new:
        return stats
    opened = assign_stories(tx, new, rules.window)
    stats.new_stories = len(opened)
    ids = tx.insert_items(new)
    tx.insert_bands_many(
        (item_id, it.story_id, it.published_at, it.bands)
        for item_id, it in zip(ids, new, strict=True)
    )
    alerted: dict[int, set[str]] = {sid: set() for sid in opened}  # new stories: no alerts yet
    for item_id, it in zip(ids, new, strict=True):
        assert it.story_id is not None
        raise_alerts(
            tx, rules, item_id=item_id, story_id=it.story_id, it=it, outlet=outlet,
            fulltext=None, now=now, stats=stats, alerted=alerted,
        )  # fmt: skip
    return stats
