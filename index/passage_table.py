"""The passages of an index as columns of numbers, each `Passage` made when it is read.

An archive of 200,000 passages held them as Python objects: decoding them from JSON was most of a load,
and their text (sliced from the documents, so held twice), window and sentence tuples were most of its
memory. A table holds per passage its document, comment number and span, and the spans of its windows and
sentences in two flat arrays; a passage's text is sliced from its document when it is read, and its id
("doc:a:0-120") is made from those columns as the chunker makes it. Filters and joins work on the columns.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import chain

import numpy as np

from index.records import ARTICLE, COMMENT, Document, Passage
from index.store import decode_npy, encode_npy

# A table's files, by logical name (a segment's prefix goes before each).
FILES = ("passages.npy", "passage_windows.npy", "passage_window_spans.npy", "passage_sentences.npy",
         "passage_sentence_spans.npy")
_COMMENT = 0  # the column of `spans` holding the comment number; then start, end (on disk: the document row first)


def passage_id(doc_id: str, comment: int | None, start: int, end: int) -> str:
    """A passage's id as the chunker gives it: "doc:a:0-120" for an article's, "doc:c3:0-80" for comment 3's."""
    return f"{doc_id}:{'a' if comment is None else f'c{comment}'}:{start}-{end}"


class PassageTable(Sequence[Passage]):
    """Immutable: the methods that change rows return a new table (sharing the documents)."""

    __slots__ = (
        "_doc_range",
        "doc_ids",
        "documents",
        "sentence_spans",
        "sentence_start",
        "spans",
        "window_spans",
        "window_start",
    )

    def __init__(self, documents: Mapping[str, Document], doc_ids: Sequence[str], spans: np.ndarray,
                 window_start: np.ndarray, window_spans: np.ndarray, sentence_start: np.ndarray,
                 sentence_spans: np.ndarray):
        self.documents = documents
        self.doc_ids = list(doc_ids)  # per row; the strings are the documents' own
        self.spans = spans  # int64 (rows, 3): comment number (0: the article), start, end
        self.window_start = window_start  # int64, rows + 1: passage row -> its first window
        self.window_spans = window_spans  # int32 (windows, 2), in passage order: as the dense vectors' rows
        self.sentence_start = sentence_start  # int64, rows + 1
        self.sentence_spans = sentence_spans  # int32 (sentences, 2): as the sentence vectors' rows
        # doc id -> its rows [first, stop): a document's passages are consecutive rows (built in document
        # order; joins append, deletes remove whole documents).
        self._doc_range: dict[str, tuple[int, int]] | None = None

    # -- made from passages, read back as passages ---------------------------------------------------

    @classmethod
    def of(cls, passages: Sequence[Passage], documents: Mapping[str, Document]) -> PassageTable:
        """A table of `passages`, whose documents are in `documents`."""
        if isinstance(passages, PassageTable):
            return passages
        odd = next((p.id for p in passages if p.id != passage_id(p.doc_id, p.comment, p.start, p.end)), None)
        if odd is not None:
            raise ValueError(f"passage id {odd!r} is not the chunker's (doc:a:start-end or doc:cN:start-end)")
        spans = np.array([(p.comment or 0, p.start, p.end) for p in passages], dtype=np.int64).reshape(-1, 3)
        windows = [w for p in passages for w in p.windows]
        sentences = [s for p in passages for s in p.sentences]
        return cls(documents, [p.doc_id for p in passages], spans,
                   _starts(len(p.windows) for p in passages), _span_array(windows),
                   _starts(len(p.sentences) for p in passages), _span_array(sentences))

    def __len__(self) -> int:
        return len(self.doc_ids)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"passage row {row} out of range (the index holds {len(self)})")
        doc_id = self.doc_ids[row]
        document = self.documents[doc_id]
        comment, start, end = self.spans[row].tolist()
        comment = comment or None
        author = document.byline if comment is None else document.comments[comment - 1].author
        return Passage(
            id=passage_id(doc_id, comment, start, end), doc_id=doc_id, kind=ARTICLE if comment is None else COMMENT,
            title=document.title, author=author, start=start, end=end,
            text=document.source_text(comment)[start:end], comment=comment,
            windows=_pairs(self.window_spans[self.window_start[row]:self.window_start[row + 1]]),
            sentences=_pairs(self.sentence_spans[self.sentence_start[row]:self.sentence_start[row + 1]]))

    def __iter__(self) -> Iterator[Passage]:
        return (self[row] for row in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (PassageTable, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # mutable-looking sequence semantics, like list

    def __repr__(self) -> str:
        return f"PassageTable({len(self)} passages of {len(set(self.doc_ids))} documents)"

    # -- columns -------------------------------------------------------------------------------------

    def is_comment(self) -> np.ndarray:
        """bool per row: whether the passage is a comment's."""
        return self.spans[:, _COMMENT] > 0

    def sentence_counts(self) -> np.ndarray:
        return np.diff(self.sentence_start)

    def rows_of(self, doc_id: str) -> range:
        """The rows of a document's passages (a document's passages are consecutive rows)."""
        first, stop = self._ranges().get(doc_id, (0, 0))
        return range(first, stop)

    def _ranges(self) -> dict[str, tuple[int, int]]:
        if self._doc_range is None:
            self._doc_range = _ranges(self.doc_ids)
        return self._doc_range

    def row_of(self, passage: str) -> int | None:
        """The row of the passage with that id, or None (parsed from the id: see `passage_id`)."""
        doc_id, _, rest = passage.rpartition(":")
        doc_id, _, tag = doc_id.rpartition(":")
        start, _, end = rest.partition("-")
        if not (tag and start.isdigit() and end.isdigit()):
            return None
        comment = 0 if tag == "a" else int(tag[1:]) if tag[:1] == "c" and tag[1:].isdigit() else -1
        wanted = (comment, int(start), int(end))
        rows = self.rows_of(doc_id)
        if not rows:
            return None
        found = np.flatnonzero((self.spans[rows.start:rows.stop] == wanted).all(axis=1))
        return rows.start + int(found[0]) if len(found) else None

    def article_rows(self, doc_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A document's article passages in text order: (rows, starts, ends)."""
        rows = self.rows_of(doc_id)
        spans = self.spans[rows.start:rows.stop]
        article = np.flatnonzero(spans[:, _COMMENT] == 0)
        return rows.start + article, spans[article, 1], spans[article, 2]

    def held(self, doc_ids: set[str]) -> np.ndarray:
        """bool per row: whether the passage belongs to one of `doc_ids`."""
        held = np.zeros(len(self), dtype=bool)
        for doc_id in doc_ids:
            rows = self.rows_of(doc_id)
            held[rows.start:rows.stop] = True
        return held

    # -- new tables ----------------------------------------------------------------------------------

    def taken(self, keep: np.ndarray, documents: Mapping[str, Document]) -> PassageTable:
        """The rows `keep` (bool per row) marks, over `documents`."""
        window_keep = np.repeat(keep, np.diff(self.window_start))
        sentence_keep = np.repeat(keep, self.sentence_counts())
        return PassageTable(documents, [self.doc_ids[row] for row in np.flatnonzero(keep).tolist()], self.spans[keep],
                            _starts(np.diff(self.window_start)[keep]), self.window_spans[window_keep],
                            _starts(self.sentence_counts()[keep]), self.sentence_spans[sentence_keep])

    @staticmethod
    def joined(tables: Sequence[PassageTable], documents: Mapping[str, Document]) -> PassageTable:
        """The rows of `tables` one after another, over `documents` (which holds all their documents)."""
        table = PassageTable(documents, list(chain.from_iterable(t.doc_ids for t in tables)),
                             np.concatenate([t.spans for t in tables]),
                             _starts(np.concatenate([np.diff(t.window_start) for t in tables])),
                             np.concatenate([t.window_spans for t in tables]),
                             _starts(np.concatenate([t.sentence_counts() for t in tables])),
                             np.concatenate([t.sentence_spans for t in tables]))
        if tables and tables[0]._doc_range is not None:
            # The documents' rows handed on, not found again row by row: an add would redo it for every passage.
            table._doc_range = dict(tables[0]._doc_range)
            offset = len(tables[0])
            for t in tables[1:]:
                table._doc_range.update({d: (a + offset, b + offset) for d, (a, b) in t._ranges().items()})
                offset += len(t)
        return table

    # -- files ---------------------------------------------------------------------------------------

    def to_files(self, document_order: Sequence[str]) -> dict[str, bytes]:
        """The table as .npy files; a passage's document is stored as its row in `document_order`."""
        row = {doc_id: i for i, doc_id in enumerate(document_order)}
        documents = np.fromiter((row[d] for d in self.doc_ids), dtype=np.int64, count=len(self))
        return {"passages.npy": encode_npy(np.column_stack([documents, self.spans]).astype(np.int64)),
                "passage_windows.npy": encode_npy(np.diff(self.window_start)),
                "passage_window_spans.npy": encode_npy(self.window_spans),
                "passage_sentences.npy": encode_npy(self.sentence_counts()),
                "passage_sentence_spans.npy": encode_npy(self.sentence_spans)}

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], documents: Mapping[str, Document]) -> PassageTable:
        """`to_files` read back; ValueError when the arrays do not fit together or point past `documents`."""
        spans, windows, window_spans, sentences, sentence_spans = (
            decode_npy(files[name]) for name in FILES)
        order = list(documents)
        rows = len(spans)
        if spans.ndim != 2 or spans.shape[1] != 4 or windows.shape != (rows,) or sentences.shape != (rows,) \
                or window_spans.shape != (int(windows.sum()), 2) or sentence_spans.shape != (int(sentences.sum()), 2):
            raise ValueError(f"the passage arrays do not fit together: spans {spans.shape}, window counts "
                             f"{windows.shape} for {window_spans.shape} spans, sentence counts {sentences.shape} "
                             f"for {sentence_spans.shape} spans")
        if rows and not (spans[:, 0].min() >= 0 and spans[:, 0].max() < len(order)):
            raise ValueError(f"passages point to documents past the {len(order)} stored")
        return cls(documents, [order[i] for i in spans[:, 0].tolist()], spans[:, 1:].astype(np.int64),
                   _starts(windows), window_spans.astype(np.int32), _starts(sentences),
                   sentence_spans.astype(np.int32))


def _starts(counts) -> np.ndarray:
    counts = np.fromiter(counts, dtype=np.int64) if not isinstance(counts, np.ndarray) else counts.astype(np.int64)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _span_array(spans: list[tuple[int, int]]) -> np.ndarray:
    return np.array(spans, dtype=np.int32).reshape(-1, 2)


def _pairs(spans: np.ndarray) -> tuple[tuple[int, int], ...]:
    return tuple(map(tuple, spans.tolist()))


def _ranges(doc_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    ranges: dict[str, tuple[int, int]] = {}
    for row, doc_id in enumerate(doc_ids):
        first, _ = ranges.get(doc_id, (row, row))
        ranges[doc_id] = (first, row + 1)
    return ranges


class PassageRows(Mapping[str, int]):
    """Passage id -> row, looked up among the rows of the id's document (no dict of every id is held)."""

    __slots__ = ("table",)

    def __init__(self, table: PassageTable):
        self.table = table

    def __getitem__(self, passage: str) -> int:
        row = self.table.row_of(passage) if isinstance(passage, str) else None
        if row is None:
            raise KeyError(passage)
        return row

    def __iter__(self) -> Iterator[str]:
        table = self.table
        for doc_id, (comment, start, end) in zip(table.doc_ids, table.spans.tolist()):
            yield passage_id(doc_id, comment or None, start, end)

    def __len__(self) -> int:
        return len(self.table)
