"""Evaluation sets: the loaders' checks, the relevance rule, and the shipped question sets themselves."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from eval.sets import COVID_QA, PULSE_QUESTIONS, EvalItem, GoldSpan, is_relevant, load_jsonl, load_squad
from qa.errors import InputError

PULSE_DIR = Path(__file__).resolve().parents[1] / "index" / "default_corpus" / "pulse"
COMMENTS_HEADER = re.compile(r"^Readers['’] comments \(\d+\)$", re.MULTILINE)


# --- load_jsonl --------------------------------------------------------------------------


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps({"id": "q1", "question": "Who?", "evidence": ["a snippet"], "answers": ["x"]})


def test_load_jsonl_reads_fields_and_defaults(tmp_path):
    followup = {"id": "q2", "question": "How many?", "history": ["Who?"], "evidence": ["e"], "kind": "followup"}
    unanswerable = {"id": "q3", "question": "What?", "answerable": False, "kind": "unanswerable"}
    path = _write(tmp_path, GOOD, "", json.dumps(followup), json.dumps(unanswerable))
    items = load_jsonl(path)
    assert items[0] == EvalItem(id="q1", question="Who?", evidence=("a snippet",), answers=("x",))
    assert items[0].kind == "fact" and items[0].answerable
    assert items[1].history == ("Who?",) and items[1].kind == "followup"
    assert not items[2].answerable and items[2].evidence == ()


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "q2", "question": ', r"questions\.jsonl line 2: not valid JSON \(Expecting value\)"),
        ('["q2"]', r"line 2: expected a JSON object"),
        ('{"id": "q2", "evidence": ["e"]}', r"line 2: missing 'question'"),
        ('{"id": "q2", "question": "Q", "evidence": "one string"}', r"line 2: 'evidence' must be a list of non-empty strings"),
        ('{"id": "q2", "question": "Q", "evidence": ["ok", 3]}', r"line 2: 'evidence' must be a list"),
        ('{"id": "q2", "question": "Q"}', r"line 2: answerable items need 'evidence'"),
        ('{"id": "q2", "question": "Q", "answerable": false, "evidence": ["e"]}', r"line 2: unanswerable items must not"),
        ('{"id": "q2", "question": "Q", "answerable": "no"}', r"line 2: 'answerable' must be true or false"),
        ('{"id": "q1", "question": "Q", "evidence": ["e"]}', r"line 2: duplicate id 'q1' \(first used on line 1\)"),
        ('{"id": "q2", "question": "Q", "evidence": ["e"], "evidnce": []}', r"line 2: unknown field 'evidnce'"),
        ('{"id": "q2", "question": "Q", "gold": [{"doc_id": "d", "start": 5, "end": 2}]}', r"line 2: a gold span needs"),
    ],
)
def test_load_jsonl_names_file_line_and_problem(tmp_path, bad_line, message):
    path = _write(tmp_path, GOOD, bad_line)
    with pytest.raises(InputError, match=message):
        load_jsonl(path)


def test_load_jsonl_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read question set"):
        load_jsonl(tmp_path / "absent.jsonl")


# --- is_relevant -------------------------------------------------------------------------


def test_relevance_by_evidence_ignores_case_quotes_and_whitespace():
    item = EvalItem(id="q", question="?", evidence=("the ‘ultimate poisoned chalice’ for GPs", "other words"))
    assert is_relevant(item, "described as The 'ultimate  poisoned\nchalice' for gps.", "d1", 0, 50)
    assert not is_relevant(item, "the ultimate poisoned chalice", "d1", 0, 50)


def test_every_quoting_style_matches_the_straight_one():
    # the table the lexical index straightens with: low, reversed and modifier-letter marks, primes, backticks
    item = EvalItem(id="q", question="?", evidence=("the GP‛s ‚ultimate‟ chalice", "it`s a ‘deal’"))
    assert is_relevant(item, "The GP's 'ultimate\" chalice", "d1", 0, 50)
    assert is_relevant(item, "itʼs a 'deal'", "d1", 0, 50)


def test_relevance_by_gold_span_needs_same_document_and_covered_start():
    item = EvalItem(id="q", question="?", answers=("x",), gold=(GoldSpan("d1", 100, 120),))
    assert is_relevant(item, "", "d1", 90, 101)
    assert is_relevant(item, "", "d1", 100, 200)
    assert not is_relevant(item, "", "d1", 0, 100)  # ends just before the answer
    assert not is_relevant(item, "", "d1", 101, 200)  # starts inside the answer, past its start
    assert not is_relevant(item, "", "d2", 0, 1000)


# --- load_squad --------------------------------------------------------------------------


def _squad(tmp_path: Path, context: str, answers: list[dict]) -> Path:
    data = {"data": [{"paragraphs": [{"document_id": 7, "context": context,
                                      "qas": [{"id": 11, "question": "Where?", "answers": answers}]}]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_squad_builds_documents_and_gold_spans(tmp_path):
    context = "Title line\n\nThe virus binds ACE2 receptors."
    path = _squad(tmp_path, context, [{"text": "ACE2 receptors", "answer_start": context.index("ACE2")}])
    documents, items = load_squad(path)
    assert [(d.id, d.title, d.text) for d in documents] == [("7", "Title line", context)]
    (item,) = items
    assert item.id == "11" and item.answers == ("ACE2 receptors",)
    (span,) = item.gold
    assert context[span.start : span.end] == "ACE2 receptors"


def test_load_squad_names_the_question_whose_offset_is_wrong(tmp_path):
    context = "The virus binds ACE2 receptors."
    path = _squad(tmp_path, context, [{"text": "ACE2 receptors", "answer_start": 3}])
    expected = r"question 11 \('Where\?'\) in document 7: answer 'ACE2 receptors' is not at answer_start 3"
    with pytest.raises(InputError, match=expected):
        load_squad(path)


def test_load_squad_accepts_the_two_known_annotation_quirks(tmp_path):
    # Selected with a leading space, offset at the first word.
    context = "The virus binds ACE2 receptors."
    path = _squad(tmp_path, context, [{"text": " ACE2 receptors", "answer_start": context.index("ACE2")}])
    span = load_squad(path)[1][0].gold[0]
    assert context[span.start : span.end] == "ACE2 receptors"
    # Offsets counted after the blank lines a context starts with.
    context = " \n\nThe virus binds ACE2 receptors."
    path = _squad(tmp_path, context, [{"text": "ACE2 receptors", "answer_start": context.strip().index("ACE2")}])
    span = load_squad(path)[1][0].gold[0]
    assert context[span.start : span.end] == "ACE2 receptors"


def test_covid_qa_copy_loads_with_every_offset_verified():
    documents, items = load_squad(COVID_QA)
    assert len(documents) == 98 and len(items) == 1380
    raw = json.loads(COVID_QA.read_text(encoding="utf-8"))
    contexts = {str(p["document_id"]): p["context"] for a in raw["data"] for p in a["paragraphs"]}
    texts = {d.id: d.text for d in documents}
    assert texts == contexts  # stored verbatim, so offsets point into what was published
    for item in items:
        assert item.gold and len(item.gold) == len(item.answers)
        for span, answer in zip(item.gold, item.answers):
            assert texts[span.doc_id][span.start : span.end] == answer
    readme = (COVID_QA.parent / "README.md").read_text(encoding="utf-8")
    assert "Apache-2.0" in readme and "deepset-ai/COVID-QA" in readme


# --- the shipped Pulse question set --------------------------------------------------------


def _pages() -> dict[str, tuple[str, str]]:
    """Each corpus page as saved, split into (body part, comments part)."""
    pages = {}
    for path in sorted(PULSE_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        header = COMMENTS_HEADER.search(text)
        pages[path.stem] = (text[: header.start()], text[header.start() :]) if header else (text, "")
    return pages


def _located(snippet: str, pages: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """(page, "body" | "comments") of every saved line that holds the snippet verbatim."""
    return [
        (name, section)
        for name, parts in pages.items()
        for section, part in zip(("body", "comments"), parts)
        for line in part.splitlines()
        if snippet in line
    ]


@pytest.fixture(scope="module")
def pulse_items() -> list[EvalItem]:
    return load_jsonl(PULSE_QUESTIONS)


def test_pulse_set_size_and_mix(pulse_items):
    kinds = Counter(item.kind for item in pulse_items)
    assert len(pulse_items) >= 85
    assert kinds["fact"] >= 45 and kinds["comment"] >= 15 and kinds["unanswerable"] >= 12
    assert kinds["followup"] >= 10 and kinds["followup_standalone"] == kinds["followup"]
    assert set(kinds) == {"fact", "comment", "unanswerable", "followup", "followup_standalone"}


def test_pulse_evidence_is_verbatim_in_one_place_of_the_saved_pages(pulse_items):
    pages = _pages()
    problems = []
    for item in pulse_items:
        for snippet in item.evidence:
            places = _located(snippet, pages)
            words = len(snippet.split())
            if len(places) != 1:
                problems.append(f"{item.id}: {snippet!r} found in {len(places)} places, expected exactly 1")
            elif item.kind == "comment" and places[0][1] != "comments":
                problems.append(f"{item.id}: a comment question's evidence {snippet!r} is in the article body")
            elif item.kind == "fact" and places[0][1] != "body":
                problems.append(f"{item.id}: a fact question's evidence {snippet!r} is in the reader comments")
            if not 8 <= words <= 20:
                problems.append(f"{item.id}: {snippet!r} has {words} words, expected 8-20")
    assert not problems, "\n".join(problems)


def test_pulse_set_covers_every_article_and_every_comment_section(pulse_items):
    pages = _pages()
    covered = Counter(
        (place, item.kind)
        for item in pulse_items
        for snippet in item.evidence
        for place, _ in _located(snippet, pages)
    )
    for name, (_, comments) in pages.items():
        assert covered[(name, "fact")] >= 5, f"page {name} has too few fact questions"
        if comments:
            assert covered[(name, "comment")] >= 1, f"page {name}'s comments have no question"


def test_pulse_answers_and_unanswerable_items(pulse_items):
    for item in pulse_items:
        if item.answerable:
            assert item.answers and all(1 <= len(a.split()) <= 6 for a in item.answers), item.id
            assert 1 <= len(item.evidence) <= 3, item.id
        else:
            assert item.kind == "unanswerable" and not item.evidence and not item.answers, item.id
    assert all(not item.answerable for item in pulse_items if item.kind == "unanswerable")


def test_pulse_followups_pair_with_spelled_out_questions(pulse_items):
    by_id = {item.id: item for item in pulse_items}
    followups = [item for item in pulse_items if item.kind == "followup"]
    for item in followups:
        assert len(item.history) == 1, item.id
        standalone = by_id[f"{item.id}-standalone"]
        assert standalone.kind == "followup_standalone" and not standalone.history
        assert (standalone.evidence, standalone.answers) == (item.evidence, item.answers)
        assert standalone.question != item.question
    assert all(not item.history for item in pulse_items if item.kind != "followup")
