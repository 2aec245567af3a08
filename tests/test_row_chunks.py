"""index/row_chunks.py: rows held as chunks read as the one array they stand for."""
from __future__ import annotations

import numpy as np
import pytest

from index.quantised import dequantised, quantised
from index.row_chunks import RowChunks


def _rows(n: int, seed: int) -> np.ndarray:
    return quantised(np.random.default_rng(seed).standard_normal((n, 6)).astype(np.float32))


@pytest.fixture
def parts(monkeypatch) -> list[np.ndarray]:
    monkeypatch.setattr("index.row_chunks.SMALL_CHUNK", 0)  # no merging: every part stays a chunk
    return [_rows(5, 1), _rows(0, 2), _rows(3, 3), _rows(7, 4)]


def test_joined_chunks_read_as_the_concatenated_rows(parts):
    chunks, whole = RowChunks.joined(parts), np.concatenate(parts)
    assert len(chunks) == 15 and chunks.shape == whole.shape and chunks.dtype == whole.dtype
    assert np.array_equal(np.asarray(chunks), whole)
    for start in range(16):  # every slice: within a chunk, across chunk boundaries, empty
        for stop in range(start, 17):
            assert np.array_equal(chunks[start:stop], whole[start:stop]), (start, stop)
    assert np.array_equal(chunks[-4:], whole[-4:])
    mask = np.random.default_rng(5).random(15) < 0.5
    assert np.array_equal(chunks[mask], whole[mask])
    rows = np.array([14, 0, 5, 5, 7, -1])
    assert np.array_equal(chunks[rows], whole[rows])
    assert np.array_equal(dequantised(chunks), dequantised(whole))  # fields read like an array's


def test_a_slice_within_one_chunk_is_a_view_and_joins_share_chunks(parts):
    chunks = RowChunks.joined(parts)
    assert np.shares_memory(chunks[6:8], parts[2])
    again = RowChunks.joined([chunks, _rows(2, 6)])
    assert np.shares_memory(again[0:5], parts[0]) and np.array_equal(again[:15], np.asarray(chunks))
    between = chunks.between(3, 12)  # shares too: part of the first, the second and part of the third chunk
    assert np.array_equal(np.asarray(between), np.concatenate(parts)[3:12])
    assert np.shares_memory(between[0:2], parts[0]) and np.shares_memory(between[5:9], parts[3])
    assert len(chunks.between(4, 4)) == 0


def test_small_trailing_chunks_are_merged_and_large_ones_shared(monkeypatch):
    monkeypatch.setattr("index.row_chunks.SMALL_CHUNK", 10)
    big, small = _rows(20, 1), [_rows(3, seed) for seed in range(2, 6)]
    chunks = RowChunks.joined([big, *small])
    assert repr(chunks) == f"RowChunks(32 rows of {big.dtype} in 3 chunks)"  # 20, then 3 + 3 + 3 and 3
    assert np.shares_memory(chunks[0:20], big)
    assert np.array_equal(np.asarray(chunks), np.concatenate([big, *small]))


def test_bad_reads_are_refused():
    chunks = RowChunks.of(_rows(4, 1))
    with pytest.raises(IndexError, match="step 1"):
        chunks[::2]
    with pytest.raises(IndexError, match="one bool per row"):
        chunks[np.ones(3, dtype=bool)]
    with pytest.raises(IndexError, match=r"0\.\.3"):
        chunks[np.array([4])]
    with pytest.raises(ValueError, match="1-d arrays"):
        RowChunks([_rows(2, 1), np.zeros(2)], _rows(2, 1).dtype)
