"""The snapshot store: the seam between the collect half and the report half.

``Store.open(path_or_url)`` gives a migrated store: a SQLite file (WAL) or a PostgreSQL
database (``postgresql+psycopg://``). Nothing here imports ``crawler``.
"""

from storage.locks import Held, LockBusy
from storage.outcomes import (
    AlertKind,
    ErrorKind,
    HeldStatus,
    OutboxState,
    Outcome,
    RunStatus,
    SourceState,
)
from storage.reports import AlertRow, InspectionListRow, NewAlert, ReportRow
from storage.rows import (
    ChangeRow,
    DocumentRow,
    ErrorRow,
    HeldFetchRow,
    OutboxRow,
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
    StoreInputError,
    StoreMissing,
    StoreOpenError,
    failure_line,
)

__all__ = [
    "AlertKind",
    "AlertRow",
    "ChangeRow",
    "DocumentRow",
    "ErrorKind",
    "ErrorRow",
    "Held",
    "HeldFetchRow",
    "HeldStatus",
    "InspectionListRow",
    "LockBusy",
    "NewAlert",
    "NewVersion",
    "OutboxRow",
    "OutboxState",
    "Outcome",
    "Rederived",
    "Rejudged",
    "ReportRow",
    "RetryRow",
    "RunRow",
    "RunSourceRow",
    "RunStatus",
    "SnapshotResult",
    "SourceState",
    "Store",
    "StoreInputError",
    "StoreMissing",
    "StoreOpenError",
    "VersionRow",
    "failure_line",
]
