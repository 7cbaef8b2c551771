"""The diff engine: two parsed documents (Node trees) -> one structured, JSON-serialisable
diff. Pure functions; renderers turn the model into text, unified, HTML and JSON views."""

from crawler.diff.apply import apply_diff
from crawler.diff.engine import diff_documents
from crawler.diff.model import DocumentDiff, FieldChange, NodeChange, TextOp

__all__ = ["DocumentDiff", "FieldChange", "NodeChange", "TextOp", "apply_diff", "diff_documents"]
