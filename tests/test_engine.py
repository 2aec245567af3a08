"""Tests for qa/engine.py with the keyword embedder: cited answers, readers' views, abstention, input checks,
and building, loading and extending a saved index."""
from __future__ import annotations

import json
import re

import pytest

from index.records import Comment, Document
from qa.engine import Engine
from qa.errors import IndexMismatchError, IngestError, InputError
from qa.phrasing import NOTHING_FOUND
from qa.question import MAX_QUESTION_CHARS
from tests.fakes import KeywordEmbedder

VOCABULARY = ["gp", "services", "commission", "commissioned", "councils", "ccgs", "manchester", "contracts",
              "national", "pcts", "scrapped", "budget", "opportunity", "ruin"]
TITLE = "Councils to commission GP services"


def _documents() -> list[Document]:
    return [
        Document(id="gm", title=TITLE, byline="Ian Quinn",
                 text="GP services will be commissioned by councils alongside CCGs in Manchester. The plans were "
                      "announced today.\n\nDr Hamish Stedman, chair of Salford CCG, said: ‘This is a genuine "
                      "opportunity for Manchester.’\n\nThe budget is £6bn.",
                 comments=(Comment(1, "Councils will ruin GP services in Manchester. Total madness.", author="Vinci Ho"),
                           Comment(2, "National contracts are very important. Councils cannot commission GP services."))),
        Document(id="ccg", title="CCGs take over", text="CCGs will commission GP services from April. National contracts stay."),
    ]


@pytest.fixture
def engine() -> Engine:
    return Engine.from_documents(_documents(), embedder=KeywordEmbedder(VOCABULARY))


QUESTIONS = ["Who will commission GP services in Manchester?", "What do readers think about councils commissioning GP services?",
             "What did Dr Stedman call the plans?", "How big is the budget?", "Ruin GP services?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_citation_points_at_its_sentence_in_the_stored_text(engine, question):
    answer = engine.ask(question)
    assert answer.citations and not answer.abstained
    for citation in answer.citations:
        source = engine.document(citation.doc_id).source_text(citation.comment)
        assert source[citation.sentence_start:citation.sentence_end] == citation.sentence
        assert source[citation.start:citation.end] == citation.text
        assert citation.start <= citation.sentence_start < citation.sentence_end <= citation.end
        assert f"[{citation.n}]" in answer.text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_a_fact_question_is_answered_from_reporting_even_when_a_comment_matches_it_better(engine):
    # Comment 1 repeats the question's words; the article answers it well enough on its own.
    answer = engine.ask("Will councils ruin GP services in Manchester?")
    assert not answer.abstained
    assert {c.kind for c in answer.citations} == {"article"}
    assert "commented" not in answer.text


def test_an_opinion_question_quotes_readers_and_labels_them_as_readers(engine):
    answer = engine.ask("What do readers think about councils commissioning GP services?")
    comments = [c for c in answer.citations if c.kind == "comment"]
    assert comments
    lines = answer.text.splitlines()
    for citation in comments:
        who = f"A reader ({citation.author})" if citation.author else "An anonymous reader"
        assert f"{who} commented under “{TITLE}”: “{citation.sentence}” [{citation.n}]" in lines
    # The readers' views lead; reporting, when cited, follows and is not labelled as a comment.
    kinds = [c.kind for c in answer.citations]
    assert kinds == sorted(kinds, reverse=True)  # "comment" > "article"


def test_when_no_reporting_answers_a_readers_comment_may_and_is_labelled(engine):
    answer = engine.ask("Ruin GP services?")
    assert [c.kind for c in answer.citations] == ["comment"]
    assert answer.text == ("The reporting does not answer this; readers' comments say:\n"
                           f"A reader (Vinci Ho) commented under “{TITLE}”: "
                           "“Councils will ruin GP services in Manchester.” [1]")


@pytest.mark.parametrize("kind", ["article", "comment"])
def test_the_kind_filter_limits_what_is_cited(engine, kind):
    answer = engine.ask("Who will commission GP services in Manchester?", kind=kind)
    assert answer.citations and {c.kind for c in answer.citations} == {kind}
    assert {h.kind for h in answer.nearest} == {kind}


def test_a_quoted_sentence_names_its_speaker(engine):
    # The keyword embedder rates every sentence alike in meaning, so the question shares words with the quote.
    answer = engine.ask("What did Dr Stedman say about Manchester?")
    assert answer.citations[0].speaker == "Dr Hamish Stedman"
    assert answer.text.startswith("According to Dr Hamish Stedman (chair of Salford CCG): ‘This is a genuine")


def test_a_sentence_that_points_back_is_read_and_cited_with_the_one_before():
    report = Document(id="overview", title="Co-commissioning", text="An overview sets out what CCGs could commission. "
                      "It states that GP contracts could be delegated. Councils were not consulted.")
    engine = Engine.from_documents([report], embedder=KeywordEmbedder(VOCABULARY))
    read = {c.text for c in engine.scored_sentences("What could CCGs commission?")}
    assert read == {"An overview sets out what CCGs could commission.",
                    "An overview sets out what CCGs could commission. It states that GP contracts could be delegated.",
                    "Councils were not consulted."}



def test_each_sentence_is_read_after_the_one_before_it_in_its_passage():
    report = Document(id="overview", title="Co-commissioning", text="An overview sets out what CCGs could commission. "
                      "It states that GP contracts could be delegated. Councils were not consulted.")
    engine = Engine.from_documents([report], embedder=KeywordEmbedder(VOCABULARY))
    before = {c.text: c.before for c in engine.scored_sentences("What could CCGs commission?")}
    assert before == {"An overview sets out what CCGs could commission.": "",
                      # read with the sentence it points back to, so nothing comes before the pair
                      "An overview sets out what CCGs could commission. It states that GP contracts could be delegated.": "",
                      "Councils were not consulted.": "It states that GP contracts could be delegated."}


def test_doc_ids_limit_the_answer_to_those_documents(engine):
    answer = engine.ask("Who will commission GP services?", doc_ids=["ccg"])
    assert answer.citations and {c.doc_id for c in answer.citations} == {"ccg"}


def test_an_unknown_doc_id_is_refused(engine):
    with pytest.raises(InputError, match=r"unknown document id\(s\): nope"):
        engine.ask("Who will commission GP services?", doc_ids=["nope"])


def test_an_unanswerable_question_abstains_and_lists_the_nearest_passages(engine):
    answer = engine.ask("PCTs scrapped?", k=3)  # words the embedder knows, in no document
    assert answer.abstained and answer.citations == () and answer.confidence < 0.45
    assert answer.text.startswith(NOTHING_FOUND)
    # the same passages search finds, reordered by how well their best sentence answers
    assert {h.passage_id for h in answer.nearest} == {h.passage_id for h in engine.search("PCTs scrapped?", 3)}
    assert len(answer.nearest) == 3


@pytest.mark.parametrize("question", ["Who will commission GP services in Manchester?", "PCTs scrapped?"])
def test_answers_serialise_to_json(engine, question):
    answer = engine.ask(question)
    data = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert data["question"] == question and data["abstained"] == answer.abstained
    assert [c["sentence"] for c in data["citations"]] == [c.sentence for c in answer.citations]
    assert len(data["nearest"]) == len(answer.nearest) > 0
    json.dumps(engine.info())


@pytest.mark.parametrize("question, message", [
    ("", r"the question is empty; ask a question of 1 to 1,000 characters"),
    ("  \n\t ", r"the question is empty"),
    ("x" * 1001, r"the question is 1,001 characters long; the most allowed is 1,000"),
    (None, r"a question must be text, got NoneType"),
    (42, r"a question must be text, got int"),
    (b"Who commissions?", r"a question must be text, got bytes"),
])
def test_bad_questions_are_refused_with_what_is_allowed(engine, question, message):
    with pytest.raises(InputError, match=message):
        engine.ask(question)
    with pytest.raises(InputError, match=message):
        engine.search(question)


def test_a_question_of_the_maximum_length_is_accepted_once_stripped(engine):
    question = "  " + ("Who commissions GP services? " * 40)[:MAX_QUESTION_CHARS] + "  "
    assert len(question.strip()) == MAX_QUESTION_CHARS
    assert engine.ask(question).question == question.strip()


@pytest.mark.parametrize("options, message", [
    ({"k": 0}, "k must be a whole number between 1 and 100, got 0"),
    ({"kind": "comments"}, "kind must be one of both, article, comment, got 'comments'"),
    ({"mode": "bm25"}, "mode must be one of hybrid, lexical, dense, got 'bm25'"),
])
def test_ask_options_are_checked(engine, options, message):
    with pytest.raises(InputError, match=message):
        engine.ask("Who commissions GP services?", **options)


def test_documents_are_listed_in_order_and_an_unknown_id_is_an_error(engine):
    assert [d.id for d in engine.documents()] == ["gm", "ccg"]
    with pytest.raises(InputError, match="no document with id 'nope' in this index"):
        engine.document("nope")


def _write_jsonl(path, documents: list[Document]) -> None:
    rows = [{"id": d.id, "title": d.title, "text": d.text, "author": d.byline,
             "comments": [{"text": c.text, "author": c.author} for c in d.comments]} for d in documents]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def test_build_save_load_and_add_keep_answers_the_same(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    _write_jsonl(first, _documents()[:1])
    _write_jsonl(second, _documents()[1:])
    built = Engine.build([first], tmp_path / "idx", embedder=embedder)
    added = built.add([second])
    assert [d.id for d in added] == ["ccg"]
    loaded = Engine.load(tmp_path / "idx", embedder=embedder)
    assert [d.id for d in loaded.documents()] == ["gm", "ccg"]
    question = "Who will commission GP services from April?"
    assert loaded.ask(question).to_dict() == built.ask(question).to_dict()
    assert loaded.ask(question, doc_ids=["ccg"]).citations
    with pytest.raises(IndexMismatchError, match="model: stored 'fake-keywords', expected 'other'"):
        Engine.load(tmp_path / "idx", embedder=KeywordEmbedder(VOCABULARY, name="other"))


def test_a_bad_jsonl_line_is_named_and_loses_nothing_already_indexed(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    good = tmp_path / "good.jsonl"
    _write_jsonl(good, _documents()[:1])
    engine = Engine.build([good], tmp_path / "idx", embedder=embedder)
    before = sorted(p.name for p in (tmp_path / "idx").iterdir())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "ok", "title": "Fine", "text": "Fine text."}\n{"id": "broken", "title": \n',
                   encoding="utf-8")
    with pytest.raises(IngestError, match=re.escape(f"{bad} line 2: not valid JSON")):
        engine.add([bad])
    assert [d.id for d in engine.documents()] == ["gm"]
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == before
    reloaded = Engine.load(tmp_path / "idx", embedder=embedder)
    assert [d.id for d in reloaded.documents()] == ["gm"]
    assert not reloaded.ask("Who will commission GP services in Manchester?").abstained
