"""Where tests find data outside the package: one rule, relative to the checkout.

The shared corpus of real outlet feeds lives beside the checkout (``../shared``), wherever
the checkout is; tests that need it skip with a reason where it is absent.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REAL_FEEDS = SHARED / "corpus" / "real"
NEWS_CSV = SHARED / "corpus" / "news-2025.csv"
