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


def check_k(k: object, most: int | None = None) -> int:
    """`k` (how many results) if it is a whole number from 1 (to `most`, when given); InputError otherwise."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1 or (most is not None and k > most):
        allowed = "a positive integer" if most is None else f"a whole number between 1 and {most}"
        raise InputError(f"k must be {allowed}, got {k!r}")
    return k
