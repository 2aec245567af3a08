"""The library's own cost at archive scale: build, disk, load, RSS, search, first question, ask, add, delete.

A seeded generator writes news-like articles about NHS commissioning (bodies, services, places, quotes
with speakers) with reader-comment threads; a hashed bag-of-words embedder stands in for the model, so
what is timed is this library's path, not the transformer's. Sizes are in passages (roughly: one
article of ~5 passages plus 3 comments of one passage each makes 8). Load time, RSS after load and search
latency (per mode, unfiltered and filtered by kind and by one document) are measured in a fresh process,
so the build's memory does not count.

Run: python -m eval.scale_benchmark [--passages 2000 20000] [--questions 20] [--seed 1]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import random
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa import Engine

_BODIES = ["NHS England", "CCGs", "clinical commissioning groups", "local authorities", "councils",
           "health and wellbeing boards", "GP consortia", "PCTs", "the Department of Health", "Monitor",
           "NHS Improvement", "local care organisations", "the CQC"]
_SERVICES = ["GP services", "primary care", "public health", "community services", "mental health services",
             "urgent care", "out-of-hours services", "dental services", "pharmacy services", "social care"]
_PLACES = ["Greater Manchester", "London", "Birmingham", "Leeds", "Cornwall", "Sefton", "Bristol",
           "Nottingham", "Kent", "Cumbria", "Liverpool", "Sheffield"]
_VERBS = ["will commission", "are to take over commissioning of", "will hold the budget for",
          "could be handed responsibility for", "currently commission", "must approve plans for"]
_PEOPLE = ["Dr Jane Walker", "Professor Tom Hughes", "Dr Amir Patel", "Sarah Collins", "Dr Peter Lane",
           "Dr Helen Ward", "Mark Reynolds", "Dr Ruth Adams"]
_ROLES = ["chair of the BMA's GP committee", "chief executive of the NHS Confederation", "a GP in Leeds",
          "clinical lead of the CCG", "director of commissioning"]
_FILLER = ("the plans were published in a consultation document this week and set out how the budget "
           "would be shared between practices hospitals and community providers over the next three years "
           "while managers said that funding pressures and workforce shortages remained the biggest risks "
           "to delivering the changes on time across the region").split()
_OPINIONS = ["This is yet another reorganisation nobody asked for.", "Councils have no idea how to run GP services.",
             "Finally some sense about integrated care.", "Who will hold the contracts when it all goes wrong?",
             "Practices are already at breaking point and this adds more paperwork."]


class HashedEmbedder:
    """Hashed bag of words, L2-normalised: fast, deterministic, no model (only the library's path is timed)."""

    name = "hashed-bow-256"
    dimension = 256
    max_tokens = 256

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self.dimension] += 1
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def encode_with_spans(self, texts, spans, progress: bool = False):
        return self.encode(texts), [self.encode([text[s:e] for s, e in row]) for text, row in zip(texts, spans)]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    body, service, place = rng.choice(_BODIES), rng.choice(_SERVICES), rng.choice(_PLACES)
    if kind < 0.35:
        verb, year = rng.choice(_VERBS), rng.randint(2013, 2024)  # drawn in this order, as the data always was
        return f"{body[0].upper() + body[1:]} in {place} {verb} {service} from April {year}."
    if kind < 0.55:
        person = rng.choice(_PEOPLE)
        return (f"{person}, {rng.choice(_ROLES)}, said: \u201c{' '.join(rng.sample(_FILLER, 14)).capitalize()} "
                f"and {service} must not suffer.\u201d")
    return " ".join(rng.sample(_FILLER, rng.randint(14, 24))).capitalize() + "."


def article(rng: random.Random, number: int, paragraphs: int = 25) -> dict:
    place, service = rng.choice(_PLACES), rng.choice(_SERVICES)
    text = "\n\n".join(" ".join(_sentence(rng) for _ in range(rng.randint(2, 3))) for _ in range(paragraphs))
    comments = [{"author": f"Reader {rng.randint(1, 999)}", "text": " ".join(rng.sample(_OPINIONS, 2)),
                 "date": "2015-03-01"} for _ in range(3)]
    return {"id": f"a{number:06d}", "title": f"{service.capitalize()} in {place} to change hands ({number})",
            "text": text, "date": "2015-03-01", "author": "Staff reporter", "comments": comments}


def questions(rng: random.Random, count: int) -> list[str]:
    shapes = ["Who will commission {s} in {p}?", "Who holds the budget for {s}?", "What did readers say about {s}?",
              "When will {b} take over {s} in {p}?", "What are the biggest risks to {s}?"]
    return [rng.choice(shapes).format(s=rng.choice(_SERVICES), p=rng.choice(_PLACES), b=rng.choice(_BODIES))
            for _ in range(count)]


def _rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(times: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return 1000 * statistics.median(ordered), 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def loaded_costs(folder: str, asked: Sequence[str], k: int = 10) -> dict:
    """Load time, RSS after load and search p50/p95 per mode and filter (run in a fresh process)."""
    started = time.perf_counter()
    engine = Engine.load(folder, embedder=HashedEmbedder())
    result = {"load_s": time.perf_counter() - started, "rss_after_load_mb": _rss_mb()}
    documents = engine.documents()
    filters = {"all": {}, "article": {"kind": "article"}, "comment": {"kind": "comment"},
               "doc": {"doc_ids": [documents[len(documents) // 2].id]}}
    for mode in ("hybrid", "dense"):
        for name, options in filters.items():
            times, fewest = [], k
            for question in asked:
                started = time.perf_counter()
                hits = engine.search(question, k, mode=mode, **options)
                times.append(time.perf_counter() - started)
                fewest = min(fewest, len(hits))
            p50, p95 = _percentiles(times)
            result[f"search_{mode}_{name}_p50_ms"], result[f"search_{mode}_{name}_p95_ms"] = p50, p95
            result[f"search_{mode}_{name}_fewest_hits"] = fewest
    return result


def _in_fresh_process(function, *args):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def run(passages: int, question_count: int, seed: int, workdir: Path) -> dict:
    rng = random.Random(seed)
    embedder = HashedEmbedder()
    archive = workdir / f"archive-{passages}.jsonl"
    # About 8 passages an article (5 of text, 3 comments); the real count is reported.
    articles = [article(rng, number) for number in range(max(1, passages // 8))]
    archive.write_text("".join(json.dumps(a) + "\n" for a in articles))
    folder = workdir / f"index-{passages}"
    started = time.perf_counter()
    built = Engine.build([archive], folder, embedder=embedder, progress=False)
    build_s = time.perf_counter() - started
    real = len(built.passages())
    del built
    disk = {entry.name: entry.stat().st_size for entry in folder.iterdir() if entry.is_file()}
    sentence_vectors = sum(size for name, size in disk.items() if name.startswith("sentence_vectors"))
    # The first question is a commissioning one, so that everything an answer can need is needed.
    asked = ["Who will commission GP services in Greater Manchester?", *questions(rng, question_count)]
    fresh = _in_fresh_process(loaded_costs, str(folder), asked[1:])
    started = time.perf_counter()
    engine = Engine.load(folder, embedder=embedder)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.ask(asked[0])
    first_s = time.perf_counter() - started
    times = []
    for question in asked[1:]:
        started = time.perf_counter()
        engine.ask(question)
        times.append(time.perf_counter() - started)
    extra = workdir / f"one-{passages}.jsonl"
    extra.write_text(json.dumps(article(rng, 900_000)) + "\n")
    started = time.perf_counter()
    engine.add([extra])
    add_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.ask(asked[0])
    ask_after_add_s = time.perf_counter() - started
    result = {"passages": real, "articles": len(articles), "build_s": build_s,
              "disk_mb": sum(disk.values()) / 2**20, "sentence_vectors_mb": sentence_vectors / 2**20,
              "load_s": load_s, **{f"fresh_{key}": value for key, value in fresh.items()},
              "first_ask_s": first_s, "ask_p50_ms": 1000 * statistics.median(times),
              "ask_p95_ms": _percentiles(times)[1], "add_one_s": add_s, "ask_after_add_s": ask_after_add_s}
    if hasattr(engine, "delete"):
        started = time.perf_counter()
        engine.delete(["a900000"])
        result["delete_one_s"] = time.perf_counter() - started
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        for size in args.passages:
            result = run(size, args.questions, args.seed, Path(workdir))
            if args.json:
                print(json.dumps(result))
            else:
                print(" ".join(f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
                               for key, value in result.items()), flush=True)


if __name__ == "__main__":
    main()
