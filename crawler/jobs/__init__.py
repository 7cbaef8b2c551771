"""Jobs: the daily job, backfills, rebuilds and the scheduler."""
