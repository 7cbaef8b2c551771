"""Scrapy settings for a regwatch crawl, built from the typed Config.

This is also the Scrapy project's settings module (``scrapy.cfg`` at the top of the checkout
names it), so ``scrapy crawl federal_register`` works for people who know Scrapy: its
settings are made when Scrapy first reads them (``project_settings``), from the config
``regwatch`` would read, and the crawl is a run of its own in the configured store.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from crawler.clock import stamp, utcnow
from crawler.config import Config, load
from crawler.fetch.policy import FetchPolicy
from crawler.fetch.spiders import SOURCES, Stage


def build_settings(
    config: Config, *, run_id: int, now: str, verbose: bool = False, progress: bool = False
) -> dict[str, Any]:
    http = config.http
    policy = FetchPolicy.from_config(config)
    polite = http.polite
    rates = _rates(config)

    def slot(rate: float) -> dict[str, Any]:
        if not polite:
            return {"concurrency": 16, "delay": 0}
        return {"concurrency": 1, "delay": 1.0 / rate if rate > 0 else 0}

    return {
        "BOT_NAME": "regwatch",
        "USER_AGENT": http.user_agent,
        "ROBOTSTXT_OBEY": False,  # APIs; the bis spider (a web site) turns it on for itself
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        # Scrapy's own logging (robots.txt tracebacks, dropped requests) only with --verbose:
        # every failure reaches the run as a CrawlError through the errbacks instead.
        "LOG_ENABLED": verbose,
        "LOG_LEVEL": "DEBUG" if verbose else "CRITICAL",
        "LOG_FORMAT": "%(levelname)s %(name)s: %(message)s",
        "STATS_DUMP": verbose,
        "LOGSTATS_INTERVAL": 0,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": policy.timeout,
        "DOWNLOAD_MAXSIZE": policy.max_compressed_bytes,  # the handler stops a longer body
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": 5,
        "METAREFRESH_ENABLED": False,  # a <meta refresh> is content, not a redirect to follow
        "DNS_TIMEOUT": min(http.timeout, 20),
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "CONCURRENT_REQUESTS": 16 if not polite else 4,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16 if not polite else 4,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        # a request outside every spider's slots goes no faster than the fastest of them
        "DOWNLOAD_DELAY": 0 if not polite else 1.0 / max(max(rates.values(), default=1.0), 0.001),
        "DOWNLOAD_SLOTS": {name: slot(rate) for name, rate in rates.items()},
        "AUTOTHROTTLE_ENABLED": False,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": http.retries,
        "RETRY_GIVE_UP_LOG_LEVEL": "DEBUG",  # the errback records it as a one-line error
        "RETRY_HTTP_CODES": [500, 502, 504, 522, 524, 408],  # 429/503: RetryAfterMiddleware
        "HTTPERROR_ALLOW_ALL": False,
        "DOWNLOADER_MIDDLEWARES": {
            # the fetch policy replaces Scrapy's offsite filter (which drops silently) and
            # its decompression (one limit for compressed and decompressed sizes)
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
            "crawler.fetch.middlewares.FetchPolicyMiddleware": 40,
            "crawler.fetch.middlewares.RetryAfterMiddleware": 545,
            "crawler.fetch.middlewares.DecompressMiddleware": 590,
            "crawler.fetch.middlewares.RedirectPolicyMiddleware": 610,
        },
        "ITEM_PIPELINES": {"crawler.fetch.pipelines.StorePipeline": 300},
        "SPIDER_MIDDLEWARES": {"crawler.fetch.pipelines.CallbackErrors": 10},
        "EXTENSIONS": {"crawler.fetch.pipelines.ProgressBar": 500} if progress else {},
        "REGWATCH_CONFIG": config,
        "REGWATCH_RUN": run_id,
        "REGWATCH_NOW": now,
        "REGWATCH_FETCH_POLICY": policy,
    }


def _rates(config: Config) -> dict[str, float]:
    """Every registered spider's download slots (name -> requests per second), each from its
    config table (``RegwatchSpider.slots``)."""
    rates: dict[str, float] = {}
    for source in SOURCES.values():
        rates |= source.stage(Stage.FETCH).slots(source.settings(config))
    return rates


@functools.cache
def project_settings() -> dict[str, Any]:
    """The settings of ``scrapy crawl <source>`` in the checkout: the config ``regwatch``
    reads (REGWATCH_CONFIG, else ./config.toml when present, else the defaults), Scrapy's
    log on, the spiders found in the source registry, and run 0: the spider opens a run of
    its own (``RegwatchSpider.from_crawler``)."""
    path = os.environ.get("REGWATCH_CONFIG") or (
        "config.toml" if Path("config.toml").exists() else ""
    )
    settings = build_settings(load(Path(path) if path else None), run_id=0, now=stamp(utcnow()))
    settings |= {
        "LOG_ENABLED": True,
        "LOG_LEVEL": "INFO",
        "STATS_DUMP": True,
        "SPIDER_LOADER_CLASS": "crawler.fetch.spiders.base.RegistryLoader",
    }
    return settings


def __getattr__(name: str) -> Any:
    """Scrapy reads a settings module's upper-case names: made on first use only, so that
    importing ``build_settings`` reads no config."""
    if name.isupper() and name in project_settings():
        return project_settings()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(project_settings()))
