"""Query: what the CLI asks of the store (citations, versions at a date, diffs of files,
entities, coverage)."""
