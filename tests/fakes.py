"""A deterministic keyword embedder: retrieval tests can assert exact rankings without a model."""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np


class KeywordEmbedder:
    """One dimension per known keyword (plus a shared catch-all), L2-normalised; a token is a word."""

    def __init__(self, vocabulary: Sequence[str], max_tokens: int = 64, name: str = "fake-keywords"):
        self.vocabulary = [word.lower() for word in vocabulary]
        self._position = {word: i for i, word in enumerate(self.vocabulary)}
        self.dimension = len(self.vocabulary) + 1
        self.max_tokens = max_tokens
        self.name = name
        self.encoded_texts: list[str] = []  # what was embedded, so tests can check no text is re-embedded

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.encoded_texts.extend(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, self._position.get(word, self.dimension - 1)] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                          progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Whole texts, and each span embedded on its own (a keyword count has no context to pool)."""
        whole = self.encode(texts)
        parts = [self._encode_quietly([text[s:e] for s, e in text_spans]) for text, text_spans in zip(texts, spans)]
        return whole, parts

    def _encode_quietly(self, texts: Sequence[str]) -> np.ndarray:
        before = len(self.encoded_texts)
        vectors = self.encode(texts)
        del self.encoded_texts[before:]
        return vectors

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(re.findall(r"\S+", text)) for text in texts]
