"""Run the pantau CLI with 127.0.0.2 standing in for a public address of the internet.

The SSRF tests of tests/test_hostile.py need an outlet that the address policy takes for
public while it is served on loopback. Everything else is the real CLI: this only changes
what the policy's classifier says about that one address (the one thing tests may mock
is the internet), then hands over to ``daemon.cli.entry`` with the same arguments.
"""

from __future__ import annotations

import ipaddress

import daemon.feeds.fetch as fetch
import daemon.pipeline.fulltext as fulltext
from daemon.cli import entry

PUBLIC_IP = "127.0.0.2"
_real = fetch.is_private_address


def is_private(ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return str(ip).strip().strip("[]") != PUBLIC_IP and _real(ip)


fetch.is_private_address = is_private  # type: ignore[assignment]
fulltext.is_private_address = is_private  # type: ignore[assignment]

if __name__ == "__main__":
    entry()
