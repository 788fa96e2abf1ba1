"""Configuration: one table of defaults, types and validation (pydantic), loaded from YAML.

Why pydantic with ``extra="forbid"``: a typo in a key (``intreval``) silently falling back to
a default is the worst failure a monitoring daemon can have, so unknown keys are errors. All
errors are collected and reported at once, each naming its key path (``topics[3].notify[0]``),
so an operator fixes a file in one round trip rather than one error per restart.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from daemon import USER_AGENT

# ---------------------------------------------------------------------------------------------
# Units

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.I)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.I)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1024,
    "kib": 1024,
    "mb": 1024**2,
    "mib": 1024**2,
    "gb": 1024**3,
    "gib": 1024**3,
}


def parse_duration(v: Any) -> float:
    """``30s``, ``10m``, ``2h``, ``3d`` or a number of seconds → seconds."""
    if isinstance(v, bool):
        raise ValueError("expected a duration such as 30s, 10m, 2h, 3d")
    if isinstance(v, int | float):
        if v < 0:
            raise ValueError("a duration cannot be negative")
        return float(v)
    if isinstance(v, str):
        m = _DURATION_RE.match(v)
        if m:
            return float(m.group(1)) * _DURATION_UNITS[(m.group(2) or "s").lower()]
    raise ValueError(f"expected a duration such as 30s, 10m, 2h, 3d, not {v!r}")


def parse_size(v: Any) -> int:
    """``512KB``, ``5MB`` or a number of bytes → bytes (KB = 1024 bytes)."""
    if isinstance(v, bool):
        raise ValueError("expected a size such as 512KB or 5MB")
    if isinstance(v, int):
        if v < 0:
            raise ValueError("a size cannot be negative")
        return v
    if isinstance(v, str):
        m = _SIZE_RE.match(v)
        if m:
            return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])
    raise ValueError(f"expected a size such as 512KB or 5MB, not {v!r}")


def format_duration(seconds: float) -> str:
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= n and seconds % n == 0:
            return f"{int(seconds // n)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _http_url(v: str) -> str:
    parts = urlsplit(v.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http(s) URL, not {v!r}")
    # The fetcher's own test (one home for what may be fetched): a URL it would refuse at
    # every poll (a port past 65535, a space, two parsers reading two hosts) is a config
    # error here, not a feed that `check` calls fine and `run` can never read.
    from daemon.feeds.fetch import url_problem

    problem = url_problem(v.strip())
    if problem is not None:
        raise ValueError(f"{problem}: {v!r}")
    if len(v.strip()) > URL_MAX:
        raise ValueError(f"at most {URL_MAX} characters, not {len(v.strip())}")
    return v.strip()


URL_MAX = 2048  # the stored column (``feeds.url``)


HttpUrl = Annotated[str, BeforeValidator(lambda v: _http_url(v) if isinstance(v, str) else v)]

# ---------------------------------------------------------------------------------------------
# The table


class PollingConfig(_Strict):
    interval: Duration = 600.0
    timeout: Duration = 20.0
    max_bytes: Size = 10 * 1024 * 1024
    min_interval: Duration = 120.0
    max_interval: Duration = 3600.0
    max_backoff: Duration = 86400.0
    concurrency: int = Field(8, ge=1, le=256)
    per_host: int = Field(2, ge=1, le=64)
    user_agent: str = USER_AGENT

    @field_validator("timeout", "interval", "min_interval", "max_interval")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be greater than 0")
        return v


class AlertsConfig(_Strict):
    max_age: Duration = 48 * 3600.0
    # the unit that gets one alert per topic: an event (every outlet's report of one
    # happening) or a story (the copies of one text), see README.md "Events"
    per: Literal["event", "story"] = "event"


class StoriesConfig(_Strict):
    window: Duration = 72 * 3600.0


class EventsConfig(_Strict):
    window: Duration = 36 * 3600.0  # stories of one event are first published this close


class DeliveryConfig(_Strict):
    retry_initial: Duration = 30.0
    retry_max: Duration = 3600.0
    give_up_after: Duration = 86400.0
    tick: Duration = 5.0


class FulltextConfig(_Strict):
    default: bool = False
    per_host_per_minute: int = Field(20, ge=1, le=6000)
    max_pages: int = Field(3, ge=1, le=20)
    max_chars: int = Field(100_000, ge=1000)


class RetentionConfig(_Strict):
    items: Duration | None = None


class MetricsConfig(_Strict):
    listen: str

    @field_validator("listen")
    @classmethod
    def _hostport(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected host:port such as 127.0.0.1:9464, not {v!r}")
        return v


DEFAULT_WEB_LISTEN = "127.0.0.1:8080"
MIN_WEB_SECRET = 16  # characters: a shorter secret is guessable over the network


def web_listen(v: str) -> str:
    """``host:port``, or a bare port (``8080``, ``:8080``) that binds loopback."""
    v = str(v).strip()
    if v.isdigit() or (v.startswith(":") and v[1:].isdigit()):
        v = "127.0.0.1:" + v.lstrip(":")
    from daemon.runtime.metrics import parse_listen

    parse_listen(v)  # ValueError names the expected form
    return v


class WebConfig(_Strict):
    """The dashboard (daemon/web): ``pantau run`` serves it when ``listen`` is set."""

    listen: Annotated[str, BeforeValidator(web_listen)] | None = None
    auth: str | None = None

    @field_validator("auth")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        if v is not None and len(v) < MIN_WEB_SECRET:
            raise ValueError(f"must be at least {MIN_WEB_SECRET} characters (a random token)")
        if v is not None and any(c.isspace() or ord(c) < 32 for c in v):
            raise ValueError("must not contain spaces or control characters")
        return v

    def listen_or_default(self) -> str:
        return self.listen or DEFAULT_WEB_LISTEN


class HealthConfig(_Strict):
    notify: list[str] = []


NAME_MAX = 100  # a feed's, topic's or notifier's name: it heads alerts and fits the tables


def _name(v: str | None) -> str | None:
    """A name people read in alerts, lists and logs: one line, at most ``NAME_MAX``
    characters (the database keeps 100 to 200; PostgreSQL refused a longer one at the first
    poll, after `check` had passed it), not blank."""
    if v is None:
        return v
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in v):
        raise ValueError("must be one line, without control characters")
    v = v.strip()
    if not v:
        raise ValueError("must not be blank")
    if len(v) > NAME_MAX:
        raise ValueError(f"at most {NAME_MAX} characters, not {len(v)}")
    return v


Name = Annotated[str, AfterValidator(_name)]


class FeedConfig(_Strict):
    url: HttpUrl
    name: Name | None = None
    interval: Duration | None = None
    fulltext: bool | None = None
    timezone: str = "Asia/Jakarta"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from daemon.feeds.dates import configured_zone  # (the one reading of a zone)

        if configured_zone(v) is None:
            raise ValueError(
                f"unknown time zone {v!r}: write an IANA name (Asia/Jakarta), WIB, WITA or "
                "WIT, or an offset (+07:00)"
            )
        return v.strip()

    @property
    def display_name(self) -> str:
        return self.name or (urlsplit(self.url).hostname or self.url)


class TopicConfig(_Strict):
    name: Name
    query: str = Field(min_length=1, max_length=10_000)
    notify: list[str] = []


class SlackNotifierConfig(_Strict):
    type: Literal["slack"]
    webhook_url: HttpUrl
    timeout: Duration = 10.0


class EmailNotifierConfig(_Strict):
    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    digest: Duration | None = None
    timeout: Duration = 30.0
    tls_verify: bool = True
    ca_file: str | None = None

    @field_validator("from_")
    @classmethod
    def _addr(cls, v: str) -> str:
        if "@" not in v or any(c in v for c in "\r\n"):
            raise ValueError(f"expected an email address, not {v!r}")
        return v

    @field_validator("to")
    @classmethod
    def _addrs(cls, v: list[str]) -> list[str]:
        for a in v:
            cls._addr(a)
        return v


class ConsoleNotifierConfig(_Strict):
    type: Literal["console"]


class TelegramNotifierConfig(_Strict):
    type: Literal["telegram"]
    bot_token: str = Field(repr=False)
    chat_id: str
    api_url: HttpUrl = "https://api.telegram.org"
    disable_web_page_preview: bool = True
    digest: Duration | None = None
    timeout: Duration = 10.0

    @field_validator("bot_token")
    @classmethod
    def _token(cls, v: str) -> str:
        from daemon.delivery.telegram import TOKEN_RE

        if not TOKEN_RE.match(v.strip()):  # the message never quotes the value: a secret
            raise ValueError("not a bot token (expected <bot id>:<key> as BotFather gives it)")
        return v.strip()

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat(cls, v: Any) -> str:
        from daemon.delivery.telegram import CHAT_ID_RE

        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)  # an unquoted -100… in YAML is a number
        if not isinstance(v, str) or not CHAT_ID_RE.match(v.strip()):
            raise ValueError(f"expected a chat id (-1001234567890) or @channelname, not {v!r}")
        return v.strip()


class WebhookNotifierConfig(_Strict):
    type: Literal["webhook"]
    url: HttpUrl
    secret: str | None = Field(None, min_length=16, repr=False)
    headers: dict[str, str] = Field({}, repr=False)
    timeout: Duration = 10.0

    @field_validator("headers")
    @classmethod
    def _headers(cls, v: dict[str, str]) -> dict[str, str]:
        from daemon.delivery.webhook import check_headers

        problems = check_headers(v)
        if problems:
            raise ValueError("; ".join(problems))
        return v


NotifierConfig = Annotated[
    SlackNotifierConfig
    | EmailNotifierConfig
    | ConsoleNotifierConfig
    | TelegramNotifierConfig
    | WebhookNotifierConfig,
    Field(discriminator="type"),
]
NOTIFIER_TYPES = ("slack", "email", "console", "telegram", "webhook")


class Config(_Strict):
    database: str = "sqlite:///pantau.db"
    polling: PollingConfig = PollingConfig()
    alerts: AlertsConfig = AlertsConfig()
    stories: StoriesConfig = StoriesConfig()
    events: EventsConfig = EventsConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    fulltext: FulltextConfig = FulltextConfig()
    retention: RetentionConfig = RetentionConfig()
    metrics: MetricsConfig | None = None
    web: WebConfig = WebConfig()
    health: HealthConfig = HealthConfig()
    feeds: list[FeedConfig] = []
    topics: list[TopicConfig] = []
    notifiers: dict[Name, NotifierConfig] = {}

    def feed_interval(self, feed: FeedConfig) -> float:
        return feed.interval if feed.interval is not None else self.polling.interval

    def feed_fulltext(self, feed: FeedConfig) -> bool:
        return feed.fulltext if feed.fulltext is not None else self.fulltext.default

    def feed_names(self) -> dict[str, str]:
        """Each feed's name by URL: its own, else its host, else, when another feed would go
        by the same host (Detik's three feeds on rss.detik.com), the host and the last word
        of its path ("rss.detik.com finance"): names are how `pantau feeds` and alerts tell
        feeds apart (README.md, "Deviations"; docs/design.md, "What `check` now asks")."""
        taken = {f.name.casefold() for f in self.feeds if f.name}
        hosts = Counter(f.display_name for f in self.feeds if not f.name)
        shared = {h for h, n in hosts.items() if n > 1 or h.casefold() in taken}
        out: dict[str, str] = {}
        for f in self.feeds:
            name = f.display_name
            if not f.name and name in shared:
                parts = urlsplit(f.url)
                words = [w for w in parts.path.split("/") if w]
                name = f"{name} {words[-1]}" if words else name
                if parts.query:
                    name += f"?{parts.query}"
            out[f.url] = name
        names = Counter(out.values())
        for f in self.feeds:  # still two alike ("/a/rss", "/b/rss"): the whole address
            if not f.name and names[out[f.url]] > 1:
                out[f.url] = f.url.split("://", 1)[-1]
        return {url: name[:NAME_MAX] for url, name in out.items()}


# ---------------------------------------------------------------------------------------------
# Loading


class ConfigError(Exception):
    """Every problem found in a config file; ``str()`` is one line per problem."""

    def __init__(self, errors: list[str], path: str | None = None) -> None:
        self.errors = errors
        self.path = path
        super().__init__("\n".join(errors))


@dataclass
class LoadedConfig:
    config: Config
    path: str
    secrets: list[str] = field(default_factory=list)  # every value expanded from ${ENV}


# libyaml's parser when PyYAML was built with it: a 1,000-feed config loads ~10x faster.
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _YAML_LOADER(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, but a key written twice in one mapping is an error. YAML says keys
    are unique, yet PyYAML keeps the last one silently: a second ``feeds:`` further down a
    long file would drop every feed of the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not None:
                raise _DuplicateKey(
                    problem=f"key {key!r} is written twice (first on line "
                    f"{first.start_mark.line + 1}); keep one",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


_PLAIN_KEY = re.compile(r"[\w-]{1,40}")


def key_path(loc: Iterable[Any]) -> str:
    """``topics[3].notify[0]``; a key that is not a plain word is quoted (shortened), so a
    name with a newline or of 500 characters keeps its error on one readable line; pydantic's
    "[key]" (the key itself was refused) is left out."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue
        else:
            text = str(part)
            if not _PLAIN_KEY.fullmatch(text):
                text = repr(text if len(text) <= 40 else text[:40] + "…")
            out += ("." if out else "") + text
    return out or "(top level)"


def _expand_env(
    node: Any,
    loc: tuple,
    env: dict[str, str],
    errors: list[str],
    secrets: list[str],
    unset: set[tuple],
) -> Any:
    """Replace ``${NAME}``; ``unset`` collects the key paths of values that named an unset
    variable (their validation errors would only repeat that one)."""
    if isinstance(node, str):

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in env:
                errors.append(f"{key_path(loc)}: environment variable {name} is not set")
                unset.add(loc)
                return ""
            if env[name]:
                secrets.append(env[name])
            return env[name]

        return _ENV_RE.sub(repl, node)
    if isinstance(node, list):
        return [_expand_env(v, (*loc, i), env, errors, secrets, unset) for i, v in enumerate(node)]
    if isinstance(node, dict):
        return {k: _expand_env(v, (*loc, k), env, errors, secrets, unset) for k, v in node.items()}
    return node


_UNION_TAGS = NOTIFIER_TYPES  # discriminated unions add the tag to the location


# What YAML 1.1 makes of a plain scalar that is not text: NO, on and yes are booleans,
# 2024 and 0123 (octal) are numbers, ~ is null
_YAML_READS = {
    "tag:yaml.org,2002:bool": "the boolean {value}",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "nothing (null)",
}


def _scalar_at(text: str, loc: Sequence[Any]) -> yaml.ScalarNode | None:
    """The YAML node written at ``loc``, read again from the text (only for an error)."""
    try:
        node = yaml.compose(text, Loader=_BASE_LOADER)
    except yaml.YAMLError:
        return None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
        else:
            return None
    return node if isinstance(node, yaml.ScalarNode) else None


def _not_text_hint(text: str, loc: Sequence[Any], value: Any) -> str | None:
    """For text that YAML read as something else: what it read, and the fix. Nothing a
    notifier holds is repeated (any of it may be a credential)."""
    node = _scalar_at(text, loc) if text else None
    if node is None or node.style or node.tag not in _YAML_READS:  # (plain: None or "")
        return None
    what = _YAML_READS[node.tag].format(value=str(value).lower())
    shown = "***" if loc and loc[0] == "notifiers" else node.value
    fix = "write it in quotes" + ("" if shown == "***" else f': "{node.value}"')
    return f"{shown} on line {node.start_mark.line + 1} is read by YAML as {what}; {fix}"


def _pydantic_errors(exc: ValidationError, unset: set[tuple], text: str = "") -> list[str]:
    out = []
    for e in exc.errors(include_url=False):
        # discriminated unions add the tag to the location; drop it for readability
        loc = [p for p in e["loc"] if p not in _UNION_TAGS]
        loc = [("from" if p == "from_" else p) for p in loc]
        if tuple(loc) in unset:
            continue  # already reported: the environment variable it named is not set
        msg = e["msg"]
        hint = (
            _not_text_hint(text, loc, e.get("input"))
            if e["type"] == "string_type" and not isinstance(e.get("input"), str)
            else None
        )
        if hint is not None:
            msg = hint
        elif e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "string_too_short" and e.get("input") == "":
            msg = "empty"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append(f"{key_path(loc)}: {msg}")
    return out


def _items(raw: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    """The entries of a list of mappings in the raw config (whatever its types are, so the
    cross-checks run beside the type errors rather than after they are fixed)."""
    v = raw.get(key)
    if not isinstance(v, list):
        return []
    return [(i, x) for i, x in enumerate(v) if isinstance(x, dict)]


def _cross_check(raw: dict[str, Any]) -> list[str]:
    """The checks that relate one part of the config to another, on the raw (expanded)
    mapping. A value of the wrong type is skipped here: its type error says it already."""
    from daemon.feeds.urls import canonical_url

    errors: list[str] = []
    seen_urls: dict[str, int] = {}
    seen_feeds: dict[str, int] = {}
    for i, f in _items(raw, "feeds"):
        url = f.get("url")
        if isinstance(url, str) and url.strip():
            # one feed however written: "EXAMPLE.org", a "#fragment", a utm_ parameter
            key = canonical_url(url.strip()) or url.strip()
            if key in seen_urls:
                errors.append(f"feeds[{i}].url: duplicate of feeds[{seen_urls[key]}].url")
            seen_urls.setdefault(key, i)
        name = f.get("name")
        if isinstance(name, str) and name.strip():
            key = name.strip().casefold()
            if key in seen_feeds:
                errors.append(
                    f"feeds[{i}].name: {name!r} is already the name of feeds[{seen_feeds[key]}]"
                    " (names are how `pantau feeds` and alerts tell feeds apart)"
                )
            seen_feeds.setdefault(key, i)
    notifiers = raw.get("notifiers")
    names = set(notifiers) if isinstance(notifiers, dict) else set()
    seen_topics: dict[str, int] = {}
    for i, t in _items(raw, "topics"):
        name = t.get("name")
        if isinstance(name, str):
            if name in seen_topics:
                errors.append(
                    f"topics[{i}].name: duplicate of topics[{seen_topics[name]}].name {name!r}"
                )
            seen_topics.setdefault(name, i)
        notify = t.get("notify")
        for j, n in enumerate(notify if isinstance(notify, list) else []):
            if isinstance(n, str) and n not in names:
                errors.append(f"topics[{i}].notify[{j}]: {_no_notifier(n, names)}")
        query = t.get("query")
        if isinstance(query, str) and query.strip():
            errors.extend(_check_query(i, name if isinstance(name, str) else None, query))
    health = raw.get("health")
    notify = health.get("notify") if isinstance(health, dict) else None
    for j, n in enumerate(notify if isinstance(notify, list) else []):
        if isinstance(n, str) and n not in names:
            errors.append(f"health.notify[{j}]: {_no_notifier(n, names)}")
    db = raw.get("database")
    if isinstance(db, str) and not db.strip():
        errors.append("database: empty")
    return errors


def check_web(listen: str | None, auth: str | None) -> list[str]:
    """Off loopback the dashboard must have a secret: feed text, topics and delivery errors
    are for the newsroom only. Also used for ``pantau web --listen``."""
    if listen is None or auth:
        return []
    from daemon.runtime.metrics import is_loopback, parse_listen

    host, _ = parse_listen(listen)
    if is_loopback(host):
        return []
    return [f"web.auth: required when web.listen is not a loopback address ({listen})"]


def _no_notifier(name: str, names: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return f"no notifier named {name!r}{hint}"


def _check_query(i: int, name: str | None, query: str) -> list[str]:
    """A bad query is a config error naming the topic and pointing at the position. Each
    topic is compiled alone (as the matcher will compile it), so an empty or duplicate
    topic elsewhere hides nothing."""
    from daemon.topics.match import Matcher, TopicErrors, TopicSpec

    try:
        Matcher.compile([TopicSpec(name or "", query)])
    except TopicErrors as exc:
        return [f"topics[{i}].query: topic {name!r}: {err}" for _, err in exc.errors]
    return []


def _value_check(cfg: Config) -> list[str]:
    """Checks of parsed values against each other (only when every value parsed)."""
    errors = check_web(cfg.web.listen, cfg.web.auth)
    if cfg.polling.min_interval > cfg.polling.max_interval:
        errors.append("polling.min_interval: greater than polling.max_interval")
    return errors


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if 0 <= line < len(lines) else ""


def resolve_path(path: str | None) -> str:
    return path or os.environ.get("PANTAU_CONFIG") or "config.yaml"


def parse_config(
    text: str, *, env: dict[str, str] | None = None, path: str = "<string>"
) -> LoadedConfig:
    env = dict(os.environ) if env is None else env
    try:
        raw = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        what = "" if isinstance(exc, _DuplicateKey) else "not valid YAML: "
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            problem += " (a tab: YAML indents with spaces only)"
        raise ConfigError([f"{path}: {where}{what}{problem}"], path) from None
    if raw is None:
        raise ConfigError(
            [f"{path}: the file is empty: it needs at least `feeds:` (see config.yaml)"], path
        )
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of keys"], path)
    errors: list[str] = []
    secrets: list[str] = []
    unset: set[tuple] = set()
    expanded = _expand_env(raw, (), env, errors, secrets, unset)
    secrets.extend(_secret_values(expanded))
    secrets.extend(_webhook_secrets(expanded))
    secrets.extend(_feed_secrets(expanded))
    cfg: Config | None = None
    try:
        cfg = Config.model_validate(expanded)
    except ValidationError as exc:
        errors.extend(_pydantic_errors(exc, unset, text))
    errors.extend(_cross_check(expanded))
    if cfg is not None:
        errors.extend(_value_check(cfg))
    if errors or cfg is None:
        raise ConfigError(_masked(errors, secrets), path)
    return LoadedConfig(cfg, path, sorted(set(secrets), key=len, reverse=True))


def _secret_values(node: Any, key: str = "") -> list[str]:
    """Values of the keys that hold secrets (``daemon.logs.SECRET_FIELDS``), anywhere."""
    from daemon.logs import SECRET_FIELDS

    if isinstance(node, dict):
        return [v for k, sub in node.items() for v in _secret_values(sub, str(k))]
    if isinstance(node, list):
        return [v for sub in node for v in _secret_values(sub, key)]
    return [node] if key in SECRET_FIELDS and isinstance(node, str) and node else []


def _webhook_secrets(node: Any) -> list[str]:
    """A webhook's URL and its extra header values are credentials as often as not (a token
    in the path, an Authorization header); SECRET_FIELDS cannot name them, since feeds have
    ``url`` keys too and header names are the operator's."""
    notifiers = node.get("notifiers") if isinstance(node, dict) else None
    out: list[str] = []
    for n in notifiers.values() if isinstance(notifiers, dict) else ():
        if isinstance(n, dict) and n.get("type") == "webhook":
            headers = n.get("headers") if isinstance(n.get("headers"), dict) else {}
            values = [n.get("url"), *headers.values()]
            out.extend(v for v in values if isinstance(v, str) and v)
    return out


def _feed_secrets(node: Any) -> list[str]:
    """A private feed's credentials in its address (``user:password@``, ``?key=``): masked
    like ``${ENV}`` values, in the CLI's output, the logs and the dashboard."""
    from daemon.logs import url_secrets

    feeds = node.get("feeds") if isinstance(node, dict) else None
    out: list[str] = []
    for f in feeds if isinstance(feeds, list) else ():
        url = f.get("url") if isinstance(f, dict) else None
        if isinstance(url, str):
            out.extend(url_secrets(url))
    return out


def _masked(errors: list[str], secrets: list[str]) -> list[str]:
    """Errors never echo a secret (a rejected webhook URL, say) back to the terminal."""
    from daemon.logs import mask

    return [mask(e, secrets) for e in errors]


def load_config(path: str | None = None, *, env: dict[str, str] | None = None) -> LoadedConfig:
    p = resolve_path(path)
    try:
        text = Path(p).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: config file not found"], p) from None
    except IsADirectoryError:
        raise ConfigError([f"{p}: is a directory, not a config file"], p) from None
    except PermissionError:
        raise ConfigError([f"{p}: not allowed to read it (check its permissions)"], p) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [
                f"{p}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}): "
                "is it the right file? Save it as UTF-8"
            ],
            p,
        ) from None
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read: {exc.strerror or exc}"], p) from None
    return parse_config(text, env=env, path=p)
