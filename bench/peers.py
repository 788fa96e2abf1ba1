"""Peers on the same farm, in the same run: lemon24's ``reader`` (``update_feeds`` serial and
with 8 workers) and rss2email (``r2e run --no-send``), beside the floor and ``pantau run
--once``. First cycle, steady cycle (all 304) and rotation cycle (20 % of feeds changed).

The peers live in their own virtualenv (default /tmp/peers-venv, never inside the repo),
installed from PyPI on first use. Settings that would otherwise skew the comparison:

- reader: ``update_feeds(scheduled=False)``: reader 3.x updates only feeds whose own
  schedule is due (1 h by default), so a steady cycle right after the first would poll nothing;
- rss2email: ``same-server-fetch-interval = 0`` (its default; every farm feed is on one host).

    python bench/peers.py --feeds 200 --feeds 1000 [--write bench/README.md]
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import FARMS  # noqa: E402

# sgmllib3k: reader's vendored feedparser imports ``sgmllib``, but feedparser 6.0.12+ depends
# on feedparser-sgmllib instead, so nothing else brings it in any more.
PEERS = ("reader", "rss2email", "sgmllib3k")

# ---------------------------------------------------------------------------------------------
# Inside the peers' virtualenv (standard library + the peer only)


def reader_setup(db: str, urls: list[str]) -> None:
    from reader import make_reader

    r = make_reader(db)
    for u in urls:
        r.add_feed(u, exist_ok=True)
    r.close()


def reader_update(db: str, workers: int) -> dict:
    from reader import make_reader

    r = make_reader(db)
    r.update_feeds(scheduled=False, workers=workers)
    counts = r.get_entry_counts()
    r.close()
    return {"entries": counts.total}


def r2e_setup(cfg: str, data: str, urls: list[str]) -> None:
    from rss2email.feeds import Feeds

    feeds = Feeds(configfiles=[cfg], datafile_path=data)
    feeds.load(require=False)
    feeds.config["DEFAULT"]["to"] = "bench@example.org"
    feeds.config["DEFAULT"]["same-server-fetch-interval"] = "0"
    for i, u in enumerate(urls):
        feeds.new_feed(name=f"media{i:04d}", url=u, to="bench@example.org")
    feeds.save_config()
    feeds.save_feeds()


def r2e_seen(data: str) -> int:
    doc = json.loads(Path(data).read_text())
    return sum(len(f.get("seen", {})) for f in doc.get("feeds", []))


def inner(argv: list[str]) -> int:
    """``peers.py _inner <what> ...``: run by the peers' interpreter."""
    what, *rest = argv
    if what == "reader-setup":
        reader_setup(rest[0], Path(rest[1]).read_text().split())
    elif what == "reader-update":
        print(json.dumps(reader_update(rest[0], int(rest[1]))))
    elif what == "r2e-setup":
        r2e_setup(rest[0], rest[1], Path(rest[2]).read_text().split())
    elif what == "r2e-seen":
        print(r2e_seen(rest[0]))
    else:
        raise SystemExit(f"unknown: {what}")
    return 0


# ---------------------------------------------------------------------------------------------
# Orchestration (the project's interpreter)


def ensure_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    probe = [str(py), "-c", "import reader, rss2email, sgmllib"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *PEERS], check=True, timeout=900)
    return py


def versions(py: Path) -> str:
    code = (
        "import importlib.metadata as m;"
        "print(', '.join(f'{p} {m.version(p)}' for p in ('reader','rss2email','feedparser')))"
    )
    return subprocess.run([str(py), "-c", code], capture_output=True, text=True).stdout.strip()


def run_peers(args: argparse.Namespace, n: int, work: Path, py: Path) -> tuple[dict, list[str]]:
    from common import BENCH, Measurement, farm_process, measure, python
    from cycle import CYCLES, db_counts, pantau_cmd, write_config

    me = str(Path(__file__).resolve())
    res: dict[tuple[str, str], list[Measurement]] = collections.defaultdict(list)
    notes: list[str] = []
    with farm_process(args.farm, n, args.items, rotate_fraction=0.2, rotate_items=5) as farm:
        urls = farm.urls()
        urls_file = work / f"urls-{n}.txt"
        urls_file.write_text("\n".join(urls) + "\n")
        d = work / f"n{n}"
        d.mkdir()
        cfg, db = d / "pantau.yaml", d / "pantau.db"
        write_config(cfg, db, urls)
        r2e_cfg, r2e_data = d / "r2e.cfg", d / "r2e.json"
        setup = [
            [str(py), me, "_inner", "reader-setup", str(d / "reader1.sqlite"), str(urls_file)],
            [str(py), me, "_inner", "reader-setup", str(d / "reader8.sqlite"), str(urls_file)],
            [str(py), me, "_inner", "r2e-setup", str(r2e_cfg), str(r2e_data), str(urls_file)],
        ]
        for cmd in setup:
            subprocess.run(cmd, check=True, timeout=600)
        r2e = py.parent / "r2e"
        tools: dict[str, list[str]] = {
            "floor": [python(), str(BENCH / "floor.py"), "--urls-from", str(urls_file),
                      "--state", str(d / "floor.json")],
            "pantau": pantau_cmd(cfg, "info"),
            "reader": [str(py), me, "_inner", "reader-update", str(d / "reader1.sqlite"), "1"],
            "reader workers=8": [str(py), me, "_inner", "reader-update",
                                 str(d / "reader8.sqlite"), "8"],
            "rss2email": [str(r2e), "-c", str(r2e_cfg), "-d", str(r2e_data), "run", "--no-send"],
        }  # fmt: skip
        if args.no_pantau:
            tools.pop("pantau")
        for cycle in CYCLES:
            if cycle == "rotation":
                rot = farm.rotate()
                notes.append(f"N={n}: rotation changed {len(rot['feeds'])} feeds by 5 items")
            for tool, cmd in tools.items():
                log = d / f"{tool.replace(' ', '_').replace('=', '')}.log"
                m = measure(f"{tool} {cycle}", cmd, timeout=args.timeout, farm=farm, log=log)
                res[(tool, cycle)].append(m)
                if m.rc != 0:
                    notes.append(f"N={n} {tool} {cycle}: exit {m.rc} (log {log})")
                print(f"  N={n} {cycle:8s} {tool:18s} wall {m.wall:7.2f}s cpu {m.cpu:7.2f}s "
                      f"rss {m.tree_peak_mb:6.1f}MB", flush=True)  # fmt: skip
        # did each tool see everything? (stored entries after the rotation cycle)
        expect = n * args.items + len(rot["feeds"]) * 5
        seen = {
            "pantau items": db_counts(db).get("items") if "pantau" in tools else "-",
            "reader entries": _last_json(d / "reader.log").get("entries"),
            "rss2email seen": subprocess.run(
                [str(py), me, "_inner", "r2e-seen", str(r2e_data)], capture_output=True, text=True
            ).stdout.strip(),
        }
        notes.append(f"N={n}: expected {expect} items in all; stored: {seen}")
    return res, notes


def _last_json(log: Path) -> dict:
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_inner"]:
        return inner(argv[1:])
    from common import append_report, compile_project, machine_line
    from cycle import cycle_table

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=int, action="append", help="N; repeat for several")
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--farm", choices=FARMS, default="plain", help="see cycle.py --farm")
    p.add_argument("--venv", type=Path, default=Path("/tmp/peers-venv"))
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--no-pantau", action="store_true")
    p.add_argument("--json", type=Path)
    p.add_argument("--write", type=Path, help="append the report to this Markdown file")
    args = p.parse_args(argv)
    compile_project()
    py = ensure_venv(args.venv)
    print(machine_line(), "\n" + versions(py), flush=True)
    work = Path(tempfile.mkdtemp(prefix="pantau-peers-"))
    try:
        allres, notes = {}, [versions(py)]
        for n in args.feeds or [200]:
            allres[n], nn = run_peers(args, n, work, py)
            notes += nn
        report = cycle_table(allres) + "\n\n" + "\n".join(f"- {x}" for x in notes)
        print(report)
        if args.json:
            args.json.write_text(json.dumps(
                {str(n): {f"{t}/{c}": [m.as_dict() for m in ms] for (t, c), ms in r.items()}
                 for n, r in allres.items()}, indent=1, default=str))  # fmt: skip
        if args.write:
            command = "python bench/peers.py " + " ".join(argv)
            append_report(args.write, f"peers, M={args.items}", command, report)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
