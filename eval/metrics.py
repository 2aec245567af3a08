"""Evaluation metrics as pure functions over per-question results.

Ranking metrics take `relevance`: one flag per retrieved passage, best rank first.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eval.sets import normalise
from qa.errors import InputError, check_k


def hit_at_k(relevance: Sequence[bool], k: int) -> float:
    """1.0 if any of the first k passages is relevant, else 0.0."""
    check_k(k)
    return 1.0 if any(relevance[:k]) else 0.0


def reciprocal_rank(relevance: Sequence[bool], k: int = 10) -> float:
    """1 / rank of the first relevant passage within the first k, or 0.0 (averaged, this is MRR@k)."""
    check_k(k)
    for rank, relevant in enumerate(relevance[:k], start=1):
        if relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(relevance: Sequence[bool], k: int = 10, n_relevant: int | None = None) -> float:
    """nDCG@k with binary gains: DCG of the ranking over the DCG of an ideal one.

    `n_relevant` is how many relevant passages exist in the collection; when None, only those
    in `relevance` are counted, which flatters a ranking that misses some. 0.0 when none exist.
    """
    check_k(k)
    found = sum(1 for relevant in relevance if relevant)
    if n_relevant is None:
        n_relevant = found
    elif n_relevant < found:
        raise InputError(f"n_relevant ({n_relevant}) is less than the relevant passages ranked ({found})")
    dcg = sum(1.0 / math.log2(rank + 1) for rank, relevant in enumerate(relevance[:k], start=1) if relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return dcg / ideal if ideal else 0.0


def containment(answer_text: str, answers: Iterable[str]) -> bool:
    """Whether the answer contains any expected answer string, compared after `normalise`."""
    text = normalise(answer_text)
    return any(normalise(expected) in text for expected in answers)


def citation_precision(cited_relevance: Sequence[bool]) -> float | None:
    """Share of an answer's citations that are relevant; None when it cites nothing."""
    if not cited_relevance:
        return None
    return sum(1 for relevant in cited_relevance if relevant) / len(cited_relevance)


@dataclass(frozen=True)
class Abstention:
    """How well abstentions pick out unanswerable questions (the positives); None when undefined."""

    precision: float | None  # of the questions abstained on, the share that were unanswerable
    recall: float | None  # of the unanswerable questions, the share abstained on
    abstained: int
    unanswerable: int


def abstention(abstained: Sequence[bool], answerable: Sequence[bool]) -> Abstention:
    """Abstention precision and recall over questions, paired by position."""
    if len(abstained) != len(answerable):
        raise InputError(f"abstained and answerable must pair up, got {len(abstained)} and {len(answerable)} flags")
    n_abstained = sum(1 for a in abstained if a)
    n_unanswerable = sum(1 for ok in answerable if not ok)
    correct = sum(1 for a, ok in zip(abstained, answerable) if a and not ok)
    return Abstention(
        precision=correct / n_abstained if n_abstained else None,
        recall=correct / n_unanswerable if n_unanswerable else None,
        abstained=n_abstained,
        unanswerable=n_unanswerable,
    )


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative (ties count half)."""
    if len(scores) != len(positive):
        raise InputError(f"auroc needs one label per score, got {len(scores)} scores and {len(positive)} labels")
    pos = [s for s, p in zip(scores, positive) if p]
    neg = [s for s, p in zip(scores, positive) if not p]
    if not pos or not neg:
        raise InputError("auroc needs at least one positive and one negative")
    ranked = sorted(zip(scores, positive))
    rank_sum, i = 0.0, 0
    while i < len(ranked):  # average ranks over ties
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        rank_sum += sum(1 for _, p in ranked[i:j] if p) * (i + j + 1) / 2
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def reliability(probabilities: Sequence[float], outcomes: Sequence[bool], bins: int = 10) -> tuple[list[dict], float]:
    """A reliability table (per equal-width bin: count, mean predicted probability, observed rate) and the
    expected calibration error: the count-weighted mean gap between the two."""
    if len(probabilities) != len(outcomes) or not probabilities:
        raise InputError("reliability needs one outcome per probability, and at least one of each")
    table, error = [], 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [(p, o) for p, o in zip(probabilities, outcomes) if low <= p < high or (b == bins - 1 and p == 1.0)]
        if not members:
            continue
        predicted = sum(p for p, _ in members) / len(members)
        observed = sum(1 for _, o in members if o) / len(members)
        table.append({"bin": f"{low:.1f}-{high:.1f}", "count": len(members), "predicted": predicted,
                      "observed": observed})
        error += len(members) * abs(predicted - observed)
    return table, error / len(probabilities)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), NumPy's (linear interpolation between ranks), with its arguments checked."""
    if not values:
        raise InputError("percentile needs at least one value")
    if not 0 <= p <= 100:
        raise InputError(f"p must be between 0 and 100, got {p}")
    return float(np.percentile(values, p))


def summarise(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Average each numeric field of per-question rows, overall and per row 'kind'.

    Numbers and booleans are averaged, None (metric undefined for that question) is skipped,
    text fields are ignored. Returns {"overall": {...}, "by_kind": {kind: {...}}}, each with "n".
    """
    rows = list(rows)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for i, row in enumerate(rows):
        kind = row.get("kind")
        if not isinstance(kind, str) or not kind:
            raise InputError(f"row {i} needs a 'kind' string to be summarised, got {kind!r}")
        if "n" in row:
            raise InputError(f"row {i} has a field named 'n', which the summary uses for the row count")
        groups.setdefault(kind, []).append(row)
    metrics = _metric_fields(rows)
    return {
        "overall": _means(rows, metrics),
        "by_kind": {kind: _means(group, metrics) for kind, group in sorted(groups.items())},
    }


def _metric_fields(rows: list[Mapping[str, Any]]) -> list[str]:
    """Fields that hold a number or None in every row, in first-seen order."""
    numeric: dict[str, bool] = {}
    for row in rows:
        for name, value in row.items():
            is_number = value is None or isinstance(value, (bool, int, float))
            numeric[name] = numeric.get(name, True) and is_number
    for name, is_number in numeric.items():
        if not is_number and any(isinstance(row.get(name), (bool, int, float)) for row in rows):
            raise InputError(f"field {name!r} holds numbers in some rows and other values in others")
    return [name for name, is_number in numeric.items() if is_number]


def _means(rows: list[Mapping[str, Any]], metrics: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {"n": len(rows)}
    for name in metrics:
        found = [float(row[name]) for row in rows if row.get(name) is not None]
        summary[name] = sum(found) / len(found) if found else None
    return summary
