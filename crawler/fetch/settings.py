"""Scrapy settings for a regwatch crawl, built from the typed Config."""

from __future__ import annotations

from typing import Any

from crawler.config import Config
from crawler.fetch.policy import FetchPolicy

API_SLOT = "fr-api"
XML_SLOT = "fr-xml"
ECFR_SLOT = "ecfr"
BIS_SLOT = "bis"


def build_settings(
    config: Config, *, run_id: int, now: str, verbose: bool = False, progress: bool = False
) -> dict[str, Any]:
    http = config.http
    policy = FetchPolicy.from_config(config)
    fr = config.sources.federal_register
    polite = http.polite

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
        "DOWNLOAD_DELAY": 0 if not polite else 1.0 / max(fr.api_rate, 0.001),
        "DOWNLOAD_SLOTS": {
            API_SLOT: slot(fr.api_rate),
            XML_SLOT: slot(fr.xml_rate),
            ECFR_SLOT: slot(config.sources.ecfr.rate),
            BIS_SLOT: slot(config.sources.bis.rate),
        },
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
