"""Choose the answer confidence below which `ask` abstains, from measurements, with held-out scoring.

Every question of a set is asked once with abstention off, and its answer's confidence recorded. Two
folds (by position in the set): a threshold is chosen on one fold's questions (best balanced accuracy
between abstaining on unanswerable questions and answering the rest) and scored on the other's, so the reported figures come
from questions that did not choose the threshold. Run: python -m eval.calibrate_abstention [SET]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from eval.metrics import abstention
from eval.sets import EvalItem, load_jsonl
from qa import AnswerConfig, Engine

DEFAULT_SET = Path(__file__).resolve().parent / "data" / "pulse_questions.jsonl"


def confidences(engine: Engine, items: list[EvalItem]) -> list[tuple[float, bool]]:
    """(confidence, answerable) per single-turn question, with abstention switched off."""
    never_abstain = engine.configured(answer=AnswerConfig(min_confidence=0.0))
    return [(never_abstain.ask(item.question).confidence, item.answerable) for item in items if not item.history]


def abstention_scores(rows: list[tuple[float, bool]], threshold: float) -> dict[str, float]:
    """Abstention precision and recall at `threshold` (0 where undefined), and the answered share."""
    abstained = [conf < threshold for conf, _ in rows]
    answerable = [ok for _, ok in rows]
    scores = abstention(abstained, answerable)
    answered = sum(not a and ok for a, ok in zip(abstained, answerable)) / max(sum(answerable), 1)
    return {"precision": scores.precision or 0.0, "recall": scores.recall or 0.0, "answered": answered}


def best_threshold(rows: list[tuple[float, bool]]) -> float:
    """The highest of the thresholds with the best balanced accuracy (abstention recall and answered-rate
    weighted alike, as unanswerable questions are the few): the most cautious setting that costs no more
    answers, since a user can check a "nothing found" but may act on a wrong answer."""
    grid = [round(0.10 + 0.01 * i, 2) for i in range(61)]
    objective = {t: round(_balanced(abstention_scores(rows, t)), 9) for t in grid}
    return max(t for t in grid if objective[t] == max(objective.values()))


def _balanced(scores: dict[str, float]) -> float:
    return (scores["recall"] + scores["answered"]) / 2


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", nargs="?", default=str(DEFAULT_SET), help="JSONL question set with unanswerable items")
    args = parser.parse_args(argv)
    rows = confidences(Engine.default(), load_jsonl(args.set))
    folds = [rows[0::2], rows[1::2]]
    chosen = []
    print(f"{'fold':<6}{'threshold':>10}{'precision':>11}{'recall':>8}{'answered':>10}   (scored on the other fold)")
    for fold in (0, 1):
        threshold = best_threshold(folds[fold])
        chosen.append(threshold)
        held_out = abstention_scores(folds[1 - fold], threshold)
        print(f"{fold:<6}{threshold:>10.2f}{held_out['precision']:>11.3f}{held_out['recall']:>8.3f}"
              f"{held_out['answered']:>10.3f}")
    default = round(sum(chosen) / 2, 2)
    everything = abstention_scores(rows, default)
    print(f"\nsuggested min_confidence = {default:.2f} (mean of the folds' choices); on all {len(rows)} questions: "
          f"precision {everything['precision']:.3f}, recall {everything['recall']:.3f}, "
          f"answered {everything['answered']:.3f}")


if __name__ == "__main__":
    main()
