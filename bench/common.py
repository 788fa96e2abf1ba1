"""Shared pieces of the performance harness: the farm process, per-run measurement, tables.

Standard library only, so the peers' virtualenv (which has no pantau) can import it too.

Measurement: every measured run is a fresh child process; ``os.wait4`` gives that child's own
user+sys CPU and ``ru_maxrss`` (the largest single process among it and the children it
waited for), and a sampler thread sums VmRSS over the whole process tree every 0.2 s, so
worker processes show up in the peak too.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_PY = REPO / ".venv" / "bin" / "python"


def python() -> str:
    """The project's interpreter if it exists, else this one."""
    return str(VENV_PY) if VENV_PY.exists() else sys.executable


def product_pantau(root: Path = REPO) -> Path:
    """``pantau`` as a user's ``pip install .`` has it: ``root`` installed (editable) in a
    virtualenv of its own, ``<root>/.bench-venv``, with the runtime dependencies only. The
    development venv also holds the test extras, and Mako (which Alembic imports to
    migrate) loads pygments when it is there: 5-7 MB more in the main process of a first
    cycle than a user's install carries (bench/README.md, "Fourth session"). Made once;
    made again when ``pyproject.toml`` changes."""
    venv = root / ".bench-venv"
    exe = venv / "bin" / "pantau"
    stamp = venv / "pyproject.sha256"
    want = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
    if not exe.exists() or not stamp.exists() or stamp.read_text() != want:
        quiet = {"check": True, "stdout": subprocess.DEVNULL}
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], **quiet)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-e", str(root)], **quiet)
        stamp.write_text(want)
    return exe


# ---------------------------------------------------------------------------------------------
# Machine


def machine() -> dict[str, str]:
    model = "?"
    mem_kb = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu": model,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def machine_line() -> str:
    m = machine()
    return (
        f"{m['date']} — {m['cpus']} CPUs ({m['cpu']}), {m['ram']} RAM, "
        f"Python {m['python']}, Linux {m['kernel']}"
    )


# ---------------------------------------------------------------------------------------------
# The farm as a child process


def compile_project(root: Path = REPO) -> None:
    """Byte-compile daemon/ as installing the wheel would (pip compiles on install). An
    editable checkout under PYTHONDONTWRITEBYTECODE=1 otherwise recompiles every module
    from source at each start, ~0.15 s that an installed pantau never pays."""
    subprocess.run([python(), "-m", "compileall", "-q", str(root / "daemon")], check=True)


class FarmProcess:
    """``with FarmProcess(1000, 50) as farm:`` starts bench/farm.py and stops it on exit."""

    def __init__(
        self,
        feeds: int,
        items: int,
        *,
        rotate_fraction: float = 0.2,
        rotate_items: int = 5,
        rotate_every: float = 0.0,
        lifetime: float = 4 * 3600,
        seed: int = 1,
        corpus: Path | None = None,
    ) -> None:
        self.cmd = [
            python(),
            str(BENCH / "farm.py"),
            f"--feeds={feeds}",
            f"--items={items}",
            "--port=0",
            f"--seed={seed}",
            f"--rotate-fraction={rotate_fraction}",
            f"--rotate-items={rotate_items}",
            f"--rotate-every={rotate_every}",
            f"--lifetime={lifetime}",
            *([f"--corpus={corpus}"] if corpus else []),
        ]
        self.proc: subprocess.Popen[str] | None = None
        self.base = ""
        self.banner = ""

    def __enter__(self) -> FarmProcess:
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until it is ready (or exits)
        try:
            port, self.banner = self._ready(line)
        except (ValueError, KeyError, IndexError):
            self.close()
            raise RuntimeError(f"farm did not start: {line!r}") from None
        self.base = f"http://127.0.0.1:{port}"
        # keep draining its stdout so rotation messages never block it
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _ready(self, line: str) -> tuple[str, str]:
        """The port and a banner from the farm's first line ("READY <port> ...")."""
        if not line.startswith("READY"):
            raise ValueError(line)
        return line.split()[1], line.strip()

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def _call(self, method: str, path: str) -> bytes:
        req = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(req, timeout=120) as r:  # noqa: S310 (loopback only)
            return r.read()

    URLS_PATH = "/_urls"  # one feed URL per line (the floor reads it too)

    @property
    def urls_url(self) -> str:
        return self.base + self.URLS_PATH

    def urls(self) -> list[str]:
        return self._call("GET", self.URLS_PATH).decode().split()

    def rotate(self, fraction: float | None = None, items: int | None = None) -> dict:
        q = []
        if fraction is not None:
            q.append(f"fraction={fraction}")
        if items is not None:
            q.append(f"items={items}")
        return json.loads(self._call("POST", "/_rotate?" + "&".join(q)))

    def stats(self) -> dict:
        return json.loads(self._call("GET", "/_stats"))

    def reset(self) -> None:
        self._call("POST", "/_reset")


# The templated farm (issue 29): items built from a few sentence templates with stock
# phrases shared across outlets and days, as the day's price reports and closings are in real
# Indonesian news. bench/farm.py's items rarely resemble each other; this one makes LSH band
# keys that hundreds of items share. It lives outside the repository (the shared workspace);
# PANTAU_TEMPLATED_FARM names another copy.
TEMPLATED_FARM = Path(
    os.environ.get("PANTAU_TEMPLATED_FARM", REPO.parent / "shared" / "bench" / "feedfarm.py")
)
FARMS = ("plain", "templated")


class TemplatedFarmProcess(FarmProcess):
    """The templated farm behind ``FarmProcess``'s interface (its own control endpoints:
    ``/urls.txt``, ``GET /rotate?fraction=&k=``, ``/stats``)."""

    def __init__(
        self,
        feeds: int,
        items: int,
        *,
        rotate_fraction: float = 0.2,
        rotate_items: int = 5,
        rotate_every: float = 0.0,
        lifetime: float = 4 * 3600,
        seed: int = 1,
    ) -> None:
        super().__init__(feeds, items, rotate_fraction=rotate_fraction,
                         rotate_items=rotate_items, seed=seed)  # fmt: skip
        if not TEMPLATED_FARM.exists():
            raise FileNotFoundError(f"templated farm not found: {TEMPLATED_FARM}")
        self.cmd = [
            python(),
            str(TEMPLATED_FARM),
            f"--feeds={feeds}",
            f"--items={items}",
            "--port=0",
            f"--seed={seed}",
            f"--rotate-fraction={rotate_fraction}",
            f"--new-items={rotate_items}",
            f"--rotate-seconds={rotate_every}",
        ]  # fmt: skip (no lifetime: it runs until ``close``)

    def _ready(self, line: str) -> tuple[str, str]:
        ready = json.loads(line)  # its ready line: JSON with the port
        banner = "templated " + " ".join(
            f"{k}={ready[k]}" for k in ("feeds", "items", "avg_feed_bytes", "build_s") if k in ready
        )
        return str(ready["port"]), banner

    URLS_PATH = "/urls.txt"

    def rotate(self, fraction: float | None = None, items: int | None = None) -> dict:
        q = []
        if fraction is not None:
            q.append(f"fraction={fraction}")
        if items is not None:
            q.append(f"k={items}")
        doc = json.loads(self._call("GET", "/rotate?" + "&".join(q)))
        # as bench/farm.py answers: the feeds that changed (only their number is used) and k
        return {"feeds": [None] * doc["feeds_changed"], "items": doc["new_items_each"]}

    def stats(self) -> dict:
        d = json.loads(self._call("GET", "/stats"))
        return {
            "requests": d["requests"],
            "200": d["status_200"],
            "304": d["status_304"],
            "farm_cpu_seconds": d["server_cpu_user_s"] + d["server_cpu_sys_s"],
        }

    def reset(self) -> None:
        self._call("GET", "/reset")


def farm_process(kind: str, feeds: int, items: int, **kw: Any) -> FarmProcess:
    """``kind``: "plain" (bench/farm.py) or "templated" (``TEMPLATED_FARM``, which has no
    saved-corpus mode: ``corpus`` must then be None)."""
    if kind == "templated":
        if kw.pop("corpus", None) is not None:
            raise ValueError("the templated farm serves no saved corpus")
        return TemplatedFarmProcess(feeds, items, **kw)
    return FarmProcess(feeds, items, **kw)


# ---------------------------------------------------------------------------------------------
# Measuring one child process


@dataclass
class Measurement:
    label: str
    wall: float = 0.0
    user: float = 0.0
    sys: float = 0.0
    maxrss_mb: float = 0.0  # largest single process (ru_maxrss)
    tree_peak_mb: float = 0.0  # largest sum of VmRSS over the process tree, sampled
    # largest sum of PSS over the tree, sampled: each page shared between processes (the
    # forkserver's workers share its imported modules) counted once, as the machine does
    tree_pss_peak_mb: float = 0.0
    rc: int = 0
    farm_cpu: float = 0.0
    farm_requests: int = 0
    # CPU of the process's descendants that it never reaps itself (pantau's parse workers
    # are children of the forkserver): their own utime+stime, sampled every 0.2 s
    children_cpu: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def cpu(self) -> float:
        """The whole process tree's CPU seconds."""
        return self.user + self.sys + self.children_cpu

    def as_dict(self) -> dict:
        d = asdict(self)
        d["cpu"] = self.cpu
        return d


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.extend(int(x) for x in fh.read().split())
    except OSError:
        pass
    return out


def tree_pids(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(_children(p))
    return pids


def proc_kb(pid: int, name: str, key: str) -> int:
    """A ``key: N kB`` line of /proc/PID/NAME (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/{name}") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid: int) -> int:
    return proc_kb(pid, "status", "VmRSS")


def anon_kb(pid: int) -> int:
    """RssAnon: the process's own heap, without mapped files (libraries, SQLite's -shm)."""
    return proc_kb(pid, "status", "RssAnon")


def tree_rss_kb(pid: int) -> int:
    return sum(rss_kb(p) for p in tree_pids(pid))


def pss_kb(pid: int) -> int:
    """Proportional set size: private pages plus a share of those shared with other
    processes (the forkserver's workers share its imported modules), so PSS summed over a
    tree counts each page once, as the machine does; VmRSS summed counts shared pages in
    every process that maps them."""
    return proc_kb(pid, "smaps_rollup", "Pss")


def tree_pss_kb(pid: int) -> int:
    return sum(pss_kb(p) for p in tree_pids(pid))


def own_cpu_seconds(pid: int) -> float:
    """utime+stime of ``pid`` alone (not the children it reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime+stime of ``pid`` plus the children it has reaped, from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks


def measure(
    label: str,
    cmd: Sequence[str],
    *,
    timeout: float,
    log: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    farm: FarmProcess | None = None,
) -> Measurement:
    """Run ``cmd`` to completion in a new session; kill the session at ``timeout``."""
    m = Measurement(label)
    before = farm.stats() if farm else None
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    started = time.monotonic()
    proc = subprocess.Popen(
        list(cmd), stdout=out, stderr=out, env=env, cwd=cwd, start_new_session=True
    )
    peak = [0, 0]
    seen: dict[int, float] = {}  # descendant pid -> its own CPU seconds, last seen
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))
            peak[1] = max(peak[1], tree_pss_kb(proc.pid))
            for pid in tree_pids(proc.pid):
                if pid != proc.pid:
                    seen[pid] = max(seen.get(pid, 0.0), own_cpu_seconds(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timer = threading.Timer(timeout, lambda: _killpg(proc.pid))
    timer.start()
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
        done.set()
        _killpg(proc.pid)  # leftovers of the session, if any
    m.wall = time.monotonic() - started
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    m.rc = proc.returncode
    m.user, m.sys = ru.ru_utime, ru.ru_stime
    m.children_cpu = sum(seen.values())
    m.maxrss_mb = ru.ru_maxrss / 1024
    m.tree_peak_mb = max(peak[0] / 1024, m.maxrss_mb)
    m.tree_pss_peak_mb = peak[1] / 1024
    if log:
        out.close()  # type: ignore[union-attr]
    if farm and before:
        after = farm.stats()
        m.farm_cpu = after["farm_cpu_seconds"] - before["farm_cpu_seconds"]
        m.farm_requests = after["requests"] - before["requests"] - 1  # the stats call itself
    return m


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------------------------------------
# Tables


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (also readable as plain text)."""
    cells = [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    return "\n".join([line, sep, *body])


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b > 0 else "-"


def append_report(path: Path, title: str, command: str, body: str) -> None:
    """Append a dated section with the machine and the command that produced it."""
    with open(path, "a") as fh:
        fh.write(f"\n### {title}\n\n{machine_line()}\n\n`{command}`\n\n{body}\n")
