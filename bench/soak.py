"""Fault-injection soak: run `pantau run` against loopback outlets and notifiers while breaking
things, then prove from the ground truth that nothing was lost.

    .venv/bin/python bench/soak.py --minutes 1                  # smoke
    .venv/bin/python bench/soak.py --minutes 10 --write bench/README.md

For ``--minutes`` the outlets publish stories (some syndicated, some matching topics) and the
injectors break things: ``kill -9`` at random and right after a burst of alerts (while the
Slack stand-in is answering slowly, so a message is in flight), SIGTERM; Slack 500 / 429 /
refused and an SMTP server that accepts and hangs; hostile feed bodies; a second process
holding the SQLite write lock; the disk full (a small tmpfs under the database). Then every
fault is lifted and pantau drains (up to ``--drain`` seconds, ending early once every expected
message has arrived); pantau is stopped with SIGTERM and the verdict is taken
(bench/soak_check.py). Like systemd's ``Restart=on-failure``, the supervisor restarts pantau
if it exits by itself, and counts that: the run passes only if it never had to.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_PY = REPO / ".venv" / "bin" / "python"
sys.path.insert(0, str(BENCH))

try:
    import aiosmtpd  # noqa: F401
    import yaml
except ImportError:  # run with the project's interpreter, which has the test extras
    if VENV_PY.exists() and Path(sys.executable) != VENV_PY:
        os.execv(str(VENV_PY), [str(VENV_PY), *sys.argv])
    raise

import soak_check  # noqa: E402
from soak_notifiers import MailStandIn, SlackStandIn  # noqa: E402
from soak_outlets import HOSTILE_KINDS, TOPICS, Newsroom, Outlets, build_hostile  # noqa: E402

# Topic -> notifiers. Three webhooks (Slack allows ~1 message/s each) and one mailbox.
ROUTES: dict[str, list[str]] = {
    "Ukraina": ["slack_a", "mail"],
    "NATO": ["slack_b"],
    "Gempa": ["slack_c", "mail"],
    "Nikel": ["slack_a"],
}
SLACKS = ("slack_a", "slack_b", "slack_c")
MAX_BYTES = 1024 * 1024
TMPFS_SIZE = "64m"


@dataclass
class Event:
    t: float  # time.time()
    kind: str
    detail: str = ""


@dataclass
class Life:
    pid: int
    started: float
    ended: float | None = None
    how: str = ""  # kill9 | sigterm | exited rc=N


def say(msg: str) -> None:
    print(f"[soak {datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# Configuration


def make_config(db: Path, feed_urls: list[str], slack: SlackStandIn, mail: MailStandIn) -> dict:
    notifiers: dict[str, Any] = {
        n: {"type": "slack", "webhook_url": slack.url(n), "timeout": "5s"} for n in SLACKS
    }
    notifiers["mail"] = {
        "type": "email",
        "host": "127.0.0.1",
        "port": mail.port,
        "security": "none",
        "from": "pantau@soak.invalid",
        "to": ["redaksi@soak.invalid"],
        "timeout": "5s",
    }
    return {
        "database": f"sqlite:///{db}",
        "polling": {
            "interval": "20s",
            "min_interval": "10s",
            "max_interval": "60s",
            "max_backoff": "60s",
            "timeout": "8s",
            "max_bytes": MAX_BYTES,
            "concurrency": 16,
            "per_host": 16,
        },
        "alerts": {"max_age": "48h"},
        "delivery": {
            "retry_initial": "2s",
            "retry_max": "20s",
            "give_up_after": "1h",
            "tick": "2s",
        },
        "feeds": [{"url": u, "name": f"Outlet {i:03d}"} for i, u in enumerate(feed_urls)],
        "topics": [{"name": t, "query": q, "notify": ROUTES[t]} for t, (q, _) in TOPICS.items()],
        "notifiers": notifiers,
    }


# --------------------------------------------------------------------------------------------
# pantau under supervision


class Supervisor:
    """Starts pantau, kills it on request, restarts it when it dies by itself (and says so)."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.cmd = [str(VENV_PY if VENV_PY.exists() else sys.executable), "-m", "daemon",
                    "--config", str(config), "run"]  # fmt: skip
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 - open for the whole run
        self.lock = threading.RLock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.lives: list[Life] = []
        self.unplanned: list[str] = []
        self.term_results: list[tuple[int | None, float]] = []
        self.rss: list[tuple[float, int, int]] = []
        self._log_pos = 0
        self.ready_times: list[float] = []
        self.events: Counter = Counter()

    def start(self) -> None:
        with self.lock:
            self.proc = subprocess.Popen(
                self.cmd, cwd=REPO, stdout=self.log, stderr=self.log, start_new_session=True
            )
            self.lives.append(Life(self.proc.pid, time.time()))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _ended(self, how: str) -> None:
        self.lives[-1].ended = time.time()
        self.lives[-1].how = how

    def kill9(self) -> None:
        with self.lock:
            if not self.alive():
                return
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)
            self._ended("kill9")

    def term(self, timeout: float = 15.0) -> tuple[int | None, float]:
        with self.lock:
            if not self.alive():
                return (None, 0.0)
            assert self.proc is not None
            t0 = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc: int | None = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                rc = None
                self.proc.kill()
                self.proc.wait(10)
            took = time.monotonic() - t0
            self._ended(f"sigterm rc={rc}")
            self.term_results.append((rc, took))
            return rc, took

    def watch(self) -> None:
        """One supervision step: notice an unplanned exit, sample RSS, scan the log."""
        with self.lock:
            if (
                self.proc is not None
                and self.proc.poll() is not None
                and self.lives[-1].ended is None
            ):
                rc = self.proc.returncode
                self._ended(f"exited rc={rc}")
                tail = self.tail(3)
                self.unplanned.append(f"{datetime.now(timezone.utc):%H:%M:%S} rc={rc}: {tail}")
                say(f"pantau exited by itself (rc={rc}); restarting as systemd would")
                time.sleep(2)  # RestartSec
                self.start()
            pid = self.proc.pid if self.alive() and self.proc else None
        if pid:
            kb = rss_kb(pid)
            if kb:
                self.rss.append((time.time(), pid, kb))
        self._scan_log()

    def _scan_log(self) -> None:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(self._log_pos)
                data = fh.read()
        except OSError:
            return
        cut = data.rfind(b"\n") + 1
        self._log_pos += cut
        for line in data[:cut].decode("utf-8", "replace").splitlines():
            m = EVENT_RE.search(line)
            if m:
                self.events[m.group(1)] += 1
                if m.group(1) == "daemon.ready":
                    self.ready_times.append(time.time())
            elif "Traceback" in line:
                self.events["traceback"] += 1

    def tail(self, n: int) -> str:
        try:
            lines = self.log_path.read_bytes()[-20000:].decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return " | ".join(line[:200] for line in lines[-n:])

    def close(self) -> None:
        with self.lock:
            if self.alive():
                self.term()
        self.log.close()


EVENT_RE = re.compile(r"\bevent=([a-z_]+\.[a-z_]+)|\s([a-z_]+\.[a-z_]+)(?=\s|$)")


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


# --------------------------------------------------------------------------------------------
# The soak


@dataclass
class Plan:
    minutes: float
    drain: float
    calm: float  # seconds of stories without faults (one long pantau life) before the drain
    feeds: int
    rate: float  # stories per second
    seed: int


@dataclass
class Soak:
    plan: Plan
    run_dir: Path
    events: list[Event] = field(default_factory=list)
    windows: list[tuple[float, float, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outlet_gap_max: float = 0.0  # longest silence at the outlets while pantau was up

    def __post_init__(self) -> None:
        self.rng = random.Random(self.plan.seed)
        self.stop = threading.Event()
        self.faults_off = threading.Event()
        self.stories_off = threading.Event()
        self.slack_lock = threading.Lock()
        self.db_dir = self.run_dir / "db"
        self.db_dir.mkdir()
        self.tmpfs = self._mount()
        self.db = self.db_dir / "pantau.db"

    # -- set-up -----------------------------------------------------------------------------
    def _mount(self) -> bool:
        if os.geteuid() != 0 or not shutil.which("mount"):
            self.notes.append("disk full: not root or no mount(8); the disk-full fault is skipped")
            return False
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(self.db_dir)],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        if r.returncode != 0:
            self.notes.append(f"disk full: tmpfs mount failed ({r.stderr.strip()}); skipped")
            return False
        return True

    def record(self, kind: str, detail: str = "") -> None:
        self.events.append(Event(time.time(), kind, detail))
        say(f"{kind} {detail}".rstrip())

    def window(self, start: float, end: float, kind: str) -> None:
        self.windows.append((start, end, kind))

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the faults are lifted first; False means stop injecting."""
        return not self.faults_off.wait(max(0.0, seconds))

    # -- injectors ----------------------------------------------------------------------------
    def process_faults(self) -> None:
        while self.sleep(self.rng.uniform(30, 90)):
            kind = self.rng.choices(["kill9", "kill9_delivery", "sigterm"], [45, 35, 20])[0]
            if kind == "kill9_delivery" and not self.kill_during_delivery():
                kind = "kill9"
            if kind == "kill9":
                t = time.time()
                self.sup.kill9()
                self.record("kill9", "random moment")
                self.restart(t, "kill9")
            elif kind == "sigterm":
                t = time.time()
                rc, took = self.sup.term()
                self.record("sigterm", f"rc={rc} in {took:.1f}s")
                self.restart(t, "sigterm")

    def restart(self, t0: float, kind: str) -> None:
        time.sleep(1.0)
        n = len(self.sup.ready_times)
        self.sup.start()
        deadline = time.monotonic() + 60
        while len(self.sup.ready_times) <= n and time.monotonic() < deadline:
            time.sleep(0.2)
        self.window(t0, time.time() + 2, kind)

    def kill_during_delivery(self) -> bool:
        """A burst of alerts on one webhook, Slack answering slowly; kill -9 as the first
        message of the burst is being answered, so it is in flight."""
        with self.slack_lock:
            if self.slack.mode != "ok":
                return False
            self.slack.set_mode("slow")
        try:
            feeds = self.rng.sample(self.clean, 6)
            topic = self.rng.choice(["Ukraina", "Nikel"])
            ids = {
                self.news.new_story(topics=frozenset({topic}), feeds=[f], burst=True).id
                for f in feeds
            }
            self.news.tick()
            n0 = len(self.slack.messages)
            deadline = time.monotonic() + 75
            while time.monotonic() < deadline and not self.faults_off.is_set():
                new = self.slack.messages[n0:]
                if any(soak_check.story_of_url(m.url or "") in ids for m in new):
                    break
                time.sleep(0.05)
            else:
                return False
            time.sleep(0.3)  # mid-answer: the stand-in has the message, pantau not the reply
            t = time.time()
            self.sup.kill9()
            self.record("kill9", "during delivery of a burst of 6 alerts")
        finally:
            with self.slack_lock:
                self.slack.set_mode("ok")
        self.restart(t, "kill9")
        return True

    def notifier_faults(self) -> None:
        kinds = ["slack_500", "slack_429", "slack_refused", "smtp_hang"]
        n = 0
        while self.sleep(self.rng.uniform(20, 50)):
            if n % len(kinds) == 0:  # every kind once per round, in a random order
                self.rng.shuffle(kinds)
            kind = kinds[n % len(kinds)]
            n += 1
            dur = self.rng.uniform(15, 30)
            t = time.time()
            if kind == "smtp_hang":
                self.mail.set_mode("hang")
                self.record(kind, f"{dur:.0f}s")
                self.sleep(dur)
                self.mail.set_mode("ok")
            else:
                with self.slack_lock:
                    if self.slack.mode != "ok":
                        continue
                    mode = kind.split("_", 1)[1]
                    self.slack.set_mode(mode, retry_after=self.rng.randint(3, 10))
                self.record(kind, f"{dur:.0f}s")
                self.sleep(dur)
                with self.slack_lock:
                    self.slack.set_mode("ok")
            self.window(t, time.time(), kind)

    def feed_faults(self) -> None:
        state = {i: ("ok", time.monotonic() + self.rng.uniform(5, 40)) for i in self.hostile}
        start = time.monotonic()
        span = self.plan.minutes * 60
        gone_at = {i: start + self.rng.uniform(0.2, 0.5) * span for i in self.gone}
        back_at = {i: t + 60 for i, t in gone_at.items()}
        while self.sleep(1.0):
            now = time.monotonic()
            for i, (mode, until) in list(state.items()):
                if now < until:
                    continue
                if mode == "ok":
                    kind = self.rng.choice(HOSTILE_KINDS)
                    self.outlets.set_mode(i, kind)
                    state[i] = (kind, now + self.rng.uniform(20, 60))
                    self.record(f"feed_{kind}", f"feed {i}")
                else:
                    self.outlets.set_mode(i, "ok")
                    state[i] = ("ok", now + self.rng.uniform(20, 60))
            for i in list(gone_at):
                if now >= gone_at[i]:
                    self.outlets.set_mode(i, "gone")
                    self.record("feed_410", f"feed {i}")
                    del gone_at[i]
            for i in list(back_at):
                if now >= back_at[i] and i not in gone_at:
                    self.outlets.set_mode(i, "ok")
                    del back_at[i]

    def db_faults(self) -> None:
        kinds = ["db_writer", "disk_full"] if self.tmpfs else ["db_writer"]
        self.rng.shuffle(kinds)
        n = 0
        while self.sleep(self.rng.uniform(40, 80) if n == 0 else self.rng.uniform(50, 100)):
            kind = kinds[n % len(kinds)]
            n += 1
            t = time.time()
            if kind == "db_writer":
                self.hold_write_lock(self.rng.uniform(20, 40))
            else:
                self.fill_disk(30.0)
            self.window(t, time.time(), kind)

    def hold_write_lock(self, seconds: float) -> None:
        code = (
            "import sqlite3,sys,time\n"
            "c=sqlite3.connect(sys.argv[1],timeout=60,isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE');print('HELD',flush=True)\n"
            "time.sleep(float(sys.argv[2]));c.execute('ROLLBACK')\n"
        )
        p = subprocess.Popen(
            [sys.executable, "-c", code, str(self.db), str(seconds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            out, err = p.communicate(timeout=seconds + 90)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        held = "HELD" in out
        self.record(
            "db_writer",
            f"{seconds:.0f}s" + ("" if held else f" (never got the lock: {err[-200:]})"),
        )

    def fill_disk(self, seconds: float) -> None:
        filler = self.db_dir / "filler"
        written = 0
        try:
            with open(filler, "wb") as fh:
                for size in (1 << 20, 1 << 12, 1 << 9):
                    block = b"\0" * size
                    while True:
                        try:
                            fh.write(block)
                            fh.flush()
                            written += size
                        except OSError:
                            break
        except OSError:
            pass
        free = shutil.disk_usage(self.db_dir).free
        self.record("disk_full", f"{seconds:.0f}s ({written >> 20} MiB filler, {free} B free)")
        self.sleep(seconds)
        filler.unlink(missing_ok=True)

    def stories(self) -> None:
        while not self.stories_off.wait(0.25):
            if self.rng.random() < self.plan.rate * 0.25:
                self.news.new_story()
            self.news.tick()

    def supervise(self) -> None:
        while not self.stop.wait(1.0):
            self.sup.watch()
            if self.sup.alive() and time.time() - self.sup.lives[-1].started > 20:
                gap = time.monotonic() - self.outlets.last_request
                self.outlet_gap_max = max(self.outlet_gap_max, gap)

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        p = self.plan
        say(
            f"run dir {self.run_dir} (database on {'tmpfs ' + TMPFS_SIZE if self.tmpfs else 'disk'})"
        )
        t_build = time.monotonic()
        hostile_bodies = build_hostile(MAX_BYTES)
        say(f"hostile bodies built in {time.monotonic() - t_build:.1f}s "
            f"(gzip bomb {len(hostile_bodies.gzip_bomb) >> 10} KiB -> 200 MiB)")  # fmt: skip
        self.outlets = Outlets(p.feeds, hostile_bodies, seed=p.seed)
        self.outlets.start()
        idx = list(range(p.feeds))
        self.rng.shuffle(idx)
        n_hostile = max(4, p.feeds // 10)
        n_gone = max(1, p.feeds // 60)
        self.hostile = sorted(idx[:n_hostile])
        self.gone = sorted(idx[n_hostile : n_hostile + n_gone])
        self.clean = sorted(idx[n_hostile + n_gone :])
        self.news = Newsroom(
            self.outlets, clean=self.clean, hostile=self.hostile, gone=self.gone, seed=p.seed + 1
        )
        # something to find on the first poll
        for _ in range(max(10, p.feeds // 4)):
            self.news.new_story()
        self.news.flush()
        self.slack = SlackStandIn()
        self.mail = MailStandIn("mail")
        cfg = make_config(
            self.db, [self.outlets.url(i) for i in range(p.feeds)], self.slack, self.mail
        )
        cfg_path = self.run_dir / "pantau.yaml"
        cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
        self.sup = Supervisor(cfg_path, self.run_dir / "pantau.log")
        t0 = time.time()
        self.sup.start()
        supervisor = threading.Thread(target=self.supervise, daemon=True)
        supervisor.start()
        newsroom = threading.Thread(target=self.stories, daemon=True, name="stories")
        newsroom.start()
        injectors = [
            threading.Thread(target=f, daemon=True, name=f.__name__)
            for f in (self.process_faults, self.notifier_faults, self.feed_faults, self.db_faults)
        ]
        for th in injectors:
            th.start()
        self.faults_off.wait(p.minutes * 60)
        self.faults_off.set()
        say("faults lifted; waiting for the injectors to restore everything")
        for th in injectors:
            th.join(timeout=120)
            if th.is_alive():
                self.notes.append(f"injector {th.name} did not finish within 120 s")
        self.restore()
        self.t_calm = time.time()
        if p.calm > 0:
            say(f"calm: stories go on without faults for {p.calm:.0f}s")
            self.stop.wait(p.calm)
        self.stories_off.set()
        newsroom.join(timeout=10)
        self.news.flush()
        t_drain = time.time()
        drained = self.drain(p.drain)
        self.record(
            "drain", f"{time.time() - t_drain:.0f}s ({'complete' if drained else 'deadline'})"
        )
        rc, took = self.sup.term()
        self.record("final_sigterm", f"rc={rc} in {took:.1f}s")
        self.stop.set()
        supervisor.join(timeout=5)
        self.sup._scan_log()
        t_end = time.time()
        snapshot = soak_check.read_db(str(self.db))
        return self.report(snapshot, t0, t_end, t_drain)

    def restore(self) -> None:
        with self.slack_lock:
            self.slack.set_mode("ok")
        self.mail.set_mode("ok")
        for i in self.hostile + self.gone:
            self.outlets.set_mode(i, "ok")
        (self.db_dir / "filler").unlink(missing_ok=True)
        self.news.flush()
        if not self.sup.alive():
            self.sup.start()

    def drain(self, limit: float) -> bool:
        """Until every expected message has arrived and every copy on a feed that is not 410
        is stored (then 10 s more for stragglers)."""
        deadline = time.monotonic() + limit
        expected = soak_check.expected_pairs(self.news.stories)
        want = {(n, t, s) for t, s in expected for n in ROUTES[t]}
        gone = set(self.gone)
        copies = {c.guid for st in self.news.stories for c in st.copies if c.feed not in gone}
        while time.monotonic() < deadline:
            have = {
                (m.notifier, m.topic, soak_check.story_of_url(m.url or ""))
                for m in self.slack.messages + self.mail.messages
            }
            if want <= have and copies <= self.stored_guids():
                time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
                return True
            time.sleep(2.0)
        return False

    def stored_guids(self) -> set[str]:
        try:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
            try:
                return {r[0] for r in con.execute("SELECT guid FROM items")}
            finally:
                con.close()
        except sqlite3.Error:
            return set()

    # -- the verdict --------------------------------------------------------------------------
    def report(
        self, db: soak_check.DbSnapshot, t0: float, t_end: float, t_drain: float
    ) -> dict[str, Any]:
        feed_index = {self.outlets.url(i): i for i in range(self.plan.feeds)}
        carried = {f.index: set(f.guids) for f in self.outlets.feeds}
        v = soak_check.verdict(
            self.news.stories,
            ROUTES,
            set(SLACKS),
            self.slack.messages + self.mail.messages,
            db,
            feed_index,
            carried,
            set(self.hostile),
            self.windows,
        )
        faults: dict[str, int] = {}
        for e in self.events:
            if e.kind not in ("drain", "final_sigterm"):
                faults[e.kind] = faults.get(e.kind, 0) + 1
        kills = faults.get("kill9", 0)
        peak = max((kb for _, _, kb in self.sup.rss), default=0)
        growth = soak_check.rss_growth_per_hour(self.sup.rss)
        at_age = soak_check.rss_at_age(self.sup.rss)
        kinds = {i: "hostile" for i in self.hostile} | {i: "410" for i in self.gone}
        missing = soak_check.missing_copies(self.news.stories, db.items, feed_index, kinds)
        calm_ids = {
            s.id for s in self.news.stories if s.topics and (s.first_appeared or 0) >= self.t_calm
        }
        calm_lat = [lat for lat, sid in v.latency_pairs if sid in calm_ids]
        lives = self.sup.lives
        longest = max(lives, key=lambda life: (life.ended or t_end) - life.started)
        longest_s = (longest.ended or t_end) - longest.started
        copies = sum(len(s.copies) for s in self.news.stories)
        stalls = self.poll_gaps(t0, t_end)
        result = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine_line(),
            "duration_s": round(t_end - t0),
            "fault_phase_s": round(self.t_calm - t0),
            "calm_s": round(t_drain - self.t_calm),
            "drain_s": round(t_end - t_drain),
            "feeds": self.plan.feeds,
            "hostile_feeds": len(self.hostile),
            "gone_feeds": len(self.gone),
            "items_published": copies,
            "items_stored": len(db.items),
            "copies_not_stored": dict(missing),
            "stories": len(self.news.stories),
            "topic_stories": sum(1 for s in self.news.stories if s.topics),
            "expected_alerts": v.expected,
            "expected_deliveries": v.expected_deliveries,
            "alerts": v.alerts,
            "kills": kills,
            "faults": faults,
            "lost": len(v.lost),
            "lost_detail": v.lost[:50],
            "missing_alerts": v.missing_alerts[:50],
            "duplicates": v.duplicates,
            "duplicate_detail": v.duplicate_detail,
            "split_alerts": v.split_alerts,
            "split_stories": v.split_stories,
            "merged_stories": v.merged_stories,
            "false_alerts": v.false_alerts,
            "misrouted": v.misrouted,
            "unparsed_messages": v.unparsed_messages,
            "leaks": v.leaks[:50],
            "leak_count": len(v.leaks),
            "junk_items": v.junk[:20],
            "integrity": v.integrity,
            "delivery_status": v.delivery_status,
            "messages": {
                "slack": len(self.slack.messages),
                "mail": len(self.mail.messages),
                "slack_attempts_by_mode": self.slack.attempts,
                "smtp_hang_connections": self.mail.hang_accepted,
                "unparsed": v.unparsed_messages,
                "unparsed_mail_samples": [
                    r.decode("utf-8", "replace") for r in self.mail.unparsed[:3]
                ],
            },
            "peak_rss_mib": round(peak / 1024, 1),
            "rss_growth_mib_per_h": {str(k): round(x, 1) for k, x in growth.items()},
            "rss_at_45s_per_life_mib": [round(x, 1) for x in at_age],
            "lives": len(lives),
            "longest_life_s": round(longest_s),
            "unplanned_exits": self.sup.unplanned,
            "sigterm_results": self.sup.term_results,
            "max_poll_gap_s": stalls,
            "latency_p50_s": soak_check.percentile(v.latencies, 0.5),
            "latency_p95_s": soak_check.percentile(v.latencies, 0.95),
            "latency_n": len(v.latencies),
            "quiet_latency_p50_s": soak_check.percentile(v.quiet_latencies, 0.5),
            "quiet_latency_p95_s": soak_check.percentile(v.quiet_latencies, 0.95),
            "quiet_latency_n": len(v.quiet_latencies),
            "calm_latency_p50_s": soak_check.percentile(calm_lat, 0.5),
            "calm_latency_p95_s": soak_check.percentile(calm_lat, 0.95),
            "calm_latency_n": len(calm_lat),
            "log_events": dict(self.sup.events.most_common(40)),
            "feeds_at_end": {
                "erroring": sum(1 for f in db.feeds if f["last_error"]),
                "gone": sum(1 for f in db.feeds if f["gone"]),
            },
            "notes": self.notes,
            "events": [(round(e.t - t0, 1), e.kind, e.detail) for e in self.events],
        }
        for d in result["duplicate_detail"]:  # what happened between the two arrivals
            lo, hi = d["times"][0] - 1, d["times"][-1]
            d["between"] = sorted(
                [(round(e.t - t0, 1), e.kind) for e in self.events
                 if e.kind in ("kill9", "sigterm") and lo <= e.t <= hi]
                + [(round(a - t0, 1), k) for a, b, k in self.windows
                   if k in ("disk_full", "db_writer") and a <= hi and b >= lo]
            )  # fmt: skip
            d["times"] = [round(t - t0, 1) for t in d["times"]]
        result["pass"] = passed(result)
        return result

    def poll_gaps(self, t0: float, t_end: float) -> float:
        return round(self.outlet_gap_max, 1)

    def close(self) -> None:
        for closer in (
            getattr(getattr(self, "sup", None), "close", None),
            getattr(getattr(self, "slack", None), "close", None),
            getattr(getattr(self, "mail", None), "close", None),
            getattr(getattr(self, "outlets", None), "close", None),
        ):
            if closer is None:
                continue
            try:
                closer()
            except Exception as exc:  # cleanup goes on
                say(f"cleanup: {type(exc).__name__}: {exc}")
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.db_dir)], capture_output=True, timeout=20)


def passed(r: dict[str, Any]) -> bool:
    return (
        r["lost"] == 0
        and r["duplicates"] <= r["kills"]
        and r["integrity"] == "ok"
        and r["leak_count"] == 0
        and not r["unplanned_exits"]
        and all(rc == 0 and took <= 10 for rc, took in r["sigterm_results"])
    )


# --------------------------------------------------------------------------------------------
# Output


def machine_line() -> str:
    model, mem_kb = "?", 0
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
    return (
        f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}, Linux {platform.release()}"
    )


def fmt_s(x: float) -> str:
    return "–" if x != x else f"{x:.1f} s"  # NaN: no samples


def table(r: dict[str, Any]) -> str:
    growth = r["rss_growth_mib_per_h"]
    g = ", ".join(f"{v:+.0f}" for v in growth.values()) if growth else "– (no life ≥ 2 min)"
    faults = ", ".join(f"{k} {v}" for k, v in sorted(r["faults"].items()))
    rows = [
        ("duration", f"{r['duration_s'] / 60:.1f} min ({r['fault_phase_s']} s faults, then {r['calm_s']} s calm, {r['drain_s']} s drain)"),
        ("feeds", f"{r['feeds']} ({r['hostile_feeds']} hostile, {r['gone_feeds']} going 410)"),
        ("items", f"{r['items_published']} published, {r['items_stored']} stored; not stored: {r['copies_not_stored'] or 0}"),
        ("stories", f"{r['stories']} ({r['topic_stories']} matching a topic)"),
        ("alerts", f"{r['alerts']} raised / {r['expected_alerts']} expected"),
        ("deliveries expected", str(r["expected_deliveries"])),
        ("kills (kill -9)", str(r["kills"])),
        ("faults by kind", faults),
        ("**lost**", f"**{r['lost']}**"),
        ("duplicates", f"{r['duplicates']} (bound: ≤ {r['kills']}, one per kill)"),
        ("grouping anomalies", f"{r['split_alerts']} extra alerts from split stories, {r['merged_stories']} merged stories"),
        ("false / misrouted alerts", f"{r['false_alerts']} / {r['misrouted']}"),
        ("leaks between feeds", str(r["leak_count"])),
        ("junk items from hostile bodies", str(len(r["junk_items"]))),
        ("integrity_check", r["integrity"]),
        ("unplanned exits", str(len(r["unplanned_exits"]))),
        ("SIGTERM exits", ", ".join(f"rc={rc} {t:.1f}s" for rc, t in r["sigterm_results"])),
        ("peak RSS", f"{r['peak_rss_mib']} MiB"),
        ("RSS growth per hour", f"{g} MiB/h (least squares per life ≥ 2 min, after 60 s; longest life {r['longest_life_s']} s)"),
        ("RSS at 45 s of age, per life", " → ".join(f"{x:.0f}" for x in r["rss_at_45s_per_life_mib"]) + " MiB"),
        ("latency p50 / p95 (all)", f"{fmt_s(r['latency_p50_s'])} / {fmt_s(r['latency_p95_s'])} (n={r['latency_n']})"),
        ("latency p50 / p95 (no fault in the way)", f"{fmt_s(r['quiet_latency_p50_s'])} / {fmt_s(r['quiet_latency_p95_s'])} (n={r['quiet_latency_n']})"),
        ("latency p50 / p95 (calm phase)", f"{fmt_s(r['calm_latency_p50_s'])} / {fmt_s(r['calm_latency_p95_s'])} (n={r['calm_latency_n']})"),
        ("verdict", "PASS" if r["pass"] else "FAIL"),
    ]  # fmt: skip
    out = ["| measure | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(out)


def write_report(path: Path, r: dict[str, Any], command: str) -> None:
    section = [
        f"\n### Soak run, {r['date']}\n",
        f"Machine: {r['machine']}  ",
        f"Command: `{command}`\n",
        table(r),
        "",
        f"Delivery rows at the end: {r['delivery_status']}; messages taken: slack "
        f"{r['messages']['slack']}, mail {r['messages']['mail']}; Slack attempts by mode "
        f"{r['messages']['slack_attempts_by_mode']}.",
    ]
    if r["duplicate_detail"]:
        section.append(f"Duplicates: {len(r['duplicate_detail'])} alert(s) sent twice.")
    if r["unplanned_exits"]:
        section.append("Unplanned exits: " + "; ".join(r["unplanned_exits"]))
    if r["notes"]:
        section.append("Notes: " + "; ".join(r["notes"]))
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n".join(section) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=10.0, help="fault phase (stories + faults)")
    ap.add_argument("--drain", type=float, default=None, help="max drain seconds after faults stop")
    ap.add_argument("--calm", type=float, default=None, help="seconds of stories without faults")
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--rate", type=float, default=0.6, help="new stories per second")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", type=Path, help="append the table to this markdown file")
    ap.add_argument("--json", type=Path, help="write the full result as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the run directory (db, log)")
    args = ap.parse_args(argv)
    drain = args.drain if args.drain is not None else (180.0 if args.minutes >= 5 else 90.0)
    calm = args.calm if args.calm is not None else (180.0 if args.minutes >= 5 else 0.0)
    plan = Plan(args.minutes, drain, calm, args.feeds, args.rate, args.seed)
    run_dir = Path(tempfile.mkdtemp(prefix="pantau-soak-"))
    soak = Soak(plan, run_dir)
    hard_stop = threading.Timer(args.minutes * 60 + calm + drain + 600, lambda: os._exit(3))
    hard_stop.daemon = True
    hard_stop.start()  # every loop is bounded; this is the last resort
    try:
        result = soak.run()
    finally:
        if soak.tmpfs and args.keep:
            saved = run_dir / "db-copy"
            shutil.copytree(
                soak.db_dir, saved, dirs_exist_ok=True, ignore=shutil.ignore_patterns("filler")
            )
        soak.close()
        hard_stop.cancel()
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    if args.write:
        write_report(args.write, result, "python bench/soak.py " + " ".join(argv or sys.argv[1:]))
    if args.keep:
        say(f"kept {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
