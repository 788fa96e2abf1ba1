"""The floor: the least any poller must do for one cycle — fetch every feed with requests
(a Session, a pool of 8 threads, conditional GET from the last cycle's ETag/Last-Modified)
and parse each 200 body with feedparser. Nothing is stored.

One cycle per process, so it is measured exactly like ``pantau run --once`` (interpreter
start-up included); the validators are carried between cycles in ``--state``.

    python bench/floor.py --urls-from http://127.0.0.1:8800/_urls --state /tmp/floor.json
    python bench/floor.py ... --no-parse      # fetch only: what the farm + HTTP cost alone

Prints one JSON line: wall, the time inside feedparser (summed over threads, thread CPU),
status counts and the number of entries parsed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import feedparser
import requests


def fetch_one(
    session: requests.Session, url: str, state: dict[str, list[str]], parse: bool, out: dict
) -> None:
    headers = {}
    etag, modified = state.get(url, ["", ""])
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    r = session.get(url, headers=headers, timeout=60)
    body = r.content
    with out["lock"]:
        out["status"][str(r.status_code)] = out["status"].get(str(r.status_code), 0) + 1
    if r.status_code != 200:
        return
    state[url] = [r.headers.get("ETag", ""), r.headers.get("Last-Modified", "")]
    if not parse:
        return
    t0 = time.thread_time()
    d = feedparser.parse(BytesIO(body))
    spent = time.thread_time() - t0
    with out["lock"]:
        out["parse_cpu"] += spent
        out["entries"] += len(d.entries)
        if d.bozo:
            out["bozo"] += 1


def run_cycle(urls: list[str], state: dict[str, list[str]], threads: int, parse: bool) -> dict:
    out: dict = {"lock": threading.Lock(), "status": {}, "parse_cpu": 0.0, "entries": 0, "bozo": 0}
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=threads)
    session.mount("http://", adapter)
    started, cpu0 = time.monotonic(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(fetch_one, session, u, state, parse, out) for u in urls]:
            f.result()
    out.pop("lock")
    out["wall_in_process"] = round(time.monotonic() - started, 3)
    out["cpu_in_process"] = round(time.process_time() - cpu0, 3)
    out["parse_cpu"] = round(out["parse_cpu"], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--urls-from", required=True, help="the farm's /_urls, or a file")
    p.add_argument("--state", type=Path, required=True, help="validators between cycles")
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--no-parse", action="store_true")
    p.add_argument("--result", type=Path, help="also write the JSON here")
    args = p.parse_args(argv)
    if args.urls_from.startswith("http://127.") or args.urls_from.startswith("http://localhost"):
        with urllib.request.urlopen(args.urls_from, timeout=60) as r:  # noqa: S310
            urls = r.read().decode().split()
    else:
        urls = Path(args.urls_from).read_text().split()
    state = json.loads(args.state.read_text()) if args.state.exists() else {}
    out = run_cycle(urls, state, args.threads, not args.no_parse)
    args.state.write_text(json.dumps(state))
    line = json.dumps(out)
    print(line)
    if args.result:
        args.result.write_text(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
