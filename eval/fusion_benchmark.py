"""COVID-QA retrieval benchmark: lexical, dense and hybrid side by side, fusion tuned on held-out articles.

Two folds over the 98 articles: fusion settings are chosen on one half's questions and scored on the
other half's, so no test question ever picks a weight. A passage is a hit when its span covers the gold
answer's start offset. Run: python -m eval.fusion_benchmark [--limit-docs N] [--json FILE]
"""
from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from eval.metrics import hit_at_k, reciprocal_rank
from eval.sets import EvalItem, is_relevant, load_squad
from qa import ChunkConfig, Engine, IndexConfig, RetrievalConfig, SentenceTransformerEmbedder

COVID_QA = Path(__file__).resolve().parent / "data" / "covid-qa" / "covid-qa.json"
KS = (1, 5, 10)
# Passages of ~200 words (the size the baseline figures were measured at), scored by ~80-word windows.
# Sentence vectors serve answers, not ranking: pooled ones make this 98-article index ~1.8x faster to build.
BENCH_INDEX = IndexConfig(chunk=ChunkConfig(passage_words=200, window_words=80, overlap_sentences=1),
                          sentence_vectors="pooled")


class CachedEmbedder:
    """Wraps an embedder so each question is embedded once across the many settings tried."""

    def __init__(self, inner):
        self.inner, self._cache = inner, {}
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens

    def encode(self, texts, progress=False):
        import numpy as np

        if len(texts) != 1:
            return self.inner.encode(texts, progress=progress)
        if texts[0] not in self._cache:
            self._cache[texts[0]] = self.inner.encode(texts)
        return np.array(self._cache[texts[0]])

    def encode_with_spans(self, texts, spans, progress=False):
        return self.inner.encode_with_spans(texts, spans, progress=progress)

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)


def score(engine: Engine, items: list[EvalItem], mode: str) -> dict[str, float]:
    """hit@1/5/10 and MRR@10 of `engine` in `mode` over `items`."""
    hits = {k: 0.0 for k in KS}
    reciprocal = 0.0
    for item in items:
        ranked = engine.search(item.question, k=max(KS), mode=mode)
        flags = [is_relevant(item, h.text, h.doc_id, h.start, h.end) for h in ranked]
        for k in KS:
            hits[k] += hit_at_k(flags, k)
        reciprocal += reciprocal_rank(flags, 10)
    n = max(len(items), 1)
    return {**{f"hit@{k}": hits[k] / n for k in KS}, "mrr@10": reciprocal / n, "questions": len(items)}


def candidate_settings() -> list[RetrievalConfig]:
    convex = [RetrievalConfig(fusion="convex", dense_weight=w, doc_weight=d)
              for w, d in itertools.product((0.2, 0.3, 0.4, 0.5, 0.6, 0.7), (0.0, 0.2, 0.4))]
    rrf = [RetrievalConfig(fusion="rrf", dense_weight=w, doc_weight=d)
           for w, d in itertools.product((0.3, 0.5, 0.7), (0.0, 0.3))]
    return convex + rrf


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-docs", type=int, default=None, help="use only the first N articles (quick runs)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    documents, items = load_squad(COVID_QA)
    if args.limit_docs:
        documents = documents[: args.limit_docs]
        keep = {d.id for d in documents}
        items = [i for i in items if all(g.doc_id in keep for g in i.gold)]
    embedder = CachedEmbedder(SentenceTransformerEmbedder())
    started = time.perf_counter()
    engine = Engine.from_documents(documents, embedder=embedder, config=BENCH_INDEX, progress=True)
    built = time.perf_counter() - started
    info = engine.info()
    print(f"indexed {info['documents']} articles: {info['passages']} passages, {info['vectors']} windows "
          f"in {built:.0f}s ({info['passages'] / built:.1f} passages/s, {info['vectors'] / built:.1f} windows/s)")

    ids = sorted(d.id for d in documents)
    halves = [set(ids[0::2]), set(ids[1::2])]
    fold_items = [[i for i in items if i.gold[0].doc_id in half] for half in halves]
    results: dict[str, list[tuple[dict, int]]] = {"lexical": [], "dense": [], "hybrid": []}
    chosen = []
    for fold in (0, 1):
        tune, test = fold_items[fold], fold_items[1 - fold]
        best = max(candidate_settings(),
                   key=lambda c: _objective(score(engine.configured(retrieval=c), tune, "hybrid")))
        chosen.append(best)
        print(f"fold {fold}: chosen on {len(tune)} questions: fusion={best.fusion} dense_weight={best.dense_weight} "
              f"doc_weight={best.doc_weight}")
        for mode in ("lexical", "dense"):
            results[mode].append((score(engine, test, mode), len(test)))
        results["hybrid"].append((score(engine.configured(retrieval=best), test, "hybrid"), len(test)))

    table = {mode: _pooled(runs) for mode, runs in results.items()}
    print(f"\nCOVID-QA, {len(items)} questions scored on held-out articles (two folds)")
    print(f"{'mode':<8} " + " ".join(f"{m:>8}" for m in ("hit@1", "hit@5", "hit@10", "mrr@10")))
    for mode, row in table.items():
        print(f"{mode:<8} " + " ".join(f"{row[m]:>8.3f}" for m in ("hit@1", "hit@5", "hit@10", "mrr@10")))
    if args.json:
        Path(args.json).write_text(json.dumps({"table": table, "chosen": [vars(c) for c in chosen],
                                               "index": info, "build_seconds": built}, indent=2))


def _objective(row: dict) -> float:
    return row["hit@5"] + row["mrr@10"]


def _pooled(runs: list[tuple[dict, int]]) -> dict[str, float]:
    total = sum(n for _, n in runs)
    return {m: sum(r[m] * n for r, n in runs) / total for m in ("hit@1", "hit@5", "hit@10", "mrr@10")}


if __name__ == "__main__":
    main()
