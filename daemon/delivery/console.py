"""Console sender: one line per alert on stdout, for operators and for `pantau demo`.

A terminal interprets escape sequences and a log collector splits on newlines, so a feed
title could recolour the screen or forge a log line; every field is reduced to clean text.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from daemon.delivery.base import (
    AlertMessage,
    SendResult,
    format_wib,
    option,
    other_outlets,
    probe_text,
    safe_line,
    safe_url,
)


def format_line(alert: AlertMessage) -> str:
    """``[pantau] <topic> | <outlet> | <WIB time> | <title> | <url>``, then ``| juga: <the
    other outlets of its event>`` when others covered it; always one line."""
    fields = [
        safe_line(alert.topic, 100),
        safe_line(alert.outlet, 100),
        format_wib(alert.published_at),
        safe_line(alert.title, 500) or "(tanpa judul)",
        safe_url(alert.url) or "-",
    ]
    others = other_outlets(alert)
    if others:
        fields.append("juga: " + ", ".join(others))
    return "[pantau] " + " | ".join(fields)


class ConsoleNotifier:
    """Writes to ``stream``; None means whatever ``sys.stdout`` is at send time."""

    digest: float | None = None

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self._stream = stream

    @classmethod
    def from_config(cls, name: str, cfg: Mapping[str, Any] | object) -> ConsoleNotifier:
        return cls(name, option(cfg, "stream"))

    def _write(self, lines: Sequence[str]) -> SendResult:
        stream = self._stream or sys.stdout
        try:
            for line in lines:
                stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError) as e:  # closed stream, full disk, broken pipe
            return SendResult(False, safe_line(f"console write failed: {type(e).__name__}"))
        return SendResult(True, f"{len(lines)} line(s) printed")

    def send(self, alerts: Sequence[AlertMessage]) -> SendResult:
        return self._write([format_line(a) for a in alerts])

    def send_test(self) -> SendResult:
        return self._write(["[pantau] " + probe_text()])
