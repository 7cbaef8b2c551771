"""Every exception regwatch raises on purpose, in one place.

The CLI turns each into a one-line message (and a traceback only with ``--verbose``).
Errors about one source or one document never escape a run: they are recorded on the
run as data (see ``storage`` ``run_errors``) and shown in the digest.
"""


class RegwatchError(Exception):
    """Base class: a user-facing problem, printed as one line by the CLI."""

    exit_code = 1


class ConfigError(RegwatchError):
    """Raised by ``crawler.config.load`` when config.toml or a REGWATCH_* variable is
    invalid: unknown key, wrong type, unparseable TOML. Stops the run before it starts."""

    exit_code = 2


class StorageError(RegwatchError):
    """Raised by ``storage`` when the store cannot be opened or migrated (wrong path,
    newer schema than this code knows, locked file). Stops the run."""

    exit_code = 2


class ParseError(RegwatchError):
    """Raised by ``crawler.parse`` when a payload is not what it claims to be: HTML where
    JSON was expected, malformed or truncated XML, missing required fields. The pipeline
    records it against the document; nothing from that payload is stored."""


class FetchError(RegwatchError):
    """Raised inside the spiders for a request that failed for good (unreachable host,
    HTTP error after retries, an API cap hit), and by ``crawler.fetch.policy`` (through the
    downloader middlewares and the on-demand eCFR client) for what the fetch policy refuses:
    another host, port or scheme, a redirect there, a body over the size limits, a
    Retry-After too long to wait. Recorded on the run, never stored."""


class CrawlFailed(RegwatchError):
    """Raised by ``crawler.jobs.crawl.run_crawl`` when the crawl subprocess itself died (not
    when a source reported errors, which are data). ``storage``: it stopped because the
    store could not be written (disk full, read-only)."""

    def __init__(self, message: str, storage: bool = False) -> None:
        super().__init__(message)
        self.storage = storage


class Busy(RegwatchError):
    """Raised by ``crawler.jobs.daily`` when another run holds the crawl lock of a source for
    longer than ``[store] lock_wait``: two runs never crawl one source at once."""

    exit_code = 4


class UnknownSource(RegwatchError):
    """Raised by ``crawler.fetch.spiders.get`` for a source name that is not registered."""

    exit_code = 2


class UsageError(RegwatchError):
    """Raised by the functions behind the CLI for arguments that do not fit together (a
    backfill of the eCFR without --title and --part)."""

    exit_code = 2


class NotCovered(RegwatchError):
    """Raised by ``crawler.query.lookup`` and ``crawler.query.entities`` when a question is
    about days the store has not checked (and the eCFR cannot be asked): the answer is "not known",
    never "no change". Its message names what was checked, from when to when."""


class NotStored(NotCovered):
    """Raised by ``crawler.query.lookup`` when it may not fetch (the web app) and the store
    lacks the version asked for: its message says so and names the command that fetches it."""


class DegradedRun(RegwatchError):
    """Raised by the CLI's ``run``/``crawl`` commands after the digest is written when a
    source or document failed; its message summarises the errors. Exit status 3."""

    exit_code = 3


BUG = "a regwatch bug: rerun with --verbose for the traceback"


def bug_line(doing: str, exc: BaseException, more: str = "") -> str:
    """One line for regwatch failing on good input: "regwatch failed <doing>: KeyError: 'x'
    (a regwatch bug: rerun with --verbose for the traceback<more>)"."""
    return f"regwatch failed {doing}: {type(exc).__name__}: {exc} ({BUG}{more})"
