"""Would indexing be faster through ONNX Runtime, in float32 or int8, at equal retrieval quality?

Indexes the first N COVID-QA articles with each way of embedding documents (sentence-transformers float32,
and `qa.OnnxEmbedder`: ONNX Runtime float32, then int8 weights) and scores dense and hybrid retrieval as
`eval.fusion_benchmark` does. Questions are embedded as the library does (float32) in every case: only the
indexing path changes. Needs the `int8` extra (`pip install onnxruntime onnx`).

Run: python -m eval.int8_embedding_benchmark [--limit-docs 15] [--threads 1]
"""
from __future__ import annotations

import argparse
import tempfile
import time

from eval.fusion_benchmark import BENCH_INDEX, COVID_QA, score
from eval.sets import load_squad
from qa import Engine, OnnxEmbedder, SentenceTransformerEmbedder


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-docs", type=int, default=15, help="index the first N COVID-QA articles")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    documents, items = load_squad(COVID_QA)
    documents = documents[:args.limit_docs]
    kept = {d.id for d in documents}
    items = [i for i in items if all(g.doc_id in kept for g in i.gold)]
    print(f"{len(documents)} COVID-QA articles, {len(items)} questions, {args.threads} thread(s)")
    with tempfile.TemporaryDirectory() as cache:
        embedders = {"sentence-transformers float32": SentenceTransformerEmbedder(threads=args.threads),
                     "onnxruntime float32": OnnxEmbedder(cache_dir=cache, int8=False, threads=args.threads),
                     "onnxruntime int8": OnnxEmbedder(cache_dir=cache, threads=args.threads)}
        for name, embedder in embedders.items():
            started = time.perf_counter()
            engine = Engine.from_documents(documents, embedder=embedder, config=BENCH_INDEX, progress=False)
            built = time.perf_counter() - started
            figures = {mode: score(engine, items, mode) for mode in ("dense", "hybrid")}
            print(f"{name:32s} indexed in {built:6.1f} s ({len(engine.passages()) / built:5.1f} passages/s)  " +
                  "  ".join(f"{mode} hit@5 {f['hit@5']:.3f} MRR@10 {f['mrr@10']:.3f}" for mode, f in figures.items()),
                  flush=True)


if __name__ == "__main__":
    main()
