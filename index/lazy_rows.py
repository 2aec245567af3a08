"""A stored table's per-document rows, each decoded the first time its document is read.

Loading a large index would otherwise spend seconds JSON-decoding rows (quotes, analysers' facts) that most
questions never read. Every line of such a table was written by `index.store.encode_jsonl` from a dict whose
first key is the document's id ("doc_id"; "id" in documents.jsonl), so each line starts `{"doc_id": "<id>"`:
the ids are read from those first bytes, and
the rest of a line is decoded when its document is. Merging, dropping and picking documents move references
to lines, decoding nothing; saving copies the lines as they are stored.

A table may come with a keys file (`string_keys`): each short string its rows hold, with the lines holding
it, so that rows naming something are found by key (`LazyRows.holding`), not by reading every row; and with
a line index (`line_index`): each line's document id and where it ends, so that loading reads neither the
table's bytes nor its ids (an archive's tables are gigabytes: finding their lines was most of a load).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from index.errors import IndexCorruptError
from index.store import encode_jsonl

__all__ = ["LazyRows", "encode_rows", "line_index", "lines_file_name", "merged", "string_keys", "subset", "without"]

_KEY = "doc_id"  # the key each row starts with, unless the table says another
_ID_BYTES = 256  # ids longer than this, or holding an escape, are read by decoding their line's start in full
# A JSON string, matched left to right over a whole line, so that every match starts at an opening quote (an
# object's key is one too: encode_jsonl writes its colon right after its closing quote).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
KEY_BYTES = 120  # strings longer than this (sentences, not names) are left out of a keys file
_UNDECODED = object()  # a line's value before it is decoded


class _Table:
    """One stored file: its bytes (bytes, memoryview or mmap), its name for errors, what a row becomes, and the
    key holding a row's document id."""

    __slots__ = ("_lines_of", "data", "key", "keys", "name", "newlines", "value_of")

    def __init__(self, data: Any, name: str, value_of: Callable[[dict], Any], key: str = _KEY, keys: Any = None,
                 newlines: np.ndarray | None = None):
        self.data, self.name, self.value_of, self.key = data, name, value_of, key
        self.keys = keys  # its keys file's bytes (string_keys), decoded on first use; None: the table has none
        self._lines_of: dict[str, list[int]] | None = None
        # where each line ends: from its line index, or found in its bytes
        self.newlines = np.flatnonzero(np.frombuffer(data, np.uint8) == 10) if newlines is None else newlines

    def span(self, line: int) -> tuple[int, int]:
        """Where line number `line` starts and ends in the data."""
        start = int(self.newlines[line - 1]) + 1 if line else 0
        return start, int(self.newlines[line]) if line < len(self.newlines) else len(self.data)

    def lines_with(self, strings: Collection[str]) -> np.ndarray:
        """The numbers of the lines holding one of `strings` as a JSON string, ascending: from the keys file when
        the table has one, else by searching its bytes."""
        if self.keys is None:
            starts = {start for text in strings for start in self.lines_holding(_json_string(text))}
            return np.searchsorted(self.newlines, np.array(sorted(starts), dtype=np.int64))
        if self._lines_of is None:
            try:
                self._lines_of = json.loads(bytes(self.keys).decode("utf-8"))
            except ValueError as error:
                raise IndexCorruptError(f"the keys file of {self.name} is malformed ({error})") from error
        found = [self._lines_of.get(text, ()) for text in strings]
        return np.unique(np.concatenate([np.asarray(lines, dtype=np.int64) for lines in found])) if found \
            else np.zeros(0, dtype=np.int64)

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
    """A document's stored row: where its line lies in its table, and its value once decoded (kept, so the
    row is still known to be that line: its table's keys hold for it)."""

    __slots__ = ("decoded", "end", "start", "table")

    def __init__(self, table: _Table, start: int, end: int):
        self.table, self.start, self.end = table, start, end
        self.decoded = _UNDECODED

    def value(self, doc_id: str) -> Any:
        if self.decoded is _UNDECODED:
            self.decoded = self._decode(doc_id)
        return self.decoded

    def _decode(self, doc_id: str) -> Any:
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

    __slots__ = ("_entries", "_layout")

    def __init__(self, entries: dict[str, Any]):
        self._entries = entries  # doc_id -> the _Line of its stored row, or its value when held in memory only
        self._layout: tuple[tuple[_Table, ...], tuple[str, ...]] | None = None  # see _tables_and_loose

    @classmethod
    def from_jsonl(cls, data: Any, name: str, value_of: Callable[[dict], Any], key: str = _KEY,
                   keys: Any = None, lines: Any = None) -> LazyRows:
        """The rows of the JSONL table `data` (file `name`), a document's value being `value_of(its row)`, its id
        the row's `key`; `keys` is its keys file (string_keys), `lines` its line index (line_index), if it has
        them. Only the ids are read now (from the line index, else from each line's start); a line not starting
        with one raises IndexCorruptError."""
        if lines is not None:
            ids, ends = _read_line_index(lines, data, name)
            table = _Table(data, name, value_of, key, keys, newlines=ends)
            starts = np.concatenate([[0], ends[:-1] + 1]).tolist()
            return cls({doc_id: _Line(table, start, end) for doc_id, start, end in zip(ids, starts, ends.tolist())})
        table = _Table(data, name, value_of, key, keys)
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
        return entry.value(doc_id) if type(entry) is _Line else entry

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

    def holding(self, groups: Sequence[Collection[str]]) -> Iterator[str]:
        """The documents whose row holds, for each of `groups`, one of its strings as a JSON string (a value or a
        list item), or may; stored rows first, in their tables' order, then the rows held only in memory, all
        of which may. Stored rows are found by their tables' keys (or, a table without, by searching its
        bytes), none decoded; the caller tests the rows it gets, so a string found in another field costs a
        decode, never a wrong answer. Lazy: a caller that stops early reads no more."""
        groups = [group for group in groups if group]
        tables, loose = self._tables_and_loose()
        for table in tables:
            prefix, lines = _prefix(table.key), None
            for group in groups:
                found = table.lines_with(group)
                lines = found if lines is None else np.intersect1d(lines, found, assume_unique=True)
            for line in range(len(table.newlines) + 1) if lines is None else lines.tolist():
                start, end = table.span(line)
                doc_id = _doc_id(table.data, start, end, prefix)
                entry = self._entries.get(doc_id) if doc_id is not None else None
                if type(entry) is _Line and entry.table is table and entry.start == start:  # not deleted since
                    yield doc_id
        yield from loose

    def _tables_and_loose(self) -> tuple[tuple[_Table, ...], tuple[str, ...]]:
        """The tables of the stored rows, in the order they first appear, and the ids of the rows held in memory
        only: found in one pass over the documents, once."""
        if self._layout is None:
            tables: dict[int, _Table] = {}
            loose = []
            for doc_id, entry in self._entries.items():
                if type(entry) is _Line:
                    tables.setdefault(id(entry.table), entry.table)
                else:
                    loose.append(doc_id)
            self._layout = tuple(tables.values()), tuple(loose)
        return self._layout

    def decoded(self) -> int:
        """How many documents' rows have been decoded so far."""
        return sum(type(entry) is not _Line or entry.decoded is not _UNDECODED for entry in self._entries.values())

    def __repr__(self) -> str:
        return f"LazyRows({len(self._entries)} documents, {self.decoded()} decoded)"


def _json_string(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=False).encode("utf-8")


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
        if type(entry) is _Line:  # decoded or not, the same bytes
            parts += (entry.table.data[entry.start:entry.end], b"\n")
        else:
            parts.append(encode_jsonl([row_of(doc_id, entry)]))
    return b"".join(parts)


def lines_file_name(table: str) -> str:
    """The name of a table's line index: "seg2.documents.jsonl" -> "seg2.documents.lines.json"."""
    return table.removesuffix(".jsonl") + ".lines.json"


def line_index(data: bytes, key: str = _KEY) -> bytes:
    """The line index of the JSONL table `data` (as `encode_rows` writes it: a row a line, each ending in a
    newline): each line's document id and the offset of its newline, as JSON."""
    rows = LazyRows.from_jsonl(data, "", _no_value, key)
    ids = list(rows)
    ends = [rows._entries[doc_id].end for doc_id in ids]
    return json.dumps({"ids": ids, "ends": ends}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _no_value(row: dict) -> None:
    return None


def _read_line_index(lines: Any, data: Any, name: str) -> tuple[list[str], np.ndarray]:
    """A line index's ids and newline offsets, checked against its table: as many of each, the offsets
    ascending, each a newline of `data`, the last its last byte."""
    try:
        index = json.loads(bytes(lines).decode("utf-8"))
        ids, ends = index["ids"], np.asarray(index["ends"], dtype=np.int64)
        fits = (isinstance(ids, list) and all(isinstance(i, str) for i in ids) and ends.ndim == 1
                and len(ends) == len(ids) == len(set(ids)))
    except (ValueError, KeyError, TypeError) as error:
        raise IndexCorruptError(f"the line index of {name} is malformed ({error})") from error
    table = np.frombuffer(data, np.uint8)
    if not fits or (len(ends) and (ends[-1] != len(table) - 1 or np.any(np.diff(ends) <= 0) or ends[0] < 0
                                   or np.any(table[ends] != 10))) or (not len(ends) and len(table)):
        raise IndexCorruptError(f"the line index of {name} does not match its lines: rebuild the index "
                                "(`qa index PATH --out DIR --replace`)")
    return ids, ends


def string_keys(data: bytes) -> bytes:
    """The keys file of the JSONL table `data`: each string of at most KEY_BYTES bytes that a line holds as a
    value or list item (not as an object's key), with the numbers of the lines holding it (counted from 0,
    ascending), as JSON. Made from the bytes written, so it is what the stored rows hold, decoded or not."""
    lines_of: dict[str, list[int]] = {}
    for number, line in enumerate(bytes(data).split(b"\n")):
        tokens = {m[0] for m in _JSON_STRING.finditer(line)
                  if m.end() - m.start() <= KEY_BYTES + 2 and line[m.end():m.end() + 1] != b":"}
        for token in tokens:
            text = token[1:-1].decode("utf-8") if b"\\" not in token else json.loads(token)
            lines_of.setdefault(text, []).append(number)
    return json.dumps(lines_of, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
