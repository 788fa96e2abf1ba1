"""Wrong event merges on the farms: every farm story is its own happening (issue 26).

    .venv/bin/python bench/farm_events.py --feeds 200            # plain farm
    .venv/bin/python bench/farm_events.py --feeds 200 --farm templated

bench/farm.py writes each item from random words of a small vocabulary plus one figure;
the templated farm adds stock sentences shared across items. Apart from wire copies (one
story already), no two farm stories report the same happening, so every story that joins
another's event is a wrong merge: the count the hand-labelled pairs cannot give, on text
that shares rare figures and names by chance. One ``run --once`` through the CLI, then the
stored stories and events are counted.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import farm_process, machine_line  # noqa: E402
from cycle import pantau_cmd, write_config  # noqa: E402


def merged(db: Path, show: int) -> list[list[str]]:
    """The headlines of ``show`` events that hold more than one story."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = [r[0] for r in con.execute(
            "SELECT event_id FROM stories GROUP BY event_id HAVING count(*) > 1 "
            "ORDER BY event_id LIMIT ?", (show,))]  # fmt: skip
        return [
            [r[0] for r in con.execute("SELECT title FROM stories WHERE event_id = ?", (i,))]
            for i in ids
        ]
    finally:
        con.close()


def counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        one = lambda q: int(con.execute(q).fetchone()[0])  # noqa: E731
        return {
            "items": one("SELECT count(*) FROM items"),
            "stories": one("SELECT count(*) FROM stories"),
            "events": one("SELECT count(DISTINCT event_id) FROM stories"),
            "largest": one(
                "SELECT coalesce(max(n), 0) FROM "
                "(SELECT count(*) AS n FROM stories GROUP BY event_id)"
            ),
            "alerts": one("SELECT count(*) FROM alerts"),
        }
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--feeds", type=int, default=200)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--farm", choices=("plain", "templated"), default="plain")
    p.add_argument("--show", type=int, default=0, help="print the headlines of N merges")
    args = p.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as tmp,
        farm_process(args.farm, args.feeds, args.items) as farm,
    ):
        cfg, db = Path(tmp) / "farm.yaml", Path(tmp) / "farm.db"
        write_config(cfg, db, farm.urls())
        subprocess.run(
            pantau_cmd(cfg, "warning"), check=True, stdout=subprocess.DEVNULL, timeout=3600
        )
        c = counts(db)
        for titles in merged(db, args.show):
            print(" | ".join(titles))
    wrong = c["stories"] - c["events"]
    print(machine_line())
    print(
        f"{args.farm} farm, {args.feeds} feeds x {args.items}: {c['items']} items, "
        f"{c['stories']} stories, {c['events']} events, {c['alerts']} alerts; "
        f"wrong merges {wrong} ({wrong / max(1, c['stories']):.2%} of stories), "
        f"largest event {c['largest']} stories"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
