"""The embedded backend: an index folder's own FAISS vectors and BM25 arrays, searched in this process.

It wraps `index.dense.DenseIndex` and `index.lexical.LexicalIndex` as they are (no second copy of
either when opened over a loaded index) and fuses the way Qdrant does, so the two backends pass the
same contract tests (tests/test_backend_contract.py).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.backends import (
    FUSIONS,
    Filters,
    LexicalQuery,
    PassageRecord,
    Scored,
    check_vector,
    iso_day,
    mapping_of,
)
from index.build import CorpusIndex
from index.dense import DenseIndex
from index.errors import InputError, check_k
from index.lexical import LexicalIndex
from index.records import COMMENT


class FilesBackend:
    """Passages searched with FAISS (best window per passage) and the library's BM25, filters as row masks."""

    name = "files"

    def __init__(self, dimension: int, dense_kind: str = "exact") -> None:
        self.dimension = dimension
        self._dense = DenseIndex(dimension, dense_kind)
        self._lexical = LexicalIndex.build([])
        self._ids: list[str] = []
        self._docs: list[str] = []
        self._comment = np.zeros(0, dtype=bool)
        self._dates: list[str | None] = []
        self._window_passage = np.zeros(0, dtype=np.int64)

    @classmethod
    def from_index(cls, index: CorpusIndex) -> FilesBackend:
        """A backend over a loaded index's own dense and lexical indexes (shared, not copied)."""
        backend = cls(index.dense.dim, index.config.dense_kind)
        backend._dense, backend._lexical = index.dense, index.lexical
        backend._ids = list(index.passage_row)
        backend._docs = list(index.passages.doc_ids)
        backend._comment = index.passages.is_comment()
        day = {doc_id: iso_day(document.date) for doc_id, document in index.documents.items()}
        backend._dates = [day[doc_id] for doc_id in backend._docs]
        backend._window_passage = index.window_passage
        return backend

    # -- writes: each makes new arrays, so a search running meanwhile sees the old ones whole --------

    def upsert(self, records: Sequence[PassageRecord]) -> None:
        records = list(records)
        for record in records:
            if record.windows.ndim != 2 or record.windows.shape[1] != self.dimension:
                raise InputError(f"passage {record.passage.id} has vectors of shape {record.windows.shape}; "
                                 f"this backend holds vectors of dimension {self.dimension}")
        replaced = {r.passage.id for r in records} & set(self._ids)
        if replaced:
            self._remove_rows(np.array([row for row, pid in enumerate(self._ids) if pid in replaced]))
        dense = self._dense.copy()
        if records:
            dense.add(np.concatenate([r.windows for r in records]).astype(np.float32))
        first = len(self._ids)
        windows = np.repeat(np.arange(first, first + len(records)), [len(r.windows) for r in records])
        self._lexical = self._lexical.extended([r.lexical_text for r in records])
        self._dense = dense
        self._window_passage = np.concatenate([self._window_passage, windows.astype(np.int64)])
        self._ids = self._ids + [r.passage.id for r in records]
        self._docs = self._docs + [r.passage.doc_id for r in records]
        self._comment = np.concatenate([self._comment, [r.passage.kind == COMMENT for r in records]]).astype(bool)
        self._dates = self._dates + [r.date for r in records]

    def delete_documents(self, doc_ids: Sequence[str]) -> int:
        gone = set(doc_ids)
        rows = np.array([row for row, doc in enumerate(self._docs) if doc in gone], dtype=np.int64)
        if len(rows):
            self._remove_rows(rows)
        return len(rows)

    def _remove_rows(self, rows: np.ndarray) -> None:
        removed = np.zeros(len(self._ids), dtype=bool)
        removed[rows] = True
        new_row = np.cumsum(~removed) - 1
        window_removed = removed[self._window_passage]
        self._dense = self._dense.without(np.flatnonzero(window_removed))
        self._lexical = self._lexical.without(rows)
        self._window_passage = new_row[self._window_passage[~window_removed]].astype(np.int64)
        keep = np.flatnonzero(~removed)
        self._ids = [self._ids[row] for row in keep]
        self._docs = [self._docs[row] for row in keep]
        self._dates = [self._dates[row] for row in keep]
        self._comment = self._comment[keep]

    # -- reads --------------------------------------------------------------------------------

    def held(self) -> dict[str, str]:
        return dict(zip(self._ids, self._docs))

    def dense(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[Scored]:
        vector = check_vector(vector, self.dimension)
        return self._dense_top(vector, check_k(k), self._allowed(filters))

    def lexical(self, query: LexicalQuery, k: int, filters: Filters = Filters()) -> list[Scored]:
        check_k(k)
        scores = self._lexical_scores(query)
        return self._top(np.where(scores > 0, scores, -np.inf), k, self._allowed(filters))

    def hybrid(self, vector: np.ndarray, query: LexicalQuery, k: int, filters: Filters = Filters(), *,
               fusion: str = "rrf", dense_weight: float = 0.5, candidates: int = 100, rrf_k: int = 60
               ) -> list[Scored]:
        if fusion not in FUSIONS:
            raise InputError(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
        vector, k = check_vector(vector, self.dimension), check_k(k)
        allowed = self._allowed(filters)
        lexical = self._lexical_scores(query)
        lists = [self._top(np.where(lexical > 0, lexical, -np.inf), candidates, allowed),
                 self._dense_top(vector, candidates, allowed)]
        fused = rrf(lists, rrf_k, [1 - dense_weight, dense_weight]) if fusion == "rrf" else dbsf(lists)
        return fused[:k]

    def close(self) -> None:
        pass

    def _dense_top(self, vector: np.ndarray, k: int, allowed: np.ndarray) -> list[Scored]:
        """The k allowed passages whose best window is nearest, the filter applied inside FAISS."""
        if not len(self._dense) or not allowed.any():
            return []
        window_allowed = None if allowed.all() else allowed[self._window_passage]
        found = self._dense.best_per_group(vector[None, :], k, self._window_passage, window_allowed)
        return [(self._ids[passage], score) for passage, score in found]

    def _lexical_scores(self, query: LexicalQuery) -> np.ndarray:
        total = np.zeros(len(self._ids), dtype=np.float32)
        for text, weight in mapping_of(query).items():
            if weight:
                total += np.float32(weight) * self._lexical.scores(text)
        return total

    def _allowed(self, filters: Filters) -> np.ndarray:
        allowed = np.ones(len(self._ids), dtype=bool)
        if filters.kind != "both":
            allowed &= self._comment if filters.kind == COMMENT else ~self._comment
        if filters.doc_ids is not None:
            wanted = set(filters.doc_ids)
            allowed &= np.array([doc in wanted for doc in self._docs], dtype=bool)
        if filters.since or filters.until:
            low, high = iso_day(filters.since) or "", iso_day(filters.until) or "9999-12-31"
            allowed &= np.array([d is not None and low <= d <= high for d in self._dates], dtype=bool)
        return allowed

    def _top(self, scores: np.ndarray, k: int, allowed: np.ndarray) -> list[Scored]:
        masked = np.where(allowed, scores, -np.inf)
        order = np.argsort(-masked, kind="stable")[:k]
        return [(self._ids[row], float(masked[row])) for row in order if np.isfinite(masked[row])]


def rrf(lists: Sequence[list[Scored]], k: int, weights: Sequence[float]) -> list[Scored]:
    """Weighted reciprocal-rank fusion as Qdrant computes it: w / (rank + k - 1 + ...) per list, summed."""
    fused: dict[str, float] = {}
    for ranked, weight in zip(lists, weights):
        for position, (passage, _) in enumerate(ranked):
            gain = 0.0 if weight <= 0 else 1.0 / ((position + 1.0) / weight + k - 1.0)
            fused[passage] = fused.get(passage, 0.0) + gain
    return sorted(fused.items(), key=lambda item: -item[1])


def dbsf(lists: Sequence[list[Scored]]) -> list[Scored]:
    """Distribution-based score fusion as Qdrant computes it: each list scaled by mean +- 3 sd, then summed."""
    fused: dict[str, float] = {}
    for ranked in lists:
        scores = np.array([score for _, score in ranked])
        if len(scores) == 0:
            continue
        spread = scores.std(ddof=1) if len(scores) > 1 else 0.0
        for passage, score in ranked:
            scaled = 0.5 if spread == 0 else (score - scores.mean() + 3 * spread) / (6 * spread)
            fused[passage] = fused.get(passage, 0.0) + float(scaled)
    return sorted(fused.items(), key=lambda item: -item[1])
