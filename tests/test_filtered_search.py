"""Dense search with the kind and document filters inside FAISS (qa/retrieve.py, index/backends/files.py).

The retriever asks FAISS for the top candidates among the allowed windows only, and scores BM25's
candidates from their stored vectors; its rankings must equal those of scoring every passage (as it did
before), while FAISS is asked for about as many rows as a page of candidates, whatever the filter.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

from index.backends import Filters, open_backend
from index.build import IndexConfig, build_index
from index.records import Comment, Document
from qa.retrieve import RetrievalConfig, Retriever
from tests.fakes import KeywordEmbedder

VOCABULARY = [f"w{i}" for i in range(40)]
QUERIES = ["w1 w2 w3 w4", "w7 w7 w30", "w12 w5 w39 w22 w22", "w0"]


class ProjectedEmbedder:
    """Word counts through a fixed random projection: distinct texts get distinct cosines, so rankings have no
    ties (which FAISS and a stable sort may break differently)."""

    name, dimension = "projected-keywords", 48

    def __init__(self):
        self._words = KeywordEmbedder(VOCABULARY)
        self.max_tokens, self.count_tokens = self._words.max_tokens, self._words.count_tokens
        self._projection = np.random.default_rng(11).standard_normal((self._words.dimension, self.dimension))

    def encode(self, texts, progress=False):
        vectors = (self._words.encode(texts) @ self._projection).reshape(-1, self.dimension).astype(np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def encode_with_spans(self, texts, spans, progress=False):
        return self.encode(texts), [self.encode([text[s:e] for s, e in row]) for text, row in zip(texts, spans)]


def _documents(count: int = 120) -> list[Document]:
    rng = random.Random(3)

    def text() -> str:
        return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(4, 12))) + "."

    return [Document(id=f"d{n:03d}", title=f"T{n}", text=" ".join(text() for _ in range(2)),
                     comments=tuple(Comment(c, text()) for c in range(1, 4 if n % 10 == 0 else 1)))
            for n in range(count)]


@pytest.fixture(scope="module")
def index():
    return build_index(_documents(), ProjectedEmbedder(), IndexConfig(), progress=False)


class ExhaustiveRetriever(Retriever):
    """Every passage's dense score, from every window: what the retriever computed before filters were pushed
    into FAISS (the reference its rankings must equal)."""

    def _dense_scores(self, query, allowed, n, also=None, kind=None):
        vector = self.query_vector(query) if isinstance(query, str) else query
        cosines = self.index.dense.similarities(vector, np.arange(len(self.index.window_passage)))
        scores = np.full(len(self.index.passages), -np.inf)
        np.maximum.at(scores, self.index.window_passage, cosines)
        return scores


def _filters(index) -> list[dict]:
    few = [d for d in sorted(index.documents)][::25]  # five documents: a filter that allows about 2% of passages
    return [{}, {"kind": "article"}, {"kind": "comment"}, {"doc_ids": few}, {"kind": "comment", "doc_ids": few}]


def _ranking(hits) -> list[tuple[str, object, object]]:
    """Ids in order with their scores, equal when the scores agree to 1e-6 (FAISS and NumPy add a dot product's
    terms in different orders)."""
    return [(h.passage_id, pytest.approx(h.score, abs=1e-6),
             None if h.dense_score is None else pytest.approx(h.dense_score, abs=1e-6)) for h in hits]


@pytest.mark.parametrize("config", [RetrievalConfig(), RetrievalConfig(fusion="rrf"),
                                    RetrievalConfig(candidates=10)], ids=["convex", "rrf", "few-candidates"])
def test_rankings_equal_scoring_every_passage(index, config):
    embedder = ProjectedEmbedder()
    pushed, exhaustive = Retriever(index, embedder, config), ExhaustiveRetriever(index, embedder, config)
    for query in QUERIES:
        for options in _filters(index):
            for mode in ("hybrid", "dense"):
                assert _ranking(pushed.search(query, 20, mode=mode, **options)) == \
                    _ranking(exhaustive.search(query, 20, mode=mode, **options)), (query, options, mode)


def _record_searches(dense, monkeypatch) -> list[tuple[int, np.ndarray | None]]:
    """The (k, allowed mask) of every FAISS search `dense` runs from now on."""
    calls, search = [], dense.search

    def recording(queries, k, *, allowed=None):
        calls.append((k, allowed))
        return search(queries, k, allowed=allowed)

    monkeypatch.setattr(dense, "search", recording)
    return calls


@pytest.mark.parametrize("dense_kind", ["exact", "hnsw"])
def test_a_filtered_search_asks_faiss_for_a_few_allowed_rows_and_gets_k_hits(dense_kind, monkeypatch):
    embedder = ProjectedEmbedder()
    index = build_index(_documents(), embedder, IndexConfig(dense_kind=dense_kind), progress=False)
    windows = len(index.window_passage)
    calls = _record_searches(index.dense, monkeypatch)
    retriever = Retriever(index, embedder, RetrievalConfig(candidates=10))
    comments = sum(p.kind == "comment" for p in index.passages)
    assert comments < windows / 4  # a rare kind: an unfiltered top 20 would hold few of them
    for query in QUERIES:
        calls.clear()
        hits = retriever.search(query, 10, kind="comment", mode="dense")
        assert len(hits) == 10 and all(h.kind == "comment" for h in hits)
        (k, allowed), = calls
        assert k <= 4 * 10 < windows
        assert allowed is not None and allowed.sum() == comments  # one window a comment
    calls.clear()
    Retriever(index, embedder, RetrievalConfig(candidates=10)).search(QUERIES[0], 10, mode="dense")
    # both kinds: each side searched with its filter (at once, on two threads), and their top 10s merged
    assert sorted((allowed.sum(), k) for k, allowed in calls) == [(comments, min(40, comments)),
                                                                  (windows - comments, 40)]


def test_the_searches_of_one_question_scan_each_side_once(index, monkeypatch):
    """`ask` searches the preferred side, the other side and both kinds for one question (with its vector):
    two FAISS searches in all, where each search used to scan the archive again."""
    embedder = ProjectedEmbedder()
    retriever = Retriever(index, embedder, RetrievalConfig(candidates=10))
    calls = _record_searches(index.dense, monkeypatch)
    vector = retriever.query_vector(QUERIES[1])
    rankings = [_ranking(retriever.search(QUERIES[1], k, kind=kind, vector=vector))
                for k, kind in ((5, "article"), (2, "comment"), (5, "both"))]
    assert len(calls) == 2
    fresh = Retriever(index, embedder, RetrievalConfig(candidates=10))  # nothing shared yet
    assert rankings[2] == _ranking(fresh.search(QUERIES[1], 5, kind="both", vector=vector))


def test_the_files_backend_pushes_filters_into_faiss_too(index, monkeypatch):
    backend = open_backend("files", index=index)
    calls = _record_searches(index.dense, monkeypatch)  # the backend searches the index's own DenseIndex
    vector = ProjectedEmbedder().encode(["w7 w7 w30"])[0]
    few = tuple(sorted(index.documents))[::25]
    hits = backend.dense(vector, 5, Filters(kind="comment", doc_ids=few))
    allowed = {p.id for p in index.passages if p.kind == "comment" and p.doc_id in few}
    assert len(hits) == 5 and {passage for passage, _ in hits} <= allowed
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)
    assert calls and all(k <= 10 and mask is not None for k, mask in calls)
