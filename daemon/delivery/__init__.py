"""Notifier senders: Slack, Telegram, webhooks, email and console, behind one small interface."""

from __future__ import annotations

from daemon.delivery.base import (
    AlertMessage,
    Notifier,
    SendResult,
    Source,
    build_notifier,
    format_wib,
)

__all__ = ["AlertMessage", "Notifier", "SendResult", "Source", "build_notifier", "format_wib"]
