"""Typed configuration: defaults in code < config.toml < REGWATCH_* environment < CLI flags.

Every table of config.toml is a frozen dataclass below; an unknown key is a ConfigError that
names the file, the key and the keys allowed there. Environment variables address a key by
its path with double underscores: ``REGWATCH_STORE__URL=/var/lib/regwatch.db``,
``REGWATCH_SOURCES__FEDERAL_REGISTER__AGENCIES=industry-and-security-bureau,state-department``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.errors import ConfigError
from crawler.workdays import Hours
from storage.engine import TargetError, is_url, target

USER_AGENT = (
    f"regwatch/{metadata.version('regwatch')} "
    "(regulatory change tracker; +https://github.com/regwatch/regwatch)"
)


@dataclass(frozen=True)
class StoreConfig:
    # a SQLite file (relative to the config file's folder) or a PostgreSQL database:
    # postgresql+psycopg://user:password@host:5432/regwatch
    url: str = "regwatch.db"
    path: str = ""  # the old name of ``url`` (a SQLite path); read as ``url``, never both
    # seconds a crawl waits for another run crawling the same source before it gives up
    lock_wait: float = 60.0


@dataclass(frozen=True)
class OutputConfig:
    digests: str = "digests"
    feeds: str = "feeds"
    feed_entries: int = 200  # the newest entries each feed keeps
    base_url: str = ""  # where the output folder is served, for feed self links


@dataclass(frozen=True)
class HttpConfig:
    user_agent: str = USER_AGENT
    timeout: float = 30.0
    retries: int = 2
    max_retry_after: float = 300.0
    polite: bool = True
    # A body after decompression; the largest watched payload (15 CFR part 774, a few MB of
    # XML) fits many times over, a gzip bomb is stopped here while it inflates.
    max_bytes: int = 64_000_000
    # A body as received, compressed or not (declared Content-Length or bytes read).
    max_compressed_bytes: int = 16_000_000


@dataclass(frozen=True)
class FederalRegisterConfig:
    enabled: bool = True
    api_base: str = "https://www.federalregister.gov/api/v1"
    site_base: str = "https://www.federalregister.gov"
    agencies: tuple[str, ...] = ("industry-and-security-bureau",)
    types: tuple[str, ...] = ("RULE", "PRORULE", "NOTICE")
    api_rate: float = 5.0
    xml_rate: float = 1.0
    first_run_days: int = 7
    public_inspection: bool = True
    per_page: int = 1000
    split_above: int = 5000


@dataclass(frozen=True)
class EcfrConfig:
    enabled: bool = True
    api_base: str = "https://www.ecfr.gov/api/versioner/v1"
    site_base: str = "https://www.ecfr.gov"
    # "TITLE:PARTS": a part, a range, or a comma list ("15:730-774", "22:120-130", "31:560")
    watches: tuple[str, ...] = ("15:730-774",)
    rate: float = 1.0
    # a fetch that loses more than this share of its part's sections and appendices, or of
    # the Entity List's entries, is held (not applied) until confirmed (issue 11)
    max_section_loss: float = 0.5
    max_entity_loss: float = 0.10


@dataclass(frozen=True)
class BisConfig:
    """bis.gov web pages: the items linked from ``listings`` (press releases, news) and the
    ``pages`` watched whole. A page that moved (301/308) or went missing (404/410) is an
    alert on the run, never a silent stop."""

    enabled: bool = True
    site_base: str = "https://www.bis.gov"
    # pages listing items: every link on them whose path starts with one of item_paths
    listings: tuple[str, ...] = ("/news-updates",)
    item_paths: tuple[str, ...] = ("/press-release/", "/news-updates/")
    max_items: int = 20  # the newest items per listing followed in one run
    # pages tracked whole for changes ("/licensing/end-user-guidance/denied-persons-list-dpl")
    pages: tuple[str, ...] = ()
    rate: float = 0.5  # requests per second: a web site, not an API


@dataclass(frozen=True)
class SourcesConfig:
    federal_register: FederalRegisterConfig = field(default_factory=FederalRegisterConfig)
    ecfr: EcfrConfig = field(default_factory=EcfrConfig)
    bis: BisConfig = field(default_factory=BisConfig)


@dataclass(frozen=True)
class ScheduleConfig:
    """When `regwatch schedule` runs each job: five-field cron expressions in the configured
    time zone ("" turns a job off). The Federal Register publishes at 6:00 Eastern and posts
    Public Inspection from 8:45; the eCFR updates daily."""

    run: str = "30 6 * * *"  # the daily job (crawl, digest, feeds, mail)
    send: str = "15 * * * *"  # mail still waiting in the outbox (retries)
    # the Public Inspection poll (`regwatch inspect`): every this many minutes (0: off)
    # within ``inspect_hours`` Eastern on business days, whatever ``timezone`` says
    inspect: int = 10
    inspect_hours: str = "08:45-17:15"
    misfire_grace_hours: float = 24.0  # a job missed by less than this runs once on restart


@dataclass(frozen=True)
class SmtpConfig:
    """Where digests are mailed from. No host: no email. The password comes from the
    REGWATCH_SMTP_PASSWORD environment variable, never from a file."""

    host: str = ""
    port: int = 25
    security: str = "starttls"  # none, starttls, ssl
    user: str = ""
    sender: str = "regwatch <regwatch@localhost>"
    timeout: float = 30.0
    max_bytes: int = 1_000_000  # a digest larger than this is folded into a summary


@dataclass(frozen=True)
class TopicConfig:
    """A topic of the user's own (``[[topics]]``), beside the built-in ones."""

    name: str = ""
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubscriptionConfig:
    """Who gets what (``[[subscriptions]]``). Empty filters match everything; a document or
    change is sent when it matches every filter that is set."""

    name: str = ""
    recipients: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()  # FR agency slugs
    types: tuple[str, ...] = ()  # RULE, PRORULE, NOTICE, PRESDOCU
    cfr: tuple[str, ...] = ()  # "15", "15:744", "15:744.11", "15:744:supp-4"
    eccns: tuple[str, ...] = ()  # "3A090", "3A090*", "5A002"
    entity_countries: tuple[str, ...] = ()
    entity_names: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # names from `regwatch topics`


@dataclass(frozen=True)
class Config:
    timezone: str = "America/New_York"
    store: StoreConfig = field(default_factory=StoreConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    topics: tuple[TopicConfig, ...] = ()
    subscriptions: tuple[SubscriptionConfig, ...] = ()
    root: Path = field(default=Path("."), metadata={"internal": True})
    file: Path | None = field(default=None, metadata={"internal": True})

    @property
    def store_url(self) -> str:
        """What ``Store.open`` takes: a PostgreSQL URL as written, or the SQLite file's path
        resolved against the config file's folder."""
        if is_url(self.store.url) and not self.store.url.startswith("sqlite:"):
            return self.store.url
        return str(self.store_path)

    @property
    def store_path(self) -> Path:
        """The SQLite file (a ``sqlite:///`` URL's too); meaningless for PostgreSQL."""
        where = self.store.url
        if where.startswith("sqlite:"):
            where = str(target(where).path)
        return self.root / where

    @property
    def store_label(self) -> str:
        """The store for messages: its path, or its URL without the password."""
        return str(target(self.store_url))

    @property
    def digest_dir(self) -> Path:
        return self.root / self.output.digests


def load(path: Path | None = None, env: typing.Mapping[str, str] | None = None) -> Config:
    """Read config from ``path`` (or defaults when None), then apply REGWATCH_* from ``env``.

    Relative paths in the file are relative to the file's folder."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        where = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _store_path_is_url(data, where)  # the file's, then the environment's (which wins)
    _apply_env(data, env)
    _store_path_is_url(data, where)
    config = _build(Config, data, where, "")
    try:
        target(config.store.url)
    except TargetError as exc:
        raise ConfigError(f"{where}: 'store.url': {exc}") from None
    if config.smtp.security not in ("none", "starttls", "ssl"):
        raise ConfigError(
            f"{where}: 'smtp.security' must be none, starttls or ssl, got {config.smtp.security!r}"
        )
    for key in ("max_bytes", "max_compressed_bytes"):
        if getattr(config.http, key) <= 0:
            raise ConfigError(f"{where}: 'http.{key}' must be a positive number of bytes")
    _check_timezone(config.timezone, "REGWATCH_TIMEZONE" if "REGWATCH_TIMEZONE" in env else where)
    for watch in config.sources.ecfr.watches:
        if not _WATCH.match(watch.replace(" ", "")):
            raise ConfigError(
                f"{where}: 'sources.ecfr.watches' entry {watch!r} is not "
                'TITLE:PARTS, e.g. "15:730-774", "22:120-130" or "31:560,561"'
            )
    Hours.parse(config.schedule.inspect_hours, f"{where}: 'schedule.inspect_hours'")
    if config.schedule.inspect < 0:
        raise ConfigError(
            f"{where}: 'schedule.inspect' must be minutes between Public Inspection polls "
            f"(0 turns them off), got {config.schedule.inspect!r}"
        )
    for key in ("max_section_loss", "max_entity_loss"):
        if not 0 <= getattr(config.sources.ecfr, key) <= 1:
            raise ConfigError(
                f"{where}: 'sources.ecfr.{key}' must be a share between 0 and 1 (0.5 = half), "
                f"got {getattr(config.sources.ecfr, key)!r}"
            )
    root = Path(path).resolve().parent if path is not None else Path.cwd()
    return dataclasses.replace(config, root=root, file=Path(path) if path else None)


def _store_path_is_url(data: dict[str, Any], where: str) -> None:
    """``[store] path`` (before PostgreSQL) is read as ``[store] url``; both is an error."""
    store = data.get("store")
    if not isinstance(store, dict) or "path" not in store:
        return
    if "url" in store and not (
        isinstance(store["path"], _EnvValue) and not isinstance(store["url"], _EnvValue)
    ):
        raise ConfigError(
            f"{where}: [store] has both 'url' and 'path'; keep 'url' ('path' is its old name)"
        )
    store["url"] = store.pop("path")


def _check_timezone(name: str, where: str) -> None:
    """An IANA zone name such as America/New_York, or a ConfigError naming the key."""
    try:
        ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        raise ConfigError(
            f"{where}: 'timezone' {name!r} is not a time zone; "
            'use an IANA name such as "America/New_York" or "UTC"'
        ) from None


def _apply_env(data: dict[str, Any], env: typing.Mapping[str, str]) -> None:
    for name, value in sorted(env.items()):
        if not name.startswith("REGWATCH_"):
            continue
        keys = name.removeprefix("REGWATCH_").lower().split("__")
        if len(keys) == 1 and keys[0] not in _ENV_SCALARS:
            continue  # REGWATCH_CONFIG, secrets such as REGWATCH_SMTP_PASSWORD
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: {key!r} is not a table")
        node[keys[-1]] = _EnvValue(value)


_ENV_SCALARS = {"timezone"}
_WATCH = re.compile(r"^\d+:\d+(-\d+)?(,\d+(-\d+)?)*$")


class _EnvValue(str):
    """A string from the environment, to be coerced to the field's type."""


def _build(cls: type, data: Any, where: str, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'top level'} must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        allowed = ", ".join(sorted(fields))
        raise ConfigError(f"{where}: unknown key '{prefix}{unknown[0]}'; allowed here: {allowed}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        values[name] = _coerce(hints[name], value, where, f"{prefix}{name}")
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str, key: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, where, key + ".")
    origin = typing.get_origin(hint)
    if origin is tuple and dataclasses.is_dataclass(typing.get_args(hint)[0]):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: '{key}' must be an array of tables ([[{key}]])")
        item = typing.get_args(hint)[0]
        return tuple(_build(item, v, where, f"{key}[{i}].") for i, v in enumerate(value))
    if origin is tuple:
        if isinstance(value, _EnvValue):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: '{key}' must be a list of strings")
        return tuple(value)
    if origin in (types.UnionType, typing.Union):
        hint = next(h for h in typing.get_args(hint) if h is not type(None))
    try:
        if isinstance(value, _EnvValue):
            return _from_env_string(hint, value)
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise TypeError
        return value
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: '{key}' must be {hint.__name__}, got {value!r}") from None


def _from_env_string(hint: type, value: str) -> Any:
    if hint is bool:
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    return hint(value)


def to_dict(config: Config) -> dict[str, Any]:
    """The config as plain data (what a crawl subprocess is handed)."""

    def plain(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return {
                f.name: plain(getattr(obj, f.name))
                for f in dataclasses.fields(obj)
                if not f.metadata.get("internal")
            }
        return [plain(v) for v in obj] if isinstance(obj, tuple) else obj

    return {"values": plain(config), "root": str(config.root)}


def from_dict(data: dict[str, Any]) -> Config:
    config = _build(Config, data["values"], "crawl handover", "")
    return dataclasses.replace(config, root=Path(data["root"]))
