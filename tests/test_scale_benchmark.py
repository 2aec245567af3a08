"""Tests for eval/scale_benchmark.py's parts that the floors of issue 11 are read from."""
from __future__ import annotations

import random

from eval.scale_benchmark import HashedEmbedder, article, baseline_costs, big_article, index_archive
from qa import Engine
from qa.types import Passage


def test_a_big_article_is_about_the_size_asked_and_made_of_the_generators_paragraphs():
    made = big_article(random.Random(3), 7, 0.25)
    size = len(made["text"].encode()) / 2**20
    assert 0.25 <= size < 0.26
    assert made["id"] == "a000007" and len(made["comments"]) == 3
    assert made["text"].count("\n\n") > 300  # paragraphs, so the chunker cuts it like any article


def test_the_baseline_times_every_mode_over_the_passages_given():
    texts = ["Councils will commission GP services in Leeds.", "CCGs hold the budget for urgent care.",
             "Readers said the plan was rushed.", "NHS England retains dental services."]
    passages = [Passage(f"p{i}", f"d{i}", "article", "title", None, 0, len(t), t) for i, t in enumerate(texts)]
    result = baseline_costs(passages, ["Who commissions GP services?", "urgent care budget"], k=2)
    for mode in ("hybrid", "lexical", "dense"):
        assert 0 < result[f"search_{mode}_p50_ms"] <= result[f"search_{mode}_p95_ms"]


def test_an_archive_grown_a_batch_at_a_time_holds_what_one_built_at_once_holds(tmp_path):
    rng = random.Random(5)
    articles = [article(rng, number, paragraphs=3) for number in range(7)]
    at_once = index_archive(articles, tmp_path / "all.jsonl", tmp_path / "at-once", None)
    grown = index_archive(articles, tmp_path / "batch.jsonl", tmp_path / "grown", 3)
    assert [d.id for d in grown.documents()] == [d.id for d in at_once.documents()]
    assert [(p.id, p.text) for p in grown.passages()] == [(p.id, p.text) for p in at_once.passages()]
    reloaded = Engine.load(tmp_path / "grown", embedder=HashedEmbedder())
    assert len(reloaded.passages()) == len(at_once.passages())
