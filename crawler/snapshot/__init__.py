"""Snapshot: parsed records -> versions in the store, each with its change; held fetches;
trees made again by the current parser. One module per source (federal_register.py, ecfr.py,
bis.py: what the crawl pipeline does with its items, its run window, how its trees are made
again), each exposing ``SNAPSHOT`` (crawler.snapshot.source.Snapshot)."""
