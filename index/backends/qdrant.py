"""The Qdrant backend: passages as points of one collection, on a Qdrant server or cluster (`url`) or in
qdrant-client's local mode on a folder (`path`: tests, CI, one process).

Each point holds a passage's window vectors as one multivector (max-sim of cosines: the passage scores
its best window, as with FAISS), its BM25 terms as a sparse vector, and its provenance as payload
(kind, doc_id and date are filtered on inside the search). The sparse values are BM25's term-frequency
part, tf / (tf + k1 (1 - b + b len / avgdl)), with the library's own tokeniser; Qdrant's IDF modifier
supplies ln(1 + (N - df + 0.5) / (df + 0.5)), so a lexical search scores exactly the library's BM25
(avgdl is fixed when the collection is made). Hybrid search is one `query_points` call: both lists
prefetched with the filters, fused by Qdrant (weighted RRF, or DBSF).
"""
from __future__ import annotations

import hashlib
import uuid
import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np

from index.backends import (
    FUSIONS,
    BackendUnavailableError,
    Filters,
    LexicalQuery,
    PassageRecord,
    Scored,
    check_vector,
    mapping_of,
)
from index.errors import IndexMismatchError, InputError, MissingDependencyError, check_k
from index.lexical import TOKENIZER_VERSION, tokenize

DEFAULT_COLLECTION = "qa_passages"
DENSE, TERMS = "dense", "terms"
FORMAT = 1  # bumped when what a point holds changes
K1, B = 1.5, 0.75  # the library's BM25 settings (index.lexical.LexicalIndex.build)
DEFAULT_AVGDL = 100.0
_IDS = uuid.UUID("0b6b2c2e-5d3c-4f0e-9b8e-6a1f4c9d2e11")  # namespace of point ids derived from passage ids
_BATCH = 256


def point_id(passage_id: str) -> str:
    """A stable Qdrant point id (a UUID) for a passage id."""
    return str(uuid.uuid5(_IDS, passage_id))


def term_index(term: str) -> int:
    """A term's sparse-vector dimension: 32 bits of its hash, the same in every process."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "big")


def sparse_terms(counts: dict[str, float]) -> tuple[list[int], list[float]]:
    """(indices, values) of a sparse vector; terms whose hashes collide share a value."""
    merged: dict[int, float] = {}
    for term, value in counts.items():
        merged[term_index(term)] = merged.get(term_index(term), 0.0) + float(value)
    indices = sorted(merged)
    return indices, [merged[i] for i in indices]


class QdrantBackend:
    """Passages in one Qdrant collection; made (with its settings in the collection's metadata) on first use."""

    name = "qdrant"

    def __init__(self, *, url: str | None = None, path: str | None = None, collection: str = DEFAULT_COLLECTION,
                 dimension: int, model: str, avgdl: float | None = None, api_key: str | None = None,
                 timeout: int = 10) -> None:
        if (url is None) == (path is None):
            raise InputError("give a Qdrant server's url (--qdrant-url) or a local folder (--qdrant-path), not both")
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
            raise InputError(f"dimension must be a positive integer, got {dimension!r}")
        try:
            from qdrant_client import QdrantClient, models
        except ImportError as error:
            raise MissingDependencyError("the Qdrant backend needs qdrant-client; run: "
                                         "pip install 'nhs-commissioning-qa[qdrant]'") from error
        self._models = models
        self.dimension, self.model, self.collection = dimension, model, collection
        self.where = url or str(path)
        self._local = url is None
        try:
            self._client = QdrantClient(path=str(path)) if self._local else \
                QdrantClient(url=url, api_key=api_key, timeout=timeout)
        except (RuntimeError, OSError) as error:  # local mode: the folder is open in another client
            raise BackendUnavailableError(f"cannot open the Qdrant folder {path}: {error}") from error
        self.avgdl = self._open(avgdl)

    def _call(self, what: str, function, *args, **kwargs):
        """Run a client call; a server that cannot be reached becomes BackendUnavailableError."""
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        try:
            return function(*args, **kwargs)
        except (ResponseHandlingException, ConnectionError, OSError) as error:
            raise BackendUnavailableError(
                f"cannot reach Qdrant at {self.where} to {what} ({type(error).__name__}: {error}); start the "
                "server, or check the URL (--qdrant-url)") from error
        except UnexpectedResponse as error:
            raise BackendUnavailableError(f"Qdrant at {self.where} refused to {what}: {error}") from error

    def _open(self, avgdl: float | None) -> float:
        m = self._models
        if self._call("list its collections", self._client.collection_exists, self.collection):
            info = self._call("read the collection", self._client.get_collection, self.collection)
            meta = info.config.metadata or {}
            vectors = info.config.params.vectors
            size = vectors[DENSE].size if isinstance(vectors, dict) and DENSE in vectors else None
            if size != self.dimension or meta.get("format") != FORMAT:
                raise IndexMismatchError(
                    f"the Qdrant collection {self.collection!r} at {self.where} holds vectors of dimension {size} "
                    f"(format {meta.get('format')!r}); this index has dimension {self.dimension} (format {FORMAT}): "
                    "use another collection, or delete that one and load the index again")
            if meta.get("model") != self.model or meta.get("tokenizer_version") != TOKENIZER_VERSION:
                raise IndexMismatchError(
                    f"the Qdrant collection {self.collection!r} was filled with model {meta.get('model')!r} and "
                    f"tokenizer {meta.get('tokenizer_version')!r}; this index uses {self.model!r} and "
                    f"{TOKENIZER_VERSION}: use another collection")
            return float(meta.get("avgdl", DEFAULT_AVGDL))
        avgdl = float(avgdl or DEFAULT_AVGDL)
        self._call("make the collection", self._client.create_collection, self.collection,
                   vectors_config={DENSE: m.VectorParams(
                       size=self.dimension, distance=m.Distance.COSINE,
                       multivector_config=m.MultiVectorConfig(comparator=m.MultiVectorComparator.MAX_SIM))},
                   sparse_vectors_config={TERMS: m.SparseVectorParams(modifier=m.Modifier.IDF)},
                   metadata={"format": FORMAT, "model": self.model, "dimension": self.dimension, "k1": K1, "b": B,
                             "avgdl": avgdl, "tokenizer_version": TOKENIZER_VERSION})
        if not self._local:  # local mode scans every point anyway and warns that payload indexes do nothing
            for field, schema in (("kind", m.PayloadSchemaType.KEYWORD), ("doc_id", m.PayloadSchemaType.KEYWORD),
                                  ("date", m.PayloadSchemaType.DATETIME)):
                self._call("index the payload", self._client.create_payload_index, self.collection, field, schema)
        return avgdl

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, records: Sequence[PassageRecord]) -> None:
        points = [self._point(record) for record in records]
        for start in range(0, len(points), _BATCH):
            with warnings.catch_warnings():  # local mode's advice to use a server past 20,000 points
                warnings.simplefilter("ignore", UserWarning)
                self._call("store passages", self._client.upsert, self.collection, points[start:start + _BATCH],
                           wait=True)

    def _point(self, record: PassageRecord):
        m, passage, windows = self._models, record.passage, record.windows
        if windows.ndim != 2 or windows.shape[1] != self.dimension:
            raise InputError(f"passage {passage.id} has vectors of shape {windows.shape}; the Qdrant collection "
                             f"{self.collection!r} holds vectors of dimension {self.dimension}")
        counts = Counter(tokenize(record.lexical_text))
        norm = K1 * (1 - B + B * sum(counts.values()) / self.avgdl)
        indices, values = sparse_terms({term: tf / (tf + norm) for term, tf in counts.items()})
        vector = {TERMS: m.SparseVector(indices=indices, values=values)}
        if len(windows):
            vector[DENSE] = windows.astype(np.float32).tolist()
        payload = {"passage_id": passage.id, "doc_id": passage.doc_id, "kind": passage.kind, "title": passage.title,
                   "author": passage.author, "start": passage.start, "end": passage.end, "comment": passage.comment,
                   "text": passage.text}
        if record.date:
            payload["date"] = f"{record.date}T00:00:00Z"
        return m.PointStruct(id=point_id(passage.id), vector=vector, payload=payload)

    def delete_documents(self, doc_ids: Sequence[str]) -> int:
        if not doc_ids:
            return 0
        selector = self._models.Filter(must=[self._doc_condition(doc_ids)])
        count = self._call("count passages", self._client.count, self.collection, count_filter=selector,
                           exact=True).count
        if count:
            self._call("delete passages", self._client.delete, self.collection,
                       points_selector=self._models.FilterSelector(filter=selector), wait=True)
        return count

    # -- reads --------------------------------------------------------------------------------

    def held(self) -> dict[str, str]:
        held, offset = {}, None
        while True:
            points, offset = self._call("list passages", self._client.scroll, self.collection, limit=2048,
                                        offset=offset, with_payload=["passage_id", "doc_id"], with_vectors=False)
            held.update((p.payload["passage_id"], p.payload["doc_id"]) for p in points)
            if offset is None:
                return held

    def __len__(self) -> int:
        return self._call("count passages", self._client.count, self.collection, exact=True).count

    def dense(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[Scored]:
        vector, k = check_vector(vector, self.dimension), check_k(k)
        if filters.excludes_everything():
            return []
        return self._query(query=[vector.tolist()], using=DENSE, limit=k, query_filter=self._filter(filters))

    def lexical(self, query: LexicalQuery, k: int, filters: Filters = Filters()) -> list[Scored]:
        k = check_k(k)
        sparse = self._sparse_query(query)
        if sparse is None or filters.excludes_everything():
            return []
        hits = self._query(query=sparse, using=TERMS, limit=k, query_filter=self._filter(filters))
        return [(passage, score) for passage, score in hits if score > 0]

    def hybrid(self, vector: np.ndarray, query: LexicalQuery, k: int, filters: Filters = Filters(), *,
               fusion: str = "rrf", dense_weight: float = 0.5, candidates: int = 100, rrf_k: int = 60
               ) -> list[Scored]:
        if fusion not in FUSIONS:
            raise InputError(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
        vector, k = check_vector(vector, self.dimension), check_k(k)
        if filters.excludes_everything():
            return []
        m, where = self._models, self._filter(filters)
        sparse = self._sparse_query(query)
        prefetch = [m.Prefetch(query=[vector.tolist()], using=DENSE, limit=candidates, filter=where)]
        weights = [dense_weight]
        if sparse is not None:
            prefetch.insert(0, m.Prefetch(query=sparse, using=TERMS, limit=candidates, filter=where))
            weights.insert(0, 1 - dense_weight)
        fused = m.RrfQuery(rrf=m.Rrf(k=rrf_k, weights=weights)) if fusion == "rrf" else \
            m.FusionQuery(fusion=m.Fusion.DBSF)
        return self._query(prefetch=prefetch, query=fused, limit=k, query_filter=where)

    def close(self) -> None:
        self._client.close()

    def _query(self, **arguments) -> list[Scored]:
        response = self._call("search", self._client.query_points, self.collection, with_payload=["passage_id"],
                              **arguments)
        return [(point.payload["passage_id"], float(point.score)) for point in response.points]

    def _sparse_query(self, query: LexicalQuery):
        counts: dict[str, float] = {}
        for text, weight in mapping_of(query).items():
            for term in tokenize(text):
                counts[term] = counts.get(term, 0.0) + weight
        counts = {term: value for term, value in counts.items() if value}
        if not counts:
            return None
        indices, values = sparse_terms(counts)
        return self._models.SparseVector(indices=indices, values=values)

    def _doc_condition(self, doc_ids: Sequence[str]):
        return self._models.FieldCondition(key="doc_id", match=self._models.MatchAny(any=list(doc_ids)))

    def _filter(self, filters: Filters):
        m, must = self._models, []
        if filters.kind != "both":
            must.append(m.FieldCondition(key="kind", match=m.MatchValue(value=filters.kind)))
        if filters.doc_ids is not None:
            must.append(self._doc_condition(filters.doc_ids))
        if filters.since or filters.until:
            must.append(m.FieldCondition(key="date", range=m.DatetimeRange(
                gte=f"{filters.since}T00:00:00Z" if filters.since else None,
                lte=f"{filters.until}T00:00:00Z" if filters.until else None)))
        return m.Filter(must=must) if must else None
