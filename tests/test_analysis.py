"""Tests for indexing-time analysis (index/analysis.py, qa/analysis.py): commissioning facts, quotes and
term counts are made when documents are indexed, saved and loaded with the index, kept in step by add and
delete, and never computed on a question."""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import fields

import pytest

import index.analysis
import qa.analysis
from index.build import IndexConfig, build_index, load_index, save_index
from index.chunk import ChunkConfig
from index.corpus import DEFAULT_CORPUS
from index.ingest import load_documents
from index.lexical import tokenize
from index.records import ARTICLE
from index.speakers import find_quotes
from index.store import FORMAT_VERSION
from qa.analysis import ANALYSERS, commissioning_facts, stored_facts_where
from qa.commissioning import extract_all
from qa.engine import Engine
from qa.errors import IndexCorruptError
from qa.who_answers import MAX_FACTS, fact_test
from tests.fakes import KeywordEmbedder

VOCABULARY = ["gp", "services", "commission", "ccgs", "councils", "manchester", "budget", "nhs", "england"]
SMALL_CHUNKS = IndexConfig(ChunkConfig(passage_words=40, window_words=20, overlap_sentences=1))


@pytest.fixture(scope="module")
def documents():
    return load_documents(sorted(DEFAULT_CORPUS.glob("*.txt")))


def _idf_of_passages(passages) -> dict[str, float]:
    """The answer's idf as the engine computed it on the first question before analysis moved to indexing."""
    frequency = Counter(term for p in passages for term in set(tokenize(p.text)))
    return {t: math.log(1 + (len(passages) - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}


def _same_analysis(one, other) -> None:
    assert one.analysis.quotes == other.analysis.quotes
    assert one.analysis.idf() == pytest.approx(other.analysis.idf())
    assert one.analysis.rows == other.analysis.rows
    assert commissioning_facts(one) == commissioning_facts(other)


def test_a_saved_index_holds_what_a_question_would_have_computed(tmp_path, documents):
    save_index(build_index(documents, KeywordEmbedder(VOCABULARY), SMALL_CHUNKS, analysers=ANALYSERS), tmp_path)
    loaded = load_index(tmp_path, analysers=ANALYSERS)
    assert commissioning_facts(loaded) == extract_all(documents) and len(commissioning_facts(loaded)) > 20
    assert loaded.analysis.quotes == {d.id: tuple(find_quotes(d.text)) for d in documents}
    assert loaded.analysis.idf() == pytest.approx(_idf_of_passages(loaded.passages))
    names = json.loads((tmp_path / "manifest.json").read_text())["files"]
    assert {"quotes.jsonl", "terms.json", "analysis.commissioning.jsonl"} <= names.keys()


def test_idf_is_counted_once_into_a_declared_field(documents):
    analysis = index.analysis.analyse(documents[:2], build_index(documents[:2], KeywordEmbedder(VOCABULARY),
                                                                 SMALL_CHUNKS).passages, [])
    first = analysis.idf()
    assert analysis.idf() is first and first
    assert set(vars(analysis)) == {f.name for f in fields(analysis)}  # nothing added after construction


def test_a_facts_passage_is_found_by_key_as_the_old_scan_found_it(documents):
    built = build_index(documents, KeywordEmbedder(VOCABULARY), SMALL_CHUNKS, analysers=ANALYSERS)
    facts = commissioning_facts(built)
    for fact in facts:
        scanned = next((p for p in built.passages if p.doc_id == fact.doc_id and p.kind == ARTICLE
                        and p.start <= fact.sentence_start and fact.sentence_end <= p.end), None)
        assert built.article_passage(fact.doc_id, fact.sentence_start, fact.sentence_end) == scanned
    assert built.article_passage("no-such-doc", 0, 1) is None


def test_nothing_is_extracted_or_counted_on_questions_after_load(tmp_path, documents, monkeypatch):
    embedder = KeywordEmbedder(VOCABULARY)
    Engine.build(sorted(DEFAULT_CORPUS.glob("*.txt")), tmp_path, embedder=embedder)
    engine = Engine.load(tmp_path, embedder=embedder)

    def forbidden(*args, **kwargs):
        raise AssertionError("corpus analysis ran on a question")

    monkeypatch.setattr(qa.analysis, "extract_facts", forbidden)
    monkeypatch.setattr(index.analysis, "find_quotes", forbidden)
    monkeypatch.setattr("qa.commissioning.facts.extract_facts", forbidden)
    monkeypatch.setattr("index.speakers.attribution.find_quotes", forbidden)
    monkeypatch.setattr(index.analysis, "tokenize", forbidden)
    assert engine.commissioning(body="CCGs")
    answer = engine.ask("Who will commission GP services in Greater Manchester?")
    assert answer.citations


def test_adding_analyses_only_the_new_documents_and_matches_a_full_build(tmp_path, documents, monkeypatch):
    embedder = KeywordEmbedder(VOCABULARY)
    first, rest = documents[:3], documents[3:]
    engine = Engine.from_documents(first, embedder=embedder, config=SMALL_CHUNKS)
    analysed = []
    real = qa.analysis.extract_facts
    monkeypatch.setattr(qa.analysis, "extract_facts", lambda d: analysed.append(d.id) or real(d))
    folder = tmp_path / "pages"
    folder.mkdir()
    for document in rest:  # the shipped pages, one file each
        (folder / f"{document.id}.jsonl").write_text(json.dumps({"id": document.id, "title": document.title,
                                                                  "text": document.text}) + "\n")
    engine.add(sorted(folder.iterdir()))
    assert analysed == [d.id for d in rest]
    full = build_index(first + load_documents(sorted(folder.iterdir())), embedder, SMALL_CHUNKS, analysers=ANALYSERS)
    _same_analysis(engine._index, full)


def test_deleting_drops_exactly_what_the_documents_brought(documents):
    embedder = KeywordEmbedder(VOCABULARY)
    everything = build_index(documents, embedder, SMALL_CHUNKS, analysers=ANALYSERS)
    from index.build import delete_documents

    kept = build_index(documents[1:4], embedder, SMALL_CHUNKS, analysers=ANALYSERS)
    _same_analysis(delete_documents(everything, [documents[0].id, documents[4].id]), kept)


def test_an_index_of_the_previous_format_is_refused_with_the_way_out(tmp_path, documents):
    save_index(build_index(documents[:1], KeywordEmbedder(VOCABULARY), SMALL_CHUNKS, analysers=ANALYSERS), tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION - 1
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match=rf"format version {FORMAT_VERSION - 1}, this library reads format "
                                                rf"version {FORMAT_VERSION}; rebuild it with `qa index PATH --out"):
        Engine.load(tmp_path, embedder=KeywordEmbedder(VOCABULARY))


def test_an_index_without_the_engines_analysis_is_analysed_once_on_load(tmp_path, documents):
    embedder = KeywordEmbedder(VOCABULARY)
    save_index(build_index(documents, embedder, SMALL_CHUNKS), tmp_path)  # no analysers: no facts stored
    assert "analysis.commissioning.jsonl" not in json.loads((tmp_path / "manifest.json").read_text())["files"]
    engine = Engine.load(tmp_path, embedder=embedder)
    assert engine.commissioning() == extract_all(documents)


def test_missing_analysis_files_are_a_corrupt_index(tmp_path, documents):
    save_index(build_index(documents[:2], KeywordEmbedder(VOCABULARY), SMALL_CHUNKS, analysers=ANALYSERS), tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    del manifest["files"]["analysis.commissioning.jsonl"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match=r"missing its analysis file.*analysis.commissioning.jsonl"):
        load_index(tmp_path)


@pytest.mark.parametrize("question", [
    "Who will commission GP services in Greater Manchester?", "Who commissions primary care in London?",
    "Which body is responsible for public health?", "Who holds the budget for enhanced services?",
    "Who will take over commissioning from PCTs?", "What do readers think?",
])
def test_a_who_question_s_facts_are_found_in_the_stored_rows_as_in_every_fact(documents, question):
    built = build_index(documents, KeywordEmbedder(["gp"]), IndexConfig(), analysers=ANALYSERS)
    test = fact_test(question)
    expected = [f for f in commissioning_facts(built) if test(f.covers, f.place, f.body)][:MAX_FACTS] if test else []
    assert (stored_facts_where(built, test, MAX_FACTS) if test else []) == expected


@pytest.mark.parametrize("question", [
    "Who will commission GP services in Greater Manchester?", "Which body is responsible for public health?",
    "Who holds the budget for enhanced services?", "Who will take over commissioning from PCTs?",
])
def test_a_loaded_index_finds_a_who_question_s_facts_decoding_only_rows_that_name_them(documents, tmp_path,
                                                                                        question):
    built = build_index(documents, KeywordEmbedder(["gp"]), IndexConfig(), analysers=ANALYSERS)
    save_index(built, tmp_path)
    loaded = load_index(tmp_path, analysers=ANALYSERS)
    test = fact_test(question)
    assert stored_facts_where(loaded, test, 100) == stored_facts_where(built, test, 100)
    rows = loaded.analysis.rows_of("commissioning")
    named = sum(any(test(r["covers"], r["place"], r["body"]) for r in found)
                for found in built.analysis.rows_of("commissioning").values())
    assert named <= rows.decoded() <= len(list(rows.holding(test.groups())))


def test_a_document_filter_chooses_facts_before_the_cut_to_a_few(documents):
    built = build_index(documents, KeywordEmbedder(["gp"]), IndexConfig(), analysers=ANALYSERS)
    question = "Who holds the budget for enhanced services?"
    test = fact_test(question)
    every = [f for f in commissioning_facts(built) if test(f.covers, f.place, f.body)]
    assert len({f.doc_id for f in every}) > 1 and len(every) > MAX_FACTS  # so the filter has something to do
    last = every[-1].doc_id
    assert all(f.doc_id != last for f in every[:MAX_FACTS])  # its facts all come after the first MAX_FACTS
    assert stored_facts_where(built, test, MAX_FACTS, [last]) == [f for f in every if f.doc_id == last][:MAX_FACTS]
