"""Snapshot: parsed records -> versions in the store, each with its change; held fetches;
trees made again by the current parser."""
