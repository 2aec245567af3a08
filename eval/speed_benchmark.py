"""Speed on this machine: indexing throughput and warm query latency, against plain sentence-transformers.

Indexing: our build (sentence-aligned windows and sentences, nothing truncated) side by side with the
plain baseline (sentence-transformers encoding each ~200-word passage whole, truncated at 256 tokens).
Latency: `search` and `ask` over the shipped question set, warm (after one pass), p50 and p95, idle and
with one core kept busy by another process.
Cold start of `qa ask` is a whole-process figure: time it with /usr/bin/time or hyperfine, e.g.
    hyperfine 'qa ask "Who commissions GP services in Greater Manchester?"'
Run: python -m eval.speed_benchmark [--repeats N]
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time

from eval.metrics import percentile
from eval.sets import PULSE_QUESTIONS, load_jsonl
from qa import DEFAULT_CORPUS, Engine, SentenceTransformerEmbedder


def indexing(repeats: int) -> None:
    embedder = SentenceTransformerEmbedder()
    embedder.encode(["warm up"] * 16)  # load the model outside the timings
    ours, baseline = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        engine = Engine.build([DEFAULT_CORPUS], None, embedder=embedder, progress=False)
        ours.append(time.perf_counter() - started)
        texts = [p.text for p in engine.passages()]
        started = time.perf_counter()
        embedder.encode_all(texts)
        baseline.append(time.perf_counter() - started)
    info = engine.info()
    passages = info["passages"]
    print(f"indexing the default corpus ({info['documents']} articles, {passages} passages, "
          f"{info['vectors']} windows), median of {repeats}:")
    print(f"  this library     {statistics.median(ours):6.2f} s  {passages / statistics.median(ours):7.1f} passages/s "
          f"(parse, chunk, embed windows and sentences, FAISS + BM25; nothing truncated)")
    print(f"  plain baseline   {statistics.median(baseline):6.2f} s  {passages / statistics.median(baseline):7.1f} "
          f"passages/s (sentence-transformers on whole passages, truncated at 256 tokens; embedding only)")


def latency(repeats: int) -> None:
    """Warm search/ask latency, on an idle machine and while another process keeps one core busy
    (users run this on shared servers), side by side in one run."""
    engine = Engine.default()
    questions = [item.question for item in load_jsonl(PULSE_QUESTIONS)]
    for question in questions:  # warm: caches, facts, quotes, the answer model, BLAS threads
        engine.ask(question)
    for busy in (False, True):
        spinner = multiprocessing.Process(target=_spin, daemon=True) if busy else None
        if spinner:
            spinner.start()
        try:
            timings = _time_calls(engine, questions, repeats)
        finally:
            if spinner:
                spinner.terminate()
        print(f"warm latency on the default corpus, {len(questions)} questions x {repeats}, "
              f"{'one core kept busy by another process' if busy else 'idle'}:")
        for name, values in timings.items():
            print(f"  {name:<7} p50 {percentile(values, 50):6.1f} ms   p95 {percentile(values, 95):6.1f} ms   "
                  f"max {max(values):6.1f} ms")


def _time_calls(engine: Engine, questions: list[str], repeats: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"search": [], "ask": []}
    for _ in range(repeats):
        for question in questions:
            for name, call in (("search", engine.search), ("ask", engine.ask)):
                started = time.perf_counter()
                call(question)
                timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def _spin() -> None:
    while True:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-only", action="store_true", help="skip the indexing comparison")
    args = parser.parse_args(argv)
    if not args.latency_only:
        indexing(args.repeats)
    latency(args.repeats)


if __name__ == "__main__":
    main()
