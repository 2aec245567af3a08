"""Build, extend, save and load a corpus index: documents -> passages -> vectors and terms.

A plain sequence of stages; each stage lives in its own module (chunk, embed, dense, lexical, store). The
index in memory and its changes that embed nothing are in corpus_index.py, saving and loading in saved.py.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.analysis import Analyser, Analysis, analyse
from index.chunk import chunk_document
from index.corpus_index import INDEX_RECIPE, SENTENCE_VECTORS, CorpusIndex, IndexConfig, delete_documents, joined
from index.dense import DenseIndex
from index.embed import Embedder
from index.errors import InputError
from index.lexical import LexicalIndex
from index.options import EXACT
from index.quantised import quantised
from index.records import Document, Passage
from index.saved import load_index, save_index
from index.speakers import Quote, QuoteSpans
from index.store import check_compatible

# The front door of index building: the records and operations other modules hold are named here too.
__all__ = ["INDEX_RECIPE", "SENTENCE_VECTORS", "Batch", "CorpusIndex", "IndexConfig",
           "add_documents", "build_index", "delete_documents", "lexical_texts", "load_index", "merge_batch",
           "prepare_batch", "save_index"]


def build_index(documents: Sequence[Document], embedder: Embedder,
                config: IndexConfig = IndexConfig(),  # noqa: B008 (frozen; pyproject knows it as index.build's)
                progress: bool | None = None, analysers: Sequence[Analyser] = ()) -> CorpusIndex:
    """Chunk, embed, analyse and index `documents` from scratch; `analysers` also run on later additions."""
    empty = CorpusIndex({}, [], np.zeros(0, dtype=np.int64), DenseIndex(embedder.dimension, config.dense_kind),
                        LexicalIndex.build([]), embedder.name, config,
                        quantised(np.zeros((0, embedder.dimension))), _model_path(embedder),
                        analysis=analyse([], [], analysers), analysers=tuple(analysers))
    return add_documents(empty, documents, embedder, progress)


@dataclass(frozen=True)
class Batch:
    """Documents chunked, embedded and analysed, ready to merge into an index (`merge_batch`). Nothing in it
    depends on the index, so it is prepared before a writer takes the index folder's lock."""

    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    window_passage: np.ndarray  # each window vector's passage, counted from the batch's first passage
    vectors: np.ndarray
    sentence_vectors: np.ndarray  # quantised rows (index/quantised.py)
    analysis: Analysis
    model: str
    config: IndexConfig
    model_path: str | None


def prepare_batch(documents: Sequence[Document], embedder: Embedder, config: IndexConfig,
                  analysers: Sequence[Analyser], progress: bool | None = None) -> Batch:
    """Chunk, embed and analyse `documents` (the costly part of adding them); InputError on repeated ids."""
    seen: set[str] = set()
    repeated = sorted({d.id for d in documents if d.id in seen or seen.add(d.id)})
    if repeated:
        raise InputError(f"document ids given more than once: {', '.join(repeated[:5])}; give each document once")
    progress = sys.stderr.isatty() if progress is None else progress
    passages = [p for d in documents for p in chunk_document(d, embedder.count_tokens, embedder.max_tokens,
                                                              config.chunk)]
    if config.sentence_vectors == "pooled":
        vectors, sentence_vectors = _embed_pooled(embedder, passages, progress)
    else:
        vectors, sentence_vectors = _embed_separately(embedder, passages, progress)
    windows = np.array([row for row, passage in enumerate(passages) for _ in passage.windows], dtype=np.int64)
    return Batch(tuple(documents), tuple(passages), windows, vectors, quantised(sentence_vectors),
                 analyse(documents, passages, analysers), embedder.name, config, _model_path(embedder))


def add_documents(index: CorpusIndex, documents: Sequence[Document], embedder: Embedder,
                  progress: bool | None = None, *, replace: bool = False) -> CorpusIndex:
    """A new index with `documents` added; only they are embedded, analysed and tokenised. An id already indexed is an
    InputError, unless `replace`: then the indexed document of that id is deleted first."""
    _check_same_model(index, embedder)
    return merge_batch(index, prepare_batch(documents, embedder, index.config, index.analysers, progress),
                       replace=replace)


def merge_batch(index: CorpusIndex, batch: Batch, *, replace: bool = False) -> CorpusIndex:
    """A new index with the batch's documents added (replacing those of the same ids if `replace`)."""
    check_compatible({"model": index.model, "dimension": index.dense.dim, "config": str(index.config)},
                     {"model": batch.model, "dimension": batch.vectors.shape[1], "config": str(batch.config)})
    clashes = sorted({d.id for d in batch.documents} & index.documents.keys())
    if clashes and not replace:
        raise InputError(f"document ids already in the index: {', '.join(clashes[:5])}; pass replace=True "
                         "(qa add --replace) to replace them, delete them first, or give new ids")
    if clashes:
        index = delete_documents(index, clashes)
    dense = DenseIndex(batch.vectors.shape[1], EXACT)
    dense.add(batch.vectors)  # normalised once, here; joined after the index's rows as they are
    lexical = LexicalIndex.build(lexical_texts(batch.passages, batch.analysis.quotes), index.lexical.k1,
                                 index.lexical.b)  # only the new passages are tokenised
    part = CorpusIndex({d.id: d for d in batch.documents}, list(batch.passages), batch.window_passage, dense, lexical,
                       index.model, index.config, batch.sentence_vectors, batch.model_path, analysis=batch.analysis)
    return joined([index, part])


def _model_path(embedder: Embedder) -> str | None:
    path = getattr(embedder, "path", None)  # a sentence-transformers folder; fakes and custom embedders have none
    return str(Path(path).resolve()) if path else None


def _embed_separately(embedder: Embedder, passages: Sequence[Passage],
                      progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of every window and every sentence; a text that is both (a one-sentence window) embedded once."""
    windows = [_window_text(p, start, end) for p in passages for start, end in p.windows]
    sentences = [_window_text(p, start, end) for p in passages for start, end in p.sentences]
    unique = list(dict.fromkeys(windows + sentences))
    vectors = embedder.encode(unique, progress=progress).reshape(-1, embedder.dimension)
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in windows]], vectors[[row[t] for t in sentences]]


def _embed_pooled(embedder: Embedder, passages: Sequence[Passage], progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of every window, and of every sentence pooled from its window's tokens (one model pass)."""
    texts, spans = [], []
    for passage in passages:
        for start, end in passage.windows:
            texts.append(_window_text(passage, start, end))
            spans.append([(s - start, e - start) for s, e in passage.sentences if start <= s and e <= end])
    windows, pooled = embedder.encode_with_spans(texts, spans, progress=progress)
    sentences = np.concatenate(pooled) if pooled else np.zeros((0, embedder.dimension), dtype=np.float32)
    return windows.reshape(-1, embedder.dimension), sentences.reshape(-1, embedder.dimension)


def _window_text(passage: Passage, start: int, end: int) -> str:
    return passage.text[start - passage.start:end - passage.start]


def lexical_texts(passages: Sequence[Passage], quotes: Mapping[str, Sequence[Quote]]) -> list[str]:
    """What BM25 sees of each passage: its title, the names of the people it quotes, then its text
    (`quotes`: each document's quotes, as found when it was indexed).

    The title and the speakers are part of what a passage is about: a quote's paragraph often says
    only "he told Pulse", its speaker named a paragraph earlier.
    """
    by_doc: dict[str, QuoteSpans] = {}
    texts = []
    for passage in passages:
        speakers = []
        if passage.comment is None:
            if passage.doc_id not in by_doc:  # in text order, so a passage names its speakers in that order
                by_doc[passage.doc_id] = QuoteSpans(sorted(quotes.get(passage.doc_id, ()), key=lambda q: q.start))
            overlapping = by_doc[passage.doc_id].overlapping(passage.start, passage.end)
            speakers = list(dict.fromkeys(q.speaker for q in overlapping))
        texts.append("\n".join([passage.title, *speakers, passage.text]))
    return texts


def _check_same_model(index: CorpusIndex, embedder: Embedder) -> None:
    check_compatible({"model": index.model, "dimension": index.dense.dim},
                     {"model": embedder.name, "dimension": embedder.dimension})
