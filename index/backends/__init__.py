"""Search backends: where passages' vectors and terms are kept and searched, behind one interface.

Two engines: `FilesBackend` (index/backends/files.py: the FAISS + BM25 arrays of an index folder, in
memory; the embedded default) and `QdrantBackend` (index/backends/qdrant.py: qdrant-client, in local
mode on a folder or on a Qdrant server or cluster by URL). Both take the same `PassageRecord`s, so an
index already built is copied into Qdrant without embedding anything again (`records_of`, `sync`).

A backend answers with passage ids and scores; the passages themselves (and everything else an answer
needs) stay with the `CorpusIndex`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import numpy as np

import index.dense  # noqa: F401  (torch before faiss: both link OpenMP, see CONTRIBUTING.md)
from index.build import CorpusIndex, lexical_texts
from index.errors import IndexCorruptError, InputError
from index.options import KIND_FILTERS
from index.records import Passage

FUSIONS = ("rrf", "dbsf")  # Qdrant's two fusions: reciprocal rank, and distribution-based score fusion
BACKENDS = ("files", "qdrant")

Scored = tuple[str, float]  # (passage id, score), best first
LexicalQuery = Sequence[tuple[str, float]]  # texts with weights: the question's words 1.0, added terms less


class BackendUnavailableError(IndexCorruptError):
    """The store holding the index cannot be reached (a Qdrant URL that does not answer, a locked folder)."""


@dataclass(frozen=True)
class Filters:
    """Which passages a search may return; each is applied inside the backend's search, not after it."""

    kind: str = "both"  # "both", "article" or "comment"
    doc_ids: tuple[str, ...] | None = None  # None: every document; (): none
    since: str | None = None  # ISO dates, inclusive; a passage whose document has no date then never matches
    until: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KIND_FILTERS:
            raise InputError(f"kind must be one of {', '.join(KIND_FILTERS)}, got {self.kind!r}")
        if isinstance(self.doc_ids, str):
            raise InputError(f"doc_ids must be a list of document ids, got the string {self.doc_ids!r}")
        if self.doc_ids is not None:
            object.__setattr__(self, "doc_ids", tuple(self.doc_ids))
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and iso_day(value) is None:
                raise InputError(f"{name} must be a date as YYYY-MM-DD, got {value!r}")

    def excludes_everything(self) -> bool:
        return self.doc_ids is not None and not self.doc_ids


@dataclass(frozen=True)
class PassageRecord:
    """What a backend stores of one passage: the passage, its document's date, its window vectors (each a
    unit-length row; the passage's dense score is its best window's) and the text BM25 reads."""

    passage: Passage
    date: str | None  # ISO day of its document, "2015-03-01"; None when the page gave none
    windows: np.ndarray  # float32 (windows, dimension)
    lexical_text: str  # title, quoted speakers and text (index.build.lexical_texts)


class SearchBackend(Protocol):
    """Passages with vectors and terms, searched top-k with filters pushed into the search."""

    name: str
    dimension: int

    def upsert(self, records: Sequence[PassageRecord]) -> None:
        """Add passages, replacing any already held under the same ids."""

    def delete_documents(self, doc_ids: Sequence[str]) -> int:
        """Remove every passage of these documents; returns how many were removed (unknown ids remove none)."""

    def held(self) -> dict[str, str]:
        """Every passage held: passage id -> document id."""

    def dense(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[Scored]:
        """The k passages whose best window is nearest (cosine) to `vector`, best first."""

    def lexical(self, query: LexicalQuery, k: int, filters: Filters = Filters()) -> list[Scored]:
        """The k passages with the highest BM25 for the weighted texts (no passage that matches no term)."""

    def hybrid(self, vector: np.ndarray, query: LexicalQuery, k: int, filters: Filters = Filters(), *,
               fusion: str = "rrf", dense_weight: float = 0.5, candidates: int = 100, rrf_k: int = 60
               ) -> list[Scored]:
        """Both candidate lists (`candidates` each) fused by `fusion`, best first."""

    def close(self) -> None:
        """Release files and connections."""


def iso_day(value: str | None) -> str | None:
    """The ISO day ("2015-03-01") of a page's date ("2015-03-01", "2015-03-01T09:00", "1 March 2015"), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    for pattern in ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def check_vector(vector: np.ndarray, dimension: int) -> np.ndarray:
    """The query vector as a (dimension,) float32 array (a (1, dimension) row is accepted); InputError otherwise."""
    array = np.asarray(vector, dtype=np.float32).reshape(-1) if isinstance(vector, np.ndarray) else None
    if array is None or array.shape != (dimension,) or not np.isfinite(array).all():
        shape = getattr(vector, "shape", type(vector).__name__)
        raise InputError(f"the query vector must hold {dimension} finite numbers (the index's dimension), got {shape}")
    return array


def records_of(index: CorpusIndex, passage_ids: set[str] | None = None) -> Iterator[PassageRecord]:
    """The records of an index's passages (all, or those in `passage_ids`), from its stored vectors and
    texts: nothing is embedded again."""
    vectors = window_vectors(index)
    starts = np.searchsorted(index.window_passage, np.arange(len(index.passages) + 1))
    wanted = list(range(len(index.passages))) if passage_ids is None else \
        sorted(row for passage in passage_ids if (row := index.passage_row.get(passage)) is not None)
    texts = lexical_texts([index.passages[row] for row in wanted], index.analysis.quotes)
    for row, text in zip(wanted, texts):
        passage = index.passages[row]
        yield PassageRecord(passage, iso_day(index.documents[passage.doc_id].date),
                            vectors[starts[row]:starts[row + 1]], text)


def window_vectors(index: CorpusIndex) -> np.ndarray:
    """Every window vector of the index as stored (unit length), shape (windows, dimension)."""
    return index.dense.vectors()


def sync(backend: SearchBackend, index: CorpusIndex, batch: int = 512) -> tuple[int, int]:
    """Make `backend` hold exactly the index's passages: remove the documents of passages the index lacks,
    add the passages it lacks (vectors copied, not embedded); returns (passages added, passages removed)."""
    held = backend.held()
    wanted = index.passage_row
    stale = sorted({doc for passage, doc in held.items() if passage not in wanted})
    removed = backend.delete_documents(stale) if stale else 0
    gone = set(stale)
    missing = {p for p in wanted if p not in held or held[p] in gone}
    added = 0
    pending: list[PassageRecord] = []
    for record in records_of(index, missing) if missing else ():
        pending.append(record)
        if len(pending) >= batch:
            backend.upsert(pending)
            added, pending = added + len(pending), []
    if pending:
        backend.upsert(pending)
        added += len(pending)
    return added, removed


def open_backend(name: str, *, index: CorpusIndex | None = None, url: str | None = None,
                 path: str | None = None, collection: str | None = None, **options) -> SearchBackend:
    """A backend by name: "files" (over `index`'s own FAISS and BM25) or "qdrant" (by `url` or local `path`)."""
    if name == "files":
        from index.backends.files import FilesBackend

        if index is None:
            raise InputError("the files backend searches an index: pass index=")
        return FilesBackend.from_index(index)
    if name == "qdrant":
        from index.backends.qdrant import DEFAULT_COLLECTION, QdrantBackend

        if index is None:
            raise InputError("a Qdrant backend is opened for an index (its model and dimension): pass index=")
        return QdrantBackend(url=url, path=path, collection=collection or DEFAULT_COLLECTION,
                             dimension=index.dense.dim, model=index.model, avgdl=average_length(index), **options)
    raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")


def average_length(index: CorpusIndex) -> float | None:
    """The mean number of terms BM25 counted per passage (None for an empty index)."""
    return index.lexical.average_length()


def mapping_of(query: LexicalQuery) -> Mapping[str, float]:
    """A lexical query as {text: weight}, checked."""
    if isinstance(query, str):
        return {query: 1.0}
    result: dict[str, float] = {}
    for item in query:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], (int, float)) and not isinstance(item[1], bool)):
            raise InputError(f"a lexical query is a list of (text, weight) pairs, got {item!r}")
        result[item[0]] = result.get(item[0], 0.0) + float(item[1])
    return result
