"""The snapshot store: the seam between the collect half and the report half.

``Store.open(path)`` gives a migrated SQLite store (WAL). Nothing here imports ``crawler``.
"""

from storage.outcomes import Outcome
from storage.rows import DocumentRow, ErrorRow, RunRow, RunSourceRow, VersionRow
from storage.store import NewVersion, SnapshotResult, Store, StoreOpenError

__all__ = [
    "DocumentRow",
    "ErrorRow",
    "NewVersion",
    "Outcome",
    "RunRow",
    "RunSourceRow",
    "SnapshotResult",
    "Store",
    "StoreOpenError",
    "VersionRow",
]
