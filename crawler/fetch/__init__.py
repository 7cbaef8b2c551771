"""Fetch: the Scrapy project (spiders, middlewares, settings, the storing pipeline, the crawl
subprocess), the fetch policy, and on-demand eCFR fetches."""
