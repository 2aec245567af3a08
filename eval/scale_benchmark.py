"""The library's own cost at archive scale: build, disk, load, RSS, search, first question, ask, add, delete.

A seeded generator writes news-like articles about NHS commissioning (bodies, services, places, quotes
with speakers) with reader-comment threads; a hashed bag-of-words embedder stands in for the model, so
what is timed is this library's path, not the transformer's. Sizes are in passages (roughly: one
article of ~5 passages plus 3 comments of one passage each makes 8). Load time, RSS after load and search
latency (per mode, unfiltered and filtered by kind and by one document) are measured in a fresh process,
so the build's memory does not count. Beside them, in the same run over the same passages, a plain
baseline: bm25s top-k, FAISS exact top-k, and their convex fusion over the union of both lists
(`baseline_*`). With --big-article-mb, one article of that size is added and the ask latency measured
again after it, and a cold load + first ask in a fresh process. With --grow-by N, the index is built from the
first N articles and the rest are added N at a time (`Engine.add`), as an archive grows: an archive too large
to build in one go in memory (1M passages) is built so; with --resume as well, an index already in the kept
folder (a copy of a smaller run's, same seed: its articles are the first ones) is grown by the articles it
lacks, and build_s counts only those.

Run: python -m eval.scale_benchmark [--passages 2000 20000] [--questions 20] [--seed 1] [--big-article-mb 5]
                                    [--keep DIR [--reuse]] [--grow-by ARTICLES [--resume]]
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
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa import AnswerModel, Engine
from qa.types import Passage

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
    for mode in ("hybrid", "lexical", "dense"):
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


def cold_first_ask(folder: str, question: str) -> dict:
    """Load time and first ask after it (run in a fresh process: a cold `qa ask`, less the interpreter start)."""
    started = time.perf_counter()
    engine = Engine.load(folder, embedder=HashedEmbedder())
    loaded = time.perf_counter()
    engine.ask(question)
    return {"load_s": loaded - started, "first_ask_s": time.perf_counter() - loaded}


def _timed(function, asked: Sequence[str]) -> tuple[float, float]:
    times = []
    for question in asked:
        started = time.perf_counter()
        function(question)
        times.append(time.perf_counter() - started)
    return _percentiles(times)


def baseline_costs(passages: Sequence[Passage], asked: Sequence[str], k: int = 10) -> dict:
    """The plain baseline over the same passages: bm25s (its own tokeniser, English stopwords) top-k, a FAISS
    exact inner-product top-k over one hashed vector per passage, and hybrid = both top-k lists, then a convex
    fusion (min-max normalised scores, equal weights) over their union, each candidate's dense score exact."""
    import bm25s
    import faiss

    texts = [p.text for p in passages]
    embedder = HashedEmbedder()
    started = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    vectors = embedder.encode(texts)
    dense = faiss.IndexFlatIP(embedder.dimension)
    dense.add(vectors)
    result = {"build_s": time.perf_counter() - started}

    def lexical(question: str) -> tuple[np.ndarray, np.ndarray]:
        rows, scores = bm25.retrieve(bm25s.tokenize([question], stopwords="en", show_progress=False),
                                     k=min(k, len(texts)), show_progress=False, n_threads=1)
        return rows[0], scores[0]

    def dense_top(question: str) -> tuple[np.ndarray, np.ndarray]:
        scores, rows = dense.search(embedder.encode([question]), k)
        return rows[0], scores[0]

    def hybrid(question: str) -> list[int]:
        lexical_rows, lexical_scores = lexical(question)
        dense_rows = dense_top(question)[0]
        union = np.union1d(lexical_rows, dense_rows[dense_rows >= 0])
        bm25_of = dict(zip(lexical_rows.tolist(), lexical_scores.tolist()))
        lexical_part = np.array([bm25_of.get(row, 0.0) for row in union.tolist()])
        dense_part = vectors[union] @ embedder.encode([question])[0]

        def normalised(x: np.ndarray) -> np.ndarray:
            spread = x.max() - x.min()
            return (x - x.min()) / spread if spread > 0 else np.zeros_like(x)

        fused = 0.5 * normalised(lexical_part) + 0.5 * normalised(dense_part)
        return union[np.argsort(-fused)[:k]].tolist()

    for mode, function in (("hybrid", hybrid), ("lexical", lexical), ("dense", dense_top)):
        result[f"search_{mode}_p50_ms"], result[f"search_{mode}_p95_ms"] = _timed(function, asked)
    return result


def big_article(rng: random.Random, number: int, megabytes: float) -> dict:
    """One article of about `megabytes` MB of text: the generator's paragraphs, as many as it takes."""
    paragraphs = []
    size = 0
    while size < megabytes * 2**20:
        paragraphs.append(" ".join(_sentence(rng) for _ in range(rng.randint(2, 3))))
        size += len(paragraphs[-1].encode()) + 2
    return {**article(rng, number, paragraphs=0), "text": "\n\n".join(paragraphs)}


@contextmanager
def _answer_model_timed(spent: list[float]):
    """Add the time each call of the shared answer model takes to spent[-1], while the block runs."""
    model = AnswerModel.shared()
    scored = model.logits

    def timed(*args, **options):
        started = time.perf_counter()
        try:
            return scored(*args, **options)
        finally:
            spent[-1] += time.perf_counter() - started

    model.logits = timed
    try:
        yield
    finally:
        del model.logits  # the class's method again


def _in_fresh_process(function, *args):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def index_archive(articles: Sequence[dict], archive: Path, folder: Path, grow_by: int | None,
                  resume: bool = False) -> Engine:
    """The index of `articles` in `folder`: built at once, or from `grow_by`, the rest added `grow_by` at a time.

    With `resume`, an index already in `folder` is loaded and grown by the articles it lacks.
    """
    engine = None
    if resume and (folder / "manifest.json").is_file():
        engine = Engine.load(folder, embedder=HashedEmbedder())
        present = {document.id for document in engine.documents()}
        articles = [entry for entry in articles if entry["id"] not in present]
    batches = [articles[start:start + (grow_by or len(articles))]
               for start in range(0, len(articles), grow_by or len(articles))]
    for number, batch in enumerate(batches):
        archive.write_text("".join(json.dumps(a) + "\n" for a in batch))
        if engine is None:
            engine = Engine.build([archive], folder, embedder=HashedEmbedder(), progress=False)
        else:
            engine.add([archive], progress=False)
        if grow_by:
            print(f"  {number + 1} of {len(batches)} batches indexed", flush=True)
    return engine


def run(passages: int, question_count: int, seed: int, workdir: Path, big_article_mb: float = 0.0,
        reuse: bool = False, grow_by: int | None = None, resume: bool = False) -> dict:
    rng = random.Random(seed)
    embedder = HashedEmbedder()
    archive = workdir / f"archive-{passages}.jsonl"
    # About 8 passages an article (5 of text, 3 comments); the real count is reported.
    articles = [article(rng, number) for number in range(max(1, passages // 8))]
    folder = workdir / f"index-{passages}"
    if reuse and (folder / "manifest.json").is_file():  # kept by an earlier run (--keep): timed again, not built
        built, build_s = Engine.load(folder, embedder=embedder), None
    else:
        started = time.perf_counter()
        built = index_archive(articles, archive, folder, grow_by, resume)
        build_s = time.perf_counter() - started
    real = len(built.passages())
    baseline = baseline_costs(built.passages(), questions(random.Random(seed + 1), question_count))
    del built
    disk = {entry.name: entry.stat().st_size for entry in folder.iterdir() if entry.is_file()}
    sentence_vectors = sum(size for name, size in disk.items() if "sentence_vectors" in name)  # every segment's
    # The first question is a commissioning one, so that everything an answer can need is needed.
    asked = ["Who will commission GP services in Greater Manchester?", *questions(rng, question_count)]
    fresh = _in_fresh_process(loaded_costs, str(folder), asked[1:])
    started = time.perf_counter()
    engine = Engine.load(folder, embedder=embedder)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.ask(asked[0])
    first_s = time.perf_counter() - started
    times, model_times = [], []
    with _answer_model_timed(model_times):
        for question in asked[1:]:
            model_times.append(0.0)
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
              "ask_p95_ms": _percentiles(times)[1],
              # The answer model's share: the same at any archive size (it reads the question's candidates only).
              "ask_model_p50_ms": _percentiles(model_times)[0],
              "ask_less_model_p95_ms": _percentiles([t - m for t, m in zip(times, model_times)])[1],
              "add_one_s": add_s, "ask_after_add_s": ask_after_add_s}
    started = time.perf_counter()
    engine.delete(["a900000"])
    result["delete_one_s"] = time.perf_counter() - started
    result.update({f"baseline_{key}": value for key, value in baseline.items()})
    if big_article_mb:
        big = workdir / f"big-{passages}.jsonl"
        big.write_text(json.dumps(big_article(rng, 900_001, big_article_mb)) + "\n")
        started = time.perf_counter()
        engine.add([big])
        result["big_article_mb"] = big.stat().st_size / 2**20
        result["big_add_s"] = time.perf_counter() - started
        started = time.perf_counter()
        engine.ask(asked[0])
        result["big_first_ask_s"] = time.perf_counter() - started
        result["big_ask_p50_ms"], result["big_ask_p95_ms"] = _timed(engine.ask, asked[1:])
        cold = _in_fresh_process(cold_first_ask, str(folder), asked[0])
        result.update({f"big_cold_{key}": value for key, value in cold.items()})
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--big-article-mb", type=float, default=0.0,
                        help="also add one article of this many MB and measure ask after it")
    parser.add_argument("--keep", metavar="DIR", help="write the archives and indexes here and keep them")
    parser.add_argument("--reuse", action="store_true", help="with --keep: time the index an earlier run kept "
                        "there again instead of building it (it must be in this version's format)")
    parser.add_argument("--grow-by", type=int, metavar="ARTICLES", help="build from this many articles, then add "
                        "the rest this many at a time (an archive too large to build in memory at once)")
    parser.add_argument("--resume", action="store_true", help="with --keep and --grow-by: grow the index already "
                        "in DIR/index-N (a copy of a smaller run's, same seed) by the articles it lacks")
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(args.keep or temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        for size in args.passages:
            result = run(size, args.questions, args.seed, workdir, args.big_article_mb, args.reuse, args.grow_by,
                         args.resume)
            if args.json:
                print(json.dumps(result))
            else:
                print(" ".join(f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
                               for key, value in result.items()), flush=True)


if __name__ == "__main__":
    main()
