"""Alerts and their outbox: an alert is written with one pending delivery row per notifier in
the same transaction, and dispatchers claim due rows (docs/design.md, "outbox")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from daemon.storage import db
from daemon.storage.schema import UTCDateTime, deliveries
from daemon.storage.sql import ROWS_PER_INSERT, TxBase, chunks, claim, values_sql


@dataclass
class AlertRecord:
    topic: str
    story_id: int
    item_id: int
    title: str
    url: str | None
    outlet: str
    published_at: datetime
    matched: Sequence[str]
    snippet: str
    notifiers: Sequence[str]
    event_id: int | None = None  # the story's event
    event_key: int | None = None  # the event when alerts are per event (one per topic)


@dataclass
class DeliveryRow:
    id: int
    alert_id: int
    notifier: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime


_ALERT_COLUMNS = (
    "topic", "story_id", "item_id", "title", "url", "outlet", "published_at", "matched",
    "snippet", "created_at", "event_id", "event_key",
)  # fmt: skip


class OutboxTx(TxBase):
    """Alerts and outbox rows inside a write transaction."""

    def alerted_topics(self, story_id: int) -> set[str]:
        return {
            r[0] for r in self._fetch("SELECT topic FROM alerts WHERE story_id = ?", [story_id])
        }

    def _alert_params(self, a: AlertRecord, now: datetime) -> tuple[Any, ...]:
        return (
            a.topic, a.story_id, a.item_id, a.title, a.url, a.outlet, self._ts(a.published_at),
            json.dumps(list(a.matched), ensure_ascii=False), a.snippet, self._ts(now),
            a.event_id, a.event_key,
        )  # fmt: skip

    def insert_alert(self, a: AlertRecord, now: datetime) -> int | None:
        """The alert and one pending delivery per notifier, or None if (topic, story), or
        (topic, event) when alerts are per event, exists (a concurrent writer's too)."""
        rows = self._fetch(
            f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES "
            f"{values_sql(len(_ALERT_COLUMNS), 1)} "
            "ON CONFLICT DO NOTHING RETURNING id",
            self._alert_params(a, now),
        )
        if not rows:
            return None
        alert_id: int = rows[0][0]
        self._outbox([(alert_id, a)], now)
        return alert_id

    def insert_new_alerts(self, records: Sequence[AlertRecord], now: datetime) -> list[int]:
        """Alerts of stories opened in this transaction, with their outbox rows. (No other
        transaction can see those stories, so no conflict is possible; alerts of older
        stories go through ``insert_alert``.) RETURNING rows are matched back by
        (topic, story), which is unique."""
        if not records:
            return []
        ids: dict[tuple[str, int], int] = {}
        for chunk in chunks(list(records), ROWS_PER_INSERT):
            params: list[Any] = []
            for a in chunk:
                params += self._alert_params(a, now)
            rows = self._fetch(
                f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) VALUES "
                f"{values_sql(len(_ALERT_COLUMNS), len(chunk))} RETURNING id, topic, story_id",
                params,
            )
            for alert_id, topic, story_id in rows:
                ids[(topic, story_id)] = alert_id
        out = [ids[(a.topic, a.story_id)] for a in records]
        self._outbox(list(zip(out, records, strict=True)), now)
        return out

    def _outbox(self, pairs: Sequence[tuple[int, AlertRecord]], now: datetime) -> None:
        """One pending delivery row per (alert, notifier of its topic)."""
        stamp = self._ts(now)
        self._many(
            "INSERT INTO deliveries (alert_id, notifier, status, attempts, next_attempt_at, "
            "created_at) VALUES (?, ?, 'pending', 0, ?, ?)",
            [
                (alert_id, n, stamp, stamp)
                for alert_id, a in pairs
                for n in dict.fromkeys(a.notifiers)
            ],
        )


class OutboxStore:
    """Claiming and finishing deliveries (mixed into ``Store``)."""

    engine: Any

    # -- the outbox ----------------------------------------------------------------------------
    def claim_deliveries(
        self, now: datetime, owner: str, lease: float, *, notifiers: Sequence[str], limit: int = 100
    ) -> list[DeliveryRow]:
        """Claim due pending rows: a claimed row is not handed to another dispatcher until the
        claim expires (a crashed dispatcher's rows are retried after ``lease`` seconds)."""
        if not notifiers:
            return []
        until = now + timedelta(seconds=lease)
        with self.tx() as tx:
            q = (
                sa.select(deliveries.c.id)
                .where(
                    deliveries.c.status == "pending",
                    deliveries.c.next_attempt_at <= now,
                    deliveries.c.notifier.in_(list(notifiers)),
                    sa.or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
                )
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
                .limit(limit)
            )
            ids = claim(tx, q, deliveries, claimed_by=owner, claimed_until=until)
            if not ids:
                return []
            rows = tx.conn.execute(
                sa.select(deliveries).where(deliveries.c.id.in_(ids)).order_by(deliveries.c.id)
            )
            return [
                DeliveryRow(
                    r.id,
                    r.alert_id,
                    r.notifier,
                    r.status,
                    r.attempts,
                    r.created_at,
                    r.next_attempt_at,
                )
                for r in rows
            ]

    def finish_delivery(
        self,
        delivery_id: int,
        owner: str,
        *,
        status: str,
        attempts: int,
        now: datetime,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "last_error": error,
            "claimed_by": None,
            "claimed_until": None,
        }
        if status == "sent":
            values["sent_at"] = now
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.tx() as tx:
            tx.conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.claimed_by == owner)
                .values(**values)
            )

    def delivery_counts(self) -> dict[str, int]:
        with db.read_tx(self.engine) as conn:
            rows = conn.execute(
                sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
            )
            return {r[0]: r[1] for r in rows}

    def oldest_pending_delivery(self, notifier: str | None = None) -> datetime | None:
        q = sa.select(sa.func.min(deliveries.c.created_at, type_=UTCDateTime())).where(
            deliveries.c.status == "pending"
        )
        if notifier is not None:
            q = q.where(deliveries.c.notifier == notifier)
        with db.read_tx(self.engine) as conn:
            return conn.execute(q).scalar()
