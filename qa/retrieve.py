"""Hybrid retrieval: BM25 and dense candidates fused into one ranking, with kind and document filters.

Dense scores are per window; a passage scores its best window (so no text is ever truncated by the
model). Fusion is convex (min-max normalised scores, weighted) or reciprocal-rank, over the union of the
two sides' top candidates. The dense top candidates are found inside FAISS with the kind and document
filters applied there; BM25's candidates get their exact dense scores from their stored window vectors.
"""
from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.build import CorpusIndex
from index.embed import Embedder
from index.lexical import tokenize
from index.options import KIND_FILTERS, MODES
from index.records import ARTICLE, COMMENT, Passage
from qa.errors import InputError
from qa.errors import check_k as check_errors_k
from qa.plain_words import expansion
from qa.threads import WORKERS, worker_pool
from qa.types import Hit

FUSIONS = ("convex", "rrf")
MAX_K = 100


@dataclass(frozen=True)
class RetrievalConfig:
    """How lexical and dense evidence are combined. The defaults are what `python -m eval.fusion_benchmark`
    chose on each half of COVID-QA's articles (the same on both halves), scored on the other half."""

    mode: str = "hybrid"
    fusion: str = "convex"
    dense_weight: float = 0.3  # convex: share of the dense score; rrf: weight of the dense ranking
    rrf_k: int = 60
    candidates: int = 100  # from each side, before fusion
    doc_weight: float = 0.0  # share of the passage's best-in-document score blended in
    expansion_weight: float = 0.3  # BM25 weight of reporting terms for the question's everyday names
    adaptive: bool = True  # lean on meaning when the question's words barely occur in the corpus

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, MODES)
        check_choice("fusion", self.fusion, FUSIONS)
        for name in ("rrf_k", "candidates"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"{name} must be a whole number, got {value!r}")
        if not isinstance(self.adaptive, bool):
            raise InputError(f"adaptive must be True or False, got {self.adaptive!r}")
        for name in ("dense_weight", "doc_weight", "expansion_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{name} must be a number between 0 and 1, got {value!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise InputError(f"dense_weight must be between 0 and 1, got {self.dense_weight}")
        for name in ("doc_weight", "expansion_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.rrf_k < 1:
            raise InputError(f"rrf_k must be at least 1, got {self.rrf_k}")
        if not 1 <= self.candidates <= 10_000:
            raise InputError(f"candidates must be between 1 and 10000, got {self.candidates}")


def check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InputError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def check_k(k: int) -> None:
    """A result count that `Retriever.search` and `Engine.ask` accept: 1 to MAX_K."""
    check_errors_k(k, most=MAX_K)


class Retriever:
    """Ranks the passages of one CorpusIndex for a query."""

    def __init__(self, index: CorpusIndex, embedder: Embedder, config: RetrievalConfig = RetrievalConfig()):
        self.index = index
        self.embedder = embedder
        self.config = config
        self._is_comment = index.passages.is_comment()
        doc_ids = sorted(index.documents)
        self._doc_row = {doc_id: row for row, doc_id in enumerate(doc_ids)}
        self._passage_doc = np.fromiter(map(self._doc_row.__getitem__, index.passages.doc_ids), dtype=np.int64,
                                        count=len(index.passages))
        # Passage row -> its first window row and its number of windows (window_passage is in passage order).
        self._window_start = np.searchsorted(index.window_passage, np.arange(len(index.passages) + 1))
        self._window_count = np.diff(self._window_start)
        is_comment_window = self._is_comment[index.window_passage]
        # Per kind, the windows FAISS may return (None: every window, so no filter to apply).
        self._windows_of_kind = {name: None if mask.all() else mask
                                 for name, mask in ((ARTICLE, ~is_comment_window), (COMMENT, is_comment_window))}
        self._shared = SharedWork()

    def search(self, query: str, k: int = 10, *, kind: str = "both", doc_ids: Sequence[str] | None = None,
               mode: str | None = None, vector: np.ndarray | None = None) -> list[Hit]:
        """The k best passages for `query` among those allowed by `kind` and `doc_ids`, best first.

        `vector` is the query's embedding when the caller already has it (one question, several searches).
        """
        check_k(k)
        check_choice("kind", kind, KIND_FILTERS)
        mode = mode or self.config.mode
        check_choice("mode", mode, MODES)
        allowed = self._allowed(kind, doc_ids)
        if not allowed.any():
            return []
        lexical = self._lexical_scores(query) if mode != "dense" else None
        lexical_top = None if lexical is None else _top(lexical, allowed, self.config.candidates)
        dense = None if mode == "lexical" else self._dense_scores(
            query if vector is None else vector, allowed, max(k, self.config.candidates), lexical_top,
            kind if doc_ids is None else None)
        fused = self._fuse(lexical, dense, allowed, self._dense_weight(query), lexical_top)
        ranked = allowed & np.isfinite(fused)
        if mode == "lexical":
            ranked &= lexical > 0  # BM25 has nothing to say about the rest
        order = best_rows(fused, ranked, k)
        return [_hit(rank, self.index.passages[row], float(fused[row]),
                     None if lexical is None else float(lexical[row]),
                     None if dense is None or not np.isfinite(dense[row]) else float(dense[row]))
                for rank, row in enumerate(order, start=1)]

    def passage_hit(self, passage_id: str) -> Hit:
        """A Hit for a passage found by other means than ranking (rank 0, score 0)."""
        return _hit(0, self.index.passages[self.index.passage_row[passage_id]], 0.0)

    def _allowed(self, kind: str, doc_ids: Sequence[str] | None) -> np.ndarray:
        allowed = np.ones(len(self.index.passages), dtype=bool)
        if kind == "article":
            allowed &= ~self._is_comment
        elif kind == "comment":
            allowed &= self._is_comment
        if doc_ids is not None:
            if isinstance(doc_ids, str):  # iterating it would look up each character as an id
                raise InputError(f"doc_ids must be a list of document ids, got the string {doc_ids!r}; "
                                 f"pass [{doc_ids!r}]")
            unknown = [d for d in doc_ids if d not in self._doc_row]
            if unknown:
                raise InputError(f"unknown document id(s): {', '.join(map(str, unknown[:5]))}; "
                                 f"see Engine.documents() for the ids in this index")
            allowed &= self.index.passages.held(set(doc_ids))
        return allowed

    def _lexical_scores(self, query: str) -> np.ndarray:
        """BM25 for the question's own words, plus (at a lower weight) the reporting terms for the everyday
        names it uses ("town hall" -> local authority) that it does not already contain; read-only, shared by
        the searches of one question."""
        return self._shared.get(("lexical", query), lambda: _read_only(self._score_lexically(query)))

    def _score_lexically(self, query: str) -> np.ndarray:
        scores = self.index.lexical.scores(query)
        extra = expansion(query)
        if extra and self.config.expansion_weight:
            own = set(tokenize(query))
            added = " ".join(t for t in extra.split() if not own.intersection(tokenize(t)))
            scores = scores + np.float32(self.config.expansion_weight) * self.index.lexical.scores(added)
        return scores

    def _dense_weight(self, query: str) -> float:
        """The configured dense weight, raised towards 1 by the share of the question's terms the corpus
        never uses: BM25 cannot match words that are not there, meaning still can."""
        weight = self.config.dense_weight
        if not self.config.adaptive:
            return weight
        return weight + (1.0 - weight) * (1.0 - self.index.lexical.known_share(query))

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, shape (1, dimension)."""
        return self.embedder.encode([query])

    def _dense_scores(self, query: str | np.ndarray, allowed: np.ndarray, n: int,
                      also: np.ndarray | None = None, kind: str | None = None) -> np.ndarray:
        """Best window cosine of the n allowed passages nearest the query (searched with the filter inside
        FAISS) and of the passages `also` marks (BM25's candidates: fusion compares them on both sides);
        -inf for every other passage."""
        vector = self.query_vector(query) if isinstance(query, str) else query
        scores = np.full(len(self.index.passages), -np.inf, dtype=np.float64)
        if len(self.index.window_passage) == 0:
            return scores
        nearest = self._nearest_of_kind(vector, kind, n) if kind else self.index.dense.best_per_group(
            vector, n, self.index.window_passage, allowed[self.index.window_passage])
        for passage, score in nearest:
            scores[passage] = score
        if also is not None:
            missing = np.flatnonzero(also & np.isinf(scores))
            scores[missing] = self._best_windows(vector, missing)
        return scores

    def _nearest_of_kind(self, vector: np.ndarray, kind: str, n: int) -> list[tuple[int, float]]:
        """The n passages of `kind` nearest the query, best first, as (passage row, best window cosine).

        `ask` searches one question three times (the preferred side, the other side, both), and each search
        used to scan every vector of the archive. Each side is now searched once per question, inside FAISS
        with its filter, and kept for the question's other searches; "both" merges the two sides' rankings
        (the n best of all passages are among the n best of each side)."""
        def side(name: str) -> list[tuple[int, float]]:
            return self._shared.get(("dense", name, n, vector.tobytes()), lambda: self.index.dense.best_per_group(
                vector, n, self.index.window_passage, self._windows_of_kind[name]))

        if kind != "both":
            return side(kind)
        # the two sides scan different rows: on two cores at once (a side already kept costs nothing)
        sides = (ARTICLE, COMMENT)
        articles, comments = worker_pool().map(side, sides) if WORKERS > 1 else map(side, sides)
        return list(heapq.merge(articles, comments, key=lambda pair: -pair[1]))[:n]

    def _best_windows(self, vector: np.ndarray, passages: np.ndarray) -> np.ndarray:
        """Each passage's best window cosine, from its stored window vectors; -inf for one with no window."""
        starts, counts = self._window_start[passages], self._window_count[passages]
        firsts = np.cumsum(counts) - counts  # where each passage's windows begin in `windows`
        windows = np.repeat(starts - firsts, counts) + np.arange(counts.sum())
        similarities = self.index.dense.similarities(vector, windows)
        best = np.full(len(passages), -np.inf)
        has = counts > 0
        if has.any():
            best[has] = np.maximum.reduceat(similarities, firsts[has])
        return best

    def _fuse(self, lexical: np.ndarray | None, dense: np.ndarray | None, allowed: np.ndarray,
              weight: float, lexical_top: np.ndarray | None) -> np.ndarray:
        if dense is None:
            return np.where(allowed, lexical, -np.inf)
        if lexical is None:
            return np.where(allowed, dense, -np.inf)
        candidates = lexical_top | _top(dense, allowed, self.config.candidates)
        if self.config.fusion == "rrf":
            # A passage BM25 did not match is not in the lexical ranking: ranking the zeros would reward
            # whichever passages happen to come first in the index.
            matched = np.where(lexical > 0, lexical, -np.inf)
            fused = (1 - weight) * _rrf(matched, candidates, self.config.rrf_k) + \
                weight * _rrf(dense, candidates, self.config.rrf_k)
        else:
            fused = (1 - weight) * _minmax(lexical, candidates) + weight * _minmax(dense, candidates)
        if self.config.doc_weight:
            fused = (1 - self.config.doc_weight) * fused + self.config.doc_weight * self._best_in_document(fused)
        return np.where(candidates, fused, -np.inf)

    def _best_in_document(self, fused: np.ndarray) -> np.ndarray:
        best = np.full(len(self._doc_row), -np.inf)
        np.maximum.at(best, self._passage_doc, np.where(np.isfinite(fused), fused, -np.inf))
        return np.where(np.isfinite(best), best, 0.0)[self._passage_doc]



def _hit(rank: int, passage: Passage, score: float, lexical_score: float | None = None,
         dense_score: float | None = None) -> Hit:
    return Hit(rank=rank, score=score, passage_id=passage.id, doc_id=passage.doc_id, title=passage.title,
               kind=passage.kind, author=passage.author, start=passage.start, end=passage.end, text=passage.text,
               comment=passage.comment, lexical_score=lexical_score, dense_score=dense_score)


class SharedWork:
    """Results of corpus-wide work (BM25 scores, the dense ranking) kept for the last few queries, so the
    searches one question makes reuse them; thread-safe. A Retriever is made anew whenever its index
    changes, so nothing stale is served."""

    def __init__(self, size: int = 8):
        self._size = size
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, compute: Callable[[], object]):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()  # outside the lock: other questions go on meanwhile
        with self._lock:
            self._values[key] = value
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _top(scores: np.ndarray, allowed: np.ndarray, n: int) -> np.ndarray:
    """Mask of the n best allowed rows with a real score."""
    mask = np.zeros(len(scores), dtype=bool)
    mask[best_rows(scores, allowed & np.isfinite(scores), n)] = True
    return mask


def best_rows(scores: np.ndarray, eligible: np.ndarray, n: int) -> np.ndarray:
    """The n eligible rows with the highest scores, best first, ties in row order: what a stable sort of the
    whole array gives, found by partitioning, so a query never sorts every passage of the archive."""
    rows = np.flatnonzero(eligible)
    if len(rows) > n:
        values = scores[rows]
        cut = np.partition(values, len(values) - n)[len(values) - n]  # the n-th best score
        rows = rows[values >= cut]  # every row tied with the n-th best stays, for the row-order tie-break
    order = np.lexsort((rows, -scores[rows]))
    return rows[order][:n]


def _minmax(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Scores scaled to [0, 1] over the candidates; a candidate the side did not score counts as its minimum."""
    values = scores[candidates & np.isfinite(scores)]
    if len(values) == 0:
        return np.zeros(len(scores))
    low, high = float(values.min()), float(values.max())
    filled = np.where(np.isfinite(scores), scores, low)
    return (filled - low) / (high - low) if high > low else np.ones(len(scores))


def _rrf(scores: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    ranks = np.zeros(len(scores))
    rows = np.flatnonzero(candidates & np.isfinite(scores))
    ordered = rows[np.argsort(-scores[rows], kind="stable")]
    ranks[ordered] = 1.0 / (k + np.arange(1, len(ordered) + 1))
    return ranks
