"""Score extracted commissioning facts against the hand-made gold table.

Matching rule: an extracted fact matches a gold fact when it comes from the same page (file
name), its sentence contains the gold quote, its canonical body is the gold body, and its relation
is compatible with the gold relation (same label, or labels in one of `RELATION_GROUPS`). Each
fact matches at most once; exact labels are paired first. Covers, place, when, status and proposer
are then compared on matched pairs and reported as agreement rates; they do not affect matching.

    python -m eval.commissioning_eval [--gold FILE] [--json] [PAGES ...]
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.sets import load_records
from qa import DEFAULT_CORPUS
from qa.commissioning import CommissioningFact, compatible, extract_from_files

GOLD = Path(__file__).resolve().parent / "data" / "commissioning_gold.jsonl"
DEFAULT_PAGES = DEFAULT_CORPUS
GOLD_FIELDS = ("page", "quote", "body", "relation", "covers", "place", "when", "status", "proposer")
COMPARED = ("covers", "place", "when", "status", "proposer")
PRECISION_FLOOR, RECALL_FLOOR = 0.85, 0.75


@dataclass(frozen=True)
class Report:
    """Precision and recall of facts against gold, with the pairs, misses and false positives."""

    precision: float
    recall: float
    matched: tuple[tuple[dict, CommissioningFact], ...]
    misses: tuple[dict, ...]  # gold facts nothing matched
    false_positives: tuple[CommissioningFact, ...]
    agreement: dict[str, float] = field(default_factory=dict)  # field -> share of matched pairs that agree

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision, "recall": self.recall,
            "matched": len(self.matched), "gold": len(self.matched) + len(self.misses),
            "extracted": len(self.matched) + len(self.false_positives),
            "agreement": self.agreement,
            "misses": list(self.misses),
            "false_positives": [_brief(f) for f in self.false_positives],
        }


def load_gold(path: str | Path = GOLD) -> list[dict]:
    """Read the gold table; every line must be a JSON object with all of GOLD_FIELDS."""
    return load_records(path, GOLD_FIELDS)


def score(facts: list[CommissioningFact], gold: list[dict]) -> Report:
    """Match facts to gold by the module's rule and return precision, recall and the differences."""
    used: set[int] = set()
    pairs: dict[int, CommissioningFact] = {}
    for exact in (True, False):
        for g_index, record in enumerate(gold):
            if g_index in pairs:
                continue
            for f_index, fact in enumerate(facts):
                if f_index not in used and _matches(fact, record, exact):
                    pairs[g_index] = fact
                    used.add(f_index)
                    break
    matched = tuple((gold[i], fact) for i, fact in sorted(pairs.items()))
    misses = tuple(record for i, record in enumerate(gold) if i not in pairs)
    false_positives = tuple(fact for i, fact in enumerate(facts) if i not in used)
    agreement = {name: _share(matched, name) for name in COMPARED}
    return Report(
        precision=len(used) / len(facts) if facts else 0.0,
        recall=len(pairs) / len(gold) if gold else 0.0,
        matched=matched, misses=misses, false_positives=false_positives, agreement=agreement,
    )


def _matches(fact: CommissioningFact, record: dict, exact: bool) -> bool:
    return (Path(fact.source).name == record["page"] and record["quote"] in fact.sentence
            and fact.body == record["body"]
            and (fact.relation == record["relation"] if exact else compatible(fact.relation, record["relation"])))


def _share(matched: tuple[tuple[dict, CommissioningFact], ...], name: str) -> float:
    if not matched:
        return 0.0
    if name == "covers":
        agree = sum(set(record["covers"]) == set(fact.covers) for record, fact in matched)
    else:
        agree = sum((record[name] or None) == (getattr(fact, name) or None) for record, fact in matched)
    return agree / len(matched)


def _brief(fact: CommissioningFact) -> dict[str, Any]:
    return {"page": Path(fact.source).name, "body": fact.body, "body_text": fact.body_text,
            "relation": fact.relation, "relation_text": fact.relation_text, "covers": list(fact.covers),
            "status": fact.status, "sentence": fact.sentence}


def print_report(report: Report, out=sys.stdout) -> None:
    """Human-readable figures, then each miss and false positive on its own line."""
    data = report.to_dict()
    print(f"precision {report.precision:.3f}  recall {report.recall:.3f}  "
          f"(matched {data['matched']} of {data['gold']} gold, {data['extracted']} extracted)", file=out)
    print("agreement on matched pairs: " + ", ".join(f"{k} {v:.2f}" for k, v in report.agreement.items()), file=out)
    for record in report.misses:
        print(f"MISS {record['page'][:3]} {record['body']} | {record['relation']} | {record['quote']}", file=out)
    for fact in report.false_positives:
        print(f"FALSE {Path(fact.source).name[:3]} {fact.body} ({fact.body_text}) | {fact.relation} "
              f"({fact.relation_text}) | {fact.sentence[:110]}", file=out)


def main(argv: list[str] | None = None) -> int:
    """Run the extractor on the pages, score it, print; exit 1 below the precision or recall floor."""
    parser = argparse.ArgumentParser(prog="python -m eval.commissioning_eval", description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", default=[str(DEFAULT_PAGES)], help="pages or folders (default corpus)")
    parser.add_argument("--gold", default=str(GOLD), help="gold JSONL (default: the shipped table)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = score(extract_from_files(args.pages), load_gold(args.gold))
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
    return 0 if report.precision >= PRECISION_FLOOR and report.recall >= RECALL_FLOOR else 1


if __name__ == "__main__":
    sys.exit(main())
