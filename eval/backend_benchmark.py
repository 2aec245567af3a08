"""Search latency on the two backends: the embedded FAISS + BM25 files and Qdrant (local mode on a folder).

Both engines open the same index folder; Qdrant is filled from it first (vectors copied, timed). Each
query is searched once to warm up, then `--repeat` times per mode; p50 and p95 are over every search.
The default corpus uses the real model (so a search includes embedding the query); `--synthetic N`
adds an archive of about N passages from eval.scale_benchmark with its hashed embedder (library path only).

Run: python -m eval.backend_benchmark [--synthetic 20000] [--repeat 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from qa import DEFAULT_CORPUS, Engine

MODES = ("hybrid", "lexical", "dense")
DATA = Path(__file__).resolve().parent / "data"


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(engine: Engine, questions: Sequence[str], repeat: int) -> dict:
    result = {}
    for mode in MODES:
        times = []
        for question in questions:
            engine.search(question, 10, mode=mode)  # warm
            for _ in range(repeat):
                started = time.perf_counter()
                engine.search(question, 10, mode=mode)
                times.append(1000 * (time.perf_counter() - started))
        result[mode] = {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 0.95), 2)}
    started = time.perf_counter()
    engine.search(questions[0], 10, kind="comment")
    result["hybrid_comments_ms"] = round(1000 * (time.perf_counter() - started), 2)
    return result


def compare(folder: Path, embedder, questions: Sequence[str], repeat: int, qdrant: Path) -> dict:
    files = Engine.load(folder, embedder=embedder)
    started = time.perf_counter()
    on_qdrant = Engine.load(folder, embedder=embedder, qdrant_path=qdrant)
    load_s = time.perf_counter() - started
    top_same = sum(files.search(q, 1)[0].passage_id == on_qdrant.search(q, 1)[0].passage_id for q in questions)
    return {"passages": len(files.passages()), "questions": len(questions), "qdrant_fill_s": round(load_s, 2),
            "files": measure(files, questions, repeat), "qdrant_local": measure(on_qdrant, questions, repeat),
            "same_top_hybrid_passage": f"{top_same}/{len(questions)}"}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, nargs="*", default=[], metavar="PASSAGES")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in (DATA / "news_dev.jsonl").read_text().splitlines() if line.strip()]
    questions = [row["question"] for row in rows][:args.questions]
    results = {}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        built = Engine.build(sorted(DEFAULT_CORPUS.glob("*.txt")), work / "default", progress=False)  # MiniLM
        results["default corpus (MiniLM)"] = compare(work / "default", built.embedder, questions, args.repeat,
                                                     work / "q-default")
        for size in args.synthetic:
            from eval.scale_benchmark import HashedEmbedder, article
            from eval.scale_benchmark import questions as synthetic_questions

            rng = random.Random(1)
            archive = work / f"archive-{size}.jsonl"
            archive.write_text("".join(json.dumps(article(rng, n)) + "\n" for n in range(max(1, size // 8))))
            Engine.build([archive], work / f"synthetic-{size}", embedder=HashedEmbedder(), progress=False)
            results[f"synthetic {size} (hashed)"] = compare(work / f"synthetic-{size}", HashedEmbedder(),
                                                            synthetic_questions(rng, args.questions), args.repeat,
                                                            work / f"q-{size}")
    lines = [f"{name}: {json.dumps(figures)}" for name, figures in results.items()]
    print(json.dumps(results, indent=1) if args.json else "\n".join(lines))


if __name__ == "__main__":
    main()
