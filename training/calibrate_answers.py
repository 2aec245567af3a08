"""Fit the answer model's calibration (`qa/models/answer_scorer/calibration.json`) on the calibration sets.

    python -m training.calibrate_answers [--questions 300]

Runs `Engine.scored_sentences` over three sources, none of them trained on or reported: `squad-calibration`
and `covid-calibration` (see `eval.answer_benchmark`) and `eval/data/news_calibration.jsonl` (questions
about the default corpus, written for calibration only, so the news domain is represented). Each source
weighs the same, whatever its size. It fits, in turn: the sentence map (the answer model's features -> the
sentence holds the answer), the confidence map (the best sentence's probability -> the answer is
supported), and the threshold: the most near misses abstained while at least 90% of answerable questions
are answered. Then report with `python -m eval.answer_benchmark`.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from eval.answer_benchmark import build_set, open_engine
from eval.sets import DATA_DIR, is_relevant, load_jsonl, normalise
from qa import Engine
from qa.answer_model import FEATURES, Calibration, write_calibration

CALIBRATION_SETS = ("squad-calibration", "covid-calibration")
NEWS_CALIBRATION = DATA_DIR / "news_calibration.jsonl"
ANSWER_FLOOR = 0.90  # the product answers at least nine in ten answerable questions; beyond that it abstains


@dataclass(frozen=True)
class Row:
    source: str
    question: int  # number of the question, unique across sources
    features: list[float]
    holds: bool  # the sentence holds the answer
    answerable: bool
    weight: float  # 1 / questions of its source: every source weighs the same


def benchmark_rows(name: str, questions: int, first: int) -> list[Row]:
    records, items = build_set(name, questions)
    engine, rows = open_engine(name, records), []
    for number, item in enumerate(items, start=first):
        for candidate in engine.scored_sentences(item.question):
            holds = bool(item.gold and candidate.hit.doc_id == item.doc_id
                         and candidate.start <= item.gold[0] < candidate.end)
            rows.append(Row(name, number, list(candidate.features), holds, item.kind == "answerable", 1 / len(items)))
    return rows


def news_rows(engine: Engine, first: int) -> list[Row]:
    """A sentence holds the answer when its passage holds the item's evidence and the sentence an answer."""
    items, rows = load_jsonl(NEWS_CALIBRATION), []
    for number, item in enumerate(items, start=first):
        for candidate in engine.scored_sentences(item.question):
            holds = (item.answerable and is_relevant(item, candidate.hit.text, candidate.hit.doc_id,
                                                     candidate.hit.start, candidate.hit.end)
                     and any(normalise(answer) in normalise(candidate.text) for answer in item.answers))
            rows.append(Row(NEWS_CALIBRATION.name, number, list(candidate.features), holds, item.answerable,
                            1 / len(items)))
    return rows


def calibrate(rows: list[Row], answer_floor: float) -> Calibration:
    """Fit the sentence map, then the confidence map, then the threshold (see the module's docstring)."""
    features = np.array([r.features for r in rows])
    weights, bias = _logistic(features, np.array([r.holds for r in rows], dtype=float),
                              np.array([r.weight for r in rows]))
    probability = Calibration(tuple(weights), bias).sentence_probability(features)
    best: dict[int, tuple[float, Row]] = {}
    for row, p in zip(rows, probability):
        if row.question not in best or p > best[row.question][0]:
            best[row.question] = (float(p), row)
    top = np.array([p for p, _ in best.values()]).clip(1e-9, 1 - 1e-9)
    supported = np.array([r.holds for _, r in best.values()], dtype=float)
    answerable = np.array([r.answerable for _, r in best.values()])
    question_weight = np.array([r.weight for _, r in best.values()])
    (scale,), shift = _logistic(np.log(top / (1 - top))[:, None], supported, question_weight)
    confidence = 1 / (1 + np.exp(-(scale * np.log(top / (1 - top)) + shift)))
    answered_share = [(t, np.average(confidence[answerable] >= t, weights=question_weight[answerable]))
                      for t in np.linspace(0.01, 0.99, 99)]
    threshold = max((float(t) for t, share in answered_share if share >= answer_floor), default=0.5)
    return Calibration(tuple(float(w) for w in weights), float(bias), float(scale), float(shift), threshold)


def _logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """Weighted logistic regression by Newton's method on standardised columns; (weights, bias) in the
    original units."""
    weight = weight / weight.mean()
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(z @ beta)))
        gradient = z.T @ (weight * (p - y)) + l2 * np.r_[beta[:-1], 0]
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + l2 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    coefficients = beta[:-1] / std
    return coefficients, float(beta[-1] - (coefficients * mean).sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300, help="answerable questions per benchmark set")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for name in CALIBRATION_SETS:
        rows += benchmark_rows(name, args.questions, first=1 + max((r.question for r in rows), default=-1))
    rows += news_rows(Engine.default(), first=1 + max((r.question for r in rows), default=-1))
    fitted = calibrate(rows, ANSWER_FLOOR)
    sources = [*CALIBRATION_SETS, NEWS_CALIBRATION.name]
    path = write_calibration(fitted, {"fitted_on": sources, "questions": len({r.question for r in rows}),
                                      "sentences": len(rows)})
    print("sentence map: " + ", ".join(f"{name} {w:+.3f}" for name, w in zip(FEATURES, fitted.weights))
          + f", bias {fitted.bias:+.3f}")
    print(f"confidence = sigmoid({fitted.scale:.3f} * logit(best sentence) + {fitted.shift:.3f}); "
          f"threshold {fitted.threshold:.2f}; written to {path}")
    for source, answered, abstained in per_source(rows, fitted):
        print(f"  {source}: answerable answered {answered:.3f}, near misses abstained {abstained:.3f} (calibration data)")


def per_source(rows: list[Row], fitted: Calibration) -> list[tuple[str, float, float]]:
    """Each source's share of answerable questions answered and of near misses abstained at the threshold."""
    best: dict[int, tuple[float, Row]] = {}
    for row in rows:
        p = float(fitted.sentence_probability(np.array([row.features]))[0])
        if row.question not in best or p > best[row.question][0]:
            best[row.question] = (p, row)
    result = []
    for source in dict.fromkeys(r.source for r in rows):
        mine = [(fitted.confidence(p) >= fitted.threshold, r.answerable) for p, r in best.values() if r.source == source]
        answered = [a for a, answerable in mine if answerable]
        abstained = [not a for a, answerable in mine if not answerable]
        result.append((source, float(np.mean(answered)) if answered else float("nan"),
                       float(np.mean(abstained)) if abstained else float("nan")))
    return result


if __name__ == "__main__":
    main()
