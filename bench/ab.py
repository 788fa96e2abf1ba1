"""Before/after on one farm: the floor, pantau at an earlier commit and pantau as checked out,
one after the other, repeated. First cycle only (everything new), where changes to the
ingest path show; the machine is shared and noisy, so the two versions are interleaved and
each is compared with the floor of its own repetition.

    python bench/ab.py --ref d9796d7                      # N=1000, M=50, 3 repetitions
    python bench/ab.py --ref HEAD~3 --feeds 200 --repeat 5

The earlier commit is checked out with ``git worktree`` into a temporary directory and
installed into its own virtualenv there (removed afterwards). Both versions must store the
same items, stories and alerts: the run says so, or prints what differs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import (
    BENCH,
    REPO,
    FarmProcess,
    Measurement,
    compile_project,
    machine_line,
    measure,
    median,
    python,
    table,
)
from cycle import db_counts, fresh, write_config


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def install_ref(ref: str, where: Path) -> Path:
    """A worktree of ``ref`` with its own virtualenv; returns its ``pantau`` executable."""
    _run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(where), ref])
    _run([sys.executable, "-m", "venv", str(where / ".venv")])
    _run([str(where / ".venv" / "bin" / "pip"), "install", "--quiet", "-e", str(where)])
    return where / ".venv" / "bin" / "pantau"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ref", required=True, help="the earlier commit (any git revision)")
    p.add_argument("--feeds", type=int, default=1000)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--timeout", type=float, default=900)
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="pantau-ab-"))
    before_root = tmp / "before"
    try:
        tools = {
            "before": install_ref(args.ref, before_root),
            "after": REPO / ".venv" / "bin" / "pantau",
        }
        compile_project(before_root)
        compile_project()
        res: dict[str, list[Measurement]] = {"floor": [], "before": [], "after": []}
        counts: dict[str, dict[str, int]] = {}
        with FarmProcess(args.feeds, args.items) as farm:
            cfg, db, state = tmp / "ab.yaml", tmp / "ab.db", tmp / "floor.json"
            write_config(cfg, db, farm.urls())
            floor = [python(), str(BENCH / "floor.py"), "--urls-from", farm.base + "/_urls"]
            for rep in range(args.repeat):
                fresh(state)
                m = measure("floor", [*floor, "--state", str(state)], timeout=args.timeout)
                res["floor"].append(m)
                print(f"rep {rep}: floor {m.wall:.2f} s", flush=True)
                order = ["before", "after"] if rep % 2 == 0 else ["after", "before"]
                for label in order:
                    fresh(db)
                    cmd = [str(tools[label]), "--config", str(cfg), "run", "--once"]
                    # from a neutral directory: a pantau older than the safe-path fix
                    # (daemon.runtime.workers._safe_path, earlier in parsepool) would otherwise load
                    # this checkout's parser into its workers (the forkserver imports from
                    # its current directory)
                    m = measure(label, cmd, timeout=args.timeout, log=tmp / f"{label}.log", cwd=tmp)
                    res[label].append(m)
                    counts[label] = db_counts(db)
                    print(
                        f"rep {rep}: {label} {m.wall:.2f} s, CPU {m.cpu:.2f} s "
                        f"(main {m.user + m.sys:.2f}, workers {m.children_cpu:.2f}), rc={m.rc}",
                        flush=True,
                    )
        rows = []
        for label in ("floor", "before", "after"):
            ms = res[label]
            ratios = [m.wall / f.wall for m, f in zip(ms, res["floor"], strict=True)]
            rows.append(
                [
                    label
                    if label == "floor"
                    else f"{label} ({args.ref if label == 'before' else 'checkout'})",
                    median([m.wall for m in ms]),
                    median([m.cpu for m in ms]),
                    median([m.user + m.sys for m in ms]),
                    median([m.children_cpu for m in ms]),
                    max(m.maxrss_mb for m in ms),
                    max(m.tree_pss_peak_mb for m in ms),
                    f"{median(ratios):.2f}×",
                    len(ms),
                ]
            )
        print()
        print(machine_line())
        print()
        print(f"N={args.feeds}, M={args.items}, first cycle; medians of {args.repeat}:")
        print()
        print(
            table(
                [
                    "version",
                    "wall s",
                    "CPU s (tree)",
                    "main CPU s",
                    "workers CPU s",
                    "maxrss MB",
                    "tree PSS MB",
                    "wall/floor",
                    "runs",
                ],
                rows,
            )  # fmt: skip
        )
        same = counts.get("before") == counts.get("after")
        print()
        print(
            f"stored by both: {counts.get('after')}"
            if same
            else f"OUTPUTS DIFFER: before {counts.get('before')}, after {counts.get('after')}"
        )
        return 0 if same else 1
    finally:
        if before_root.exists():
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(before_root)],
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
