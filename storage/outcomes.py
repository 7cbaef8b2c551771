"""The closed vocabulary of outcomes, shared by the store, the digest and the config."""

import enum


class Outcome(enum.StrEnum):
    """What happened to a tracked thing in a run."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    ERROR = "error"
