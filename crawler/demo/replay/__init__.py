"""The replay server: recorded-format Federal Register responses on 127.0.0.1, with faults.

Used by ``regwatch demo``, the tests and the benchmarks; never by a real crawl.
"""

from crawler.demo.replay.corpus import Corpus
from crawler.demo.replay.server import Fault, ReplayServer

__all__ = ["Corpus", "Fault", "ReplayServer"]
