"""Build, extend, save and load a corpus index: documents -> passages -> vectors and terms.

A plain sequence of stages; each stage lives in its own module (chunk, embed, dense, lexical, store).
"""
from __future__ import annotations

import io
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from index.chunk import ChunkConfig, chunk_document
from index.dense import DenseIndex
from index.embed import Embedder
from index.lexical import LexicalIndex
from index.records import Comment, Document, Passage
from index.speakers import quotes_of
from index.store import check_compatible, read_index, write_index
from qa.errors import IndexCorruptError, InputError

DENSE_KINDS = ("exact", "hnsw")
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

    documents: dict[str, Document]
    passages: list[Passage]
    window_passage: np.ndarray  # int64, one entry per dense vector
    dense: DenseIndex
    lexical: LexicalIndex
    model: str
    config: IndexConfig
    sentence_vectors: np.ndarray  # float32, the passages' sentences in passage order
    model_path: str | None = None  # the model's folder, recorded so a user can be told which --model opens it

    def __post_init__(self) -> None:
        counts = [len(p.sentences) for p in self.passages]
        # sentence_start[row] is the first row of passage `row`'s sentences in sentence_vectors.
        self.sentence_start = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        self.passage_row = {p.id: row for row, p in enumerate(self.passages)}

    def meta(self) -> dict:
        return {"model": self.model, "dimension": self.dense.dim, "dense_kind": self.config.dense_kind,
                "recipe": INDEX_RECIPE, "sentence_vectors": self.config.sentence_vectors,
                "chunk": self.config.chunk.to_dict(), "documents": len(self.documents),
                "passages": len(self.passages), "vectors": int(len(self.window_passage)),
                **({"model_path": self.model_path} if self.model_path else {})}


def build_index(documents: Sequence[Document], embedder: Embedder, config: IndexConfig = IndexConfig(),
                progress: bool | None = None) -> CorpusIndex:
    """Chunk, embed and index `documents` from scratch."""
    empty = CorpusIndex({}, [], np.zeros(0, dtype=np.int64), DenseIndex(embedder.dimension, config.dense_kind),
                        LexicalIndex.build([]), embedder.name, config,
                        np.zeros((0, embedder.dimension), dtype=np.float32), _model_path(embedder))
    return add_documents(empty, documents, embedder, progress)


def add_documents(index: CorpusIndex, documents: Sequence[Document], embedder: Embedder,
                  progress: bool | None = None) -> CorpusIndex:
    """A new index with `documents` added; only the new passages are embedded (the lexical side is rebuilt,
    which is cheap). Raises InputError if a document id is already indexed."""
    _check_same_model(index, embedder)
    clashes = sorted({d.id for d in documents} & index.documents.keys())
    seen: set[str] = set()
    clashes += sorted(d.id for d in documents if d.id in seen or seen.add(d.id))
    if clashes:
        raise InputError(f"document ids already in the index: {', '.join(clashes[:5])}; remove them or give new ids")
    progress = sys.stderr.isatty() if progress is None else progress
    new_passages = [p for d in documents for p in chunk_document(d, embedder.count_tokens, embedder.max_tokens,
                                                                  index.config.chunk)]
    windows = [(len(index.passages) + row, _window_text(passage, start, end))
               for row, passage in enumerate(new_passages) for start, end in passage.windows]
    if index.config.sentence_vectors == "pooled":
        vectors, sentence_vectors = _embed_pooled(embedder, new_passages, progress)
    else:
        vectors, sentence_vectors = _embed_separately(embedder, new_passages, progress)
    # A copy, so searches running on the old index (the web app) never see half an update.
    dense = DenseIndex.from_files(index.dense.to_files(), index.dense.dim, index.config.dense_kind)
    if len(vectors):
        dense.add(vectors)
    passages = index.passages + new_passages
    return CorpusIndex(
        documents={**index.documents, **{d.id: d for d in documents}},
        passages=passages,
        window_passage=np.concatenate([index.window_passage, np.array([r for r, _ in windows], dtype=np.int64)]),
        dense=dense,
        lexical=LexicalIndex.build(lexical_texts(passages, {**index.documents, **{d.id: d for d in documents}})),
        model=index.model, config=index.config,
        sentence_vectors=np.concatenate([index.sentence_vectors, sentence_vectors]),
        model_path=index.model_path or _model_path(embedder),
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


def lexical_texts(passages: Sequence[Passage], documents: dict[str, Document]) -> list[str]:
    """What BM25 sees of each passage: its title, the names of the people it quotes, then its text.

    The title and the speakers are part of what a passage is about: a quote's paragraph often says
    only "he told Pulse", its speaker named a paragraph earlier.
    """
    quotes = {doc_id: quotes_of(d.text) for doc_id, d in documents.items()}
    texts = []
    for passage in passages:
        speakers = [] if passage.comment is not None else list(dict.fromkeys(
            q.speaker for q in quotes[passage.doc_id] if q.start < passage.end and passage.start < q.end))
        texts.append("\n".join([passage.title, *speakers, passage.text]))
    return texts


def _check_same_model(index: CorpusIndex, embedder: Embedder) -> None:
    check_compatible({"model": index.model, "dimension": index.dense.dim},
                     {"model": embedder.name, "dimension": embedder.dimension})


def save_index(index: CorpusIndex, folder: str | Path) -> None:
    """Write the index folder atomically; the manifest is written last."""
    files = {
        "documents.jsonl": _jsonl(_document_dict(d) for d in index.documents.values()),
        "passages.jsonl": _jsonl(_passage_dict(p) for p in index.passages),
        "windows.npy": _npy(index.window_passage),
        "sentence_vectors.npy": _npy(index.sentence_vectors),
    }
    files.update(index.dense.to_files())
    files.update(index.lexical.to_files())
    write_index(Path(folder), files, index.meta())


def load_index(folder: str | Path, embedder: Embedder | None = None) -> CorpusIndex:
    """Read and verify an index folder; with an embedder, also check it is the model the index was built with."""
    meta, files = read_index(Path(folder))
    if embedder is not None:
        check_compatible(meta, {"model": embedder.name, "dimension": embedder.dimension})
    try:
        config = IndexConfig(ChunkConfig(**meta["chunk"]), meta["dense_kind"], meta.get("sentence_vectors", "separate"))
        documents = {d.id: d for d in map(_document_from, _read_jsonl(files["documents.jsonl"]))}
        passages = [_passage_from(row, documents) for row in _read_jsonl(files["passages.jsonl"])]
        window_passage = np.load(io.BytesIO(files["windows.npy"]), allow_pickle=False).astype(np.int64)
        dense = DenseIndex.from_files(files, meta["dimension"], meta["dense_kind"], rows=len(window_passage))
        lexical = LexicalIndex.from_files(files)
        sentence_vectors = np.load(io.BytesIO(files["sentence_vectors.npy"]), allow_pickle=False)
    except (KeyError, ValueError, TypeError) as error:
        raise IndexCorruptError(f"index at {folder} is inconsistent ({error}); rebuild it with `qa index`") from error
    sentences = sum(len(p.sentences) for p in passages)
    if len(lexical) != len(passages) or sentence_vectors.shape != (sentences, meta["dimension"]):
        raise IndexCorruptError(
            f"index at {folder} is inconsistent: {len(lexical)} lexical rows for {len(passages)} passages, "
            f"sentence vectors of shape {sentence_vectors.shape} for {sentences} sentences; rebuild it with `qa index`")
    model_path = meta.get("model_path")
    return CorpusIndex(documents, passages, window_passage, dense, lexical, meta["model"], config,
                       sentence_vectors.astype(np.float32, copy=False),
                       model_path if isinstance(model_path, str) else None)


def _document_dict(document: Document) -> dict:
    return asdict(document)


def _document_from(row: dict) -> Document:
    comments = tuple(Comment(**c) for c in row.pop("comments"))
    return Document(**row, comments=comments)


def _passage_dict(passage: Passage) -> dict:
    row = asdict(passage)
    del row["text"], row["title"]  # derivable from the document; stored once
    return row


def _passage_from(row: dict, documents: dict[str, Document]) -> Passage:
    document = documents[row["doc_id"]]
    text = document.source_text(row["comment"])[row["start"]:row["end"]]
    windows = tuple(tuple(w) for w in row.pop("windows"))
    sentences = tuple(tuple(s) for s in row.pop("sentences"))
    return Passage(**row, title=document.title, text=text, windows=windows, sentences=sentences)


def _jsonl(rows: Iterable[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def _read_jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line]


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
