"""The snapshot store: the seam between the collect half and the report half.

``Store.open(path)`` gives a migrated SQLite store (WAL). Nothing here imports ``crawler``.
"""

from storage.locks import Held, LockBusy
from storage.outcomes import (
    ErrorKind,
    HeldStatus,
    OutboxState,
    Outcome,
    RunStatus,
    SourceState,
)
from storage.rows import (
    DocumentRow,
    ErrorRow,
    HeldFetchRow,
    RetryRow,
    RunRow,
    RunSourceRow,
    VersionRow,
)
from storage.store import (
    NewVersion,
    Rederived,
    Rejudged,
    SnapshotResult,
    Store,
    StoreMissing,
    StoreOpenError,
    failure_line,
)

__all__ = [
    "DocumentRow",
    "ErrorKind",
    "ErrorRow",
    "Held",
    "HeldFetchRow",
    "HeldStatus",
    "LockBusy",
    "NewVersion",
    "OutboxState",
    "Outcome",
    "Rederived",
    "Rejudged",
    "RetryRow",
    "RunRow",
    "RunSourceRow",
    "RunStatus",
    "SnapshotResult",
    "SourceState",
    "Store",
    "StoreMissing",
    "StoreOpenError",
    "VersionRow",
    "failure_line",
]
