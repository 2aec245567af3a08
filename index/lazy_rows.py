"""A stored table's per-document rows, each decoded the first time its document is read.

Loading a large index would otherwise spend seconds JSON-decoding rows (quotes, analysers' facts) that most
questions never read. Every line of such a table was written by `index.store.encode_jsonl` from a dict whose
first key is the document's id ("doc_id"; "id" in documents.jsonl), so each line starts `{"doc_id": "<id>"`:
the ids are read from those first bytes, and
the rest of a line is decoded when its document is. Merging, dropping and picking documents move references
to lines, decoding nothing; saving copies the lines not yet decoded as they are.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from index.errors import IndexCorruptError
from index.store import encode_jsonl

__all__ = ["LazyRows", "encode_rows", "merged", "subset", "without"]

_KEY = "doc_id"  # the key each row starts with, unless the table says another
_ID_BYTES = 256  # ids longer than this, or holding an escape, are read by decoding their line's start in full


class _Table:
    """One stored file: its bytes (bytes, memoryview or mmap), its name for errors, what a row becomes, and the
    key holding a row's document id."""

    __slots__ = ("data", "key", "name", "newlines", "value_of")

    def __init__(self, data: Any, name: str, value_of: Callable[[dict], Any], key: str = _KEY):
        self.data, self.name, self.value_of, self.key = data, name, value_of, key
        self.newlines = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)  # where each line ends

    def lines_holding(self, needle: bytes) -> set[int]:
        """The start offsets of the lines holding `needle`, found by the bytes' own find (C speed, one hit a
        line at most: the search goes on from the end of each line found)."""
        data = self.data if hasattr(self.data, "find") else bytes(self.data)  # a memoryview has no find
        starts, at = set(), data.find(needle)
        while at != -1:
            line = int(np.searchsorted(self.newlines, at))
            end = int(self.newlines[line]) if line < len(self.newlines) else len(data)
            starts.add(int(self.newlines[line - 1]) + 1 if line else 0)
            at = data.find(needle, end)
        return starts


class _Line:
    """A document's row not decoded yet: where its line lies in its table."""

    __slots__ = ("end", "start", "table")

    def __init__(self, table: _Table, start: int, end: int):
        self.table, self.start, self.end = table, start, end

    def value(self, doc_id: str) -> Any:
        table = self.table
        try:
            row = json.loads(bytes(table.data[self.start:self.end]).decode("utf-8"))
            if row[table.key] != doc_id:
                raise ValueError(f"the line starts with document {doc_id!r} but holds {row[table.key]!r}")
            return table.value_of(row)
        except (KeyError, TypeError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise IndexCorruptError(f"{table.name}: the row of document {doc_id!r} is malformed ({error})") from error


class LazyRows(Mapping):
    """Read-only doc_id -> value, each value decoded from its own line the first time it is read, then kept.

    Iterating, `in`, `len` and `keys()` decode nothing; `values()`, `items()`, `==` and `dict()` decode every
    row they reach."""

    __slots__ = ("_entries",)

    def __init__(self, entries: dict[str, Any]):
        self._entries = entries  # doc_id -> its value, or the _Line it is decoded from on first read

    @classmethod
    def from_jsonl(cls, data: Any, name: str, value_of: Callable[[dict], Any], key: str = _KEY) -> LazyRows:
        """The rows of the JSONL table `data` (file `name`), a document's value being `value_of(its row)`, its id
        the row's `key`. Only the ids are read now; a line not starting with one raises IndexCorruptError."""
        table = _Table(data, name, value_of, key)
        prefix = _prefix(key)
        entries: dict[str, Any] = {}
        ends = table.newlines.tolist()
        start = 0
        for number, end in enumerate([*ends, len(data)], start=1):
            if end > start:
                doc_id = _doc_id(data, start, end, prefix)
                if doc_id is not None:
                    entries[doc_id] = _Line(table, start, end)
                elif bytes(data[start:end]).decode("utf-8", "replace").strip():  # blank lines are skipped
                    raise IndexCorruptError(f'{name} line {number}: a row should start {{"{key}": "<document id>", '
                                            f"found {bytes(data[start:min(end, start + 40)])!r}")
            start = end + 1
        return cls(entries)

    def __getitem__(self, doc_id: str) -> Any:
        entry = self._entries[doc_id]
        if type(entry) is _Line:
            entry = self._entries[doc_id] = entry.value(doc_id)
        return entry

    def get(self, doc_id: str, default: Any = None) -> Any:
        return self[doc_id] if doc_id in self._entries else default

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self):  # the dict's own view: set operations and == at C speed
        return self._entries.keys()

    def holding(self, strings: Iterable[str]) -> set[str]:
        """The documents whose row holds one of `strings` as a JSON string (a value, a list item or a key), or
        may: a row already decoded is counted in. Stored lines are searched as bytes, none decoded; the caller
        tests the rows it gets, so a string found in another field costs a decode, never a wrong answer."""
        needles = [json.dumps(text, ensure_ascii=False).encode("utf-8") for text in strings]
        tables = {id(entry.table): entry.table for entry in self._entries.values() if type(entry) is _Line}
        found = {(number, start) for number, table in tables.items() for needle in needles
                 for start in table.lines_holding(needle)}
        return {doc_id for doc_id, entry in self._entries.items()
                if type(entry) is not _Line or (id(entry.table), entry.start) in found}

    def decoded(self) -> int:
        """How many documents' rows have been decoded so far."""
        return sum(type(entry) is not _Line for entry in self._entries.values())

    def __repr__(self) -> str:
        return f"LazyRows({len(self._entries)} documents, {self.decoded()} decoded)"


def _prefix(key: str) -> bytes:
    """What a row keyed `key` starts with: json.dumps's separators, as encode_jsonl writes them."""
    return b'{' + json.dumps(key).encode("utf-8") + b': "'


def _doc_id(data: Any, start: int, end: int, prefix: bytes) -> str | None:
    """The document id the line data[start:end] starts with, or None if it does not start with one."""
    head = bytes(data[start:min(end, start + len(prefix) + _ID_BYTES)])
    if not head.startswith(prefix):
        return None
    close = head.find(b'"', len(prefix))
    if close != -1 and b"\\" not in head[len(prefix):close]:  # JSON escapes nothing else that ensure_ascii=False keeps
        try:
            return head[len(prefix):close].decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:  # an escape, or a long id: the prefix is ASCII, so its byte length is its length in characters
        return json.decoder.scanstring(bytes(data[start:end]).decode("utf-8"), len(prefix))[0]
    except ValueError:
        return None


def _entries(rows: Mapping) -> Mapping:
    return rows._entries if isinstance(rows, LazyRows) else rows


def _like(rows: Sequence[Mapping], entries: dict) -> Mapping:
    """`entries` as a LazyRows if any of `rows` was one (its undecoded lines are among them), else a dict."""
    return LazyRows(entries) if any(isinstance(r, LazyRows) for r in rows) else entries


def merged(parts: Sequence[Mapping]) -> Mapping:
    """One mapping of all of `parts` (documents that differ), decoding nothing."""
    entries: dict = {}
    for part in parts:
        entries.update(_entries(part))
    return _like(parts, entries)


def without(rows: Mapping, gone: Collection[str]) -> Mapping:
    """`rows` less the documents `gone`, decoding nothing."""
    return _like([rows], {d: entry for d, entry in _entries(rows).items() if d not in gone})


def subset(rows: Mapping, doc_ids: Iterable[str]) -> Mapping:
    """The rows of `doc_ids` alone (each must be there: KeyError if not), decoding nothing."""
    entries = _entries(rows)
    return _like([rows], {d: entries[d] for d in doc_ids})


def encode_rows(rows: Mapping, row_of: Callable[[str, Any], dict]) -> bytes:
    """`rows` as the JSONL table `LazyRows.from_jsonl` reads, each document's line `row_of(doc_id, value)`
    encoded as `encode_jsonl` does; a line not decoded is copied as it is stored (the same bytes)."""
    if not isinstance(rows, LazyRows):
        return encode_jsonl(row_of(doc_id, value) for doc_id, value in rows.items())
    parts = []
    for doc_id, entry in rows._entries.items():
        if type(entry) is _Line:
            parts += (entry.table.data[entry.start:entry.end], b"\n")
        else:
            parts.append(encode_jsonl([row_of(doc_id, entry)]))
    return b"".join(parts)
