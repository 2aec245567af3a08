"""The library's exceptions: one root, so callers can catch everything with `QAError` (re-exported by `qa.errors`)."""
from __future__ import annotations


class QAError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(QAError, ValueError):
    """A question, argument or setting is outside what is allowed; the message says what is."""


class IngestError(QAError, ValueError):
    """A page or JSONL file could not be parsed; the message names the file, the line and why."""


class IndexError_(QAError):
    """An index folder is missing, incomplete or corrupt."""


class IndexMismatchError(IndexError_):
    """An index was built with another model, dimension or format than the one loading it."""


class IndexBusyError(QAError):
    """Another process held the index folder's writer lock for longer than this writer would wait."""


class MissingDependencyError(QAError, ImportError):
    """An optional dependency is not installed; the message gives the command to install it."""


# The public name; the trailing underscore above only avoids shadowing the builtin in this module.
IndexCorruptError = IndexError_
