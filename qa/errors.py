"""The library's exceptions, re-exported for callers of the public API. They live in `index.errors`, a leaf
module both packages use, so that `index` never imports from `qa`; `check_k` is the one check of a result count."""
from index.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexError_,
    IndexMismatchError,
    IngestError,
    InputError,
    MissingDependencyError,
    QAError,
    check_k,
)

__all__ = ["QAError", "InputError", "IngestError", "IndexError_", "IndexCorruptError", "IndexMismatchError",
           "IndexBusyError", "MissingDependencyError", "check_k"]
