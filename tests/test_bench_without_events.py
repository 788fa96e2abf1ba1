"""``bench/cycle.py --without-events`` (bench/without_events/sitecustomize.py): in a process
started with it on PYTHONPATH, pantau's parse step computes no event signature and its ingest
decides no event, and the switch fails loudly if what it replaces is gone, rather than
leaving the layer on and the measurement wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "bench" / "without_events"

PROBE = """
from datetime import datetime, timedelta, timezone
from daemon.feeds.item import ParsedItem
from daemon.pipeline import ingest
from daemon.pipeline.prepare import prepare_item

now = datetime(2026, 12, 7, 9, tzinfo=timezone.utc)
it = ParsedItem(
    identity="guid:1", guid="1", url="https://media.example.id/1", title="Banjir di Kota Lama",
    summary="Banjir merendam 300 rumah warga di Kota Lama pada Senin (7/12) pagi setelah hujan "
    "deras sejak Minggu malam, kata kepala BPBD setempat kepada wartawan.",
    content="", title_html="", summary_html="", author="", published_at=now,
    published_raw=None, has_date=True,
)
pi = prepare_item(it, None, now, timedelta(hours=48), frozenset())
print("signature", pi.signature is not None)
print("events", ingest.assign_events(None, [], set(), timedelta(hours=36)).events)
"""


def _run(code: str, hook: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HOOK)] * hook + [str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_switch_turns_off_signatures_and_event_decisions_only_where_it_is_installed() -> None:
    on = _run(PROBE, hook=False)
    assert on.returncode == 0, on.stderr
    assert "signature True" in on.stdout
    off = _run(PROBE, hook=True)
    assert off.returncode == 0, off.stderr
    assert "signature False" in off.stdout
    assert "events {}" in off.stdout


def test_the_switch_fails_loudly_when_what_it_replaces_is_gone() -> None:
    code = (
        "import types, sitecustomize\n"
        "m = types.ModuleType('daemon.pipeline.prepare')\n"
        "sitecustomize._patch(m)\n"
    )
    done = _run(code, hook=True)
    assert done.returncode != 0
    assert "daemon.pipeline.prepare.signature is gone" in done.stderr
