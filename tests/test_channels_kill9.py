"""kill -9 while pantau delivers to Telegram and a webhook: nothing is lost, and at most the
delivery in flight is repeated (the Slack version is in tests/test_dispatch.py)."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from daemon.demo.loopback import LoopbackServer
from daemon.storage.store import Store
from tests.telegramstub import TelegramStub
from tests.test_dispatch import ukraine_feed
from tests.webhookstub import SECRET, WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
N = 40


def start(cfg: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(cfg), "run"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


@pytest.mark.slow
def test_kill_9_during_telegram_and_webhook_delivery_loses_nothing(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        tg = TelegramStub(srv, delay=0.15)
        hook = WebhookReceiver(srv, delay=0.15)
        url = srv.static("/u.xml", ukraine_feed(N))
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            f"database: sqlite:///{tmp_path / 'p.db'}\nfeeds: [{{url: '{url}'}}]\n"
            f"delivery: {{tick: 1s, retry_initial: 1s}}\n"
            f"topics: [{{name: Ukraina, query: Ukraina, notify: [t, w]}}]\nnotifiers:\n"
            f"  t: {{type: telegram, bot_token: '{tg.token}', chat_id: 4242, api_url: '{tg.api_url}'}}\n"
            f"  w: {{type: webhook, url: '{hook.url}', secret: '{SECRET}'}}\n"
        )
        rng = random.Random(11)
        kills = 0
        for _ in range(20):
            p = start(cfg)
            time.sleep(rng.uniform(1.0, 2.5))  # a random moment, not a timing crutch
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
        p = start(cfg)
        try:
            deadline = time.monotonic() + 180
            store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
            while time.monotonic() < deadline:
                try:
                    if store.delivery_counts().get("sent", 0) == 2 * N:
                        break
                except OperationalError:  # on a loaded machine the tables may not exist yet
                    pass
                time.sleep(0.2)
            store.close()
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=15)
        numbers = Counter(
            re.search(r"kerusakan nomor (\d+)", m.parsed.text).group(1)  # type: ignore[union-attr]
            for m in tg.messages
        )
        posted = Counter(r.json["id"] for r in hook.accepted)
        assert len(numbers) == N, f"telegram lost: {N - len(numbers)}"
        assert len(posted) == N, f"webhook lost: {N - len(posted)}"
        tg_dupes = sum(c - 1 for c in numbers.values())
        wh_dupes = sum(c - 1 for c in posted.values())
        # a repeat carries the same Idempotency-Key, so the receiver can drop it
        assert len(hook.unique) == N and hook.refused == []
        print(f"\nkill -9 x{kills}: {N} alerts to each; telegram {tg_dupes} repeats, "
              f"webhook {wh_dupes} repeats (all with a known Idempotency-Key)")  # fmt: skip
        assert tg_dupes <= kills and wh_dupes <= kills
