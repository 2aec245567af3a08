"""Tests for index/lexical.py: the tokenizer, exact BM25 rankings on tiny corpora, and the file round trip."""
from __future__ import annotations

import io
import json
import math
from collections import Counter

import numpy as np
import pytest

from index.lexical import FILES, LexicalIndex, tokenize
from qa.errors import IndexCorruptError, IndexMismatchError, InputError

CORPUS = [
    "NHS England commissioned GP services in Greater Manchester.",  # 0
    "The council funds public health; the CCG commissions community services.",  # 1
    "Readers said the £6bn deal for Greater Manchester was rushed.",  # 2
    "Nothing relevant here at all.",  # 3
]


def _bm25_reference(texts: list[str], query: str, k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """Lucene-variant BM25 written out from the formula, as ground truth for the index's scores."""
    docs = [tokenize(t) for t in texts]
    avgdl = sum(map(len, docs)) / len(docs)
    df = Counter(term for doc in docs for term in set(doc))
    scores = np.zeros(len(docs))
    for term in tokenize(query):
        if term not in df:
            continue
        idf = math.log(1 + (len(docs) - df[term] + 0.5) / (df[term] + 0.5))
        for row, doc in enumerate(docs):
            tf = doc.count(term)
            scores[row] += idf * tf / (tf + k1 * (1 - b + b * len(doc) / avgdl))
    return scores


def test_tokenize_casefolds_stems_and_drops_stopwords_and_symbols():
    assert tokenize("The CCG’s commissioners COMMISSIONED £6bn of services") == [
        "ccg", "commission", "commiss", "6bn", "servic"
    ]
    assert tokenize("Don't: who, what and which?") == []
    assert tokenize("1,000 beds and a 6.5bn budget") == ["1000", "bed", "6.5bn", "budget"]
    assert tokenize("") == []


def test_tokenize_rejects_non_strings():
    with pytest.raises(InputError, match="must be a string, got int"):
        tokenize(3)


def test_search_ranks_exactly_and_drops_rows_without_a_match():
    index = LexicalIndex.build(CORPUS)
    assert len(index) == 4
    hits = index.search("Greater Manchester deal", 10)
    assert [row for row, _ in hits] == [2, 0]  # "deal" only occurs in row 2
    assert hits[0][1] > hits[1][1] > 0
    assert index.search("who commissions community services?", 10)[0][0] == 1


def test_scores_match_the_bm25_formula():
    for query in ("Greater Manchester deal", "community services commissioned", "NHS"):
        expected = _bm25_reference(CORPUS, query, k1=1.2, b=0.6)
        got = LexicalIndex.build(CORPUS, k1=1.2, b=0.6).scores(query)
        assert got.dtype == np.float32 and got.shape == (4,)
        np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_stemming_lets_commissioning_find_commissioned():
    index = LexicalIndex.build(["The trust was commissioned last year.", "An unrelated sentence."])
    assert [row for row, _ in index.search("commissioning", 5)] == [0]


def test_k_limits_results_and_ties_break_by_row():
    index = LexicalIndex.build(["beds", "other", "beds", "beds", "words"])
    assert index.search("beds", 2) == index.search("beds", 10)[:2]
    assert [row for row, _ in index.search("beds", 2)] == [0, 2]
    assert [row for row, _ in index.search("beds", 10)] == [0, 2, 3]


def test_queries_without_known_terms_return_nothing():
    index = LexicalIndex.build(CORPUS)
    assert index.search("the and of", 5) == []  # empty after tokenizing
    assert index.search("zebra", 5) == []  # not in the vocabulary
    assert not index.scores("zebra").any()


def test_bad_arguments_are_rejected():
    with pytest.raises(InputError, match="k must be a positive integer, got 0"):
        LexicalIndex.build(CORPUS).search("nhs", 0)
    with pytest.raises(InputError, match="list of strings"):
        LexicalIndex.build(["ok", None])
    with pytest.raises(InputError, match="b must be a number between 0 and 1"):
        LexicalIndex.build(CORPUS, b=1.5)


def test_corpora_without_any_term_are_searchable():
    for texts in ([], ["", "the of and"]):
        index = LexicalIndex.build(texts)
        assert len(index) == len(texts)
        assert index.search("nhs", 3) == []
        assert LexicalIndex.from_files(index.to_files()).scores("nhs").shape == (len(texts),)


def test_average_length_is_the_mean_count_of_terms_per_passage_and_follows_changes():
    index = LexicalIndex.build(CORPUS)
    counts = [len(tokenize(text)) for text in CORPUS]
    assert index.average_length() == pytest.approx(sum(counts) / len(counts))
    assert index.without([0, 1]).average_length() == pytest.approx(sum(counts[2:]) / 2)
    assert LexicalIndex.build([]).average_length() is None


def test_round_trip_uses_npy_and_json_and_keeps_results():
    index = LexicalIndex.build(CORPUS, k1=1.2, b=0.5)
    files = index.to_files()
    assert set(files) == set(FILES.values())
    for name, data in files.items():
        if name.endswith(".npy"):
            np.load(io.BytesIO(data), allow_pickle=False)  # plain arrays, no pickled objects
        else:
            json.loads(data)
    loaded = LexicalIndex.from_files(files)
    assert (loaded.k1, loaded.b, len(loaded)) == (1.2, 0.5, 4)
    for query in ("Greater Manchester deal", "community services", "£6bn"):
        assert loaded.search(query, 4) == index.search(query, 4)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_scores_are_not_stored_and_loading_computes_them_bit_for_bit():
    words = " ".join(CORPUS).split()
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(words, rng.integers(1, 60))) for _ in range(500)]
    built = LexicalIndex.build(texts, k1=1.2, b=0.6)
    for index in (built, built.extended(CORPUS), built.without(np.arange(0, 500, 7))):
        files = index.to_files()
        assert "lexical.data.npy" not in files  # older libraries stored the scores there
        loaded = LexicalIndex.from_files(files)
        for query in ("Greater Manchester deal", "community services commissioned", "£6bn council", "nothing"):
            assert np.array_equal(loaded.scores(query), index.scores(query))


def test_an_older_index_with_its_stored_scores_file_still_loads_and_scores_from_the_counts():
    index = LexicalIndex.build(CORPUS)
    files = index.to_files()
    entries = len(np.load(io.BytesIO(files[FILES["tf"]])))
    older = {**files, "lexical.data.npy": _npy_bytes(np.zeros(entries, dtype=np.float32))}
    loaded = LexicalIndex.from_files(older)
    assert loaded.search("Greater Manchester", 4) == index.search("Greater Manchester", 4) != []


def test_from_files_rejects_missing_corrupt_or_mismatched_parts():
    files = LexicalIndex.build(CORPUS).to_files()
    with pytest.raises(IndexCorruptError, match=r"missing lexical.vocab.json"):
        LexicalIndex.from_files({k: v for k, v in files.items() if k != FILES["vocab"]})
    with pytest.raises(IndexCorruptError, match=r"lexical.params.json is not valid JSON"):
        LexicalIndex.from_files({**files, FILES["params"]: b"{nope"})
    with pytest.raises(IndexCorruptError, match=r"lexical.tf.npy is not a readable .npy"):
        LexicalIndex.from_files({**files, FILES["tf"]: b"\x93NUMPY garbage"})
    with pytest.raises(IndexCorruptError, match=r"term counts \(3\), indices"):
        LexicalIndex.from_files({**files, FILES["tf"]: _npy_bytes(np.ones(3, dtype=np.int32))})
    with pytest.raises(IndexCorruptError, match=r"term counts of float32 and 4 passage lengths"):
        tf = np.load(io.BytesIO(files[FILES["tf"]]))
        LexicalIndex.from_files({**files, FILES["tf"]: _npy_bytes(tf.astype(np.float32))})
    short_vocab = json.dumps(json.loads(files[FILES["vocab"]])[:-1]).encode()
    with pytest.raises(IndexCorruptError, match="indptr has"):
        LexicalIndex.from_files({**files, FILES["vocab"]: short_vocab})
    params = json.loads(files[FILES["params"]])
    with pytest.raises(IndexMismatchError, match="tokenizer version 0"):
        LexicalIndex.from_files({**files, FILES["params"]: json.dumps({**params, "tokenizer_version": 0}).encode()})
    with pytest.raises(IndexCorruptError, match="row numbers fall outside"):
        LexicalIndex.from_files({**files, FILES["params"]: json.dumps({**params, "rows": 2}).encode()})


def test_build_of_ten_thousand_passages_is_fast():
    import time

    words = " ".join(CORPUS).split()
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, 120)) for _ in range(10_000)]
    started = time.perf_counter()
    LexicalIndex.build(texts)
    assert time.perf_counter() - started < 5.0


def test_extending_and_removing_rows_tokenises_only_the_new_and_matches_a_fresh_build(monkeypatch):
    import index.lexical

    more = ["Councils in Greater Manchester will commission GP services.", "", "PCTs were scrapped in 2013."]
    calls = []
    real = index.lexical.tokenize
    monkeypatch.setattr(index.lexical, "tokenize", lambda text: calls.append(text) or real(text))
    extended = LexicalIndex.build(CORPUS).extended(more)
    assert calls == CORPUS + more  # each text once: the first four when built, then only the new ones
    calls.clear()
    shrunk = extended.without([0, 4])
    assert calls == []
    queries = ("Greater Manchester deal", "community services commissioned", "PCTs scrapped", "NHS", "council")
    for got, texts in ((extended, CORPUS + more), (shrunk, CORPUS[1:] + more[1:])):
        fresh = LexicalIndex.build(texts)
        assert len(got) == len(texts)
        for query in queries:
            np.testing.assert_array_equal(got.scores(query), fresh.scores(query))
            np.testing.assert_allclose(got.scores(query), _bm25_reference(texts, query), rtol=1e-5)
        assert got.known_share("nhs deal") == fresh.known_share("nhs deal")
    assert shrunk.known_share("nhs") == 0.0  # a term only the removed rows held is gone from the vocabulary
    files = shrunk.to_files()
    assert LexicalIndex.from_files(files).search("community services", 5) == shrunk.search("community services", 5)


@pytest.mark.parametrize("repeats, dtype", [(1, np.uint8), (300, np.uint16)])
def test_term_counts_are_stored_in_the_narrowest_type_and_score_the_same(repeats, dtype):
    texts = [*CORPUS, " ".join(["budget"] * repeats)]
    index = LexicalIndex.build(texts)
    files = index.to_files()
    assert np.load(io.BytesIO(files[FILES["tf"]])).dtype == dtype
    loaded = LexicalIndex.from_files(files)
    for query in ("budget", "ccgs commission gp services"):
        assert np.array_equal(loaded.scores(query), index.scores(query))


def test_scores_do_not_depend_on_how_rows_are_split_into_parts(monkeypatch):
    monkeypatch.setattr("index.lexical.SMALL_PART", 0)  # every part stays as added
    words = " ".join(CORPUS).split()
    rng = np.random.default_rng(2)
    texts = [" ".join(rng.choice(words, rng.integers(0, 40))) for _ in range(300)]
    whole = LexicalIndex.build(texts)
    split = LexicalIndex.concatenated([LexicalIndex.build(texts[a:b]) for a, b in ((0, 120), (120, 121), (121, 300))])
    assert len(split._parts) == 3 and len(split) == 300
    gone = np.arange(100, 200, 3)
    for got, want in ((split, whole), (split.without(gone), whole.without(gone)),
                      (LexicalIndex.from_files(split.to_files()), whole)):
        for query in ("Greater Manchester deal", "community services commissioned", "nhs nhs council", "nothing"):
            assert np.array_equal(got.scores(query), want.scores(query))
        assert got.average_length() == want.average_length()
        assert got.known_share("nhs deal zebra") == want.known_share("nhs deal zebra")
    assert split.to_files() == whole.to_files()


def test_small_trailing_parts_are_merged_and_large_ones_kept():
    big = LexicalIndex.build(["GP services"] * 70_000)  # more rows than SMALL_PART
    grown = big
    for text in ("council budget", "NHS England", "CCG"):
        grown = grown.extended([text])
    assert [len(part) for part in grown._parts] == [70_000, 3]
    assert big._parts[0] is grown._parts[0]  # shared, not copied


def test_a_delete_narrows_the_rows_a_part_serves_and_a_save_stores_only_those(monkeypatch):
    monkeypatch.setattr("index.lexical.SMALL_PART", 0)
    texts = [*CORPUS, "NHS budget deal", "council council NHS"]
    split = LexicalIndex.concatenated([LexicalIndex.build(texts[:4]), LexicalIndex.build(texts[4:])])
    narrowed = split.without([1, 4]).without([0])
    assert narrowed._parts[0].indices is split._parts[0].indices  # the arrays are shared
    fresh = LexicalIndex.build([texts[2], texts[3], texts[5]])
    for query in ("NHS council deal", "community services", "Greater Manchester"):
        assert np.array_equal(narrowed.scores(query), fresh.scores(query))
    assert narrowed.known_share("community") == 0.0  # only the deleted row 1 held it
    saved = LexicalIndex.from_files(narrowed.to_files())  # only the rows served are stored
    assert len(saved) == 3 and saved.average_length() == fresh.average_length()
    assert "communiti" not in json.loads(narrowed.to_files()[FILES["vocab"]])
    for query in ("NHS council deal", "community services", "Greater Manchester"):
        assert np.array_equal(saved.scores(query), fresh.scores(query))
