"""The answer benchmark's sets (eval/answer_benchmark.py): gold spans point at the answers, removed
sentences are gone, near misses differ from every question they were made from."""
from __future__ import annotations

from collections import Counter

import pytest

from eval.answer_benchmark import build_set
from eval.squad_splits import heldout_articles


@pytest.fixture(scope="module")
def squad_dev():
    return build_set("squad-dev", 60)


def test_gold_spans_hold_the_published_answers(squad_dev):
    records, items = squad_dev
    text = {r["id"]: r["text"] for r in records}
    answers = {qa["question"].strip(): {a["text"].strip() for a in qa["answers"]}
               for article in heldout_articles("dev") for p in article["paragraphs"] for qa in p["qas"]}
    answerable = [i for i in items if i.kind == "answerable"]
    assert 50 <= len(answerable) <= 60  # a question whose answer went with a removed sentence is dropped
    for item in answerable:
        assert text[item.doc_id][item.gold[0]:item.gold[1]] in answers[item.question]


def test_near_misses_are_of_every_kind_and_never_an_original_question(squad_dev):
    _, items = squad_dev
    kinds = Counter(i.kind for i in items)
    assert kinds["sentence removed"] > 0 and kinds["swap"] > 0
    originals = {qa["question"].strip() for article in heldout_articles("dev") for p in article["paragraphs"]
                 for qa in p["qas"]}
    assert all(i.question not in originals for i in items if i.kind not in ("answerable", "sentence removed"))
    assert all(i.gold is None for i in items if i.kind != "answerable")


def test_the_sets_are_the_same_on_every_run():
    first, second = build_set("squad-dev", 20), build_set("squad-dev", 20)
    assert first == second
