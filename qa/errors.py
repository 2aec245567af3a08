"""The library's exceptions, re-exported for callers of the public API. They live in `index.errors`, a leaf
module both packages use, so that `index` never imports from `qa`."""
from index.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexError_,
    IndexMismatchError,
    IngestError,
    InputError,
    MissingDependencyError,
    QAError,
)

__all__ = ["QAError", "InputError", "IngestError", "IndexError_", "IndexCorruptError", "IndexMismatchError",
           "IndexBusyError", "MissingDependencyError"]
