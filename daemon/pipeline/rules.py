"""What ingest takes from the config (``Rules``) and what one ingest did (``IngestStats``).

Apart from ``daemon.pipeline.ingest`` so that the poller and the service can name them
without importing the pipeline: a cycle whose feeds all answer 304 parses, groups and
ingests nothing, and a cron user's ``run --once`` pays every import at every start
(tests/test_run_once_startup.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daemon.topics.match import Matcher


@dataclass(frozen=True)
class Rules:
    """What ingest needs from the config (rebuilt on reload)."""

    matcher: Matcher
    routes: Mapping[str, Sequence[str]]  # topic -> notifier names
    window: timedelta
    max_age: timedelta
    events_window: timedelta = timedelta(hours=36)
    per: str = "event"  # alerts.per: "event" (one alert per topic and event) or "story"

    def unit(self, story_id: int, event_id: int | None) -> int:
        """What gets one alert per topic: the story's event, or the story itself."""
        return event_id if self.per == "event" and event_id is not None else story_id


@dataclass
class IngestStats:
    total: int = 0
    known: int = 0
    new: int = 0
    updated: int = 0
    new_stories: int = 0
    alerts: list[int] = field(default_factory=list)
    alerts_by_topic: dict[str, int] = field(default_factory=dict)
