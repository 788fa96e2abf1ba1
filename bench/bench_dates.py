"""Date parsing speed: microseconds per date over the formats tests/test_dates.py covers.

Moved out of the unit tests (a timed unit test fails on a loaded machine); about 5 us per
date was measured when it was a test, with a budget of 20 us (a 200-item feed spends
< 4 ms on dates).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ of this checkout

from daemon.feeds.dates import parse_date  # noqa: E402
from tests.test_dates import CASES  # noqa: E402


def main(repeat: int = 200) -> None:
    samples = [raw for raw, _ in CASES] * repeat
    start = time.perf_counter()
    for raw in samples:
        parse_date(raw)
    per_date = (time.perf_counter() - start) / len(samples)
    print(f"{len(samples)} dates, {per_date * 1e6:.2f} us per date")


if __name__ == "__main__":
    main()
