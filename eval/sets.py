"""Evaluation sets: questions with the evidence or gold spans that make a passage relevant.

Two formats: our JSONL question sets (evidence snippets, see `data/README.md`) and SQuAD v1
files (gold answer offsets into each context), such as the shipped COVID-QA copy.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa import jsonl_rows
from qa.errors import InputError
from qa.speakers import straighten_quotes
from qa.types import Document

DATA_DIR = Path(__file__).resolve().parent / "data"
PULSE_QUESTIONS = DATA_DIR / "pulse_questions.jsonl"
COVID_QA = DATA_DIR / "covid-qa" / "covid-qa.json"


def normalise(text: str) -> str:
    """Casefold, turn curly quotes straight and collapse whitespace, so quoting style never decides a match."""
    return " ".join(straighten_quotes(text).casefold().split())


@dataclass(frozen=True)
class GoldSpan:
    """A gold answer's character span in a document's stored text."""

    doc_id: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise InputError(f"a gold span needs 0 <= start < end, got start={self.start}, end={self.end}")


@dataclass(frozen=True)
class EvalItem:
    """One evaluation question with what makes a retrieved passage relevant and an answer correct."""

    id: str
    question: str
    history: tuple[str, ...] = ()  # earlier user questions of the conversation, oldest first
    evidence: tuple[str, ...] = ()  # a passage is relevant if it contains any, after `normalise`
    answers: tuple[str, ...] = ()  # short strings a correct answer contains
    answerable: bool = True
    kind: str = "fact"  # free label used to break results down: fact, comment, followup, ...
    gold: tuple[GoldSpan, ...] = ()  # SQuAD-style items: gold answer spans


def is_relevant(item: EvalItem, passage_text: str, doc_id: str, start: int, end: int) -> bool:
    """Whether a retrieved passage counts as relevant to `item`.

    Items with gold spans: the passage [start, end) of `doc_id` covers a gold answer's start.
    Otherwise: the passage text contains one of the item's evidence snippets.
    """
    if item.gold:
        return any(g.doc_id == doc_id and start <= g.start < end for g in item.gold)
    text = normalise(passage_text)
    return any(normalise(snippet) in text for snippet in item.evidence)


# --- JSONL question sets ------------------------------------------------------------------

_FIELDS = ("id", "question", "history", "evidence", "answers", "answerable", "kind", "gold")


def load_jsonl(path: str | Path) -> list[EvalItem]:
    """Read a question set, one JSON object per line; blank lines are skipped.

    Raises InputError naming the file, the line and what was wrong with it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read question set {path}: {exc.strerror or exc}") from exc
    items: list[EvalItem] = []
    first_seen: dict[str, int] = {}
    for number, record in jsonl_rows(text, path.name):
        where = f"{path.name} line {number}"
        item = _item_from_record(record, where)
        if item.id in first_seen:
            raise InputError(f"{where}: duplicate id {item.id!r} (first used on line {first_seen[item.id]})")
        first_seen[item.id] = number
        items.append(item)
    return items


def _item_from_record(record: Any, where: str) -> EvalItem:
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - set(_FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r}; allowed fields: {', '.join(_FIELDS)}")
    for name in ("id", "question"):
        if name not in record:
            raise InputError(f"{where}: missing {name!r}")
    item_id = _text(record, "id", where)
    question = _text(record, "question", where)
    kind = _text(record, "kind", where) if "kind" in record else "fact"
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise InputError(f"{where}: 'answerable' must be true or false, got {answerable!r}")
    evidence = _strings(record, "evidence", where)
    answers = _strings(record, "answers", where)
    gold = _gold(record.get("gold", []), where)
    if answerable and not (evidence or gold):
        raise InputError(f"{where}: answerable items need 'evidence' (or 'gold'); set \"answerable\": false otherwise")
    if not answerable and (evidence or answers or gold):
        raise InputError(f"{where}: unanswerable items must not have 'evidence', 'answers' or 'gold'")
    return EvalItem(
        id=item_id,
        question=question,
        history=_strings(record, "history", where),
        evidence=evidence,
        answers=answers,
        answerable=answerable,
        kind=kind,
        gold=gold,
    )


def _text(record: dict[str, Any], name: str, where: str) -> str:
    value = record[name]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: {name!r} must be a non-empty string, got {value!r}")
    return value


def _strings(record: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = record.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{where}: {name!r} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _gold(value: Any, where: str) -> tuple[GoldSpan, ...]:
    allowed = "a list of objects with 'doc_id' (string), 'start' and 'end' (integers)"
    if not isinstance(value, list):
        raise InputError(f"{where}: 'gold' must be {allowed}, got {value!r}")
    spans = []
    for entry in value:
        if not (
            isinstance(entry, dict)
            and set(entry) == {"doc_id", "start", "end"}
            and isinstance(entry["doc_id"], str)
            and all(isinstance(entry[k], int) and not isinstance(entry[k], bool) for k in ("start", "end"))
        ):
            raise InputError(f"{where}: 'gold' must be {allowed}, got {entry!r}")
        try:
            spans.append(GoldSpan(entry["doc_id"], entry["start"], entry["end"]))
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from exc
    return tuple(spans)


# --- SQuAD v1 files -----------------------------------------------------------------------


def load_squad(path: str | Path) -> tuple[list[Document], list[EvalItem]]:
    """Read a SQuAD v1 file: each paragraph context becomes a Document (text verbatim), each qa an EvalItem.

    Every answer's offset is checked against its context; two known annotation quirks are
    accepted (see `locate_answer`), anything else raises InputError naming the question.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read SQuAD file {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name} is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise InputError(f"{path.name}: expected SQuAD layout, an object with a 'data' list of articles")
    documents: list[Document] = []
    items: list[EvalItem] = []
    seen_documents: set[str] = set()
    seen_items: set[str] = set()
    for a, article in enumerate(data["data"]):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise InputError(f"{path.name}: article {a} has no 'paragraphs' list")
        for p, paragraph in enumerate(paragraphs):
            document = _squad_document(article, paragraph, a, p, path)
            if document.id in seen_documents:
                raise InputError(f"{path.name}: article {a}, paragraph {p}: duplicate document id {document.id!r}")
            seen_documents.add(document.id)
            documents.append(document)
            for qa in paragraph.get("qas", []):
                item = _squad_item(qa, document, path)
                if item.id in seen_items:
                    raise InputError(f"{path.name}: duplicate question id {item.id!r}")
                seen_items.add(item.id)
                items.append(item)
    return documents, items


def _squad_document(article: dict[str, Any], paragraph: Any, a: int, p: int, path: Path) -> Document:
    where = f"{path.name}: article {a}, paragraph {p}"
    if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
        raise InputError(f"{where} has no 'context' string")
    context = paragraph["context"]
    if "document_id" in paragraph:
        doc_id = str(paragraph["document_id"])
    elif isinstance(article.get("title"), str):
        doc_id = article["title"] if len(article["paragraphs"]) == 1 else f"{article['title']}#{p}"
    else:
        raise InputError(f"{where}: needs a 'document_id' or its article a 'title' to name the document")
    first_line = next((line.strip() for line in context.splitlines() if line.strip()), doc_id)
    title = article["title"] if isinstance(article.get("title"), str) else first_line
    return Document(id=doc_id, title=title, text=context, source=f"{path.name}#{doc_id}")


def _squad_item(qa: Any, document: Document, path: Path) -> EvalItem:
    if not isinstance(qa, dict) or "id" not in qa or not isinstance(qa.get("question"), str):
        raise InputError(f"{path.name}: document {document.id}: every qa needs an 'id' and a 'question'")
    qid = str(qa["id"])
    where = f"{path.name}: question {qid} ({qa['question'][:60]!r}) in document {document.id}"
    if qa.get("is_impossible", False):
        return EvalItem(id=qid, question=qa["question"], answerable=False, kind="unanswerable")
    answers, gold = [], []
    for answer in qa.get("answers", []):
        if not (isinstance(answer, dict) and isinstance(answer.get("text"), str) and answer["text"].strip()
                and isinstance(answer.get("answer_start"), int)):
            raise InputError(f"{where}: each answer needs a non-empty 'text' and an integer 'answer_start'")
        span = locate_answer(document.text, answer["text"], answer["answer_start"])
        if span is None:
            start, text = answer["answer_start"], answer["text"]
            found = document.text[start : start + len(text)]
            raise InputError(
                f"{where}: answer {text[:60]!r} is not at answer_start {start} (the context there reads {found[:60]!r})"
            )
        gold.append(GoldSpan(document.id, *span))
        answers.append(answer["text"].strip())  # answers[i] is the text of gold[i]
    if not gold:
        raise InputError(f"{where}: has no answers; mark it \"is_impossible\": true if it has none")
    return EvalItem(id=qid, question=qa["question"], answers=tuple(answers), gold=tuple(gold))


def locate_answer(context: str, text: str, start: int) -> tuple[int, int] | None:
    """The (start, end) of the answer's stripped text in `context`, or None if it is not where it claims.

    Accepted: the text verbatim at `start`; its stripped text at `start` (annotators selected
    surrounding spaces but the offset points at the first word); its stripped text at `start`
    counted from the first non-blank character (a context that begins with blank lines).
    """
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    blank_prefix = len(context) - len(context.lstrip())
    candidates = [(start, text, lead), (start, stripped, 0)]
    if blank_prefix:
        candidates.append((start + blank_prefix, stripped, 0))
    for at, wanted, skip in candidates:
        if at >= 0 and context[at : at + len(wanted)] == wanted:
            return at + skip, at + skip + len(stripped)
    return None


def load_records(path: str | Path, required: Sequence[str]) -> list[dict]:
    """A gold table: one JSON object per line, each with every field in `required`; blank lines skipped."""
    records = []
    for number, record in jsonl_rows(Path(path).read_text(encoding="utf-8"), str(path)):
        missing = [name for name in required if not isinstance(record, dict) or name not in record]
        if missing:
            raise InputError(f"{path} line {number}: lacks {', '.join(missing)}; each line needs {tuple(required)}")
        records.append(record)
    return records
