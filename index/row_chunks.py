"""Read-only rows of one numpy dtype held as chunks one after another, so that joining indexes shares rows.

An index's sentence vectors are one chunk per segment, views of its memory-mapped file. Joining an added
article's rows to them with np.concatenate read every row of the archive into memory (460 MB and half a
second at 256k passages); `joined` shares the chunks instead, and a read gives a numpy array of just the
rows asked for (a view where they lie in one chunk).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Trailing chunks smaller than this together are merged when joined (a copy of at most a few MB), so a
# process adding articles one at a time does not collect a chunk for each.
SMALL_CHUNK = 4096


class RowChunks:
    """Immutable: `joined` and `between` return new ones sharing the chunks, which are never written."""

    __slots__ = ("_chunks", "_starts", "dtype")

    def __init__(self, chunks: Sequence[np.ndarray], dtype: np.dtype):
        self.dtype = np.dtype(dtype)
        if any(chunk.dtype != self.dtype or chunk.ndim != 1 for chunk in chunks):
            raise ValueError(f"chunks must be 1-d arrays of {self.dtype}, got "
                             f"{sorted({(str(c.dtype), c.ndim) for c in chunks})}")
        self._chunks = tuple(chunk for chunk in chunks if len(chunk))
        self._starts = np.cumsum([0] + [len(chunk) for chunk in self._chunks], dtype=np.int64)  # each one's first row

    @classmethod
    def of(cls, rows: RowChunks | np.ndarray) -> RowChunks:
        """`rows` as chunks (an array becomes the one chunk, not copied)."""
        return rows if isinstance(rows, RowChunks) else cls([np.asarray(rows)], np.asarray(rows).dtype)

    @classmethod
    def joined(cls, parts: Sequence[RowChunks | np.ndarray]) -> RowChunks:
        """The rows of `parts` one after another, sharing their chunks; small trailing chunks are merged."""
        parts = [cls.of(part) for part in parts]
        chunks: list[np.ndarray] = []
        for chunk in (chunk for part in parts for chunk in part._chunks):
            if chunks and len(chunks[-1]) + len(chunk) < SMALL_CHUNK:
                chunk = np.concatenate([chunks.pop(), chunk])
            chunks.append(chunk)
        return cls(chunks, parts[0].dtype)

    def between(self, start: int, stop: int) -> RowChunks:
        """Rows [start, stop) as chunks sharing these (no row copied)."""
        first, last = self._chunk_range(start, stop)
        return RowChunks([self._chunks[i][max(start - self._starts[i], 0):stop - self._starts[i]]
                          for i in range(first, last)], self.dtype)

    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    def __repr__(self) -> str:
        return f"RowChunks({len(self)} rows of {self.dtype} in {len(self._chunks)} chunks)"

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every row as one array: the chunk itself when there is one, else a copy."""
        rows = self._chunks[0] if len(self._chunks) == 1 else (
            np.concatenate(self._chunks) if self._chunks else np.zeros(0, self.dtype))
        return rows if dtype is None else rows.astype(dtype)

    def __getitem__(self, key) -> np.ndarray:
        """Rows by a slice (a view when they lie in one chunk), a bool mask of one entry per row or row numbers
        (copies), or a field of every row."""
        if isinstance(key, str):
            return np.asarray(self)[key]
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise IndexError("rows are read by slices of step 1")
            chunks = self.between(start, stop)._chunks
            return chunks[0] if len(chunks) == 1 else (
                np.concatenate(chunks) if chunks else np.zeros(0, self.dtype))
        rows = np.asarray(key)
        if rows.dtype == bool:
            if rows.shape != (len(self),):
                raise IndexError(f"a mask must give one bool per row ({len(self)}), got shape {rows.shape}")
            rows = np.flatnonzero(rows)
        if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
            raise IndexError(f"rows are read by slices, bool masks or 1-d arrays of row numbers, got {key!r}")
        rows = np.where(rows < 0, rows + len(self), rows)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"row numbers must lie in 0..{len(self) - 1}")
        chunk_of = np.searchsorted(self._starts, rows, side="right") - 1
        out = np.empty(len(rows), dtype=self.dtype)
        for number in np.unique(chunk_of):
            at = chunk_of == number
            out[at] = self._chunks[number][rows[at] - self._starts[number]]
        return out

    def _chunk_range(self, start: int, stop: int) -> tuple[int, int]:
        """The chunks [first, last) holding rows [start, stop)."""
        if stop <= start:
            return 0, 0
        first = int(np.searchsorted(self._starts, start, side="right")) - 1
        last = int(np.searchsorted(self._starts, stop, side="left"))
        return first, last
