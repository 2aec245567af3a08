"""Tests for qa/retrieve.py: exact lexical, dense and hybrid rankings on tiny documents, filters, fusion.

The keyword embedder makes dense scores plain cosines of word counts, so every expected score below
can be worked out by hand (comments show how).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from index.build import IndexConfig, build_index
from index.chunk import ChunkConfig
from index.records import Comment, Document
from qa.errors import InputError
from qa.retrieve import RetrievalConfig, Retriever, best_rows
from tests.fakes import KeywordEmbedder

VOCABULARY = ["councils", "ccgs", "gp", "manchester", "budget"]  # any other word counts in one catch-all


def _documents() -> list[Document]:
    return [
        Document(id="alpha", title="Alpha", text="Councils commission GP services.", byline="Ian Quinn",
                 comments=(Comment(1, "Councils councils councils!", author="Vinci Ho"),
                           Comment(2, "The weather was sunny."))),
        Document(id="beta", title="Beta", text="CCGs commission GP services in Manchester."),
        Document(id="gamma", title="Gamma", text="The budget for Manchester is large."),
        Document(id="delta", title="Delta", text="Budget budget."),
    ]


def _retriever(config: RetrievalConfig = RetrievalConfig(), index_config: IndexConfig = IndexConfig()) -> Retriever:
    embedder = KeywordEmbedder(VOCABULARY)
    return Retriever(build_index(_documents(), embedder, index_config, progress=False), embedder, config)


def _ids(hits) -> list[str]:
    return [h.doc_id + (f"#{h.comment}" if h.comment else "") for h in hits]


def test_lexical_ranks_only_passages_that_share_a_term_by_bm25():
    hits = _retriever().search("budget manchester", 10, mode="lexical")
    # idf of both terms is ln(1 + 4.5 / 2.5); gamma has both, delta "budget" twice, beta "manchester" once.
    assert _ids(hits) == ["gamma", "delta", "beta"]
    assert [round(h.score, 4) for h in hits] == [0.8388, 0.6465, 0.3438]
    assert [h.rank for h in hits] == [1, 2, 3] and all(h.dense_score is None for h in hits)


def test_dense_ranks_passages_by_the_cosine_of_their_best_window():
    hits = _retriever().search("budget manchester", 3, mode="dense")
    # query (budget + manchester)/√2; delta = budget×2 -> 1/√2; gamma = budget, manchester and 4 others
    # -> 2/(√2·√18); beta = ccgs, gp, manchester and 3 others -> 1/(√2·√12).
    assert _ids(hits) == ["delta", "gamma", "beta"]
    # (window vectors are stored as int8 rows: cosines to about 1e-3)
    assert [h.dense_score for h in hits] == pytest.approx([1 / math.sqrt(2), 1 / 3, 1 / math.sqrt(24)], abs=5e-3)
    assert all(h.lexical_score is None for h in hits)


def test_hybrid_convex_fusion_weighs_min_max_normalised_scores():
    hits = _retriever(RetrievalConfig(dense_weight=0.5)).search("budget manchester", 3)
    # lexical / 0.8388 and dense / 0.7071 (every other passage scores 0 on both sides), averaged:
    # delta (0.7707 + 1) / 2, gamma (1 + 0.4714) / 2, beta (0.4099 + 0.2887) / 2.
    assert _ids(hits) == ["delta", "gamma", "beta"]
    assert [h.score for h in hits] == pytest.approx([0.8854, 0.7357, 0.3493], abs=5e-3)  # int8 window vectors
    for hit in hits:  # exactly so for the cosines stored
        assert hit.score == pytest.approx(0.5 * hit.lexical_score / 0.8388 + 0.5 * hit.dense_score / hits[0].dense_score,
                                          abs=1e-4)


@pytest.mark.parametrize("weight, expected", [(0.0, ["gamma", "delta", "beta"]), (0.2, ["gamma", "delta", "beta"]),
                                              (0.5, ["delta", "gamma", "beta"]), (1.0, ["delta", "gamma", "beta"])])
def test_dense_weight_moves_hybrid_between_the_lexical_and_the_dense_order(weight, expected):
    # gamma: 0.8 * 1 + 0.2 * 0.4714 = 0.894 beats delta: 0.8 * 0.7707 + 0.2 * 1 = 0.817 at weight 0.2.
    assert _ids(_retriever(RetrievalConfig(dense_weight=weight)).search("budget manchester", 3)) == expected


def test_hybrid_fuses_the_candidates_of_both_sides():
    # One candidate per side: lexical brings gamma, dense brings delta; nothing else is ranked.
    config = RetrievalConfig(candidates=1, dense_weight=0.4)
    hits = _retriever(config).search("budget manchester", 10)
    assert _ids(hits) == ["gamma", "delta"]  # normalised over the two: gamma 0.6 * 1, delta 0.4 * 1
    assert [h.score for h in hits] == pytest.approx([0.6, 0.4])
    assert _ids(_retriever(RetrievalConfig(candidates=1, dense_weight=0.6)).search("budget manchester", 10)) == \
        ["delta", "gamma"]


def test_rrf_fusion_adds_weighted_reciprocal_ranks():
    config = RetrievalConfig(fusion="rrf", dense_weight=0.6, rrf_k=60)
    hits = _retriever(config).search("budget manchester", 3)
    # lexical ranks gamma 1, delta 2, beta 3; dense ranks delta 1, gamma 2, beta 3.
    expected = {"delta": 0.4 / 62 + 0.6 / 61, "gamma": 0.4 / 61 + 0.6 / 62, "beta": 0.4 / 63 + 0.6 / 63}
    assert _ids(hits) == ["delta", "gamma", "beta"]
    assert [h.score for h in hits] == pytest.approx([expected[i] for i in _ids(hits)], rel=1e-12)


def test_rrf_gives_no_lexical_rank_to_passages_bm25_did_not_match():
    # "the" is a stopword, so BM25 matches nothing; the dense side alone must order the passages
    # (share of catch-all words: alpha#2 4/4, gamma 4/√18, beta 3/√12, alpha 2/√6), not their index order.
    config = RetrievalConfig(fusion="rrf", dense_weight=0.5)
    hits = _retriever(config).search("the", 4)
    assert _ids(hits) == ["alpha#2", "gamma", "beta", "alpha"]
    assert [h.score for h in hits] == pytest.approx([0.5 / (60 + rank) for rank in (1, 2, 3, 4)], rel=1e-12)


def test_rrf_and_convex_differ_where_score_margins_matter():
    # Convex keeps the margins: beta's lexical lead over gamma (0.69 vs 0.42) is large, so
    # "gp manchester" ranks beta, alpha, gamma either way, but rrf ties alpha and gamma on ranks (2+3 each).
    convex = _retriever(RetrievalConfig(dense_weight=0.5)).search("gp manchester", 3)
    rrf = _retriever(RetrievalConfig(fusion="rrf", dense_weight=0.5)).search("gp manchester", 3)
    assert _ids(convex) == ["beta", "alpha", "gamma"]
    assert convex[1].score > convex[2].score + 0.1
    assert _ids(rrf)[0] == "beta" and rrf[1].score == pytest.approx(rrf[2].score, rel=1e-12)


def test_a_passage_scores_its_best_window():
    text = "Budget talk here now. Nothing of note at all. Manchester budget budget again."
    document = Document(id="long", title="Long", text=text)
    embedder = KeywordEmbedder(VOCABULARY)
    config = IndexConfig(ChunkConfig(passage_words=20, window_words=5, overlap_sentences=0))
    index = build_index([document], embedder, config, progress=False)
    assert len(index.passages) == 1 and len(index.passages[0].windows) == 3
    [hit] = Retriever(index, embedder).search("budget", 5, mode="dense")
    # windows: budget + 3 others -> 1/2; no budget -> 0; manchester, budget×2, again -> 2/√6.
    assert hit.dense_score == pytest.approx(2 / math.sqrt(6), abs=5e-3)  # int8 window vectors


@pytest.mark.parametrize("kind, expected", [("comment", ["alpha#1"]), ("article", ["alpha"]),
                                            ("both", ["alpha#1", "alpha"])])
def test_kind_filter_keeps_articles_comments_or_both(kind, expected):
    assert _ids(_retriever().search("councils", 10, kind=kind, mode="lexical")) == expected


def test_kind_filter_applies_to_every_mode():
    retriever = _retriever()
    for mode in ("hybrid", "dense"):
        assert set(_ids(retriever.search("councils", 10, kind="comment", mode=mode))) == {"alpha#1", "alpha#2"}
        assert {h.kind for h in retriever.search("councils", 10, kind="article", mode=mode)} == {"article"}


def test_hits_carry_the_provenance_of_their_passage():
    [comment, article] = _retriever().search("councils", 2, mode="lexical")
    assert (comment.kind, comment.comment, comment.author, comment.title) == ("comment", 1, "Vinci Ho", "Alpha")
    assert (article.kind, article.comment, article.author) == ("article", None, "Ian Quinn")
    documents = {d.id: d for d in _documents()}
    for hit in (comment, article):
        assert hit.text == documents[hit.doc_id].source_text(hit.comment)[hit.start:hit.end]


def test_doc_ids_filter_keeps_only_those_documents():
    retriever = _retriever()
    assert _ids(retriever.search("budget manchester", 10, doc_ids=["beta", "delta"], mode="lexical")) == \
        ["delta", "beta"]
    assert _ids(retriever.search("budget manchester", 10, doc_ids=["beta", "delta"])) == ["delta", "beta"]
    assert retriever.search("councils", 10, doc_ids=[]) == []
    assert retriever.search("councils", 10, kind="comment", doc_ids=["beta"]) == []


def test_an_unknown_doc_id_is_an_error_that_names_it():
    with pytest.raises(InputError, match=r"unknown document id\(s\): nope; see Engine.documents\(\)"):
        _retriever().search("councils", 10, doc_ids=["alpha", "nope"])


def test_a_single_doc_id_string_is_refused_rather_than_read_letter_by_letter():
    with pytest.raises(InputError, match=r"doc_ids must be a list of document ids, got the string 'alpha'; "
                                         r"pass \['alpha'\]"):
        _retriever().search("councils", 10, doc_ids="alpha")


@pytest.mark.parametrize("k", [0, 101, -1, True, 2.5, "3", None])
def test_k_must_be_a_whole_number_from_1_to_100(k):
    with pytest.raises(InputError, match=rf"k must be a whole number between 1 and 100, got {k!r}"):
        _retriever().search("councils", k)


def test_k_limits_the_hits_and_1_and_100_are_allowed():
    retriever = _retriever()
    assert len(retriever.search("councils", 1)) == 1
    assert len(retriever.search("councils", 100)) == 6  # every passage has a dense score


@pytest.mark.parametrize("option, value, message", [
    ("kind", "articles", "kind must be one of both, article, comment, got 'articles'"),
    ("mode", "sparse", "mode must be one of hybrid, lexical, dense, got 'sparse'"),
])
def test_search_options_say_what_is_allowed(option, value, message):
    with pytest.raises(InputError, match=message):
        _retriever().search("councils", 5, **{option: value})


@pytest.mark.parametrize("settings, message", [
    ({"mode": "bm25"}, "mode must be one of hybrid, lexical, dense, got 'bm25'"),
    ({"fusion": "max"}, "fusion must be one of convex, rrf, got 'max'"),
    ({"dense_weight": 1.5}, "dense_weight must be between 0 and 1, got 1.5"),
    ({"doc_weight": -0.1}, "doc_weight must be between 0 and 1, got -0.1"),
    ({"rrf_k": 0}, "rrf_k must be at least 1, got 0"),
    ({"candidates": 0}, "candidates must be between 1 and 10000, got 0"),
    ({"candidates": 2.5}, "candidates must be a whole number, got 2.5"),
    ({"rrf_k": None}, "rrf_k must be a whole number, got None"),
    ({"dense_weight": "0.5"}, "dense_weight must be a number between 0 and 1, got '0.5'"),
])
def test_retrieval_config_says_what_is_allowed(settings, message):
    with pytest.raises(InputError, match=message):
        RetrievalConfig(**settings)


def test_approximate_dense_search_agrees_with_exact_search_on_a_small_corpus():
    exact, hnsw = _retriever(), _retriever(index_config=IndexConfig(dense_kind="hnsw"))
    for query in ("budget manchester", "councils", "gp manchester", "ccgs budget"):
        for mode in ("dense", "hybrid"):
            a, b = exact.search(query, 10, mode=mode), hnsw.search(query, 10, mode=mode)
            assert _ids(a) == _ids(b)
            assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-6)


def test_the_best_rows_are_those_a_stable_sort_of_every_row_gives():
    # Partitioning instead of sorting the whole archive must not change a ranking, ties included.
    rng = np.random.default_rng(0)
    for trial in range(500):
        size = int(rng.integers(0, 120))
        scores = rng.integers(0, 4, size).astype(float) if trial % 2 else rng.normal(size=size)
        scores[rng.random(size) < 0.1] = -np.inf
        eligible = (rng.random(size) < 0.7) & np.isfinite(scores)
        n = int(rng.integers(1, 30))
        expected = [row for row in np.argsort(-np.where(eligible, scores, -np.inf), kind="stable") if eligible[row]][:n]
        assert best_rows(scores, eligible, n).tolist() == expected
