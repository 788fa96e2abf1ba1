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
import tempfile
from daemon.pipeline.ingest import ingest_items
from daemon.pipeline.prepare import prepare_item
from daemon.storage.store import Store
from tests.test_store import NOW, feed_id, item, rules

r = rules(("Gempa", "gempa"))
pi = prepare_item(item(1), r.matcher, NOW, r.max_age, frozenset())
print("signature", pi.signature is not None)
with tempfile.TemporaryDirectory() as d:
    store = Store.open(f"sqlite:///{d}/t.db")
    store.upgrade()
    fid = feed_id(store)
    with store.tx() as tx:
        ingest_items(tx, feed_id=fid, outlet="x", parsed=[item(1), item(2)], rules=r, now=NOW)
    with store.engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT count(event_id) FROM stories").scalar()
    store.close()
print("stories with an event", n)
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
    assert "stories with an event 2" in on.stdout
    off = _run(PROBE, hook=True)
    assert off.returncode == 0, off.stderr
    assert "signature False" in off.stdout
    assert "stories with an event 0" in off.stdout


def test_the_switch_fails_loudly_when_what_it_replaces_is_gone() -> None:
    code = (
        "import types, sitecustomize\n"
        "m = types.ModuleType('daemon.pipeline.prepare')\n"
        "sitecustomize._patch(m)\n"
    )
    done = _run(code, hook=True)
    assert done.returncode != 0
    assert "daemon.pipeline.prepare.signature is gone" in done.stderr
