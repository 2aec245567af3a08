"""Tests for index/build.py: build, extend, save and load a corpus index (fake embedder, real FAISS)."""
from __future__ import annotations

import io
from dataclasses import fields

import numpy as np
import pytest

from index.build import IndexConfig, add_documents, build_index, load_index, save_index
from index.chunk import ChunkConfig
from index.quantised import dequantised, is_quantised, quantised
from index.records import Comment, Document
from index.store import read_index, write_index
from qa.errors import IndexCorruptError, IndexMismatchError, InputError
from qa.retrieve import Retriever
from tests.fakes import KeywordEmbedder

VOCABULARY = ["ccgs", "councils", "gp", "manchester", "budget", "pcts"]
QUERIES = ["gp services in manchester", "councils budget", "pcts scrapped", "sunny weather"]
SMALL_CHUNKS = IndexConfig(ChunkConfig(passage_words=20, window_words=8, overlap_sentences=1))


def _documents() -> list[Document]:
    long_body = " ".join(f"Sentence {i} says the CCGs and councils share a budget." for i in range(12))
    return [
        Document(id="alpha", title="Councils and GP services", byline="Ian Quinn",
                 text="Councils will commission GP services in Manchester. The budget is £6bn.",
                 comments=(Comment(1, "Councils councils councils!", author="Vinci Ho"),
                           Comment(2, "No better than the PCTs were."))),
        Document(id="beta", title="CCGs take over", text=long_body),
    ]


def _more_documents() -> list[Document]:
    return [Document(id="gamma", title="PCTs to go", text="PCTs are to be scrapped by April 2013. GP leaders agree.",
                     comments=(Comment(1, "About time for the PCTs.", author="Took Early Retirement"),))]


def _results(index, embedder) -> list:
    retriever = Retriever(index, embedder)
    return [retriever.search(q, 20, mode=mode) for q in QUERIES for mode in ("hybrid", "lexical", "dense")]


@pytest.mark.parametrize("dense_kind", ["exact", "hnsw"])
def test_save_and_load_give_back_the_same_index_and_the_same_results(tmp_path, dense_kind):
    embedder = KeywordEmbedder(VOCABULARY)
    index = build_index(_documents(), embedder, IndexConfig(SMALL_CHUNKS.chunk, dense_kind), progress=False)
    save_index(index, tmp_path / "idx")
    loaded = load_index(tmp_path / "idx", embedder)
    assert loaded.documents == index.documents
    assert loaded.passages == index.passages
    # windows and sentences are compare=False on Passage: check them explicitly.
    assert [(p.windows, p.sentences) for p in loaded.passages] == [(p.windows, p.sentences) for p in index.passages]
    assert np.array_equal(loaded.sentence_vectors, index.sentence_vectors)
    assert np.array_equal(loaded.window_passage, index.window_passage)
    assert loaded.meta() == index.meta() and loaded.config == index.config
    assert _results(loaded, embedder) == _results(index, embedder)


def test_a_built_or_loaded_index_holds_only_its_declared_fields(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    index = build_index(_documents(), embedder, SMALL_CHUNKS, progress=False)
    save_index(index, tmp_path / "idx")
    for each in (index, load_index(tmp_path / "idx", embedder)):
        assert set(vars(each)) == {f.name for f in fields(each)}  # nothing added after construction
        assert each.passage_row == {p.id: row for row, p in enumerate(each.passages)}
        assert each.sentence_start[-1] == len(each.sentence_vectors)


def test_index_counts_one_vector_per_window():
    embedder = KeywordEmbedder(VOCABULARY)
    index = build_index(_documents(), embedder, SMALL_CHUNKS, progress=False)
    windows = [w for p in index.passages for w in p.windows]
    assert index.meta()["vectors"] == len(windows) == len(index.dense) > len(index.passages)
    assert index.meta()["passages"] == len(index.passages) and index.meta()["documents"] == 2
    # Row r of the dense index belongs to passage window_passage[r], in passage order.
    assert list(index.window_passage) == [row for row, p in enumerate(index.passages) for _ in p.windows]


def test_adding_documents_embeds_only_the_new_passages_and_matches_a_full_build(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    index = build_index(_documents(), embedder, SMALL_CHUNKS, progress=False)
    before = (len(index.passages), len(index.dense), len(index.window_passage), len(index.lexical))
    embedder.encoded_texts.clear()
    added = add_documents(index, _more_documents(), embedder, progress=False)

    new = added.passages[len(index.passages):]
    gamma = _more_documents()[0]
    assert {p.doc_id for p in new} == {"gamma"}
    windows = {gamma.source_text(p.comment)[a:b] for p in new for a, b in p.windows}
    sentences = {gamma.source_text(p.comment)[a:b] for p in new for a, b in p.sentences}
    # Each new window and sentence is embedded once; nothing of the documents already indexed is.
    assert windows <= set(embedder.encoded_texts) <= windows | sentences
    assert len(embedder.encoded_texts) == len(set(embedder.encoded_texts))
    # The old index is left as it was, for searches already running on it.
    assert (len(index.passages), len(index.dense), len(index.window_passage), len(index.lexical)) == before
    assert "gamma" not in index.documents

    full = build_index(_documents() + _more_documents(), KeywordEmbedder(VOCABULARY), SMALL_CHUNKS, progress=False)
    assert added.passages == full.passages and np.array_equal(added.window_passage, full.window_passage)
    assert _results(added, embedder) == _results(full, embedder)

    save_index(added, tmp_path)
    assert _results(load_index(tmp_path, embedder), embedder) == _results(full, embedder)


def test_adding_an_id_already_indexed_or_twice_is_refused_and_changes_nothing():
    embedder = KeywordEmbedder(VOCABULARY)
    index = build_index(_documents(), embedder, SMALL_CHUNKS, progress=False)
    passages = list(index.passages)
    clash = Document(id="alpha", title="Another", text="Different text entirely.")
    with pytest.raises(InputError, match="document ids already in the index: alpha"):
        add_documents(index, [clash], embedder)
    twice = _more_documents() * 2
    with pytest.raises(InputError, match="document ids given more than once: gamma"):
        add_documents(index, twice, embedder)
    assert index.passages == passages and set(index.documents) == {"alpha", "beta"}


def test_loading_with_another_model_name_or_dimension_is_a_mismatch(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    save_index(build_index(_documents(), embedder, progress=False), tmp_path)
    with pytest.raises(IndexMismatchError, match=r"model: stored 'fake-keywords', expected 'other-model'"):
        load_index(tmp_path, KeywordEmbedder(VOCABULARY, name="other-model"))
    with pytest.raises(IndexMismatchError, match=r"dimension: stored 7, expected 8"):
        load_index(tmp_path, KeywordEmbedder([*VOCABULARY, "extra"]))
    assert len(load_index(tmp_path).passages) == len(load_index(tmp_path, embedder).passages)


def test_adding_with_another_model_is_a_mismatch():
    index = build_index(_documents(), KeywordEmbedder(VOCABULARY), progress=False)
    with pytest.raises(IndexMismatchError, match="model: stored 'fake-keywords', expected 'other-model'"):
        add_documents(index, _more_documents(), KeywordEmbedder(VOCABULARY, name="other-model"))


def test_index_config_says_what_is_allowed():
    with pytest.raises(InputError, match="dense_kind must be one of exact, hnsw, got 'ivf'"):
        IndexConfig(dense_kind="ivf")


def test_pooled_sentence_vectors_come_from_the_window_pass():
    embedder = KeywordEmbedder(["ccgs", "councils", "budget"])
    document = Document(id="d", title="T", text="CCGs commission. Councils hold the budget. CCGs again.")
    pooled = build_index([document], embedder, IndexConfig(sentence_vectors="pooled"))
    separate = build_index([document], KeywordEmbedder(["ccgs", "councils", "budget"]), IndexConfig())
    assert pooled.sentence_vectors.shape == separate.sentence_vectors.shape
    # The fake has no context to pool, so each pooled span equals that sentence embedded alone.
    assert np.allclose(dequantised(pooled.sentence_vectors), dequantised(separate.sentence_vectors))
    assert pooled.meta()["sentence_vectors"] == "pooled"


def test_an_unknown_sentence_vector_mode_is_refused():
    with pytest.raises(InputError, match="sentence_vectors must be one of separate, pooled"):
        IndexConfig(sentence_vectors="fancy")


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _embedded_sentences(index, embedder) -> np.ndarray:
    """Each indexed sentence embedded now, in float32: what the stored int8 rows approximate."""
    texts = [p.text[s - p.start:e - p.start] for p in index.passages for s, e in p.sentences]
    return embedder.encode(texts)


def test_sentence_vectors_are_int8_with_a_scale_in_memory_and_on_disk_and_score_as_float32_did(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    index = build_index(_documents(), embedder, SMALL_CHUNKS, progress=False)
    save_index(index, tmp_path)
    loaded = load_index(tmp_path, embedder)
    stored = next(tmp_path.glob("sentence_vectors.g*.npy"))
    assert is_quantised(index.sentence_vectors) and index.sentence_vectors.dtype == loaded.sentence_vectors.dtype
    assert np.load(stored).dtype == loaded.sentence_vectors.dtype
    sentences, dimension = len(loaded.sentence_vectors), embedder.dimension
    assert stored.stat().st_size <= 256 + sentences * (dimension + 4)  # a byte a number and a scale, plus the header
    exact = _embedded_sentences(index, embedder)
    query = embedder.encode(["councils budget in manchester"])[0]
    scores = dequantised(loaded.sentence_vectors) @ query  # as qa.answer scores them
    assert scores.dtype == np.float32
    assert np.abs(scores - exact @ query).max() < 5e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_an_index_saved_with_float_sentence_vectors_still_loads_quantised(tmp_path, dtype):
    embedder = KeywordEmbedder(VOCABULARY)
    save_index(build_index(_documents(), embedder, SMALL_CHUNKS, progress=False), tmp_path)
    meta, files = read_index(tmp_path)
    old = _embedded_sentences(load_index(tmp_path, embedder), embedder).astype(dtype)
    files["sentence_vectors.npy"] = _npy(old)  # as libraries before int8 storage wrote them
    write_index(tmp_path, files, meta)
    loaded = load_index(tmp_path, embedder)
    assert is_quantised(loaded.sentence_vectors)
    assert np.array_equal(loaded.sentence_vectors, quantised(old))
    assert _results(loaded, embedder) == _results(load_index(tmp_path), embedder)


def test_an_index_saved_with_the_bm25_scores_file_still_loads_with_the_same_results(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    index = build_index(_documents(), embedder, SMALL_CHUNKS, progress=False)
    save_index(index, tmp_path)
    meta, files = read_index(tmp_path)
    entries = len(np.load(io.BytesIO(files["lexical.tf.npy"])))
    files["lexical.data.npy"] = _npy(np.ones(entries, dtype=np.float32))  # older libraries stored the scores
    write_index(tmp_path, files, meta)
    assert _results(load_index(tmp_path, embedder), embedder) == _results(index, embedder)


def test_sentence_vectors_of_another_dtype_are_reported_as_a_corrupt_index(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    save_index(build_index(_documents(), embedder, SMALL_CHUNKS, progress=False), tmp_path)
    meta, files = read_index(tmp_path)
    rows = (len(load_index(tmp_path).sentence_vectors), embedder.dimension)
    files["sentence_vectors.npy"] = _npy(np.zeros(rows, dtype=np.int8))
    write_index(tmp_path, files, meta)
    with pytest.raises(IndexCorruptError, match=r"sentence vectors of dtype int8 and shape .* expected int8 rows"):
        load_index(tmp_path, embedder)
