"""pantau's cost per poll cycle against the floor, on one farm, in one run.

For each N: start the farm (its own process), then per repetition, with a fresh database and
fresh floor state: first cycle (everything new), steady cycle (every feed answers 304),
``POST /_rotate`` (20 % of feeds gain 5 items), rotation cycle — floor and ``pantau run
--once`` alternately, each a fresh process measured for wall, CPU (user+sys, from wait4) and
peak RSS. Ratios pantau/floor are taken within the run: the machine is shared and noisy.

    python bench/cycle.py --feeds 200 --feeds 1000              # the table
    python bench/cycle.py --feeds 300 --farm templated          # stock phrases (issue 29)
    python bench/cycle.py --feeds 1000 --profile                # py-spy profiles, top 25
    python bench/cycle.py --feeds 200 --daemon 600              # `pantau run` for 10 minutes
    python bench/cycle.py --feeds 1000 --steady-rounds 9        # steady cycles, alternated
    python bench/cycle.py --feeds 1000 --timeline               # who is busy, second by second
    python bench/cycle.py --feeds 1000 --without-events         # the event layer off (issue 26)
    python bench/cycle.py ... --write bench/README.md      # append the results, dated
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH,
    FARMS,
    REPO,
    Measurement,
    anon_kb,
    append_report,
    compile_project,
    cpu_seconds,
    farm_process,
    machine_line,
    measure,
    median,
    own_cpu_seconds,
    product_pantau,
    pss_kb,
    python,
    ratio,
    rss_kb,
    table,
    tree_pids,
    tree_pss_kb,
    tree_rss_kb,
)

TOPICS: list[tuple[str, str]] = [
    ("Ukraina", "Ukraina OR Ukraine OR Kyiv OR Zelensky*"),
    ("NATO", 'NATO OR "Pakta Pertahanan Atlantik Utara"'),
    ("Rusia-China", "(Rusia OR Moskow OR Putin) (China OR Tiongkok OR Beijing)"),
    ("KPK", 'KPK OR "Komisi Pemberantasan Korupsi"'),
    ("Harga BBM", '(BBM OR "bahan bakar") (harga OR naik OR turun) -title:promo'),
    ("Banjir", 'banjir OR longsor OR "banjir rob"'),
    ("Gempa", "gempa* OR tsunami"),
    ("Moneter", 'inflasi OR "suku bunga" OR "Bank Indonesia"'),
    ("Rupiah", "rupiah NEAR/5 pelemahan"),
    ("Pemilu", "Pemilu OR pilkada OR KPU"),
    ("Pangan", "beras OR gula OR pupuk"),
    ("Korupsi", "korupsi OR suap OR gratifikasi"),
    ("Narkoba", "narkoba OR sabu"),
    ("IKN", '"Ibu Kota Nusantara" OR IKN'),
    ("Batu bara", '"batu bara" OR batubara'),
    ("Sepak bola", '(PSSI OR "Liga Spanyol" OR "Piala Dunia") -title:promo'),
    ("Cuaca", 'title:(cuaca OR BMKG) OR "cuaca ekstrem"'),
    ("Siber", "siber OR peretas* OR hacker"),
    ("Pekerja migran", '"pekerja migran" OR TKI'),
    ("Serangan", "serang~"),
    ("Kesehatan", "vaksin* OR stunting"),
]


# ---------------------------------------------------------------------------------------------
# Config and database


def write_config(
    path: Path,
    db: Path,
    urls: list[str],
    *,
    daemon: bool = False,
    concurrency: int = 8,
    alert_max_age: float | None = None,
) -> None:
    """A pantau config for the farm: JSON is YAML, so no YAML writer is needed."""
    polling: dict[str, object] = {
        "timeout": "60s",
        "concurrency": concurrency,
        "per_host": 64,  # every farm feed is on one host; the config caps this at 64
    }
    if daemon:
        polling.update(interval="1m", min_interval="30s", max_interval="2m")
    cfg = {
        "database": f"sqlite:///{db}",
        "polling": polling,
        "feeds": [{"url": u, "name": f"Media {i:04d}"} for i, u in enumerate(urls)],
        "topics": [{"name": n, "query": q, "notify": []} for n, q in TOPICS],
    }
    if alert_max_age is not None:  # saved real feeds are older than the default 48 h
        cfg["alerts"] = {"max_age": alert_max_age}
    path.write_text(json.dumps(cfg, indent=1))


def db_counts(db: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        for t in ("items", "stories", "alerts"):
            out[t] = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        con.close()
    except sqlite3.Error as exc:
        out["error"] = str(exc)  # type: ignore[assignment]
    return out


def db_digest(db: Path) -> dict[str, str]:
    """What was stored, independent of row ids: the items (feed, identity, title, content
    hash, date), the stories as sets of items, the alerts as (topic, story). Two versions
    that store the same thing give the same digests. Which of a story's items raised its
    alert (and so the alert's matched terms) is left out: that is whichever one was ingested
    first, and polls run concurrently, so it changes from run to run of one version."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        key = {
            i: (url, ident)
            for i, url, ident in con.execute(
                "SELECT items.id, feeds.url, items.identity FROM items JOIN feeds "
                "ON feeds.id = items.feed_id"
            )
        }
        items = sorted(
            con.execute(
                "SELECT feeds.url, identity, items.title, content_hash, published_at "
                "FROM items JOIN feeds ON feeds.id = items.feed_id"
            )
        )
        members: dict[int, list[tuple[str, str]]] = {}
        for item_id, story_id in con.execute("SELECT id, story_id FROM items"):
            members.setdefault(story_id, []).append(key[item_id])
        story = {s: tuple(sorted(m)) for s, m in members.items()}
        alerts = sorted(
            (topic, story.get(s, ()))
            for topic, s in con.execute("SELECT topic, story_id FROM alerts")
        )
    finally:
        con.close()

    def h(rows: object) -> str:
        return hashlib.sha256(repr(rows).encode()).hexdigest()[:12]

    return {"items": h(items), "stories": h(sorted(story.values())), "alerts": h(alerts)}


def fresh(*paths: Path) -> None:
    for p in paths:
        for q in p.parent.glob(p.name + "*"):
            q.unlink()


def pantau_cmd(cfg: Path, log_level: str, *, once: bool = True) -> list[str]:
    """pantau as a user installs it (``common.product_pantau``: no test extras)."""
    return [
        str(product_pantau()),
        "--config",
        str(cfg),
        "--log-level",
        log_level,
        "run",
        *(["--once"] if once else []),
    ]


def last_run_once(log: Path) -> str:
    """The ``run.once`` summary line pantau logged last (feeds/ok/failed)."""
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if "event=run.once" in ln]
    return lines[-1] if lines else "no run.once line (see the log)"


# ---------------------------------------------------------------------------------------------
# Cycles


CYCLES = ("first", "steady", "rotation")


def floor_cmd(urls_url: str, state: Path, result: Path | None = None) -> list[str]:
    """The floor (``floor.py``) on the farm's feeds, keeping its conditional-GET state in
    ``state``; its measurements written to ``result``."""
    cmd = [python(), str(BENCH / "floor.py"), "--urls-from", urls_url, "--state", str(state)]
    return [*cmd, "--result", str(result)] if result is not None else cmd


def run_cycles(args: argparse.Namespace, n: int, work: Path) -> tuple[dict, list[str]]:
    """Returns {(tool, cycle): [Measurement, ...]} and notes on sanity checks."""
    res: dict[tuple[str, str], list[Measurement]] = collections.defaultdict(list)
    notes: list[str] = []
    with farm_process(
        args.farm, n, args.items, rotate_fraction=args.rotate_fraction,
        rotate_items=args.rotate_items,
    ) as farm:  # fmt: skip
        notes.append(f"N={n}: farm {farm.banner}")
        urls_url = farm.urls_url
        cfg, db, state = work / f"pantau-{n}.yaml", work / f"bench-{n}.db", work / f"floor-{n}.json"
        log = work / f"pantau-{n}.log"
        write_config(cfg, db, farm.urls())
        floor = floor_cmd(urls_url, state, work / "floor.out")

        def m_floor(cycle: str) -> None:
            m = measure(
                f"floor {cycle}", floor,
                timeout=args.timeout, farm=farm, log=work / f"floor-{n}.log",
            )  # fmt: skip
            m.extra = json.loads((work / "floor.out").read_text()) if m.rc == 0 else {}
            res[("floor", cycle)].append(m)

        def m_pantau(cycle: str) -> None:
            m = measure(
                f"pantau {cycle}", pantau_cmd(cfg, args.log_level),
                timeout=args.timeout, farm=farm, log=log,
            )  # fmt: skip
            m.extra = {"db": db_counts(db), "summary": last_run_once(log)}
            res[("pantau", cycle)].append(m)
            if m.rc != 0:
                notes.append(f"N={n} pantau {cycle}: exit {m.rc}; log {log}")

        if args.fetch_only:
            fetch = [*floor_cmd(urls_url, work / "fetch-only.json"), "--no-parse"]
            fresh(work / "fetch-only.json")
            for cycle in ("first", "steady"):
                res[("fetch only", cycle)].append(
                    measure(f"fetch {cycle}", fetch, timeout=args.timeout, farm=farm)
                )
        for rep in range(args.repeat):
            fresh(db, state)
            order = [m_floor, m_pantau] if rep % 2 == 0 else [m_pantau, m_floor]
            for cycle in CYCLES:
                if cycle == "rotation":
                    rot = farm.rotate()
                    expect = len(rot["feeds"]) * rot["items"]
                for fn in order:
                    if not args.pantau_only or fn is m_pantau:
                        fn(cycle)
                if cycle == "first":
                    got = res[("pantau", "first")][-1].extra["db"].get("items")
                    if got != n * args.items:
                        notes.append(f"N={n} rep {rep}: pantau stored {got} items, expected "
                                     f"{n * args.items}")  # fmt: skip
            got = res[("pantau", "rotation")][-1].extra["db"].get("items", 0)
            first = res[("pantau", "first")][-1].extra["db"].get("items", 0)
            if got - first != expect:
                notes.append(
                    f"N={n} rep {rep}: rotation added {got - first} items, expected {expect}"
                )
        notes.append(f"N={n}: pantau after the last cycle: {res[('pantau', 'rotation')][-1].extra}")
    return res, notes


def run_steady_rounds(args: argparse.Namespace, n: int, work: Path) -> str:
    """One first cycle each, then ``--steady-rounds`` all-304 cycles of the floor and pantau
    in turn: on a host whose speed drifts between minutes, a steady cycle of ~1-3 s moves by
    more than the difference measured, so the ratio is taken per round and the median kept."""
    with farm_process(args.farm, n, args.items) as farm:
        cfg, db, state = work / f"steady-{n}.yaml", work / f"steady-{n}.db", work / "st.json"
        write_config(cfg, db, farm.urls())
        fresh(db, state)
        floor = floor_cmd(farm.urls_url, state, work / "steady-floor.out")
        pantau = pantau_cmd(cfg, args.log_level)
        log = work / f"steady-{n}.log"
        for label, cmd in (("floor first", floor), ("pantau first", pantau)):
            measure(label, cmd, timeout=args.timeout, farm=farm, log=log)
        rows, ratios = [], []
        for r in range(args.steady_rounds):
            f = measure("floor steady", floor, timeout=args.timeout, farm=farm, log=log)
            m = measure("pantau steady", pantau, timeout=args.timeout, farm=farm, log=log)
            ratios.append(m.wall / f.wall)
            rows.append([r + 1, f.wall, m.wall, f"{ratios[-1]:.3f}×"])
            print(f"round {r + 1}: {ratios[-1]:.3f}×", flush=True)
    return (
        f"N={n}, {args.farm} farm, steady cycles in turn\n\n"
        + table(["round", "floor wall s", "pantau wall s", "pantau/floor"], rows)
        + f"\n\nmedian {median(ratios):.3f}×, range {min(ratios):.3f}–{max(ratios):.3f}×"
    )


def run_timeline(args: argparse.Namespace, n: int, work: Path) -> str:
    """pantau's first cycle with the CPU of its main process, of its parse workers and the
    machine's idle time read every second (``/proc``): which side bounds the cycle."""
    hz = os.sysconf("SC_CLK_TCK")

    def idle() -> float:
        with open("/proc/stat") as f:
            return int(f.readline().split()[4]) / hz

    with farm_process(args.farm, n, args.items) as farm:
        cfg, db = work / f"timeline-{n}.yaml", work / f"timeline-{n}.db"
        write_config(cfg, db, farm.urls())
        fresh(db)
        proc = subprocess.Popen(
            pantau_cmd(cfg, args.log_level), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        start, last_idle = time.monotonic(), idle()
        seen: dict[int, float] = {}
        samples: list[tuple[float, float, float, float]] = []  # (t, main, workers, idle)
        while proc.poll() is None:
            time.sleep(1.0)
            main = workers = 0.0
            for pid in [proc.pid, *(q for q in tree_pids(proc.pid) if q != proc.pid)]:
                c = own_cpu_seconds(pid)
                if not c and pid in seen:
                    continue  # gone between listing and reading
                d, seen[pid] = c - seen.get(pid, 0.0), c
                if pid == proc.pid:
                    main = d
                else:
                    workers += d
            now_idle = idle()
            samples.append((time.monotonic() - start, main, workers, now_idle - last_idle))
            last_idle = now_idle
    parts = max(1, min(10, len(samples)))
    size = -(-len(samples) // parts)
    rows = []
    for k in range(0, len(samples), size):
        part = samples[k : k + size]
        rows.append([f"{part[0][0] - 1:.0f}–{part[-1][0]:.0f}",
                     *(f"{sum(x[i] for x in part) / len(part):.2f}" for i in (1, 2, 3))])  # fmt: skip
    total = [sum(x[i] for x in samples) for i in (1, 2, 3)]
    return (
        f"N={n}, {args.farm} farm, first cycle: cores busy per second (averaged per stretch)\n\n"
        + table(["seconds", "main process", "parse workers", "machine idle"], rows)
        + f"\n\nall: main {total[0]:.1f} CPU-s, workers {total[1]:.1f}, idle {total[2]:.1f}, "
        f"over {samples[-1][0] if samples else 0:.1f} s"
    )


def cycle_table(allres: dict[int, dict]) -> str:
    rows = []
    for n, res in allres.items():
        for cycle in CYCLES:
            fl = res.get(("floor", cycle), [])
            for tool in [t for t, c in res if c == cycle]:
                ms: list[Measurement] = res[(tool, cycle)]
                wall, cpu = median([m.wall for m in ms]), median([m.cpu for m in ms])
                rows.append(
                    [
                        n,
                        cycle,
                        tool,
                        wall,
                        cpu,
                        max(m.maxrss_mb for m in ms),
                        max(m.tree_peak_mb for m in ms),
                        max(m.tree_pss_peak_mb for m in ms),
                        ratio(wall, median([m.wall for m in fl])) if fl else "-",
                        ratio(cpu, median([m.cpu for m in fl])) if fl else "-",
                        per_repetition(ms, fl),
                        median([m.farm_cpu for m in ms]),
                        len(ms),
                    ]
                )
    return table(
        ["N", "cycle", "tool", "wall s", "CPU s (tree)", "maxrss MB", "tree MB", "tree PSS MB",
         "wall/floor",
         "CPU/floor", "wall/floor each run", "farm CPU s", "runs"],
        rows,
    )  # fmt: skip


def per_repetition(ms: list[Measurement], floor: list[Measurement]) -> str:
    """Each repetition's wall over the floor's of the same repetition (they ran next to each
    other, in alternating order): on a host whose speed drifts within the hour, the spread of
    these says more than the ratio of the medians."""
    if len(ms) < 2 or len(ms) != len(floor):
        return "-"
    return " ".join(f"{m.wall / f.wall:.2f}" for m, f in zip(ms, floor, strict=True))


def load_json(path: Path) -> dict[int, dict]:
    """The measurements a ``--json`` run wrote, back as {N: {(tool, cycle): [Measurement]}}."""
    out: dict[int, dict] = {}
    for n, res in json.loads(path.read_text()).items():
        out[int(n)] = {}
        for key, ms in res.items():
            tool, cycle = key.rsplit("/", 1)
            out[int(n)][(tool, cycle)] = [
                Measurement(**{k: v for k, v in m.items() if k != "cpu"}) for m in ms
            ]
    return out


# ---------------------------------------------------------------------------------------------
# Profiles (py-spy, all threads and subprocesses)

_FRAME = re.compile(r"^(?P<fn>.*) \((?P<file>.*?)(?::\d+)?\)$")


def _frame(raw: str) -> tuple[str, str] | None:
    m = _FRAME.match(raw.strip())
    if not m:
        return None  # "process 123: ..." and "thread ..." roots
    return m["fn"], m["file"]


def _where(file: str) -> str:
    """py-spy names files relative to sys.path: ``daemon/feeds/poll.py``, ``sqlalchemy/sql/x.py``."""
    if "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    first = file.split("/", 1)[0].removesuffix(".py")
    if first == "daemon":
        return file
    if first.startswith("<frozen"):
        return "stdlib:importlib"
    if first in sys.stdlib_module_names:
        return "stdlib:" + first
    return first


_DB_CALLS = {"do_execute", "do_executemany", "do_commit", "do_rollback", "do_execute_no_params"}


def hot_spots(raw_file: Path, top: int = 25) -> str:
    """Top functions by cumulative and by self samples, and self samples by module."""
    cum: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    mods: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw_file.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        k = int(count)
        total += k
        frames = [f for f in (_frame(x) for x in stack.split(";")) if f]
        if not frames:
            continue
        names = [f"{fn} ({_where(file)})" for fn, file in frames]
        for name in set(names):
            cum[name] += k
        own[names[-1]] += k
        leaf_fn, leaf_file = frames[-1]
        in_db = leaf_fn.split(".")[-1] in _DB_CALLS and _where(leaf_file) == "sqlalchemy"
        mods["sqlite3 (C: SQL execution, commit)" if in_db else _where(leaf_file)] += k
    if not total:
        return "(no samples)"

    def pct(c: int) -> str:
        return f"{100 * c / total:.1f}%"

    t1 = table(["cumulative", "function"], [[pct(c), n] for n, c in cum.most_common(top)])
    t2 = table(["self", "function"], [[pct(c), n] for n, c in own.most_common(top)])
    t3 = table(["self", "module"], [[pct(c), n] for n, c in mods.most_common(15)])
    return f"{total} samples\n\n{t1}\n\n{t2}\n\n{t3}"


def run_profiles(args: argparse.Namespace, n: int, work: Path) -> str:
    spy = shutil.which("py-spy", path=str(REPO / ".venv" / "bin")) or shutil.which("py-spy")
    if not spy:
        sys.exit("py-spy is not installed: .venv/bin/pip install py-spy")
    out = []
    with farm_process(args.farm, n, args.items) as farm:
        cfg, db = work / f"prof-{n}.yaml", work / f"prof-{n}.db"
        write_config(cfg, db, farm.urls())
        fresh(db)
        for cycle in CYCLES:
            if cycle == "rotation":
                farm.rotate()
            raw = Path(args.profile_dir) / f"pantau-{n}-{cycle}.txt"
            gil = ["--gil"] if args.gil else []  # only the thread holding the GIL: CPU
            cmd = [spy, "record", "--rate", "100", "--subprocesses", *gil, "--format", "raw",
                   "--output", str(raw), "--", *pantau_cmd(cfg, args.log_level)]  # fmt: skip
            m = measure(f"profile {cycle}", cmd, timeout=args.timeout, log=work / "prof.log")
            out.append(
                f"#### N={n} {cycle} cycle under py-spy ({m.wall:.1f} s wall) — raw: {raw}\n\n{hot_spots(raw, args.top)}"
            )
            print(out[-1], "\n", flush=True)
    return "\n\n".join(out)


# ---------------------------------------------------------------------------------------------
# `pantau run` for a while under rotation


def run_daemon(args: argparse.Namespace, n: int, work: Path) -> str:
    seconds, every = args.daemon, args.sample_every
    with farm_process(
        args.farm, n, args.items, rotate_fraction=args.rotate_fraction,
        rotate_items=args.rotate_items, rotate_every=args.daemon_rotate_every,
        lifetime=seconds + 600,
    ) as farm:  # fmt: skip
        cfg, db, log = work / f"daemon-{n}.yaml", work / f"daemon-{n}.db", work / "daemon.log"
        write_config(cfg, db, farm.urls(), daemon=True)
        fresh(db)
        with open(log, "ab") as fh:
            proc = subprocess.Popen(
                pantau_cmd(cfg, args.log_level, once=False), stdout=fh, stderr=fh,
                start_new_session=True,
            )  # fmt: skip
        started = time.monotonic()
        samples = []
        try:
            while (t := time.monotonic() - started) < seconds and proc.poll() is None:
                live = [p for p in tree_pids(proc.pid) if p != proc.pid]
                cpu = cpu_seconds(proc.pid) + sum(own_cpu_seconds(p) for p in live)
                st = farm.stats()
                workers = _parse_workers(live)
                samples.append(
                    Sample(t, rss_kb(proc.pid) / 1024, tree_rss_kb(proc.pid) / 1024, cpu,
                     st["requests"], st["200"], st["304"], tree_pss_kb(proc.pid) / 1024,
                     pss_kb(proc.pid) / 1024, sum(pss_kb(p) for p in workers) / 1024,
                     anon_kb(proc.pid) / 1024)
                )  # fmt: skip
                t_, rss, tree, cpu_, req, ok, nm, pss, main_pss, w_pss, anon = samples[-1]
                print(f"  t={t_:4.0f}s rss={rss:6.1f}MB (anon {anon:5.1f}) tree={tree:6.1f}MB "
                      f"pss={pss:6.1f}MB (main {main_pss:5.1f}, workers {w_pss:5.1f}) cpu={cpu_:7.2f}s "
                      f"requests={req} 200={ok} 304={nm}", flush=True)  # fmt: skip
                time.sleep(max(0.0, every - (time.monotonic() - started - t)))
        finally:
            rc = proc.poll()
            if rc is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    rc = proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    rc = proc.wait(5)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return daemon_report(samples, n, rc, args.warmup, db, every)


class Sample(NamedTuple):
    """One sample of a ``pantau run`` (MB and CPU seconds; counters from the farm)."""

    t: float
    rss: float  # main process, VmRSS
    tree: float  # VmRSS summed over the tree
    cpu: float  # the tree's CPU seconds
    requests: int
    ok: int  # 200s
    not_modified: int  # 304s
    pss: float  # PSS summed over the tree
    main_pss: float
    workers_pss: float
    anon: float  # main process, RssAnon


def _parse_workers(children: list[int]) -> list[int]:
    """The parse workers: the forkserver's children (a forked process keeps its parent's
    command line, so the parent is what tells them apart)."""
    out = []
    for pid in children:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{ppid}/cmdline", "rb") as fh:
                if b"forkserver" in fh.read():
                    out.append(pid)
        except (OSError, ValueError):
            pass
    return out


def _slope(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return float("nan")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def daemon_report(
    samples: list[Sample], n: int, rc: int, warmup: float, db: Path, every: float = 10
) -> str:
    if not samples:
        return f"pantau run exited at once (rc {rc})"
    steady = [s for s in samples if s.t >= warmup] or samples
    t0, t1 = steady[0], steady[-1]
    dt = max(1e-9, t1.t - t0.t)
    cpu_h = (t1.cpu - t0.cpu) / dt * 3600
    hours = [s.t / 3600 for s in steady]
    slope = _slope(hours, [s.tree for s in steady])
    rows = [
        ["N feeds", n],
        ["run", f"{samples[-1].t:.0f} s (samples every ~{every:.0f} s); SIGTERM exit code {rc}"],
        ["CPU in the first cycle (to t≈warm-up)", f"{t0.cpu:.1f} s"],
        [f"CPU after warm-up ({warmup:.0f} s)", f"{t1.cpu - t0.cpu:.1f} s over {dt:.0f} s"],
        ["CPU per hour (after warm-up)", f"{cpu_h:.0f} s/h ({100 * cpu_h / 3600:.1f} % of a core)"],
        ["RSS at warm-up → end (tree)", f"{t0.tree:.1f} → {t1.tree:.1f} MB"],
        ["RSS max (tree)", f"{max(s.tree for s in samples):.1f} MB"],
        ["RSS trend after warm-up", f"{slope:+.1f} MB/h (least squares)"],
        ["PSS at warm-up → end (tree: each shared page once)", f"{t0.pss:.1f} → {t1.pss:.1f} MB"],
        ["PSS max (tree)", f"{max(s.pss for s in samples):.1f} MB"],
        *[[f"PSS trend after warm-up ({who})",
           f"{_slope(hours, [getattr(s, k) for s in steady]):+.1f} MB/h"
           f" ({getattr(t0, k):.1f} → {getattr(t1, k):.1f} MB)"]
          for who, k in (("tree", "pss"), ("main process", "main_pss"),
                         ("parse workers", "workers_pss"))],
        ["RssAnon trend after warm-up (main process: its heap)",
         f"{_slope(hours, [s.anon for s in steady]):+.1f} MB/h ({t0.anon:.1f} → {t1.anon:.1f} MB)"],
        ["feed requests after warm-up", f"{t1.requests - t0.requests} ({t1.ok - t0.ok} × 200, {t1.not_modified - t0.not_modified} × 304)"],
        ["database at the end", str(db_counts(db))],
    ]  # fmt: skip
    return table(["pantau run under rotation", "value"], rows) + "\n\n" + window_table(samples)


def window_table(samples: list[Sample], windows: int = 6) -> str:
    """Medians per stretch of the run: one least-squares slope cannot tell a cache filling
    up to its cap and then holding (or a bounded step, such as the band filter doubling)
    from a steady leak; the medians of each sixth of the run (at least 5 minutes) can."""
    span = max(300.0, samples[-1].t / windows)
    rows = []
    for k in range(int(samples[-1].t // span) + 1):
        part = [s for s in samples if k * span <= s.t < (k + 1) * span]
        if not part:
            continue
        rows.append([
            f"{k * span / 60:.0f}–{(k + 1) * span / 60:.0f} min", len(part),
            f"{median([s.rss for s in part]):.1f}", f"{min(s.rss for s in part):.1f}–{max(s.rss for s in part):.1f}",
            f"{median([s.anon for s in part]):.1f}", f"{median([s.main_pss for s in part]):.1f}",
            f"{median([s.workers_pss for s in part]):.1f}", f"{median([s.pss for s in part]):.1f}",
            f"{part[-1].cpu:.1f}",
        ])  # fmt: skip
    return table(
        ["stretch", "samples", "main RSS MB (median)", "main RSS MB (range)", "main RssAnon MB",
         "main PSS MB", "workers PSS MB", "tree PSS MB", "CPU s (end)"],
        rows,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=int, action="append", help="N; repeat for several")
    p.add_argument("--items", type=int, default=50, help="M")
    p.add_argument(
        "--farm", choices=FARMS, default="plain",
        help="plain: bench/farm.py; templated: stock phrases shared across items (issue 29)",
    )  # fmt: skip
    p.add_argument("--repeat", type=int, default=1, help="repetitions (medians reported)")
    p.add_argument("--rotate-fraction", type=float, default=0.2)
    p.add_argument("--rotate-items", type=int, default=5)
    p.add_argument("--log-level", default="info")
    p.add_argument("--timeout", type=float, default=1800, help="per measured process")
    p.add_argument("--fetch-only", action="store_true", help="add fetch-without-parse rows")
    p.add_argument("--pantau-only", action="store_true", help="skip the floor (quick checks)")
    p.add_argument("--profile", action="store_true", help="py-spy profiles instead of timings")
    p.add_argument(
        "--gil", action="store_true", help="profile: sample only the thread holding the GIL"
    )
    p.add_argument("--profile-dir", default="/tmp")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--daemon", type=float, default=0, help="seconds of `pantau run` instead")
    p.add_argument("--daemon-rotate-every", type=float, default=30)
    p.add_argument("--sample-every", type=float, default=10)
    p.add_argument("--warmup", type=float, default=90, help="daemon: seconds before steady state")
    p.add_argument(
        "--steady-rounds", type=int, default=0,
        help="one first cycle, then this many steady cycles of floor and pantau in turn",
    )  # fmt: skip
    p.add_argument(
        "--timeline", action="store_true",
        help="pantau's first cycle only: CPU of main process, workers, idle per second",
    )  # fmt: skip
    p.add_argument(
        "--without-events", action="store_true",
        help="pantau with its event layer off (bench/without_events): the events' share",
    )  # fmt: skip
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--json", type=Path, help="write every measurement here")
    p.add_argument("--write", type=Path, help="append the report to this Markdown file")
    p.add_argument("--from-json", type=Path, help="only print the table of a --json file")
    args = p.parse_args(argv)
    if args.from_json:
        print(cycle_table(load_json(args.from_json)))
        return 0
    compile_project()
    if args.without_events:  # inherited by every process this run starts
        here = str(Path(__file__).resolve().parent / "without_events")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (here, os.environ.get("PYTHONPATH")) if p
        )
    feeds = args.feeds or [200]
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-"))
    command = "python bench/cycle.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(machine_line(), flush=True)
    try:
        if args.profile:
            report, title = "\n\n".join(run_profiles(args, n, work) for n in feeds), "profile"
        elif args.steady_rounds:
            report = "\n\n".join(run_steady_rounds(args, n, work) for n in feeds)
            title = f"steady cycles in turn, {args.farm} farm"
        elif args.timeline:
            report = "\n\n".join(run_timeline(args, n, work) for n in feeds)
            title = f"first-cycle timeline, {args.farm} farm"
        elif args.daemon:
            report = "\n\n".join(run_daemon(args, n, work) for n in feeds)
            title = f"`pantau run` for {args.daemon:.0f} s under rotation"
        else:
            allres, notes = {}, []
            for n in feeds:
                allres[n], nn = run_cycles(args, n, work)
                notes += nn
                print(cycle_table({n: allres[n]}), "\n", flush=True)
            report = cycle_table(allres) + "\n\n" + "\n".join(f"- {x}" for x in notes)
            title = f"pantau vs floor, {args.farm} farm, M={args.items}"
            if args.json:
                args.json.write_text(json.dumps(
                    {str(n): {f"{t}/{c}": [m.as_dict() for m in ms] for (t, c), ms in r.items()}
                     for n, r in allres.items()}, indent=1, default=str))  # fmt: skip
        print(report)
        if args.write:
            append_report(args.write, title, command, report)
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
