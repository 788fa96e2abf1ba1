"""What a `pantau run --once` starts (issue 29): a cron user pays the start-up of every run, so
a cycle whose feeds all answer 304 must start no parse workers, and a later cycle that does
bring documents must still parse them (its workers start when the first one needs them)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.demo.loopback import LoopbackServer
from daemon.storage.store import Store
from tests.feedgen import entries, rss
from tests.test_pipeline import ROOT, write_config


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.update(int(x) for x in fh.read().split())
    except OSError:
        pass
    return out


def run_watched(cfg: Path) -> tuple[subprocess.CompletedProcess[str], set[int]]:
    """``pantau run --once``, and every child process seen while it ran."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--config", str(cfg), "run", "--once"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.update(_children(proc.pid))
            done.wait(0.002)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        done.set()
        t.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), seen


def _config(outlets: LoopbackServer, tmp_path: Path, *, feeds: int, items: int) -> Path:
    """A config of ``feeds`` outlets served by ``outlets``, ``items`` items each."""
    served = [
        (f"Outlet{k}", outlets.static(f"/f{k}.xml", rss(f"Outlet{k}", entries(k, items))))
        for k in range(feeds)
    ]
    return write_config(tmp_path, served)


@pytest.fixture
def outlets() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_cycle_of_304s_starts_no_process_and_a_later_one_still_parses(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    cfg = _config(outlets, tmp_path, feeds=6, items=40)
    first, _ = run_watched(cfg)
    assert first.returncode == 0, first.stderr

    steady, seen = run_watched(cfg)
    assert steady.returncode == 0, steady.stderr
    assert "new_items=0" in steady.stderr
    assert seen == set()  # before issue 29: the forkserver and its resource tracker

    # New items in every feed, documents large enough for the workers (parsepool's
    # INLINE_BELOW): the workers start then, and the items are stored.
    for k in range(6):
        body = rss(f"Outlet{k}", entries(100 + k, 60))
        assert len(body) > 16 * 1024
        outlets.static(f"/f{k}.xml", body)
    rotation, seen = run_watched(cfg)
    assert rotation.returncode == 0, rotation.stderr
    assert seen, "a cycle with documents to parse starts its workers"
    store = Store.open(f"sqlite:///{tmp_path / 'pantau.db'}")
    try:
        assert store.counts()["items"] == 6 * 40 + 6 * 60
    finally:
        store.close()


# What a cycle of 304s has no use for: reading documents, grouping, ingesting, and counting
# for a metrics endpoint that `run --once` never serves. Each was imported by every run,
# ~45 ms of a ~0.95 s steady cycle at 1,000 feeds (bench/README.md, "Sixth session").
NOT_FOR_304S = (
    "daemon.feeds.parse",
    "daemon.grouping.stories",
    "daemon.grouping.events",
    "daemon.pipeline.ingest",
    "daemon.pipeline.prepare",
    "prometheus_client",
    "multiprocessing.context",
)


def imported(cfg: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``pantau run --once`` under ``python -X importtime``: the modules it imported."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "daemon", "--config", str(cfg), "run", "--once"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return proc, names


def test_a_cycle_of_304s_imports_nothing_that_reads_documents(
    outlets: LoopbackServer, tmp_path: Path
) -> None:
    cfg = _config(outlets, tmp_path, feeds=3, items=5)
    first, names = imported(cfg)
    assert first.returncode == 0, first.stderr
    assert set(NOT_FOR_304S) - {"prometheus_client"} <= names  # the first cycle uses them

    steady, names = imported(cfg)
    assert steady.returncode == 0, steady.stderr
    assert "new_items=0" in steady.stderr and "ok=3" in steady.stderr
    assert "daemon.storage.store" in names  # (the importtime lines are read right)
    assert names.isdisjoint(NOT_FOR_304S), sorted(names.intersection(NOT_FOR_304S))
