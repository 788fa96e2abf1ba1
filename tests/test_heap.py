"""daemon.runtime.heap: capped malloc arenas, freed memory given back, and `pantau run` doing both."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from daemon.demo.loopback import LoopbackServer
from daemon.runtime import heap
from tests.feedgen import entries, rss

ROOT = Path(__file__).resolve().parent.parent

needs_glibc = pytest.mark.skipif(
    not heap.available(), reason="malloc_trim is glibc's: this C library has none"
)

# Four threads (each gets its own malloc arena, like the daemon's poll threads) allocate
# ~640 MB in blocks of 1-3 KB (C-allocator sizes in CPython), then free all but every 40th
# block, so a live block sits above nearly every free page and nothing is returned by
# itself. Prints the process's heap (RssAnon, MiB) before and after one trim.
_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    sys.path.insert(0, sys.argv[1])
    from daemon.runtime import heap

    def anon():
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024

    kept = []
    def work():
        blocks = [bytes(1000 + i % 2000) for i in range(80_000)]
        kept.append(blocks[::40])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    before = anon()
    released = heap.trim()
    print(before, anon(), released, sum(len(k) for k in kept))
    """
)


@needs_glibc
def test_trim_returns_the_freed_heap_to_the_system() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(ROOT)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.split()  # fmt: skip
    before, after, released, kept = float(out[0]), float(out[1]), out[2], int(out[3])
    assert kept == 8_000  # the live blocks survived (~16 MB)
    assert before > 100, f"the allocation did not show in RssAnon ({before:.0f} MiB)"
    assert released == "True"
    # ~620 MB was freed; without the trim glibc keeps nearly all of it
    assert before - after > 80, f"RssAnon {before:.0f} -> {after:.0f} MiB"


# Eight threads allocate at once (as eight poll threads do); glibc's malloc_info lists one
# <heap nr=...> per arena. argv: repo, "limit" or "none".
_ARENAS = textwrap.dedent(
    """
    import ctypes, os, sys, tempfile, threading
    sys.path.insert(0, sys.argv[1])
    from daemon.runtime import heap

    capped = heap.limit_arenas() if sys.argv[2] == "limit" else None
    barrier = threading.Barrier(8)
    kept = []
    def work():
        barrier.wait()
        kept.append([bytes(2000) for _ in range(200)])
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    fd, path = tempfile.mkstemp()
    os.close(fd)
    fp = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    with open(path) as fh:
        print(capped, fh.read().count("<heap nr="))
    os.unlink(path)
    """
)


def _arenas(mode: str, env: dict[str, str]) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", _ARENAS, str(ROOT), mode],
        capture_output=True, text=True, timeout=60, check=True, env=env,
    ).stdout.split()  # fmt: skip
    return out[0], int(out[1])


@needs_glibc
def test_limit_arenas_caps_what_threads_get() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    _, free_for_all = _arenas("none", env)
    capped, arenas = _arenas("limit", env)
    assert free_for_all > heap.ARENAS, f"eight threads made only {free_for_all} arenas"
    assert capped == "True" and arenas <= heap.ARENAS
    # the operator's own setting wins: limit_arenas leaves it alone
    capped, arenas = _arenas("limit", {**env, "MALLOC_ARENA_MAX": "3"})
    assert capped == "False" and arenas == 3


def test_trim_is_harmless_to_call_again_and_from_threads() -> None:
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(heap.trim())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(isinstance(r, bool) for r in results)
    if not heap.available():
        assert results == [False] * 4


def test_the_daemon_trims_while_it_runs(tmp_path: Path) -> None:
    from daemon.config import parse_config
    from daemon.runtime.service import Daemon

    with LoopbackServer() as srv:
        url = srv.static("/a.xml", rss("A", entries(1, 3)))
        cfg = parse_config(
            f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds:\n  - {{url: '{url}', name: A}}\n",
            env={},
        )
        d = Daemon(cfg)
        d.trim_every = 0.2
        t = threading.Thread(target=d.run, daemon=True)
        t.start()
        try:

            def until(pred, what: str) -> None:  # type: ignore[no-untyped-def]
                deadline = time.monotonic() + 30
                while not pred() and time.monotonic() < deadline and t.is_alive():
                    time.sleep(0.05)
                assert pred(), f"timed out waiting for {what}"

            until(lambda: srv.count("/a.xml") >= 1, "the first poll")
            seen = d.trims
            until(lambda: d.trims >= seen + 2, "two trims after it (trim_every=0.2)")
        finally:
            d.stop.set()
            t.join(15)
        assert not t.is_alive()
