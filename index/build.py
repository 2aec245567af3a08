"""Build, extend, save and load a corpus index: documents -> passages -> vectors and terms.

A plain sequence of stages; each stage lives in its own module (chunk, embed, dense, lexical, store).
"""
from __future__ import annotations

import bisect
import io
import itertools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from index import analysis as analysis_files
from index.analysis import Analyser, Analysis, analyse, complete, merge, without
from index.chunk import ChunkConfig, chunk_document
from index.dense import DenseIndex
from index.embed import Embedder
from index.errors import IndexCorruptError, InputError
from index.lexical import LexicalIndex
from index.options import DENSE_KINDS
from index.records import ARTICLE, Comment, Document, Passage
from index.speakers import Quote
from index.store import check_compatible, decode_jsonl, encode_jsonl, read_index, write_index

SENTENCE_VECTORS = ("separate", "pooled")
# Sentence vectors are kept in float16, on disk and in memory: half the bytes of float32 (they were 1.8 GB
# of a 2.8 GB index at 200k passages) for cosines that move by about 1e-4 (embedders give unit vectors).
# Where they are scored, NumPy promotes the rows read to float32. float32 files of older indexes still load.
SENTENCE_DTYPE = np.float16
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

    documents: dict[str, Document]
    passages: list[Passage]
    window_passage: np.ndarray  # int64, one entry per dense vector
    dense: DenseIndex
    lexical: LexicalIndex
    model: str
    config: IndexConfig
    sentence_vectors: np.ndarray  # SENTENCE_DTYPE (float16), the passages' sentences in passage order
    model_path: str | None = None  # the model's folder, recorded so a user can be told which --model opens it
    analysis: Analysis = field(default_factory=Analysis)  # quotes, term counts, analysers' rows (index/analysis.py)
    analysers: tuple[Analyser, ...] = ()  # run on every document added; not saved (the caller passes them to load)
    generation: int | None = None  # the saved generation this index was read from or written as
    # Derived from `passages` when the index is made (never passed in, shown or compared):
    # sentence_start[row] is the first row of passage `row`'s sentences in sentence_vectors (int64, one more
    # entry than passages); passage_row maps a passage id to its row; _article_rows maps a doc_id to the
    # (starts, ends, rows) of its article passages in text order. The chunker's passages overlap but start
    # and end in increasing order, so a span's first holder is found by bisection.
    sentence_start: np.ndarray = field(init=False, repr=False, compare=False)
    passage_row: dict[str, int] = field(init=False, repr=False, compare=False)
    _article_rows: dict[str, tuple[list[int], list[int], list[int]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        counts = [len(p.sentences) for p in self.passages]
        self.sentence_start = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        self.passage_row = {p.id: row for row, p in enumerate(self.passages)}
        self._article_rows = {}
        for row, passage in enumerate(self.passages):
            if passage.kind == ARTICLE:
                starts, ends, rows = self._article_rows.setdefault(passage.doc_id, ([], [], []))
                starts.append(passage.start)
                ends.append(passage.end)
                rows.append(row)

    def article_passage(self, doc_id: str, start: int, end: int) -> Passage | None:
        """The first article passage of `doc_id` that holds the span [start, end) of its text, if one does."""
        starts, ends, rows = self._article_rows.get(doc_id, ((), (), ()))
        at = bisect.bisect_left(ends, end)  # the first passage ending at or after the span's end
        return self.passages[rows[at]] if at < len(rows) and starts[at] <= start else None

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


def build_index(documents: Sequence[Document], embedder: Embedder, config: IndexConfig = IndexConfig(),
                progress: bool | None = None, analysers: Sequence[Analyser] = ()) -> CorpusIndex:
    """Chunk, embed, analyse and index `documents` from scratch; `analysers` also run on later additions."""
    empty = CorpusIndex({}, [], np.zeros(0, dtype=np.int64), DenseIndex(embedder.dimension, config.dense_kind),
                        LexicalIndex.build([]), embedder.name, config,
                        np.zeros((0, embedder.dimension), dtype=SENTENCE_DTYPE), _model_path(embedder),
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
    sentence_vectors: np.ndarray  # SENTENCE_DTYPE
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
    return Batch(tuple(documents), tuple(passages), windows, vectors, sentence_vectors.astype(SENTENCE_DTYPE),
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
    # A copy, so searches running on the old index (the web app) never see half an update.
    dense = index.dense.copy()
    if len(batch.vectors):
        dense.add(batch.vectors)
    documents = {**index.documents, **{d.id: d for d in batch.documents}}
    analysis = complete(merge(index.analysis, batch.analysis), list(documents.values()), index.analysers)
    passages = index.passages + list(batch.passages)
    return CorpusIndex(
        documents=documents,
        passages=passages,
        window_passage=np.concatenate([index.window_passage, batch.window_passage + len(index.passages)]),
        dense=dense,
        lexical=index.lexical.extended(lexical_texts(batch.passages, analysis.quotes)),  # only the new tokenised
        model=index.model, config=index.config,
        sentence_vectors=np.concatenate([index.sentence_vectors, batch.sentence_vectors]),
        model_path=index.model_path or batch.model_path,
        analysis=analysis, analysers=index.analysers,
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
    removed = np.array([p.doc_id in set(gone) for p in index.passages], dtype=bool)
    new_row = np.cumsum(~removed) - 1  # a kept passage's row after the removal
    window_removed = removed[index.window_passage] if len(index.window_passage) else np.zeros(0, dtype=bool)
    sentence_removed = np.repeat(removed, np.diff(index.sentence_start))
    passages = [p for p, drop in zip(index.passages, removed) if not drop]
    analysis = without(index.analysis, gone, [p for p, drop in zip(index.passages, removed) if drop])
    return CorpusIndex(
        documents={d: doc for d, doc in index.documents.items() if d not in set(gone)},
        passages=passages,
        window_passage=new_row[index.window_passage[~window_removed]].astype(np.int64),
        dense=index.dense.without(np.flatnonzero(window_removed)),
        lexical=index.lexical.without(np.flatnonzero(removed)),
        model=index.model, config=index.config,
        sentence_vectors=index.sentence_vectors[~sentence_removed],
        model_path=index.model_path, analysis=analysis, analysers=index.analysers,
    )


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


def lexical_texts(passages: Sequence[Passage], quotes: dict[str, Sequence[Quote]]) -> list[str]:
    """What BM25 sees of each passage: its title, the names of the people it quotes, then its text
    (`quotes`: each document's quotes, as found when it was indexed).

    The title and the speakers are part of what a passage is about: a quote's paragraph often says
    only "he told Pulse", its speaker named a paragraph earlier.
    """
    overlapping = _QuoteSpans(quotes)
    texts = []
    for passage in passages:
        speakers = [] if passage.comment is not None else list(dict.fromkeys(
            q.speaker for q in overlapping(passage.doc_id, passage.start, passage.end)))
        texts.append("\n".join([passage.title, *speakers, passage.text]))
    return texts


class _QuoteSpans:
    """The quotes of a document that overlap a span, in text order, without reading all its quotes each
    time (a long article has thousands of quotes and of passages)."""

    def __init__(self, quotes: dict[str, Sequence[Quote]]):
        self._quotes = quotes
        self._by_doc: dict[str, tuple[list[Quote], list[int], list[int]]] = {}

    def __call__(self, doc_id: str, start: int, end: int) -> list[Quote]:
        if doc_id not in self._by_doc:
            ordered = sorted(self._quotes.get(doc_id, ()), key=lambda q: q.start)
            reach = list(itertools.accumulate((q.end for q in ordered), max))  # furthest end so far
            self._by_doc[doc_id] = ordered, [q.start for q in ordered], reach
        ordered, starts, reach = self._by_doc[doc_id]
        found = []
        at = bisect.bisect_left(starts, end) - 1  # the last quote starting before the span ends
        while at >= 0 and reach[at] > start:  # earlier quotes all end at or before `start`
            if ordered[at].end > start:
                found.append(ordered[at])
            at -= 1
        return found[::-1]


def _check_same_model(index: CorpusIndex, embedder: Embedder) -> None:
    check_compatible({"model": index.model, "dimension": index.dense.dim},
                     {"model": embedder.name, "dimension": embedder.dimension})


def save_index(index: CorpusIndex, folder: str | Path) -> int:
    """Write the index folder atomically (the manifest last); returns the generation written, also set on
    `index`. Concurrent writers must hold `index.store.writer_lock` (the Engine does)."""
    files = {
        "documents.jsonl": encode_jsonl(_document_dict(d) for d in index.documents.values()),
        "passages.jsonl": encode_jsonl(_passage_dict(p) for p in index.passages),
        "windows.npy": _npy(index.window_passage),
        "sentence_vectors.npy": _npy(index.sentence_vectors.astype(SENTENCE_DTYPE, copy=False)),
    }
    files.update(index.dense.to_files())
    files.update(index.lexical.to_files())
    files.update(analysis_files.to_files(index.analysis))
    index.generation = write_index(Path(folder), files, index.meta())
    return index.generation


def load_index(folder: str | Path, embedder: Embedder | None = None,
               analysers: Sequence[Analyser] = ()) -> CorpusIndex:
    """Read and verify an index folder; with an embedder, also check it is the model the index was built with.

    `analysers` run on documents added later; any whose rows the folder lacks (or holds from another
    version) runs now over every document, in memory (saved with the next update)."""
    meta, files, generation = read_index(Path(folder), with_generation=True)
    if embedder is not None:
        check_compatible(meta, {"model": embedder.name, "dimension": embedder.dimension})
    try:
        config = IndexConfig(ChunkConfig(**meta["chunk"]), meta["dense_kind"], meta.get("sentence_vectors", "separate"))
        documents = {d.id: d for d in map(_document_from, decode_jsonl(files["documents.jsonl"]))}
        passages = [_passage_from(row, documents) for row in decode_jsonl(files["passages.jsonl"])]
        window_passage = np.load(io.BytesIO(files["windows.npy"]), allow_pickle=False).astype(np.int64)
        dense = DenseIndex.from_files(files, meta["dimension"], meta["dense_kind"], rows=len(window_passage))
        lexical = LexicalIndex.from_files(files)
        sentence_vectors = _sentence_vectors(files["sentence_vectors.npy"])
        analysis = analysis_files.from_files(files, meta["analysis"], documents.keys(), len(passages))
    except (KeyError, ValueError, TypeError) as error:
        raise IndexCorruptError(f"index at {folder} is inconsistent ({error}); rebuild it with `qa index`") from error
    sentences = sum(len(p.sentences) for p in passages)
    if len(lexical) != len(passages) or sentence_vectors.shape != (sentences, meta["dimension"]):
        raise IndexCorruptError(
            f"index at {folder} is inconsistent: {len(lexical)} lexical rows for {len(passages)} passages, "
            f"sentence vectors of shape {sentence_vectors.shape} for {sentences} sentences; rebuild it with `qa index`")
    model_path = meta.get("model_path")
    return CorpusIndex(documents, passages, window_passage, dense, lexical, meta["model"], config,
                       sentence_vectors,
                       model_path if isinstance(model_path, str) else None,
                       analysis=complete(analysis, list(documents.values()), analysers),
                       analysers=tuple(analysers), generation=generation)


# Field names read once: a shallow dict of a record is several times faster than dataclasses.asdict, which
# deep-copies every value, and saving (every add and delete) encodes each passage and document of the index.
_DOCUMENT_FIELDS = tuple(f.name for f in fields(Document))
_COMMENT_FIELDS = tuple(f.name for f in fields(Comment))
_PASSAGE_FIELDS = tuple(f.name for f in fields(Passage) if f.name not in ("text", "title"))  # from the document


def _document_dict(document: Document) -> dict:
    row = {name: getattr(document, name) for name in _DOCUMENT_FIELDS}
    row["comments"] = [{name: getattr(c, name) for name in _COMMENT_FIELDS} for c in document.comments]
    return row


def _document_from(row: dict) -> Document:
    comments = tuple(Comment(**c) for c in row.pop("comments"))
    return Document(**row, comments=comments)


def _passage_dict(passage: Passage) -> dict:
    return {name: getattr(passage, name) for name in _PASSAGE_FIELDS}


def _passage_from(row: dict, documents: dict[str, Document]) -> Passage:
    document = documents[row["doc_id"]]
    text = document.source_text(row["comment"])[row["start"]:row["end"]]
    windows = tuple(tuple(w) for w in row.pop("windows"))
    sentences = tuple(tuple(s) for s in row.pop("sentences"))
    return Passage(**row, title=document.title, text=text, windows=windows, sentences=sentences)




def _sentence_vectors(data: bytes) -> np.ndarray:
    """The stored sentence vectors as SENTENCE_DTYPE: a read-only view of the file's bytes when they are stored
    so (no second copy of the largest array while loading), converted from an older index's float32."""
    array = _npy_view(data)
    if array.dtype not in (np.float16, np.float32):
        raise ValueError(f"sentence vectors of dtype {array.dtype}, expected float16 (or float32, older indexes)")
    return array.astype(SENTENCE_DTYPE, copy=False)


def _npy_view(data: bytes) -> np.ndarray:
    """An .npy file's array over `data` itself, without copying it; np.load's copy for layouts this does not read."""
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        return np.load(io.BytesIO(data), allow_pickle=False)
    shape, fortran_order, dtype = readers[version](stream)
    if fortran_order or dtype.hasobject:
        return np.load(io.BytesIO(data), allow_pickle=False)
    count = int(np.prod(shape, dtype=np.int64))
    return np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell()).reshape(shape)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
