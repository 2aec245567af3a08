"""Questions about a period: a date range turned into the documents dated within it.

A range restricts a search to documents, so it travels as a document filter and is applied wherever
that one is: inside FAISS's search (an ID selector), in Qdrant's payload filter, and on the matching
commissioning facts. The documents are kept sorted by day, so finding those in a range is a binary search,
not a scan of the archive.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence

from index.backends import iso_day
from index.records import Document
from qa.errors import InputError


class DocumentDates:
    """The documents of one index by the day they are dated (a document without a date is in no range)."""

    def __init__(self, documents: Mapping[str, Document]):
        self._documents = documents
        self._dated: tuple[list[str], list[str]] | None = None  # (days, ids), sorted: made on the first range

    def _by_day(self) -> tuple[list[str], list[str]]:
        """Read every document's date the first time a range is asked for: a loaded archive's documents are
        decoded when read, so a load or a question without dates reads none. (Two threads may both make it: the
        same lists, so either may be kept.)"""
        if self._dated is None:
            dated = sorted((day, doc_id) for doc_id, document in self._documents.items()
                           if (day := iso_day(document.date)))
            self._dated = [day for day, _ in dated], [doc_id for _, doc_id in dated]
        return self._dated

    def scope(self, doc_ids: Sequence[str] | None, since: str | None, until: str | None) -> Sequence[str] | None:
        """`doc_ids` narrowed to the documents dated from `since` to `until` (ISO days, inclusive; either may
        be None); unchanged when no date is given. Ids the index does not hold are kept, so the search
        still says they are unknown."""
        if since is None and until is None:
            return doc_ids
        low, high = _day("since", since), _day("until", until)
        if low and high and low > high:
            raise InputError(f"since ({low}) is after until ({high}); give a range that runs forwards")
        days, ids = self._by_day()
        first = bisect_left(days, low) if low else 0
        last = bisect_right(days, high) if high else len(days)
        within = ids[first:last]
        if doc_ids is None:
            return within
        if isinstance(doc_ids, str):
            return doc_ids  # the search explains that a list of ids was wanted
        inside = set(within)
        return [d for d in doc_ids if d in inside or d not in self._documents]


def _day(name: str, value: object) -> str | None:
    if value is None:
        return None
    day = iso_day(value) if isinstance(value, str) else None
    if day is None:
        raise InputError(f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    return day
