"""The index in memory (`CorpusIndex`) and the two changes that need nothing embedded: joining indexes whose
rows follow one another, and deleting documents. Both cost copies of arrays, not Python work per passage of
the whole corpus where that can be avoided: an add or delete of one article stays cheap at any size.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from index import lazy_rows
from index.analysis import Analyser, Analysis, complete, merge_all, without
from index.analysis import part as analysis_part
from index.chunk import ChunkConfig
from index.dense import DenseIndex
from index.errors import InputError
from index.lexical import LexicalIndex
from index.options import DENSE_KINDS
from index.passage_table import PassageRows, PassageTable
from index.records import Document, Passage
from index.row_chunks import RowChunks
from index.segments import SegmentData, Stored
from index.speakers import Quote

SENTENCE_VECTORS = ("separate", "pooled")
# Bumped whenever what gets indexed changes (e.g. speakers added to the lexical text), so cached
# indexes of the default corpus are rebuilt rather than silently stale.
INDEX_RECIPE = 2


@dataclass(frozen=True)
class IndexConfig:
    """How an index is built: chunking, and exact or approximate vector search (hnsw for large corpora)."""

    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    dense_kind: str = "exact"
    # "separate": each answer sentence embedded on its own (best abstention on the shipped eval set);
    # "pooled": pooled from its window's token vectors in the same model pass ("late chunking"),
    # about 1.8x faster to index (measured side by side), for large archives.
    sentence_vectors: str = "separate"

    def __post_init__(self) -> None:
        if self.dense_kind not in DENSE_KINDS:
            raise InputError(f"dense_kind must be one of {', '.join(DENSE_KINDS)}, got {self.dense_kind!r}")
        if self.sentence_vectors not in SENTENCE_VECTORS:
            raise InputError(f"sentence_vectors must be one of {', '.join(SENTENCE_VECTORS)}, "
                             f"got {self.sentence_vectors!r}")


@dataclass
class CorpusIndex:
    """Everything search needs, in memory. Rows of `window_passage` map each vector to its passage."""

    documents: Mapping[str, Document]  # a dict, or (loaded) index.lazy_rows.LazyRows: decoded when read
    passages: PassageTable  # a list of Passage is accepted and made a table over `documents`
    window_passage: np.ndarray  # int64, one entry per dense vector
    dense: DenseIndex
    lexical: LexicalIndex
    model: str
    config: IndexConfig
    # Quantised rows (index/quantised.py), the passages' sentences in order: an array is accepted and held as
    # RowChunks, which joins share (a loaded index's stay memory-mapped).
    sentence_vectors: RowChunks
    model_path: str | None = None  # the model's folder, recorded so a user can be told which --model opens it
    analysis: Analysis = field(default_factory=Analysis)  # quotes, term counts, analysers' rows (index/analysis.py)
    analysers: tuple[Analyser, ...] = ()  # run on every document added; not saved (the caller passes them to load)
    generation: int | None = None  # the saved generation this index was read from or written as
    # That generation's segments, kept up to date by deletes, so a save writes only the difference
    # (index/segments.py); None for an index never saved or loaded.
    stored: Stored | None = field(default=None, repr=False, compare=False)
    # Derived from `passages` (never passed in, shown or compared): sentence_start[row] is the first row of
    # passage `row`'s sentences in sentence_vectors (int64, one more entry than passages); passage_row maps a
    # passage id to its row.
    sentence_start: np.ndarray = field(init=False, repr=False, compare=False)
    passage_row: PassageRows = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.passages = PassageTable.of(self.passages, self.documents)
        self.sentence_vectors = RowChunks.of(self.sentence_vectors)
        self.sentence_start = self.passages.sentence_start
        self.passage_row = PassageRows(self.passages)

    def article_passage(self, doc_id: str, start: int, end: int) -> Passage | None:
        """The first article passage of `doc_id` that holds the span [start, end) of its text, if one does.

        The chunker's passages overlap but start and end in increasing order, so it is found by bisection."""
        rows, starts, ends = self.passages.article_rows(doc_id)
        at = int(np.searchsorted(ends, end, side="left"))  # the first passage ending at or after the span's end
        return self.passages[int(rows[at])] if at < len(rows) and starts[at] <= start else None

    def quotes(self, doc_id: str) -> tuple[Quote, ...]:
        """The quotes found in a document's article text when it was indexed."""
        return self.analysis.quotes.get(doc_id, ())

    def meta(self) -> dict:
        return {"model": self.model, "dimension": self.dense.dim, "dense_kind": self.config.dense_kind,
                "recipe": INDEX_RECIPE, "sentence_vectors": self.config.sentence_vectors,
                "chunk": self.config.chunk.to_dict(), "documents": len(self.documents),
                "passages": len(self.passages), "vectors": len(self.window_passage),
                "analysis": dict(self.analysis.versions),
                **({"model_path": self.model_path} if self.model_path else {})}

    def segment_data(self) -> SegmentData:
        """The whole index as one segment's contents (index/segments.py)."""
        return SegmentData(self.documents, self.passages, self.window_passage, self.dense, self.lexical,
                           self.sentence_vectors, self.analysis)


def joined(parts: Sequence[CorpusIndex]) -> CorpusIndex:
    """One index of `parts`, whose documents differ, with the rows of each after the earlier ones'; nothing is
    embedded or tokenised. Settings, analysers and the saved state are the first part's; analysers the first
    part runs but another lacks are run over the documents that lack them."""
    first, rest = parts[0], parts[1:]
    if not rest:
        return first
    passage_offsets = np.cumsum([0] + [len(p.passages) for p in parts])
    documents = lazy_rows.merged([p.documents for p in parts])
    analysis = complete(merge_all([p.analysis for p in parts]), documents, first.analysers)
    return CorpusIndex(
        documents=documents,
        passages=PassageTable.joined([p.passages for p in parts], documents),
        window_passage=np.concatenate([p.window_passage + o for p, o in zip(parts, passage_offsets)]),
        # `first.dense` is copied, so searches running on the old index (the web app) never see half an update.
        dense=first.dense.appended([p.dense for p in rest]),
        lexical=LexicalIndex.concatenated([p.lexical for p in parts]),
        model=first.model, config=first.config,
        sentence_vectors=RowChunks.joined([p.sentence_vectors for p in parts]),
        model_path=first.model_path or next((p.model_path for p in rest if p.model_path), None),
        analysis=analysis, analysers=first.analysers, stored=first.stored,
    )


def delete_documents(index: CorpusIndex, doc_ids: Iterable[str]) -> CorpusIndex:
    """A new index without the documents `doc_ids` and their comments; nothing is embedded or tokenised again
    (the kept vectors are copied; BM25 is rescored from the kept passages' stored term counts)."""
    if isinstance(doc_ids, str):
        raise InputError(f"doc_ids must be a list of document ids, got the string {doc_ids!r}")
    gone = list(dict.fromkeys(doc_ids))
    unknown = [d for d in gone if d not in index.documents]
    if unknown or not gone:
        raise InputError(f"no document with id {', '.join(map(repr, unknown[:5]))} in this index; "
                         "`qa docs --index DIR` lists the ids" if unknown else "give at least one document id")
    gone_set = set(gone)
    removed = index.passages.held(gone_set)
    kept = ~removed
    new_row = np.cumsum(kept) - 1  # a kept passage's row after the removal
    window_removed = removed[index.window_passage] if len(index.window_passage) else np.zeros(0, dtype=bool)
    analysis = without(index.analysis, gone, [index.passages[row] for row in np.flatnonzero(removed)])
    documents = lazy_rows.without(index.documents, gone_set)
    return CorpusIndex(
        documents=documents,
        passages=index.passages.taken(kept, documents),
        window_passage=new_row[index.window_passage[~window_removed]].astype(np.int64),
        dense=index.dense.without(np.flatnonzero(window_removed)),
        lexical=index.lexical.without(np.flatnonzero(removed)),
        model=index.model, config=index.config,
        sentence_vectors=_kept_rows(index.sentence_vectors, index.sentence_start, removed),
        model_path=index.model_path, analysis=analysis, analysers=index.analysers,
        stored=index.stored.deleting(gone) if index.stored else None,
    )


def _kept_rows(sentence_vectors: RowChunks, sentence_start: np.ndarray, removed: np.ndarray) -> RowChunks:
    """The sentence vectors of the passages not `removed`: the kept runs shared as slices, not gathered row by
    row through a mask (a document's passages, so its sentences, are one run)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], removed, [False]]).astype(np.int8)))
    starts, ends = sentence_start[edges[0::2]], sentence_start[edges[1::2]]  # removed runs, in sentence rows
    kept = zip(np.concatenate([[0], ends]), np.concatenate([starts, [len(sentence_vectors)]]))
    return RowChunks.joined([sentence_vectors.between(int(a), int(b)) for a, b in kept])


def documents_data(index: CorpusIndex, doc_ids: set[str]) -> SegmentData:
    """The documents `doc_ids` of `index` as one segment's contents, rows counted from their first passage."""
    held = index.passages.held(doc_ids)
    local_row = np.cumsum(held) - 1
    windows = np.flatnonzero(held[index.window_passage]) if len(index.window_passage) else np.zeros(0, np.int64)
    documents = lazy_rows.subset(index.documents, [d for d in index.documents if d in doc_ids])
    passages = index.passages.taken(held, documents)
    return SegmentData(
        documents, passages, local_row[index.window_passage[windows]].astype(np.int64),
        index.dense.taken(windows),
        index.lexical.without(np.flatnonzero(~held)),
        index.sentence_vectors[np.repeat(held, np.diff(index.sentence_start))],
        analysis_part(index.analysis, list(documents), passages))
