"""The library's own cost at archive scale: build, load, the first question after load, ask p50, add, delete.

A seeded generator writes news-like articles about NHS commissioning (bodies, services, places, quotes
with speakers) with reader-comment threads; a hashed bag-of-words embedder stands in for the model, so
what is timed is this library's path, not the transformer's. Sizes are in passages (roughly: one
article of ~5 passages plus 3 comments of one passage each makes 8).

Run: python -m eval.scale_benchmark [--passages 2000 20000] [--questions 20] [--seed 1]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
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
    started = time.perf_counter()
    engine = Engine.load(folder, embedder=embedder)
    load_s = time.perf_counter() - started
    # The first question is a commissioning one, so that everything an answer can need is needed.
    asked = ["Who will commission GP services in Greater Manchester?", *questions(rng, question_count)]
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
    result = {"passages": real, "articles": len(articles), "build_s": build_s, "load_s": load_s,
              "first_ask_s": first_s, "ask_p50_ms": 1000 * statistics.median(times),
              "add_one_s": add_s, "ask_after_add_s": ask_after_add_s}
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
