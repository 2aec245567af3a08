"""Near-miss questions (eval/near_misses.py) and the metrics that score abstention on them (eval/metrics.py)."""
from __future__ import annotations

import random

import pytest

from eval.metrics import auroc, reliability
from eval.near_misses import flip_opposite, names, near_miss, negate, swap_name
from qa.errors import InputError

PARAGRAPH = "In 1850 John Smith moved to New York. Later the city of Paris welcomed him."


def test_names_are_capitalised_runs_and_numbers_but_not_a_sentence_s_first_word():
    assert names(PARAGRAPH) == ["John Smith", "New York", "Paris", "1850"]


def test_a_swap_brings_in_a_name_the_passage_never_mentions():
    question = "When did John Smith move to New York?"
    changed = swap_name(question, ["Leeds", "Paris", "Mary Jones"], PARAGRAPH, random.Random(1))
    assert changed and changed != question
    assert not any(name in changed for name in ("Paris",))  # Paris is in the passage: never a replacement


def test_a_number_swap_gives_another_number():
    changed = swap_name("What happened in 1850?", [], PARAGRAPH, random.Random(3))
    assert changed and "1850" not in changed and any(ch.isdigit() for ch in changed)


def test_negation_goes_before_a_verb_not_a_determiner():
    assert negate("Who was appointed to lead it?") == "Who was not appointed to lead it?"
    assert negate("What does the trochophore become?") is None
    assert negate("Who was not appointed?") is None


def test_an_opposite_keeps_the_capital_letter():
    assert flip_opposite("Largest city?") == "Smallest city?"
    assert flip_opposite("Which city?") is None


def test_near_miss_says_how_it_was_made_and_is_repeatable():
    first = near_miss("When did John Smith move?", ["Leeds"], PARAGRAPH, random.Random(5))
    assert first == near_miss("When did John Smith move?", ["Leeds"], PARAGRAPH, random.Random(5))
    assert first[1] in ("swap", "opposite", "negate")


def test_auroc_counts_pairs_and_ties_half():
    assert auroc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert auroc([0.1, 0.9], [True, False]) == 0.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5
    assert auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    with pytest.raises(InputError, match="at least one positive and one negative"):
        auroc([0.1, 0.2], [True, True])


def test_reliability_table_and_calibration_error():
    table, error = reliability([0.05, 0.95, 0.95, 0.55], [False, True, False, True])
    assert [row["count"] for row in table] == [1, 1, 2]
    assert table[-1]["predicted"] == pytest.approx(0.95) and table[-1]["observed"] == 0.5
    assert error == pytest.approx((0.05 + 0.45 + 2 * 0.45) / 4)
