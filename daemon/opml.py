"""OPML 2.0 in and out: the configured feeds as a subscription list, and another reader's
subscription list as a ``feeds:`` block to paste into config.yaml.

The config file is never rewritten: it is the operator's, with comments, ``${ENV}`` values
and an order that mean something; ``import`` prints YAML and the operator pastes it.

An OPML file is as hostile as a feed (README.md, "OPML"): it is read with defusedxml, which
refuses entity declarations (an entity bomb cannot expand) and external references (a file
cannot make us open a path or URL), from at most MAX_BYTES, nested at most MAX_DEPTH deep,
with each element freed once read, so 10,000 outlines cost a few megabytes. Nothing in the
file is fetched: ``type="include"`` and ``type="source"`` outlines are reported, not followed.

It is also as sloppy as a feed, and there is no loose parser to fall back on: before the
strict parse the text gets the feeds' hygiene (``daemon.feeds.parse.prepare_xml``) and its
stray ampersands are escaped, a document that breaks off keeps what came before the break,
and two exports pasted into one file are both read (listparser's test documents,
bench/opml_corpus.py: 88 of 109 statements held before, 108 after).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.parsers import expat

import yaml
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError, iterparse
from pydantic import ValidationError

from daemon.config import Config, FeedConfig, format_duration
from daemon.feeds.parse import Refused, decode_body, escape_stray_ampersands, prepare_xml
from daemon.text import clean_line

NS = "https://github.com/pantau-monitor/pantau/opml/1"  # pantau's own outline attributes
MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_FEEDS = 50_000
MAX_NAME = 200
_OPTIONS = ("interval", "fulltext", "timezone")
# libyaml's safe dumper when PyYAML was built with it: 10,000 feeds in 0.7 s instead of 3 s
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # per-feed options carried as pantau:*


class OpmlError(Exception):
    """The document cannot be read as OPML at all (one line, safe to print)."""


# --------------------------------------------------------------------------------------------
# Export


def export(config: Config, urls: Sequence[str] | None = None) -> str:
    """OPML 2.0 for the configured feeds. ``urls`` replaces the feeds' URLs one for one (the
    CLI passes them as written in the file, so an expanded ``${SECRET}`` is not printed)."""
    ET.register_namespace("pantau", NS)
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = "pantau feeds"
    ET.SubElement(head, "dateCreated").text = formatdate(usegmt=True)
    ET.SubElement(head, "docs").text = "https://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    names = config.feed_names()
    for i, f in enumerate(config.feeds):
        name = _xml_text(names[f.url])
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": urls[i] if urls else f.url}
        if f.interval is not None:
            attrs[f"{{{NS}}}interval"] = format_duration(f.interval)
        if f.fulltext is not None:
            attrs[f"{{{NS}}}fulltext"] = "true" if f.fulltext else "false"
        if f.timezone != FeedConfig.model_fields["timezone"].default:
            attrs[f"{{{NS}}}timezone"] = f.timezone
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _xml_text(s: str) -> str:
    """One line without the control characters XML 1.0 cannot carry."""
    return clean_line(s, MAX_NAME)


# --------------------------------------------------------------------------------------------
# Import


@dataclass
class Imported:
    feeds: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each, for stderr
    already: int = 0  # feeds left out because the config has them


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def url_key(url: str) -> str:
    """What makes two subscriptions the same feed: scheme and host are case-insensitive,
    a fragment never reaches the server."""
    p = urlsplit(url)
    return urlunsplit((p.scheme.lower(), p.netloc.lower(), p.path or "/", p.query, ""))


def _is_http(url: str) -> bool:
    try:
        p = urlsplit(url)
        return p.scheme.lower() in ("http", "https") and bool(p.hostname)
    except ValueError:
        return False


def _show(s: str, n: int = 120) -> str:
    return repr(clean_line(s, n))


# where expat says a document ends and another one begins (two exports pasted into one file)
_JUNK_AFTER_ROOT = expat.errors.codes[expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT]
_ROOT_END = re.compile(r"</(?:[\w.-]+:)?opml\s*>", re.I)
_SPACE = re.compile(r"\s*")
MAX_DOCUMENTS = 64


def _text(data: bytes) -> str:
    """The document as text fit for a strict parser, by the feeds' own rules
    (``daemon.feeds.parse``): the encoding decided as for a feed, control characters
    removed before anything else, any entity declaration refused, DOCTYPEs cut, HTML's named
    entities and bad character references rewritten, and every other stray "&" read as
    the character (real exports write ``?a=1&b=2`` and ``Hukum & Kriminal`` unescaped)."""
    text, _ = decode_body(data, None)
    try:
        return escape_stray_ampersands(prepare_xml(text, cut_long_tags=False))
    except Refused:
        raise OpmlError("refused: the document declares entities or external references") from None


def _outlines(text: str, problems: list[str]) -> Iterable[tuple[int, dict[str, str]]]:
    """(ordinal, attributes) of every ``outline`` element, nested ones flattened; attribute
    names lower-cased (``xmlURL`` is common), pantau's own under ``pantau:``. A document that
    breaks off (a truncated download, a stray end tag) keeps the outlines read before the
    break, and says so in ``problems``; another document after the first one's end (two
    exports in one file) is read too."""
    n = start = 0  # outlines so far; where the current document starts
    stream = io.StringIO(text)
    for document in range(1, MAX_DOCUMENTS + 1):
        depth = 0
        seen_root = ended = False
        try:
            for event, elem in iterparse(stream, events=("start", "end")):
                tag = _local(elem.tag) if isinstance(elem.tag, str) else ""
                if event == "start":
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise OpmlError(f"outlines nested deeper than {MAX_DEPTH} levels")
                    if not seen_root:
                        if tag.lower() != "opml":
                            what = f"not OPML (the root element is <{clean_line(tag, 40)}>)"
                            if document == 1:
                                raise OpmlError(what)
                            problems.append(f"document {document} of the file is {what}")
                            return
                        seen_root = True
                    if tag.lower() == "outline":
                        n += 1
                        yield (
                            n,
                            {_local(k).lower(): v for k, v in elem.attrib.items()}
                            | {f"pantau:{_local(k)}": v for k, v in elem.attrib.items() if NS in k},
                        )
                else:
                    depth -= 1
                    ended = depth == 0
                    elem.clear()  # attributes and text are read: free them
        except (EntitiesForbidden, DTDForbidden, ExternalReferenceForbidden):
            raise OpmlError(
                "refused: the document declares entities or external references"
            ) from None
        except ParseError as exc:
            if ended and exc.code == _JUNK_AFTER_ROOT:
                end = _ROOT_END.search(text, start)
                if end is None:  # (the root ended, so its end tag is there) nothing more
                    return
                start = _SPACE.match(text, end.end()).end()  # type: ignore[union-attr]
                if start == len(text):
                    return
                stream.seek(start)
                continue
            if document == 1 and n == 0:
                raise OpmlError(f"not well-formed XML: {clean_line(str(exc), 200)}") from None
            where = f"after outline {n}" if document == 1 else f"after document {document - 1}"
            problems.append(
                f"not well-formed XML {where} ({clean_line(str(exc), 120)}): "
                "what follows was not read"
            )
            return
        if not seen_root:
            raise OpmlError("not OPML (empty document)")
        return
    problems.append(f"more than {MAX_DOCUMENTS} documents in one file: the rest were not read")


def read(
    data: bytes, known: Mapping[str, str] | None = None, names: Iterable[str] = ()
) -> Imported:
    """The feeds of an OPML document as ``feeds:`` entries, with the problems found.
    ``known`` maps url_key → key path of feeds already configured (reported, left out);
    ``names`` are the configured feeds' names: a name is unique in a config (case-folded),
    so an imported name that is taken gets its host added (readers' exports often hold
    several "Berita Terkini")."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    out = Imported()
    text = _text(data)
    seen: dict[str, int] = {}
    taken = {n.strip().casefold() for n in names}
    default_tz = FeedConfig.model_fields["timezone"].default
    for n, attrs in _outlines(text, out.problems):
        url = attrs.get("xmlurl", "").strip()
        label = attrs.get("text", "").strip() or attrs.get("title", "").strip()
        where = f"outline {n}" + (f" ({_show(label, 60)})" if label else "")
        kind = attrs.get("type", "").strip().lower()
        if kind == "source" and url:  # another subscription list (listparser reads it so)
            out.problems.append(f"{where}: a subscription list is not followed (import that file)")
            continue
        if not url:
            if kind == "include":
                out.problems.append(f"{where}: an include is not followed (import that file)")
            continue  # a folder: its children are flattened into the list
        if not _is_http(url):
            out.problems.append(f"{where}: skipped, not an http(s) URL: {_show(url)}")
            continue
        key = url_key(url)
        if key in seen:
            out.problems.append(f"{where}: skipped, duplicate of outline {seen[key]}")
            continue
        seen[key] = n
        if known and key in known:
            out.problems.append(f"{where}: skipped, already in the config as {known[key]}")
            out.already += 1
            continue
        if len(out.feeds) >= MAX_FEEDS:
            raise OpmlError(f"more than {MAX_FEEDS} feeds")
        entry: dict[str, Any] = {"url": url}
        name = clean_line(label, MAX_NAME)
        host = urlsplit(url).hostname or ""
        if name and name != host:
            unique = _unique(name, host, taken)
            if unique != name:
                out.problems.append(f"{where}: the name is taken; imported as {unique!r}")
            taken.add(unique.casefold())
            entry["name"] = unique
        for opt in _OPTIONS:
            value = attrs.get(f"pantau:{opt}")
            if value is None:
                continue
            try:  # the config's own validation, so what is printed will load
                checked = getattr(FeedConfig.model_validate({"url": url, opt: value}), opt)
            except ValidationError as exc:
                msg = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
                out.problems.append(f"{where}: pantau:{opt} left out: {clean_line(msg, 200)}")
                continue
            if opt == "interval":
                entry[opt] = format_duration(checked)
            elif opt != "timezone" or checked != default_tz:
                entry[opt] = checked
        out.feeds.append(entry)
    return out


def _unique(name: str, host: str, taken: set[str]) -> str:
    """``name``, or ``name (host)``, or ``name (host 2)``…: the first not yet taken."""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{name} ({host})" if n == 2 else f"{name} ({host} {n - 1})"
    return candidate


def to_yaml(feeds: list[dict[str, Any]]) -> str:
    """A ``feeds:`` block; PyYAML quotes whatever a name holds (``: ``, ``#``, quotes)."""
    return yaml.dump(
        {"feeds": feeds}, Dumper=_YAML_DUMPER, allow_unicode=True, sort_keys=False,
        default_flow_style=False, width=4096,
    )  # fmt: skip
