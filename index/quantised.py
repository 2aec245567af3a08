"""Vectors kept as int8 with a scale per vector: a quarter of float32's bytes.

An archive's vectors are most of its index on disk: every sentence is embedded at index time so that answers
never wait for the model (float16: 0.91 GB of 2.0 GB at 256k passages), and every window for search. Each row
is stored as its largest absolute component / 127 (float32) and the components divided by it, rounded to int8
(NumPy structured rows, so every row operation - slicing, masks, concatenation, saving - moves a row's scale
with it). Read back, a component is off by at most half a step (its row's largest / 254): cosines against a
unit query move by about 1e-3, under the spread between the passages and sentences ranked.
"""
from __future__ import annotations

import numpy as np

SCALE, CODES = "scale", "codes"


def dtype(dimension: int) -> np.dtype:
    """The row type of vectors of `dimension` components."""
    return np.dtype([(SCALE, "<f4"), (CODES, "i1", (dimension,))])


def quantised(vectors: np.ndarray) -> np.ndarray:
    """float vectors (rows, dimension) as int8 rows with their scales."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be an array (rows, dimension), got shape {vectors.shape}")
    rows = np.zeros(len(vectors), dtype=dtype(vectors.shape[1]))
    largest = np.abs(vectors).max(axis=1) if vectors.size else np.zeros(len(vectors), np.float32)
    scale = np.where(largest > 0, largest / 127, 1.0).astype(np.float32)
    rows[SCALE] = scale
    rows[CODES] = np.rint(vectors / scale[:, None]).astype(np.int8)
    return rows


def dequantised(rows: np.ndarray) -> np.ndarray:
    """The float32 vectors (rows, dimension) of quantised rows."""
    if isinstance(rows, np.ndarray) and rows.flags.c_contiguous and rows.dtype.fields[CODES][1] == 4:
        # the codes read as columns of the rows' bytes: NumPy converts a sub-array field element by element
        codes = rows.view(np.int8).reshape(len(rows), rows.dtype.itemsize)[:, 4:4 + dimension(rows)]
    else:  # rows that are not one array (index/row_chunks.py) or not contiguous
        codes = rows[CODES]
    vectors = codes.astype(np.float32)
    vectors *= rows[SCALE][:, None]
    return vectors


def is_quantised(rows: np.ndarray) -> bool:
    return rows.dtype.names == (SCALE, CODES)


def dimension(rows: np.ndarray) -> int:
    """How many components the quantised rows hold."""
    return rows.dtype[CODES].shape[0]
