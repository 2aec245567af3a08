"""Everyday names of NHS bodies (qa/plain_words.py) and the retrieval that uses them (qa/retrieve.py)."""
from __future__ import annotations

import pytest

from index.build import IndexConfig, build_index
from index.records import Document
from qa.errors import InputError
from qa.plain_words import expansion, in_reporting_terms
from qa.retrieve import RetrievalConfig, Retriever
from tests.fakes import KeywordEmbedder


@pytest.mark.parametrize("question, reporting_term", [
    ("Will the town hall pay for it?", "local authorities"),
    ("What did the regulator say?", "CQC"),
    ("Who negotiates the GP pay deal?", "GP contract"),
    ("Are family doctors happy?", "GPs"),
    ("Who runs health services in the north west?", "Greater Manchester"),
])
def test_everyday_names_bring_the_terms_reporting_uses(question, reporting_term):
    assert reporting_term in expansion(question)


def test_a_question_in_reporting_terms_only_gets_nothing_added():
    assert expansion("What did Pulse report on QOF?") == ""


def _retriever(config: RetrievalConfig) -> Retriever:
    documents = [Document(id="la", title="Budgets", text="Local authorities will commission services from April."),
                 Document(id="trust", title="Trusts", text="The hospital will merge with another from April.")]
    embedder = KeywordEmbedder(["authorities", "hospital"])
    return Retriever(build_index(documents, embedder, IndexConfig(), progress=False), embedder, config)


def test_lexical_search_finds_reporting_terms_for_an_everyday_name():
    question = "What will the town hall commission?"
    assert _retriever(RetrievalConfig()).search(question, 2, mode="lexical")[0].doc_id == "la"
    # Without the expansion BM25 still matches "commission", but the expanded terms add to the right one.
    plain = _retriever(RetrievalConfig(expansion_weight=0.0)).search(question, 2, mode="lexical")
    expanded = _retriever(RetrievalConfig()).search(question, 2, mode="lexical")
    assert expanded[0].score > plain[0].score


def test_fusion_leans_on_meaning_when_the_question_s_words_are_not_in_the_corpus():
    retriever = _retriever(RetrievalConfig(dense_weight=0.3))
    assert retriever._dense_weight("Local authorities commission services") == pytest.approx(0.3)
    assert retriever._dense_weight("Local authorities zebra quokka") == pytest.approx(0.3 + 0.7 * 0.5)
    fixed = _retriever(RetrievalConfig(dense_weight=0.3, adaptive=False))
    assert fixed._dense_weight("zebra quokka") == pytest.approx(0.3)


@pytest.mark.parametrize("settings, message", [
    ({"expansion_weight": 1.5}, "expansion_weight must be between 0 and 1, got 1.5"),
    ({"adaptive": "yes"}, "adaptive must be True or False, got 'yes'"),
])
def test_retrieval_settings_say_what_is_allowed(settings, message):
    with pytest.raises(InputError, match=message):
        RetrievalConfig(**settings)


def test_abbreviations_are_spelled_out_once_with_their_plural():
    from qa.plain_words import spelled_out

    text = spelled_out("67 CCGs will take over from PCTs; the CCGs said so. NHS England agreed.")
    assert text == ("67 CCGs (clinical commissioning groups) will take over from PCTs (primary care trusts); "
                    "the CCGs said so. NHS England agreed.")
    assert spelled_out("ACCGS and CCGX stay as they are") == "ACCGS and CCGX stay as they are"


@pytest.mark.parametrize(("question", "read_as"), [
    ("What do the capital's town halls want?", "What do London's local authorities want?"),
    ("How many local health groups will buy family doctor services?", "How many CCGs will buy GP services?"),
    ("What does the head of the doctors' union fear?", "What does the head of the BMA fear?"),
    ("When will surgeries sign?", "When will GP practices sign?"),
])
def test_the_answer_model_reads_everyday_names_as_reporting_names(question, read_as):
    assert in_reporting_terms(question) == read_as


@pytest.mark.parametrize(("question", "read_as"), [
    ("When will surgeries put pen to paper?", "When will GP practices sign?"),
    ("Who will carry the can for cash-strapped services?", "Who will take the blame for underfunded services?"),
    ("Which law chipped away at medics' say?", "Which law undermined doctors' say?"),
    ("Who will foot the bill for the Treasury boss's plan?", "Who will pay for the chancellor's plan?"),
])
def test_idioms_are_read_in_plain_words(question, read_as):
    assert in_reporting_terms(question) == read_as


def test_idioms_bring_their_plain_words_to_lexical_search():
    assert "sign" in expansion("When will practices put pen to paper?").split()


@pytest.mark.parametrize("question", [
    "When was Mexico City declared the capital?",  # "the capital" alone is not always London
    "Who heads the Security Council?",
    "When was his surgery?",  # an operation, not a GP practice
])
def test_names_that_mean_other_things_outside_the_nhs_are_left_alone(question):
    assert in_reporting_terms(question) == question
