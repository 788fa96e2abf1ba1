"""Before/after on one farm: the floor, pantau at an earlier commit and pantau as checked out,
one after the other, repeated. First cycle only (everything new), where changes to the
ingest path show; the machine is shared and noisy, so the two versions are interleaved and
each is compared with the floor of its own repetition.

    python bench/ab.py --ref d9796d7                      # N=1000, M=50, 3 repetitions
    python bench/ab.py --ref HEAD~3 --feeds 200 --repeat 5
    python bench/ab.py --ref 6037288 --corpus                # the saved real outlet feeds
    python bench/ab.py --ref main --feeds 300 --farm templated   # stock phrases (issue 29)

The earlier commit is checked out with ``git worktree`` into a temporary directory and
installed into its own virtualenv there (removed afterwards). Both versions must store the
same items, stories and alerts (counts, and digests of what they hold that ignore row ids):
the run says so, or prints what differs. ``--corpus [DIR]`` serves the saved real outlet
feeds (default ../shared/corpus/real) instead of the rendered farm, with ``alerts.max_age``
wide enough that their old items still alert.
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
    FARMS,
    REPO,
    Measurement,
    compile_project,
    farm_process,
    machine_line,
    measure,
    median,
    product_pantau,
    python,
    table,
)
from cycle import db_counts, db_digest, fresh, write_config


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
    p.add_argument("--farm", choices=FARMS, default="plain", help="see bench/cycle.py --farm")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument(
        "--corpus",
        type=Path,
        nargs="?",
        const=REPO.parent / "shared" / "corpus" / "real",
        help="serve saved real feeds (*.xml) from this directory instead of the farm's",
    )
    args = p.parse_args(argv)
    if args.corpus is not None and not any(args.corpus.glob("*.xml")):
        print(f"no *.xml feeds in {args.corpus}: skipped")
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="pantau-ab-"))
    before_root = tmp / "before"
    try:
        tools = {
            "before": install_ref(args.ref, before_root),
            "after": product_pantau(),  # as ``before``: without the test extras
        }
        compile_project(before_root)
        compile_project()
        res: dict[str, list[Measurement]] = {"floor": [], "before": [], "after": []}
        counts: dict[str, dict[str, int]] = {}
        digests: dict[str, set[tuple[tuple[str, str], ...]]] = {"before": set(), "after": set()}
        with farm_process(args.farm, args.feeds, args.items, corpus=args.corpus) as farm:
            cfg, db, state = tmp / "ab.yaml", tmp / "ab.db", tmp / "floor.json"
            max_age = 100 * 365 * 86400.0 if args.corpus else None
            urls = farm.urls()
            write_config(cfg, db, urls, alert_max_age=max_age)
            floor = [python(), str(BENCH / "floor.py"), "--urls-from", farm.urls_url]
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
                    digest = db_digest(db)
                    digests[label].add(tuple(sorted(digest.items())))
                    print(
                        f"rep {rep}: {label} {m.wall:.2f} s, CPU {m.cpu:.2f} s "
                        f"(main {m.user + m.sys:.2f}, workers {m.children_cpu:.2f}), rc={m.rc}, "
                        f"{counts[label]}, digests {digest}",
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
        workload = (
            f"saved real feeds in {args.corpus} ({len(urls)} feeds)"
            if args.corpus
            else f"{args.farm} farm, N={args.feeds}, M={args.items}"
        )
        print(f"{workload}, first cycle; medians of {args.repeat}:")
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
        same_digest = digests["before"] == digests["after"] and len(digests["after"]) == 1
        print()
        print(
            f"stored by both: {counts.get('after')}"
            if same
            else f"OUTPUTS DIFFER: before {counts.get('before')}, after {counts.get('after')}"
        )
        print(
            f"the same items, stories and alerts in every run: {sorted(digests['after'])}"
            if same_digest
            else f"DIGESTS DIFFER: before {sorted(digests['before'])}, "
            f"after {sorted(digests['after'])}"
        )
        same = same and same_digest
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
