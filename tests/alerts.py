"""The alert every notifier test sends (override any field): one story, three outlets."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from daemon.delivery import AlertMessage, Source

STORY = "https://www.antaranews.com/berita/4242/menlu-bahas-ukraina?id=7&hal=2"


def alert(**kw: Any) -> AlertMessage:
    base: dict[str, Any] = dict(
        alert_id=1,
        topic="Ukraina",
        title="Menlu RI bahas bantuan kemanusiaan untuk Ukraina",
        url=STORY,
        outlet="Antara",
        published_at=datetime(2021, 12, 16, 13, 20, tzinfo=timezone.utc),
        matched=("Ukraina", "Kyiv"),
        snippet="Jakarta (ANTARA) - Menteri Luar Negeri membahas bantuan ke Kyiv.",
        sources=(
            Source("Antara", STORY, "Menlu RI bahas bantuan"),
            Source("Republika", "https://republika.co.id/x", "Menlu bahas"),
            Source("Okezone", "https://okezone.com/y", "Menlu bahas"),
        ),
    )
    base.update(kw)
    return AlertMessage(**base)
