"""Score speaker attribution against the hand-made gold of quoted and reported-speech sentences.

Each gold line names a page, a verbatim prefix of a sentence in its body, the speaker and role.
A sentence's predicted speaker is `speaker_of(find_quotes(body), sentence)`. It is correct when
the last word (the surname, or a document's or group's head noun) matches; a role is correct when
all the gold role's key words appear in the predicted role (and both are None when gold has none).

    python -m eval.speakers_eval [--gold FILE] [--json]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval.sets import load_records
from qa import DEFAULT_CORPUS
from qa.errors import InputError
from qa.speakers import Quote, quotes_in_files, sentence_speakers

GOLD = Path(__file__).resolve().parent / "data" / "speakers_gold.jsonl"
PAGES = DEFAULT_CORPUS
GOLD_FIELDS = ("page", "sentence", "speaker", "role")
PRECISION_FLOOR, RECALL_FLOOR = 0.9, 0.8
_ROLE_STOPWORDS = {"a", "an", "the", "of", "in", "and", "who", "has", "at", "for", "to", "from"}


@dataclass(frozen=True)
class Row:
    """One gold sentence and what the attribution said about it."""

    page: str
    sentence: str
    gold_speaker: str
    gold_role: str | None
    speaker: str | None  # predicted; None when no quote covers the sentence
    role: str | None
    speaker_ok: bool
    role_ok: bool


@dataclass(frozen=True)
class Report:
    """Precision, recall and role accuracy, with every row and the body sentences gold leaves out."""

    precision: float  # correct speakers among attributed gold sentences
    recall: float  # correct speakers among all gold sentences
    role_accuracy: float  # correct roles among correct speakers
    rows: tuple[Row, ...]
    extras: tuple[tuple[str, str, str], ...]  # (page, sentence, speaker) attributed but not in gold

    def to_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "role_accuracy": self.role_accuracy,
                "gold": len(self.rows), "misses": [asdict(r) for r in self.rows if not r.speaker_ok],
                "wrong_roles": [asdict(r) for r in self.rows if r.speaker_ok and not r.role_ok],
                "extras": [list(e) for e in self.extras]}


def load_gold(path: str | Path = GOLD) -> list[dict]:
    """Read the gold; every line must be a JSON object with all of GOLD_FIELDS."""
    return load_records(path, GOLD_FIELDS)


def evaluate(gold_path: str | Path = GOLD, pages: str | Path = PAGES) -> Report:
    """Attribute every sentence of the pages' bodies and score the gold sentences."""
    gold = load_gold(gold_path)
    bodies = {Path(doc.source).name: (doc.text, quotes) for doc, quotes in quotes_in_files([pages])}
    rows, gold_starts = [], set()
    for number, record in enumerate(gold, start=1):
        if record["page"] not in bodies:
            raise InputError(f"gold line {number}: page {record['page']!r} is not in {pages}")
        text, quotes = bodies[record["page"]]
        at = text.find(record["sentence"])
        if at < 0:
            raise InputError(f"gold line {number}: {record['sentence']!r} is not in the body of {record['page']}")
        gold_starts.add((record["page"], at))
        quote = _covering(text, quotes, at)
        rows.append(_row(record, quote))
    extras = tuple(
        (page, text[s:e], quote.speaker)
        for page, (text, quotes) in bodies.items()
        for s, e, quote in sentence_speakers(text, quotes)
        if quote and not any(p == page and s <= at < e for p, at in gold_starts)
    )
    correct = [r for r in rows if r.speaker_ok]
    attributed = [r for r in rows if r.speaker is not None]
    return Report(
        precision=len(correct) / len(attributed) if attributed else 0.0,
        recall=len(correct) / len(rows) if rows else 0.0,
        role_accuracy=sum(r.role_ok for r in correct) / len(correct) if correct else 0.0,
        rows=tuple(rows), extras=extras,
    )


def _covering(text: str, quotes: list[Quote], at: int) -> Quote | None:
    for s, e, quote in sentence_speakers(text, quotes):
        if s <= at < e:
            return quote
    return None


def _row(record: dict, quote: Quote | None) -> Row:
    speaker_ok = quote is not None and _head(quote.speaker) == _head(record["speaker"])
    if record["role"] is None:
        role_ok = quote is not None and quote.role is None
    else:
        predicted = set(_words(quote.role)) if quote and quote.role else set()
        role_ok = set(_words(record["role"])) - _ROLE_STOPWORDS <= predicted
    return Row(record["page"], record["sentence"], record["speaker"], record["role"],
               quote.speaker if quote else None, quote.role if quote else None, speaker_ok, speaker_ok and role_ok)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.sub(r"[’']s\b", "", text.lower()))


def _head(name: str) -> str:
    """The surname of a person, or the head noun of a document or group: the last word."""
    words = _words(name)
    return words[-1] if words else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.speakers_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default=str(GOLD), help="gold JSONL (default: the shipped one)")
    parser.add_argument("--pages", default=str(PAGES), help="folder or file of pages (default: the shipped corpus)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = evaluate(args.gold, args.pages)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    attributed = sum(r.speaker is not None for r in report.rows)
    correct = sum(r.speaker_ok for r in report.rows)
    print(f"gold sentences {len(report.rows)}, attributed {attributed}, correct {correct}")
    print(f"precision {report.precision:.3f}  recall {report.recall:.3f}  role accuracy {report.role_accuracy:.3f}")
    for title, rows in (("misses", [r for r in report.rows if not r.speaker_ok]),
                        ("wrong roles", [r for r in report.rows if r.speaker_ok and not r.role_ok])):
        print(f"\n{title} ({len(rows)}):")
        for r in rows:
            print(f"  {r.page[:3]} {r.sentence[:50]!r}: gold {r.gold_speaker!r} / {r.gold_role!r}, "
                  f"got {r.speaker!r} / {r.role!r}")
    print(f"\nbody sentences attributed but not in gold ({len(report.extras)}):")
    for page, sentence, speaker in report.extras:
        print(f"  {page[:3]} {sentence[:60]!r} -> {speaker!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
