"""Tests for date ranges on search and ask (qa/date_range.py): only documents dated in the range, with their
comments, are searched and cited; bad dates say what is allowed."""
from __future__ import annotations

import pytest

from index.build import IndexConfig, build_index
from index.records import Comment, Document
from qa.backend_retrieve import QdrantChoice
from qa.cli import main
from qa.engine import Engine
from qa.errors import InputError
from tests.fakes import KeywordEmbedder

VOCABULARY = ["ccgs", "commission", "services", "budget", "councils"]


def _documents() -> list[Document]:
    def article(doc_id: str, date: str | None) -> Document:
        return Document(id=doc_id, title=f"CCGs commission services ({doc_id})", date=date,
                        text=f"CCGs will commission GP services with the budget, says report {doc_id}.",
                        comments=(Comment(1, f"Councils should commission services instead ({doc_id})."),))

    return [article("march", "2015-03-02"), article("may", "5 May 2015"), article("july", "2015-07-20T09:00"),
            article("undated", None)]


@pytest.fixture(scope="module")
def engine():
    return Engine.from_documents(_documents(), embedder=KeywordEmbedder(VOCABULARY))


def _documents_found(hits) -> set[str]:
    return {h.doc_id for h in hits}


def test_a_range_keeps_the_documents_dated_in_it_with_their_comments(engine):
    hits = engine.search("ccgs commission services", k=20, since="2015-04-01", until="2015-07-20")
    assert _documents_found(hits) == {"may", "july"}
    assert {h.kind for h in hits} == {"article", "comment"}
    assert _documents_found(engine.search("ccgs commission services", k=20, since="2015-05-05")) == {"may", "july"}
    assert _documents_found(engine.search("ccgs commission services", k=20, until="2015-03-02")) == {"march"}
    # without a range every document is searched, the undated one too
    assert _documents_found(engine.search("ccgs commission services", k=20)) == {"march", "may", "july", "undated"}


def test_a_range_narrows_a_document_filter_and_ask_cites_only_inside_it(engine):
    hits = engine.search("ccgs commission services", k=20, doc_ids=["march", "july"], since="2015-06-01")
    assert _documents_found(hits) == {"july"}
    answer = engine.configured().ask("Who will commission GP services?", since="2015-07-01")
    assert {c.doc_id for c in answer.citations} | {h.doc_id for h in answer.nearest} <= {"july"}


def test_a_range_holding_no_document_finds_nothing(engine):
    assert engine.search("ccgs commission services", since="2016-01-01") == []
    assert engine.ask("Who will commission GP services?", since="2016-01-01").abstained


@pytest.mark.parametrize(("since", "until", "message"), [
    ("March 2015", None, "since must be a date as YYYY-MM-DD"),
    (None, "2015-13-01", "until must be a date as YYYY-MM-DD"),
    ("2015-07-01", "2015-03-01", "is after until"),
])
def test_a_bad_range_says_what_is_allowed(engine, since, until, message):
    with pytest.raises(InputError, match=message):
        engine.search("ccgs", since=since, until=until)


def test_an_unknown_document_is_still_reported_inside_a_range(engine):
    with pytest.raises(InputError, match="unknown document id"):
        engine.search("ccgs", doc_ids=["nope"], since="2015-01-01")


def test_the_qdrant_backend_takes_the_same_range(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    index = build_index(_documents(), embedder, IndexConfig())
    files = Engine(index, embedder)
    qdrant = Engine(index, embedder, backend=QdrantChoice(path=str(tmp_path / "qdrant")))
    for engine in (files, qdrant):
        hits = engine.search("ccgs commission services", k=20, since="2015-04-01", until="2015-06-30")
        assert _documents_found(hits) == {"may"}


def test_the_command_line_takes_since_and_until(capsys):
    assert main(["search", "commission", "--since", "2015-13-40"]) == 2
    assert "since must be a date as YYYY-MM-DD" in capsys.readouterr().err
