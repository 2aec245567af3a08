"""Fit the answer model's calibration (`qa/models/answer_scorer/calibration.json`) on the calibration sets.

    python -m training.calibrate_answers [--questions 300]

Runs `Engine.scored_sentences` over `squad-calibration` and `covid-calibration` (see
`eval.answer_benchmark`: articles never trained on and never reported), and fits, in turn: the sentence map
(the answer model's features -> the sentence holds the gold answer), the confidence map (the best sentence's
probability -> the answer is supported), and the threshold: the most near misses abstained while at least
92% of answerable questions are answered. Then report with `python -m eval.answer_benchmark`.
"""
from __future__ import annotations

import argparse

import numpy as np

from eval.answer_benchmark import Question, build_set, open_engine
from qa import Engine
from qa.answer_model import FEATURES, Calibration, write_calibration

CALIBRATION_SETS = ("squad-calibration", "covid-calibration")
ANSWER_FLOOR = 0.92


def sentence_rows(engine: Engine, items: list[Question]) -> list[tuple[int, list[float], bool, bool]]:
    """(question number, features, the sentence holds the gold answer, answerable) for every sentence
    the answer model reads, per question."""
    rows = []
    for number, item in enumerate(items):
        for candidate in engine.scored_sentences(item.question):
            holds = bool(item.gold and candidate.hit.doc_id == item.doc_id
                         and candidate.start <= item.gold[0] < candidate.end)
            rows.append((number, list(candidate.features), holds, item.kind == "answerable"))
    return rows


def calibrate(rows: list[tuple[int, list[float], bool, bool]], answer_floor: float) -> Calibration:
    """Fit the sentence map (features -> holds the answer), then the confidence map (best sentence ->
    the answer is supported), then the threshold: the most near misses abstained while at least
    `answer_floor` of answerable questions are answered."""
    features = np.array([r[1] for r in rows])
    weights, bias = _logistic(features, np.array([r[2] for r in rows], dtype=float))
    probability = 1 / (1 + np.exp(-(features @ weights + bias)))
    best: dict[int, tuple[float, bool, bool]] = {}
    for (number, _, holds, answerable), p in zip(rows, probability):
        if number not in best or p > best[number][0]:
            best[number] = (float(p), holds, answerable)
    top = np.array([b[0] for b in best.values()]).clip(1e-9, 1 - 1e-9)
    supported = np.array([b[1] for b in best.values()], dtype=float)
    answerable = np.array([b[2] for b in best.values()])
    (scale,), shift = _logistic(np.log(top / (1 - top))[:, None], supported)
    confidence = 1 / (1 + np.exp(-(scale * np.log(top / (1 - top)) + shift)))
    threshold = max((float(t) for t in np.linspace(0.01, 0.99, 99)
                     if np.mean(confidence[answerable] >= t) >= answer_floor), default=0.5)
    return Calibration(tuple(float(w) for w in weights), float(bias), float(scale), float(shift), threshold)


def _logistic(x, y, l2: float = 1e-3):
    """Logistic regression by Newton's method on standardised columns; (weights, bias) in the original units."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(z @ beta)))
        gradient = z.T @ (p - y) + l2 * np.r_[beta[:-1], 0]
        hessian = (z * (p * (1 - p))[:, None]).T @ z + l2 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = beta[:-1] / std
    return weights, float(beta[-1] - (weights * mean).sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300, help="answerable questions per set")
    args = parser.parse_args(argv)
    sentences: list[tuple[int, list[float], bool, bool]] = []
    for name in CALIBRATION_SETS:
        records, items = build_set(name, args.questions)
        offset = 1 + max((r[0] for r in sentences), default=-1)
        sentences += [(offset + n, *rest) for n, *rest in sentence_rows(open_engine(name, records), items)]
    fitted = calibrate(sentences, ANSWER_FLOOR)
    path = write_calibration(fitted, {"fitted_on": list(CALIBRATION_SETS), "questions": len({r[0] for r in sentences}),
                                      "sentences": len(sentences)})
    print("sentence map: " + ", ".join(f"{name} {w:+.3f}" for name, w in zip(FEATURES, fitted.weights))
          + f", bias {fitted.bias:+.3f}")
    print(f"confidence = sigmoid({fitted.scale:.3f} * logit(best sentence) + {fitted.shift:.3f}); "
          f"threshold {fitted.threshold:.2f}; written to {path}")


if __name__ == "__main__":
    main()
