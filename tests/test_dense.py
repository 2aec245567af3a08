"""Contract tests for index/dense.py: exact search equals brute force; HNSW recall is checked against it."""
from __future__ import annotations

import numpy as np
import pytest

from index.dense import FILE_NAME, VECTORS_FILE, DenseIndex, stored_form
from index.quantised import quantised
from index.store import encode_npy
from qa.errors import IndexCorruptError, InputError


def _data(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _brute_force(base: np.ndarray, queries: np.ndarray, k: int, kind: str = "exact") -> tuple[np.ndarray, np.ndarray]:
    """Top-k rows by cosine similarity, computed in float64 numpy over the vectors an index of `kind` holds
    ("exact" rounds them to float16, as it stores them)."""
    b = base / np.linalg.norm(base, axis=1, keepdims=True)
    if kind == "exact":
        b = stored_form(b)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    sims = q.astype(np.float64) @ b.astype(np.float64).T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(sims, order, axis=1)


def test_exact_equals_brute_force_ranking():
    base, queries = _data(500, 32, seed=1), _data(20, 32, seed=2)
    index = DenseIndex(32)
    index.add(base[:200])  # two batches: rows keep insertion order across calls
    index.add(base[200:])
    expected_ids, expected_scores = _brute_force(base, queries, 10)
    results = index.search(queries, 10)
    assert len(results) == 20
    for hits, ids, scores in zip(results, expected_ids, expected_scores):
        assert [row for row, _ in hits] == ids.tolist()
        np.testing.assert_allclose([s for _, s in hits], scores, atol=1e-5)


def test_scores_are_cosine_whatever_the_vector_length():
    index = DenseIndex(2)
    index.add(np.array([[10.0, 0.0], [0.0, 0.5], [1.0, 1.0]], dtype=np.float32))
    hits = index.search(np.array([[3.0, 0.0]], dtype=np.float32), 3)[0]
    assert [row for row, _ in hits] == [0, 2, 1]
    np.testing.assert_allclose([s for _, s in hits], [1.0, np.sqrt(0.5), 0.0], atol=1e-3)  # float16 vectors


def test_hnsw_recall_at_10_against_exact():
    base, queries = _data(3000, 48, seed=3), _data(100, 48, seed=4)
    exact, approx = DenseIndex(48, "exact"), DenseIndex(48, "hnsw")
    exact.add(base)
    approx.add(base)
    truth = exact.search(queries, 10)
    found = approx.search(queries, 10)
    recall = np.mean([len({r for r, _ in t} & {r for r, _ in f}) / 10 for t, f in zip(truth, found)])
    assert recall >= 0.95, f"HNSW recall@10 {recall:.3f} below 0.95"


def test_k_is_clamped_and_empty_index_returns_empty_lists():
    index = DenseIndex(4, "hnsw")
    queries = _data(2, 4, seed=5)
    assert index.search(queries, 5) == [[], []]
    index.add(_data(3, 4, seed=6))
    results = index.search(queries, 50)
    assert [sorted(r for r, _ in hits) for hits in results] == [[0, 1, 2], [0, 1, 2]]
    assert all(r >= 0 for hits in results for r, _ in hits)


def test_ef_search_is_settable_on_hnsw_only():
    index = DenseIndex(4, "hnsw", ef_search=40)
    assert index.ef_search == 40
    index.ef_search = 300
    assert index.ef_search == 300
    with pytest.raises(InputError, match="positive integer"):
        index.ef_search = 0
    assert DenseIndex(4).ef_search is None
    with pytest.raises(InputError, match="only to kind 'hnsw'"):
        DenseIndex(4).ef_search = 10


@pytest.mark.parametrize(
    "vectors, message",
    [
        (np.zeros((2, 3), dtype=np.float32), r"shape \(n, 4\), got \(2, 3\)"),
        (np.zeros(4, dtype=np.float32), r"shape \(n, 4\), got \(4,\)"),
        (np.zeros((2, 4), dtype=np.float64), "dtype float32, got float64"),
        (np.array([[0, 0, 0, 0], [1, np.nan, 0, 0]], dtype=np.float32), "row 1 contains NaN"),
        ([[0.0, 0.0, 0.0, 0.0]], "numpy array"),
    ],
)
def test_add_rejects_bad_vectors_saying_what_was_expected(vectors, message):
    index = DenseIndex(4)
    with pytest.raises(InputError, match=message):
        index.add(vectors)
    assert len(index) == 0


def test_bad_arguments_are_rejected():
    with pytest.raises(InputError, match="kind must be one of 'exact', 'hnsw', got 'ivf'"):
        DenseIndex(4, "ivf")
    with pytest.raises(InputError, match="dim must be a positive integer"):
        DenseIndex(0)
    with pytest.raises(InputError, match="k must be a positive integer, got 0"):
        DenseIndex(4).search(np.zeros((1, 4), dtype=np.float32), 0)


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_round_trip_through_files_gives_identical_results(kind):
    base, queries = _data(300, 16, seed=7), _data(5, 16, seed=8)
    index = DenseIndex(16, kind)
    index.add(base)
    files = index.to_files()
    name = VECTORS_FILE if kind == "exact" else FILE_NAME
    assert set(files) == {name} and isinstance(files[name], bytes)
    loaded = DenseIndex.from_files(files, 16, kind, rows=300)
    assert len(loaded) == 300 and loaded.kind == kind
    assert loaded.ef_search == index.ef_search
    assert loaded.search(queries, 7) == index.search(queries, 7)


def test_an_exact_index_saved_by_faiss_as_float32_still_loads():
    import faiss  # after index.dense, which imports torch first

    flat = faiss.IndexFlatIP(8)
    vectors = _data(10, 8, seed=9)
    faiss.normalize_L2(vectors)
    flat.add(vectors)
    loaded = DenseIndex.from_files({FILE_NAME: faiss.serialize_index(flat).tobytes()}, 8, rows=10)
    assert np.array_equal(loaded.vectors(), stored_form(vectors))


def test_an_exact_index_saves_the_int8_rows_it_read():
    vectors = _data(10, 8, seed=9)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    saved = encode_npy(quantised(vectors))
    loaded = DenseIndex.from_files({VECTORS_FILE: saved}, 8, rows=10)
    np.testing.assert_allclose(loaded.vectors(), vectors, atol=5e-3)
    assert loaded.to_files() == {VECTORS_FILE: saved}  # the very rows it read


def test_a_loaded_exact_index_reads_a_memory_mapped_file_in_place(tmp_path):
    import mmap

    index = DenseIndex(16)
    index.add(_data(300, 16, seed=3))
    path = tmp_path / VECTORS_FILE
    path.write_bytes(index.to_files()[VECTORS_FILE])
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    loaded = DenseIndex.from_files({VECTORS_FILE: mapped}, 16, rows=300)
    del mapped  # the index's rows are a view of the mapping, which they keep alive
    assert loaded.to_files() == index.to_files() and np.array_equal(loaded.vectors(), index.vectors())
    query = _data(2, 16, seed=4)
    assert loaded.search(query, 9) == index.search(query, 9)
    grown = loaded.copy()
    grown.add(_data(5, 16, seed=5))  # a new part: the mapped one is never grown
    assert len(grown) == 305 and len(loaded) == 300 and grown.search(query, 9) == index.search(query, 9)
    smaller = loaded.without(np.array([0, 7]))
    assert len(smaller) == 298 and np.array_equal(smaller.vectors(), np.delete(index.vectors(), [0, 7], axis=0))


def test_from_files_rejects_unreadable_or_inconsistent_files():
    exact, graph = DenseIndex(8), DenseIndex(8, "hnsw")
    exact.add(_data(10, 8, seed=9))
    graph.add(_data(10, 8, seed=9))
    good_int8, good_graph = exact.to_files()[VECTORS_FILE], graph.to_files()[FILE_NAME]
    for bad in (good_int8[: len(good_int8) // 2], b"not an npy file", b""):
        with pytest.raises(IndexCorruptError, match=r"dense\.npy is not a readable \.npy file"):
            DenseIndex.from_files({VECTORS_FILE: bad}, 8)
    with pytest.raises(IndexCorruptError, match=r"vectors of shape \(10,\), expected int8 rows of dimension 16"):
        DenseIndex.from_files({VECTORS_FILE: good_int8}, 16)
    with pytest.raises(IndexCorruptError, match="holds 10 vectors, expected 11"):
        DenseIndex.from_files({VECTORS_FILE: good_int8}, 8, rows=11)
    with pytest.raises(IndexCorruptError, match=r"float32 vectors .* expected int8 rows"):
        DenseIndex.from_files({VECTORS_FILE: encode_npy(np.zeros((10, 8), np.float32))}, 8)
    with pytest.raises(IndexCorruptError, match=r"dense.npy is missing"):
        DenseIndex.from_files({}, 8)
    for bad in (good_graph[: len(good_graph) // 2], b"not a faiss index", b""):
        with pytest.raises(IndexCorruptError, match="not a readable FAISS index"):
            DenseIndex.from_files({FILE_NAME: bad}, 8, "hnsw")
    with pytest.raises(IndexCorruptError, match="dimension 8, expected 16"):
        DenseIndex.from_files({FILE_NAME: good_graph}, 16, "hnsw")
    with pytest.raises(IndexCorruptError, match="holds 10 vectors, expected 11"):
        DenseIndex.from_files({FILE_NAME: good_graph}, 8, "hnsw", rows=11)
    with pytest.raises(IndexCorruptError, match="kind 'exact' expects IndexFlatIP"):
        DenseIndex.from_files({FILE_NAME: good_graph}, 8)
    with pytest.raises(IndexCorruptError, match=r"dense.faiss is missing"):
        DenseIndex.from_files({}, 8, "hnsw")


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_a_filter_matching_few_rows_still_gives_k_hits_all_allowed(kind):
    # 5,000 rows all near the query except the 30 allowed ones, which lie far from it: searching everything
    # and filtering afterwards finds none of them in the first k (or the first 8k) rows.
    rng = np.random.default_rng(5)
    query = np.ones((1, 16), dtype=np.float32)
    base = query + 0.05 * rng.standard_normal((5_000, 16)).astype(np.float32)
    allowed = np.zeros(5_000, dtype=bool)
    allowed[rng.choice(5_000, 30, replace=False)] = True
    base[allowed] = -query + 0.5 * rng.standard_normal((30, 16)).astype(np.float32)
    index = DenseIndex(16, kind)
    index.add(base)
    hits = index.search(query, 10, allowed=allowed)[0]
    expected_ids, expected_scores = _brute_force(base[allowed], query, 10, kind)
    assert [row for row, _ in hits] == np.flatnonzero(allowed)[expected_ids[0]].tolist()
    np.testing.assert_allclose([s for _, s in hits], expected_scores[0], atol=1e-4)
    assert not any(allowed[row] for row, _ in index.search(query, 8 * 10)[0])  # why a post-filter fails here


def test_an_hnsw_filter_too_wide_to_score_exactly_is_searched_in_the_graph():
    base, query = _data(12_000, 16, seed=7), _data(1, 16, seed=8)
    allowed = np.zeros(12_000, dtype=bool)
    allowed[::2] = True  # 6,000 rows: more than EXACT_BELOW_ROWS, so the selector runs inside HNSW
    index = DenseIndex(16, "hnsw")
    index.add(base)
    hits = index.search(query, 20, allowed=allowed)[0]
    assert len(hits) == 20 and all(allowed[row] for row, _ in hits)
    expected = set((np.flatnonzero(allowed)[_brute_force(base[allowed], query, 20, "hnsw")[0][0]]).tolist())
    assert len(expected & {row for row, _ in hits}) >= 18


def test_an_allowed_mask_must_give_one_bool_per_row():
    index = DenseIndex(4)
    index.add(_data(3, 4, seed=1))
    with pytest.raises(InputError, match=r"allowed must be a bool array of one entry per row \(3\)"):
        index.search(_data(1, 4, seed=2), 2, allowed=np.array([True, False]))
    with pytest.raises(InputError, match="allowed must be a bool array"):
        index.search(_data(1, 4, seed=2), 2, allowed=np.array([1, 0, 1]))
    assert index.search(_data(1, 4, seed=2), 2, allowed=np.zeros(3, dtype=bool)) == [[]]


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_best_per_group_gives_n_groups_scored_by_their_best_allowed_row(kind):
    base, query = _data(600, 8, seed=3), _data(1, 8, seed=4)
    groups = np.repeat(np.arange(200), 3)  # three rows (windows) a group (passage)
    allowed = np.repeat(np.arange(200) % 10 == 0, 3)  # 20 groups allowed
    index = DenseIndex(8, kind)
    index.add(base)
    sims = _brute_force(base, query, 600, kind)
    best: dict[int, float] = {}
    for row, score in zip(sims[0][0], sims[1][0]):
        if allowed[row]:
            best.setdefault(int(groups[row]), float(score))
    found = index.best_per_group(query, 15, groups, allowed)
    assert [g for g, _ in found] == list(best)[:15]
    np.testing.assert_allclose([s for _, s in found], list(best.values())[:15], atol=1e-5)
    assert len(index.best_per_group(query, 50, groups, allowed)) == 20  # all there are


def test_similarities_are_the_cosines_search_reports():
    base, query = _data(50, 8, seed=9), _data(1, 8, seed=10)
    index = DenseIndex(8)
    index.add(base)
    hits = index.search(query, 50)[0]
    rows = np.array([row for row, _ in hits])
    np.testing.assert_allclose(index.similarities(query, rows), [s for _, s in hits], atol=1e-5)


# -- an exact index as parts: appends share the parts they start from -------------------------------------

def _in_parts(sizes: list[int], dim: int, monkeypatch) -> DenseIndex:
    """An exact index of random rows added in batches of `sizes`, no part too small to stay one."""
    monkeypatch.setattr("index.dense.SMALL_PART", 0)
    index = DenseIndex(dim)
    for seed, size in enumerate(sizes):
        index.add(_data(size, dim, seed=100 + seed))
    return index


def _as_one_part(index: DenseIndex) -> DenseIndex:
    return index.taken(np.arange(len(index)))


def test_a_search_across_parts_equals_one_over_the_same_vectors(monkeypatch):
    index = _in_parts([50, 30, 10, 0, 5], 8, monkeypatch)
    assert len(index._parts) == 4 and len(index) == 95  # the empty batch adds no part
    whole = _as_one_part(index)
    assert np.array_equal(whole.vectors(), index.vectors())
    allowed = np.random.default_rng(1).random(95) < 0.3
    allowed[50:80] = False  # a part with no row allowed
    for queries in (_data(1, 8, seed=2), _data(25, 8, seed=3)):  # FAISS scans a few queries, and BLAS many
        for k in (1, 7, 40, 95):  # k larger than a part, and than all allowed
            for mask in (None, allowed):
                assert index.search(queries, k, allowed=mask) == whole.search(queries, k, allowed=mask)
    query, rows = _data(1, 8, seed=4), np.array([94, 0, 60, 50, 49])
    assert np.array_equal(index.similarities(query, rows), whole.similarities(query, rows))
    assert np.array_equal(index.vectors(rows), whole.vectors(rows))
    groups = np.arange(95) // 3
    assert index.best_per_group(query, 9, groups, allowed) == whole.best_per_group(query, 9, groups, allowed)
    assert index.to_files() == whole.to_files()


def test_tied_rows_of_different_parts_come_in_row_order(monkeypatch):
    monkeypatch.setattr("index.dense.SMALL_PART", 0)
    same = _data(1, 4, seed=5)
    index = DenseIndex(4)
    for size in (4, 2, 1):
        index.add(np.concatenate([_data(size - 1, 4, seed=size), same]))  # `same` ends each part
    assert len(index._parts) == 3
    assert [row for row, _ in index.search(same, 3)[0]] == [3, 5, 6]


def test_a_large_part_is_never_merged_into(monkeypatch):
    monkeypatch.setattr("index.dense.LARGE_PART", 40)
    index = _in_parts([50, 45, 10, 10], 4, monkeypatch)
    # 50 and 45 rows are large: they stay as added; the two small parts after them merge
    assert [len(part) for part in index._parts] == [50, 45, 20]
    assert index.search(_data(1, 4, seed=7), 5) == _as_one_part(index).search(_data(1, 4, seed=7), 5)


def test_parts_stay_few_and_adding_to_a_copy_or_an_append_leaves_the_original_alone(monkeypatch):
    index = _in_parts([1] * 200, 4, monkeypatch)
    assert len(index._parts) <= 8  # each part is larger than all later ones together: log2(200) + 1
    parts, before, query = index._parts, index.vectors(), _data(1, 4, seed=6)
    found = index.search(query, 10)
    joined = index.appended([_in_parts([3, 1], 4, monkeypatch), DenseIndex(4)])
    copy = index.copy()
    for changed in (joined, copy):
        changed.add(_data(300, 4, seed=7))
    assert index._parts == parts and all(len(part) == len(p) for part, p in zip(index._parts, parts))
    assert np.array_equal(index.vectors(), before) and index.search(query, 10) == found
    assert len(joined) == 504 and np.array_equal(joined.vectors()[:200], before)
    assert len(copy) == 500 and np.array_equal(copy.vectors()[:200], before)


def test_removing_rows_across_parts_equals_removing_them_from_one(monkeypatch):
    index = _in_parts([50, 30, 10, 5], 8, monkeypatch)
    whole = _as_one_part(index)
    rows = np.array([0, 49, 55, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89])  # the third part whole
    fewer = index.without(rows)
    assert len(fewer) == 81 and len(fewer._parts) == 3 and fewer._parts[-1] is index._parts[-1]  # shared: untouched
    assert np.array_equal(fewer.vectors(), whole.without(rows).vectors())
    assert fewer.search(_data(3, 8, seed=8), 20) == whole.without(rows).search(_data(3, 8, seed=8), 20)


def test_a_delete_narrows_a_part_without_copying_it_and_searches_as_a_fresh_index(monkeypatch):
    index = _in_parts([60, 40], 8, monkeypatch)
    gone = np.array([0, 5, 59, 60, 99])
    smaller = index.without(gone)
    assert all(new.index is old.index for new, old in zip(smaller._parts, index._parts))  # codes shared
    fresh = index.taken(np.delete(np.arange(len(index)), gone))
    assert len(smaller) == 95 and np.array_equal(smaller.vectors(), fresh.vectors())
    allowed = np.random.default_rng(3).random(95) < 0.5
    for queries in (_data(1, 8, seed=2), _data(4, 8, seed=3)):
        for k in (1, 10, 95):
            for mask in (None, allowed):
                assert smaller.search(queries, k, allowed=mask) == fresh.search(queries, k, allowed=mask)
    rows = np.array([94, 0, 57, 58])
    assert np.array_equal(smaller.vectors(rows), fresh.vectors(rows))
    assert smaller.without(np.array([1])).search(queries, 5) == fresh.without(np.array([1])).search(queries, 5)
    assert smaller.to_files() == fresh.to_files()
    grown = smaller.appended([fresh])  # a narrowed part's served rows are what a merge copies
    assert np.array_equal(grown.vectors(), np.concatenate([fresh.vectors(), fresh.vectors()]))


def test_float16_codes_are_the_same_made_by_torch_or_by_numpy():
    from index import dense

    vectors = np.concatenate([_data(500, 16, seed=11), 1e-6 * _data(20, 16, seed=12), np.zeros((1, 16))])
    vectors = vectors.astype(np.float32)
    assert dense.torch is not None  # installed with the package: the path indexes take
    assert np.array_equal(dense._float16(vectors), vectors.astype(np.float16))
