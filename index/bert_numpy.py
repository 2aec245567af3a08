"""A NumPy forward pass of a BERT sentence-transformers model (mean pooling, normalised), for queries.

Why: importing torch and sentence-transformers costs seconds, too much for a one-off `qa ask` or for
encoding one question. Indexing still runs on sentence-transformers; tests check both give the same
vectors. Only the plain BERT + mean pooling + Normalize layout is accepted; anything else is refused
so the caller falls back to sentence-transformers.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

PAD_BATCH = 64  # texts encoded per forward pass


def supports(model_path: Path) -> bool:
    """Whether the folder holds a BERT model with mean pooling and normalisation, in safetensors."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_path / "modules.json").read_text())]
        pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text())
        config = json.loads((model_path / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (modules == ["Transformer", "Pooling", "Normalize"] and config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu" and pooling.get("pooling_mode_mean_tokens") is True
            and not any(pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                                  "pooling_mode_mean_sqrt_len_tokens"))
            and (model_path / "model.safetensors").is_file() and (model_path / "tokenizer.json").is_file())


class NumpyBert:
    """Encodes texts to L2-normalised mean-pooled BERT vectors with NumPy only."""

    def __init__(self, model_path: Path, max_seq_length: int, weights: dict[str, np.ndarray] | None = None,
                 exact_gelu: bool = True):
        """`weights` replaces the folder's own (the answer model: its trained layers over this vocabulary);
        the layer count is however many layers the weights hold. `exact_gelu=False` uses GELU's tanh form
        (within 5e-4; a fifth faster overall): for scores, not for vectors compared with indexed ones."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_path / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.weights = weights if weights is not None else load_file(str(model_path / "model.safetensors"))
        self.layers = len({name.split(".")[2] for name in self.weights if name.startswith("encoder.layer.")})
        self._transposed: dict[str, np.ndarray] = {}
        self._fused: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # per layer: Q/K/V weight (transposed), bias
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.max_seq_length = max_seq_length
        self._gelu = _exact_gelu if exact_gelu else _tanh_gelu

    def token_ids(self, texts: Sequence[str], special: bool = True) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=special)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        ids = [row[: self.max_seq_length - 1] + row[-1:] if len(row) > self.max_seq_length else row
               for row in self.token_ids(texts)]
        order = np.argsort([len(row) for row in ids])  # similar lengths together: less padding
        out = np.zeros((len(ids), self.weights["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        for first in range(0, len(ids), PAD_BATCH):
            rows = order[first:first + PAD_BATCH]
            out[rows] = self._forward([ids[r] for r in rows])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        pooled = self.mean_pooled(batch)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def mean_pooled(self, batch: list[list[int]], segments: list[list[int]] | None = None) -> np.ndarray:
        """The mean of the last layer's token states for each row of token ids; `segments` gives each
        token's type (0 for the first text of a pair, 1 for the second; all 0 when omitted)."""
        w = self.weights
        lengths = np.array([len(row) for row in batch])
        # Token states are kept packed (real tokens only, row after row), attention included (row by row):
        # padding rows to the longest would add work for nothing.
        ids = np.concatenate([np.asarray(row, dtype=np.int64) for row in batch])
        positions = np.concatenate([np.arange(n) for n in lengths])
        types = (np.concatenate([np.asarray(row, dtype=np.int64) for row in segments]) if segments is not None
                 else np.zeros(len(ids), dtype=np.int64))
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = self._norm(x, "embeddings.LayerNorm")
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        for layer in range(self.layers):
            x = self._layer(x, starts, lengths, f"encoder.layer.{layer}.")
        return np.add.reduceat(x, starts, axis=0) / lengths[:, None].astype(np.float32)

    def _layer(self, x: np.ndarray, starts: np.ndarray, lengths: np.ndarray, prefix: str) -> np.ndarray:
        """One encoder layer over packed token states `x` (tokens, hidden), row i being tokens
        starts[i]:starts[i] + lengths[i]."""
        hidden = x.shape[1]
        size = hidden // self.heads
        qkv = self._query_key_value(x, prefix)  # one product for the three projections
        context = np.empty_like(x)
        scale = np.float32(1.0 / np.sqrt(size))
        # Attention row by row, each over its own tokens: padding every row to the longest (answer pairs run
        # from 20 to 160 tokens) made attention a third of an answer's time, most of it on padding.
        for start, length in zip(starts.tolist(), lengths.tolist()):
            q, k, v = qkv[start:start + length].reshape(length, 3, self.heads, size).transpose(1, 2, 0, 3)
            scores = (q * scale) @ k.transpose(0, 2, 1)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context[start:start + length] = (scores @ v).transpose(1, 0, 2).reshape(length, hidden)
        x = self._norm(self._dense(context, prefix + "attention.output.dense") + x, prefix + "attention.output.LayerNorm")
        inner = self._gelu(self._dense(x, prefix + "intermediate.dense"))
        return self._norm(self._dense(inner, prefix + "output.dense") + x, prefix + "output.LayerNorm")

    def _query_key_value(self, x: np.ndarray, prefix: str) -> np.ndarray:
        """(tokens, 3 * hidden): the query, key and value projections side by side."""
        fused = self._fused.get(prefix)
        if fused is None:  # one assignment: two reader threads may build it at once, either copy is right
            parts = [prefix + f"attention.self.{part}" for part in ("query", "key", "value")]
            fused = self._fused[prefix] = (
                np.ascontiguousarray(np.concatenate([self.weights[p + ".weight"] for p in parts]).T),
                np.concatenate([self.weights[p + ".bias"] for p in parts]))
        out = x @ fused[0]
        out += fused[1]
        return out

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D GEMM against a contiguous transposed weight: a 3-D `x @ w.T` runs as many small
        # products and is several times slower.
        weight = self._transposed.get(name)
        if weight is None:
            weight = self._transposed[name] = np.ascontiguousarray(self.weights[name + ".weight"].T)
        out = x.reshape(-1, x.shape[-1]) @ weight
        out += self.weights[name + ".bias"]
        return out.reshape(*x.shape[:-1], weight.shape[1])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(variance + self.eps) * self.weights[name + ".weight"] + self.weights[name + ".bias"]


def _exact_gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU."""
    return (np.float32(0.5) * x * (np.float32(1.0) + _erf(x * np.float32(1.0 / np.sqrt(2.0))))).astype(np.float32)


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7): as exact as float32 needs, without
    # importing scipy on the query path. Computed in place: the arrays are large and memory-bound.
    a = np.abs(x)
    t = a * np.float32(0.3275911)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(coefficient)
        poly *= t
    np.multiply(a, a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    a *= poly
    np.subtract(np.float32(1.0), a, out=a)
    return np.copysign(a, x, out=a)


def _tanh_gelu(x: np.ndarray) -> np.ndarray:
    """GELU in its tanh form, on one buffer: within 5e-4 of BERT's exact (erf) GELU, and about ten times faster
    in NumPy (one vectorised tanh instead of a polynomial erf over a dozen passes), which was a fifth of an
    answer's time."""
    inner = x * x
    inner *= np.float32(0.044715)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(np.sqrt(2.0 / np.pi))
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.5)
    return inner
