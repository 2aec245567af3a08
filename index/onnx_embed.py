"""Indexing through ONNX Runtime, with int8 weights: the same model, about 1.4x the passages a second.

The sentence-transformers model's transformer is exported to ONNX on first use (torch's exporter) and its
weights quantised to int8 per output channel (ONNX Runtime's dynamic quantisation); both files are kept in
a cache folder, named by the model's files. Texts are batched by length, as sentence-transformers does:
int8 activations are scaled per batch, so padding costs accuracy as well as time. Questions (a few texts at a
time) go through the float32 path of `SentenceTransformerEmbedder`: an index built so is searched like any
other, by the default embedder.

Measured by `python -m eval.int8_embedding_benchmark` (15 COVID-QA articles, 110 questions, one thread):
indexed in 46.4 s by sentence-transformers, 54.2 s by ONNX Runtime in float32, 32.9 s in int8 (1.4x); hybrid
hit@5 / MRR@10 0.936 / 0.810 float32 vs 0.955 / 0.811 int8, but dense alone 0.791 / 0.609 vs 0.764 / 0.574.
So it is a choice (`qa index --int8`), not the default: hybrid search holds, dense-only search loses a little.
Needs `pip install onnxruntime onnx` (the `int8` extra).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embed import SentenceTransformerEmbedder, pool_spans
from index.errors import MissingDependencyError

BATCH = 32
_FEEDS = ("input_ids", "attention_mask", "token_type_ids")
_FEW = 8  # this many texts or fewer (a question) take the float32 path


class OnnxEmbedder:
    """An Embedder whose corpus passes run in ONNX Runtime (int8 weights unless `int8=False`); its name,
    dimension and token budget are the float32 model's, so its indexes open with the default embedder."""

    def __init__(self, model_path: str | Path | None = None, *, cache_dir: str | Path, int8: bool = True,
                 threads: int | None = None):
        try:
            import onnxruntime
        except ImportError as error:
            raise MissingDependencyError("indexing through ONNX Runtime needs: pip install onnxruntime onnx") from error
        self.base = SentenceTransformerEmbedder(model_path, threads=threads)
        self.name, self.dimension, self.max_tokens = self.base.name, self.base.dimension, self.base.max_tokens
        self.path = self.base.path  # the model folder, recorded in the index as for the float32 embedder
        self.onnx_file = exported(self.base.path, Path(cache_dir), int8)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads or 0, 1  # 0: ONNX Runtime's default
        self._session = onnxruntime.InferenceSession(str(self.onnx_file), options, providers=["CPUExecutionProvider"])
        self._tokenizer = None

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if len(texts) <= _FEW:
            return self.base.encode(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows, tokens, output in self._passes(texts):
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            pooled = (output * mask).sum(axis=1) / mask.sum(axis=1)
            vectors[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return vectors

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                          progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Whole texts' vectors and their spans' (mean of the token vectors inside each), from one pass."""
        whole = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        for rows, tokens, output in self._passes(texts, offsets=True):
            for row, vectors, mask, offsets in zip(rows, output, tokens["attention_mask"], tokens["offset_mapping"]):
                length = int(mask.sum())
                mean = vectors[:length].mean(axis=0)
                whole[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
                pooled[row] = pool_spans(vectors[:length], [tuple(o) for o in offsets[:length].tolist()], spans[row])
        return whole, pooled

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.base.count_tokens(texts)

    def _passes(self, texts: Sequence[str], offsets: bool = False):
        """(rows, tokenised batch, token vectors) per batch of texts of like lengths."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self.base.path), local_files_only=True)
        order = np.argsort([len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), BATCH):
            rows = order[start:start + BATCH]
            tokens = self._tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                     max_length=self.max_tokens + 2, return_tensors="np",
                                     return_offsets_mapping=offsets)
            yield rows, tokens, self._session.run(None, {name: tokens[name].astype(np.int64) for name in _FEEDS})[0]


def exported(model_path: Path, cache_dir: Path, int8: bool = True) -> Path:
    """The ONNX file of the model in `model_path` (its token vectors), int8 if asked: made once per model, kept
    in `cache_dir` under a name its files' sizes and config fix."""
    config = (model_path / "config.json").read_bytes()
    sizes = sorted((p.name, p.stat().st_size) for p in model_path.iterdir() if p.is_file())
    key = hashlib.sha256(config + repr(sizes).encode()).hexdigest()[:16]
    plain, quantised = cache_dir / f"{model_path.name}-{key}.onnx", cache_dir / f"{model_path.name}-{key}-int8.onnx"
    wanted = quantised if int8 else plain
    if wanted.is_file():
        return wanted
    cache_dir.mkdir(parents=True, exist_ok=True)
    if not plain.is_file():
        _export(model_path, plain)
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        partial = quantised.with_suffix(".partial")  # renamed when whole: a killed run leaves no broken model
        quantize_dynamic(str(plain), str(partial), weight_type=QuantType.QInt8, per_channel=True)
        partial.replace(quantised)
    return wanted


def _export(model_path: Path, destination: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class TokenVectors(torch.nn.Module):  # keyword arguments: BertModel's positional order differs by version
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    example = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)(
        ["an example", "two"], padding=True, return_tensors="pt")
    partial = destination.with_suffix(".partial")
    torch.onnx.export(TokenVectors(model), tuple(example[name] for name in _FEEDS), str(partial),
                      input_names=list(_FEEDS), output_names=["tokens"], opset_version=17, dynamo=False,
                      dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*_FEEDS, "tokens")})
    partial.replace(destination)
