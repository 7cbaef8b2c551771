"""The closed vocabulary of outcomes, shared by the store, the digest and the config."""

import enum


class Outcome(enum.StrEnum):
    """What happened to a tracked thing in a run."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    ERROR = "error"


class RunStatus(enum.StrEnum):
    """How a run ended (``running`` while it lasts). A run that a later run finds still
    ``running`` with nobody holding it was killed: it is closed as ``interrupted``."""

    RUNNING = "running"
    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class SourceState(enum.StrEnum):
    """How a source fared in a run (a ``run_sources`` row): shown in the digest footer and in
    the exit status. ``running`` while it lasts; ``interrupted`` when its run was killed."""

    RUNNING = "running"
    OK = "ok"
    DEGRADED = "degraded"  # the source answered but some documents failed
    FAILED = "failed"  # the source could not be searched at all
    SKIPPED = "skipped"  # disabled in config
    INTERRUPTED = "interrupted"
    NOT_RUN = "not run"  # never stored: the run has no row for the source


class ErrorKind(enum.StrEnum):
    """Who is to blame for an error row: the source sent something other than what was
    expected (``input``), a request failed (``fetch``), regwatch itself failed while reading
    good input (``bug``: a traceback is shown with ``--verbose``), or the store or the disk
    failed (``storage``)."""

    INPUT = "input"
    FETCH = "fetch"
    BUG = "bug"
    STORAGE = "storage"


class OutboxState(enum.StrEnum):
    """Where a queued message stands. ``sending`` is a claim: the sender that set it owns
    the message until it marks it, or until the claim expires (a crashed sender)."""

    PENDING = "pending"
    RETRY = "retry"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # a corrected revision was queued before this one went out


class HeldStatus(enum.StrEnum):
    """Where a held (implausible) eCFR fetch stands: ``held`` until confirmed, then
    ``applied`` as a normal version; ``discarded`` when a good fetch replaced it."""

    HELD = "held"
    APPLIED = "applied"
    DISCARDED = "discarded"


class AlertKind(enum.StrEnum):
    """What an alert (a record outside the daily report) is about."""

    SOURCE_MOVED = "source moved"  # a watched page answered 301/308 with a new address
    SOURCE_MISSING = "source missing"  # a watched page answered 404/410
    FILING = "filing"  # a Public Inspection filing seen during the day
    WITHDRAWN = "withdrawn"  # a filing later complete lists lack, and not published
    RESTORED = "back on public inspection"  # a filing reported withdrawn, listed again
    POLL_FAILED = "poll failed"  # the day's first Public Inspection poll that could not look
