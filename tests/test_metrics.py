"""Ranking metrics against ranx on a small fixture, and unit cases for the other metrics."""
from __future__ import annotations

import numpy as np
import pytest
import ranx

from eval.metrics import (
    abstention,
    citation_precision,
    containment,
    hit_at_k,
    ndcg_at_k,
    percentile,
    reciprocal_rank,
    summarise,
)
from qa.errors import InputError

# Rankings best first; relevant ids per query. Covers: hit at rank 1, late hits, a hit only
# past rank 10, no hit at all, relevant documents never retrieved, several relevant in a row.
RANKINGS = {
    "q1": ["d1", "d2", "d3", "d4", "d5"],
    "q2": ["d9", "d8", "d7", "d1", "d6", "d5", "d4", "d3", "d2", "d10", "d11", "d12"],
    "q3": ["d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12", "d1", "d2"],
    "q4": ["d5", "d6", "d7"],
    "q5": ["d2", "d1", "d7", "d3", "d8", "d4"],
}
RELEVANT = {
    "q1": {"d1", "d3"},
    "q2": {"d1", "d2", "d20"},
    "q3": {"d1"},
    "q4": {"d1", "d2"},
    "q5": {"d2", "d1", "d3", "d4"},
}


def _flags(qid: str) -> list[bool]:
    return [doc in RELEVANT[qid] for doc in RANKINGS[qid]]


def _ranx_scores(metric: str) -> dict[str, float]:
    qrels = ranx.Qrels({q: {d: 1 for d in docs} for q, docs in RELEVANT.items()})
    # Strictly decreasing scores so ranx keeps exactly our order.
    run = ranx.Run({q: {d: float(len(docs) - i) for i, d in enumerate(docs)} for q, docs in RANKINGS.items()})
    ranx.evaluate(qrels, run, metric)
    return {q: float(v) for q, v in run.scores[metric].items()}


@pytest.mark.parametrize(
    ("metric", "ours"),
    [
        ("hit_rate@1", lambda q: hit_at_k(_flags(q), 1)),
        ("hit_rate@5", lambda q: hit_at_k(_flags(q), 5)),
        ("hit_rate@10", lambda q: hit_at_k(_flags(q), 10)),
        ("mrr@10", lambda q: reciprocal_rank(_flags(q), 10)),
        ("ndcg@10", lambda q: ndcg_at_k(_flags(q), 10, n_relevant=len(RELEVANT[q]))),
        ("ndcg@3", lambda q: ndcg_at_k(_flags(q), 3, n_relevant=len(RELEVANT[q]))),
    ],
)
def test_ranking_metrics_match_ranx(metric, ours):
    expected = _ranx_scores(metric)
    for qid in RANKINGS:
        assert ours(qid) == pytest.approx(expected[qid], abs=1e-9), (metric, qid)


def test_ranking_metric_values_by_hand():
    assert reciprocal_rank(_flags("q2"), 10) == pytest.approx(1 / 4)
    assert reciprocal_rank(_flags("q3"), 10) == 0.0  # its only relevant passage is at rank 11
    assert reciprocal_rank(_flags("q3"), 11) == pytest.approx(1 / 11)
    assert hit_at_k([], 5) == 0.0
    assert ndcg_at_k([True, False], 10) == 1.0
    assert ndcg_at_k([False, True], 10, n_relevant=1) == pytest.approx(1 / np.log2(3))
    assert ndcg_at_k([False, False], 10, n_relevant=0) == 0.0


def test_ranking_metrics_reject_bad_arguments():
    with pytest.raises(InputError, match="k must be a positive integer"):
        hit_at_k([True], 0)
    with pytest.raises(InputError, match="n_relevant"):
        ndcg_at_k([True, True], 10, n_relevant=1)


def test_containment_normalises_case_quotes_and_spaces():
    assert containment("The budget is  £6bn for\nGreater Manchester.", ["£6BN for greater manchester"])
    assert containment("The ‘ultimate poisoned chalice’ for GPs", ["'ultimate poisoned chalice'"])
    assert not containment("Twelve CCGs", ["12 CCGs"])
    assert not containment("anything", [])


def test_citation_precision():
    assert citation_precision([True, False, True, True]) == pytest.approx(0.75)
    assert citation_precision([False]) == 0.0
    assert citation_precision([]) is None


def test_abstention_treats_unanswerable_as_positive():
    abstained = [True, True, False, False, True]
    answerable = [False, True, False, True, False]
    scores = abstention(abstained, answerable)
    assert scores.precision == pytest.approx(2 / 3)
    assert scores.recall == pytest.approx(2 / 3)
    assert (scores.abstained, scores.unanswerable) == (3, 3)
    never = abstention([False, False], [True, False])
    assert never.precision is None and never.recall == 0.0
    with pytest.raises(InputError, match="pair up"):
        abstention([True], [True, False])


def test_percentile_matches_numpy():
    values = [0.31, 0.02, 1.7, 0.45, 0.9, 0.12, 0.05]
    for p in (0, 50, 95, 99, 100):
        assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)), abs=1e-12)
    assert percentile([4.0], 95) == 4.0
    with pytest.raises(InputError):
        percentile([], 50)
    with pytest.raises(InputError):
        percentile([1.0], 101)


def test_summarise_averages_overall_and_per_kind():
    rows = [
        {"id": "a", "kind": "fact", "hit@5": True, "mrr@10": 1.0, "citation_precision": 0.5},
        {"id": "b", "kind": "fact", "hit@5": False, "mrr@10": 0.0, "citation_precision": None},
        {"id": "c", "kind": "comment", "hit@5": True, "mrr@10": 0.5, "citation_precision": 1.0},
    ]
    summary = summarise(rows)
    assert summary["overall"] == {
        "n": 3, "hit@5": pytest.approx(2 / 3), "mrr@10": pytest.approx(0.5), "citation_precision": 0.75
    }
    assert summary["by_kind"]["fact"] == {"n": 2, "hit@5": 0.5, "mrr@10": 0.5, "citation_precision": 0.5}
    assert summary["by_kind"]["comment"]["n"] == 1
    assert "id" not in summary["overall"]


def test_summarise_rejects_rows_it_cannot_group_or_average():
    with pytest.raises(InputError, match="kind"):
        summarise([{"hit@5": 1.0}])
    with pytest.raises(InputError, match="numbers in some rows"):
        summarise([{"kind": "fact", "score": 1.0}, {"kind": "fact", "score": "high"}])
