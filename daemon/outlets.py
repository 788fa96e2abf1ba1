"""One outlet under the names feeds and aggregators give it.

The operator names Detik's feed "Detik"; Google News names the same publisher "detikNews",
Bing "detikcom"; Antara is "Antara" in one config and "ANTARA News" in Google's entries;
Tempo is "Tempo" and "Tempo.co". An alert listing the outlets of an event ("juga: Detik,
detikNews") then names one outlet twice, which reads to a desk as two newsrooms covering
it. Names are compared by their ``outlet_key``: case, spacing and punctuation folded, a
domain ending written with its dot (".com", ".co.id", ".id") and a trailing "news",
"online" or glued "com" dropped. Sections stay apart ("detikFinance", "Antara Sumbar",
"Kompas TV"), since a name with another word is another desk. Pure; docs/design.md,
"One outlet, several names".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from daemon.text import normalize, strip_control

__all__ = ["distinct_outlets", "others_than", "outlet_key"]

_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_FEED_HOST = re.compile(r"^(?:www|rss|feeds?|m)\.")  # a site's own feed or mobile host
_DOMAIN_END = re.compile(r"\.(?:co\.id|or\.id|web\.id|my\.id|com|co|id|net|org)$")
_NOT_ALNUM = re.compile(r"[\W_]+")
# a word that names the medium, not the newsroom: "detikNews", "Republika Online", "detikcom"
_GENERIC_TAILS = ("news", "online", "com")
_MIN_STEM = 4  # "Medcom" stays "medcom": too short a stem to stand for an outlet alone


def outlet_key(name: str) -> str:
    """The key two names of one outlet share (see the module docstring)."""
    s = strip_control(normalize(name)).strip().casefold()
    if _HOST.fullmatch(s):  # a feed named by its host, as pantau names one without a name
        s = _FEED_HOST.sub("", s)  # "rss.detik.com" is Detik; "ihram.republika.co.id" IHRAM
    s = _DOMAIN_END.sub("", s)
    key = _NOT_ALNUM.sub("", s)
    for tail in _GENERIC_TAILS:
        if key.endswith(tail) and len(key) - len(tail) >= _MIN_STEM:
            key = key[: -len(tail)]
            break
    return key or name.strip().casefold()


def distinct_outlets(names: Iterable[str]) -> list[str]:
    """``names`` in their order, each outlet once: under the first name it came with."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        if not name:
            continue
        key = outlet_key(name)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


def others_than(named: str, names: Iterable[str]) -> list[str]:
    """The outlets of ``names`` other than ``named`` (an alert's own), each once."""
    out = distinct_outlets([named, *names])
    return out[1:] if named else out
