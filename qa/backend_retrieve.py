"""Retrieval through a search backend (index/backends): the Engine's searches run inside Qdrant.

`BackendRetriever` answers `search` as `Retriever` does (same arguments, same `Hit`s), but the top-k of
each side, the kind / document filters and the fusion happen in the backend; the passages' text and
everything an answer needs still come from the `CorpusIndex`. Convex fusion has no Qdrant equivalent:
it maps to DBSF (each side's scores normalised, then summed), RRF to Qdrant's weighted RRF.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from index.backends import Filters, SearchBackend, open_backend, sync
from index.build import CorpusIndex
from index.embed import Embedder
from index.lexical import tokenize
from index.options import KIND_FILTERS, MODES
from qa.errors import InputError
from qa.plain_words import expansion
from qa.retrieve import RetrievalConfig, Retriever, check_choice, check_k
from qa.types import Hit


@dataclass
class QdrantChoice:
    """Where to search in Qdrant (a server `url`, or a local-mode folder `path`); opened for the first index
    an engine uses (its model and dimension name the collection's), then shared by its later indexes."""

    url: str | None = None
    path: str | None = None
    collection: str | None = None
    _backend: SearchBackend | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (self.url or self.path) or (self.url and self.path):
            raise InputError("give a Qdrant server's URL (--qdrant-url) or a local folder (--qdrant-path), not both")
        if self.path is not None:
            self.path = str(self.path)

    def open(self, index: CorpusIndex) -> SearchBackend:
        if self._backend is None:
            self._backend = open_backend("qdrant", index=index, url=self.url, path=self.path,
                                         collection=self.collection)
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


class BackendRetriever(Retriever):
    """Ranks passages with a `SearchBackend`; kept in step with the index it is made for."""

    def __init__(self, index: CorpusIndex, embedder: Embedder, config: RetrievalConfig = RetrievalConfig(),
                 backend: SearchBackend | QdrantChoice | None = None):
        if backend is None:
            raise InputError("BackendRetriever needs a backend (index.backends.open_backend, or a QdrantChoice)")
        super().__init__(index, embedder, config)
        self.backend = backend.open(index) if isinstance(backend, QdrantChoice) else backend
        sync(self.backend, index)  # after add/delete the engine makes a new retriever: the backend follows

    def search(self, query: str, k: int = 10, *, kind: str = "both", doc_ids: Sequence[str] | None = None,
               mode: str | None = None, vector: np.ndarray | None = None) -> list[Hit]:
        check_k(k)
        check_choice("kind", kind, KIND_FILTERS)
        mode = mode or self.config.mode
        check_choice("mode", mode, MODES)
        filters = Filters(kind=kind, doc_ids=self._checked_docs(doc_ids))
        words = self._lexical_query(query)
        if mode == "lexical":
            return self._hits(self.backend.lexical(words, k, filters), lexical=True)
        vector = (self.query_vector(query) if vector is None else vector)[0]
        if mode == "dense":
            return self._hits(self.backend.dense(vector, k, filters), dense=True)
        return self._hits(self.backend.hybrid(
            vector, words, k, filters, fusion="rrf" if self.config.fusion == "rrf" else "dbsf",
            dense_weight=self._dense_weight(query), candidates=self.config.candidates, rrf_k=self.config.rrf_k))

    def _checked_docs(self, doc_ids: Sequence[str] | None) -> tuple[str, ...] | None:
        if doc_ids is None:
            return None
        if isinstance(doc_ids, str):
            raise InputError(f"doc_ids must be a list of document ids, got the string {doc_ids!r}; "
                             f"pass [{doc_ids!r}]")
        unknown = [d for d in doc_ids if d not in self.index.documents]
        if unknown:
            raise InputError(f"unknown document id(s): {', '.join(map(str, unknown[:5]))}; "
                             f"see Engine.documents() for the ids in this index")
        return tuple(doc_ids)

    def _lexical_query(self, query: str) -> list[tuple[str, float]]:
        """The question's words, plus (at the expansion weight) the reporting terms for its everyday names."""
        words = [(query, 1.0)]
        extra = expansion(query)
        if extra and self.config.expansion_weight:
            own = set(tokenize(query))
            added = " ".join(t for t in extra.split() if not own.intersection(tokenize(t)))
            if added:
                words.append((added, self.config.expansion_weight))
        return words

    def _hits(self, scored: list[tuple[str, float]], *, lexical: bool = False, dense: bool = False) -> list[Hit]:
        hits = []
        for passage_id, score in scored:
            row = self.index.passage_row.get(passage_id)
            if row is None:  # another writer's passage, not in this index yet
                continue
            p = self.index.passages[row]
            hits.append(Hit(rank=len(hits) + 1, score=score, passage_id=p.id, doc_id=p.doc_id, title=p.title,
                            kind=p.kind, author=p.author, start=p.start, end=p.end, text=p.text, comment=p.comment,
                            lexical_score=score if lexical else None, dense_score=score if dense else None))
        return hits
