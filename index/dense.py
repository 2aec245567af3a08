"""Dense vector index over passage embeddings, backed by FAISS; scores are cosine similarities.

Rows are positions in insertion order. FAISS stays inside this module: callers pass and get
numpy float32 arrays and plain Python lists, never faiss objects or -1 placeholder ids.

A search restricted to some rows (a kind or document filter) runs inside FAISS with an ID selector, so it
returns k allowed rows and scores no row it would then throw away.

An "exact" index holds its rows as a tuple of FAISS parts that are never changed once made: a copy, an
add or an append shares them and adds new parts, so adding an article to an archive costs what the article
holds, not a copy of every vector (0.5 GB at 256k passages), and a search still running on the old index
never sees half an update. Trailing parts are merged as they are added (a log-structured merge), so there
are O(log rows) parts and a row is copied O(log rows) times in all.

Each part is saved as int8 rows with a scale each (index/quantised.py: a quarter of float32's disk, the
windows being a large share of an archive's index) and searched as float16 codes made from them (a FAISS
scalar quantiser, decoded as it scans): half of float32's memory and a faster scan than a flat float32
index (74 vs 116 ms over 1.8M 256-d rows, one thread). A loaded part reads its int8 rows where the
memory-mapped file lies and makes its codes in one pass, with no float32 copy of the archive; its rows stay
the saved form, so a save writes the very rows that were loaded or added, and a loaded index holds the
numbers the built one held.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from index.errors import IndexCorruptError, InputError, check_k
from index.options import DENSE_KINDS, EXACT, HNSW
from index.quantised import dequantised, dimension, is_quantised, quantised
from index.quantised import dtype as quantised_dtype
from index.store import encode_npy, npy_view

try:  # torch first: both link OpenMP and the other import order can crash (see CONTRIBUTING.md)
    import torch
except ImportError:  # the dense index does not need torch (it converts to float16 faster with it)
    torch = None
import faiss

KINDS = DENSE_KINDS
FILE_NAME = "dense.faiss"  # an "hnsw" index (graph and vectors) as FAISS writes it; "exact" ones, formerly
VECTORS_FILE = "dense.npy"  # an "exact" index: its vectors, int8 with a scale each (index/quantised.py)
FILES = (FILE_NAME, VECTORS_FILE)
FLOAT16 = faiss.ScalarQuantizer.QT_fp16

# HNSW graph settings: M=32 links per node and a wide construction beam trade build time for
# recall; efSearch is the query-time beam, the knob to turn when recall matters more than speed.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128
# An HNSW search allowed this few rows scores them all exactly: the graph's beam would mostly visit rows the
# filter rejects and could come back short.
EXACT_BELOW_ROWS = 4096
# Parts of an "exact" index this small are merged into the next part added: copying them costs a few MB
# at most, and it keeps the number of parts searched small.
SMALL_PART = 4096
# Parts this large are never merged into: an archive loaded as several segments brings one each, and merging
# two copies every vector of both (26 s of a load at 1.28M passages), while searching one more part costs
# about what the rows in it cost anyway. So an exact index has O(rows / LARGE_PART + log rows) parts.
LARGE_PART = 1 << 18


def _check_dim(dim: object) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise InputError(f"dim must be a positive integer, got {dim!r}")
    return dim


def _check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
    return kind  # type: ignore[return-value]


def _normalised(vectors: object, dim: int, what: str) -> np.ndarray:
    """A C-contiguous float32 copy of `vectors` (n, dim) with each row scaled to unit length."""
    if not isinstance(vectors, np.ndarray):
        raise InputError(f"{what} must be a numpy array of shape (n, {dim}), got {type(vectors).__name__}")
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise InputError(f"{what} must have shape (n, {dim}), got {vectors.shape}")
    if vectors.dtype != np.float32:
        raise InputError(f"{what} must have dtype float32, got {vectors.dtype}")
    if not np.isfinite(vectors).all():
        bad = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
        raise InputError(f"{what} must be finite; row {bad} contains NaN or infinity")
    out = np.array(vectors, dtype=np.float32, order="C", copy=True)
    faiss.normalize_L2(out)  # leaves all-zero rows at zero, so they score 0 against everything
    return out


class DenseIndex:
    """Cosine-similarity search over float32 vectors: "exact" (flat) or "hnsw" (approximate, for large corpora)."""

    def __init__(self, dim: int, kind: str = EXACT, *, ef_search: int = HNSW_EF_SEARCH) -> None:
        self.dim = _check_dim(dim)
        self.kind = _check_kind(kind)
        if kind == EXACT:
            self._set_parts(())
        else:
            self._index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            self.ef_search = ef_search

    @property
    def ef_search(self) -> int | None:
        """The HNSW query-time beam width (higher: better recall, slower); None for "exact"."""
        return int(self._index.hnsw.efSearch) if self.kind == HNSW else None

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        if self.kind != HNSW:
            raise InputError(f"ef_search applies only to kind 'hnsw', this index is {self.kind!r}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"ef_search must be a positive integer, got {value!r}")
        self._index.hnsw.efSearch = value

    def __len__(self) -> int:
        return int(self._starts[-1]) if self.kind == EXACT else int(self._index.ntotal)

    def _set_parts(self, parts: tuple) -> None:
        """Hold `parts` (never changed from now on) as this exact index's rows, in order."""
        self._parts = tuple(part for part in parts if len(part))
        self._starts = np.cumsum([0] + [len(part) for part in self._parts], dtype=np.int64)  # each part's first row

    def _with_parts(self, parts: tuple) -> DenseIndex:
        index = DenseIndex.__new__(DenseIndex)
        index.dim, index.kind = self.dim, EXACT
        index._set_parts(parts)
        return index

    def add(self, vectors: np.ndarray) -> None:
        """Append float32 vectors of shape (n, dim); they get rows len(self) .. len(self) + n - 1. An exact
        index gets a new part: the parts it shares with copies are not changed."""
        rows = _normalised(vectors, self.dim, "vectors")
        if self.kind == EXACT:
            if len(rows):
                self._set_parts(_merged_tail(self._parts, _part(rows)))
        elif len(rows):
            self._index.add(rows)

    def copy(self) -> DenseIndex:
        """An independent copy: an exact index shares its parts (never changed), an hnsw one is a FAISS clone."""
        if self.kind == EXACT:
            return self._with_parts(self._parts)
        index = DenseIndex.__new__(DenseIndex)
        index.dim, index.kind, index._index = self.dim, self.kind, faiss.clone_index(self._index)
        return index

    def vectors(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The stored (unit) vectors of `rows`, or of every row, as float32 (n, dim)."""
        if rows is None:
            if not len(self):
                return np.zeros((0, self.dim), np.float32)
            if self.kind == HNSW:
                return self._index.reconstruct_n(0, len(self))
            parts = [part.stored() for part in self._parts]
            return parts[0] if len(parts) == 1 else np.concatenate(parts)
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise InputError(f"rows must lie in 0..{len(self) - 1}")
        return self._reconstructed(rows) if len(rows) else np.zeros((0, self.dim), np.float32)

    def _reconstructed(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of `rows` (int64, in range), each read from its part."""
        if self.kind == HNSW:
            return self._index.reconstruct_batch(rows)
        if len(self._parts) == 1:
            return self._parts[0].reconstructed(rows)
        part_of = np.searchsorted(self._starts, rows, side="right") - 1
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        for number in np.unique(part_of):
            at = part_of == number
            out[at] = self._parts[number].reconstructed(rows[at] - self._starts[number])
        return out

    def taken(self, rows: np.ndarray) -> DenseIndex:
        """An exact index of the stored vectors of `rows`, in that order, as they are stored (an "exact" index's
        int8 rows themselves, not rounded again)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.kind == HNSW:
            return DenseIndex.of_stored(self.vectors(rows))
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise InputError(f"rows must lie in 0..{len(self) - 1}")
        saved = np.zeros(len(rows), dtype=quantised_dtype(self.dim))
        part_of = np.searchsorted(self._starts, rows, side="right") - 1
        for number in np.unique(part_of):
            at = part_of == number
            saved[at] = self._parts[number].saved_rows()[rows[at] - self._starts[number]]
        return DenseIndex._of_rows(saved)

    @classmethod
    def _of_rows(cls, rows: np.ndarray) -> DenseIndex:
        """An exact index of quantised `rows` as they are (one part)."""
        index = cls(dimension(rows), EXACT)
        index._set_parts((_part_of_rows(rows),))
        return index

    @classmethod
    def of_stored(cls, vectors: np.ndarray) -> DenseIndex:
        """An exact index of `vectors` already of unit length (an hnsw index's, or an older file's float32 ones),
        rounded to int8 rows as an add rounds them."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise InputError(f"vectors must have shape (n, dim), got {vectors.shape}")
        index = cls(vectors.shape[1], EXACT)
        if len(vectors):
            index._set_parts((_part(vectors),))
        return index

    def appended(self, others: list[DenseIndex]) -> DenseIndex:
        """A copy with the stored vectors of `others` after its own rows, as stored: not normalised again, so
        a row's vector is the same bits wherever it moves. An exact index shares its parts and theirs."""
        for other in others:
            if other.dim != self.dim:
                raise InputError(f"vectors of dimension {other.dim} cannot join an index of dimension {self.dim}")
        if self.kind == EXACT:
            parts = self._parts
            for other in others:
                for part in other._parts if other.kind == EXACT else (_part(other.vectors()),):
                    parts = _merged_tail(parts, part)
            return self._with_parts(parts)
        index = self.copy()
        for other in others:
            if len(other):
                index._index.add(other.vectors())
        return index

    def without(self, rows: np.ndarray) -> DenseIndex:
        """A copy without the vectors at `rows`; later rows move up, keeping their order. Nothing is embedded
        again: "exact" removes them from a FAISS clone, "hnsw" builds a new graph from the kept stored vectors."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if len(rows) and (rows[0] < 0 or rows[-1] >= len(self)):
            raise InputError(f"rows to remove must lie in 0..{len(self) - 1}, got {rows[0]}..{rows[-1]}")
        if self.kind == EXACT:  # the parts that lose rows serve fewer of theirs; nothing is copied
            parts = []
            for part, start in zip(self._parts, self._starts):
                gone = rows[(rows >= start) & (rows < start + len(part))] - start
                parts.append(part.without(gone) if len(gone) else part)
            return self._with_parts(tuple(parts))
        keep = np.ones(len(self), dtype=bool)
        keep[rows] = False
        index = DenseIndex(self.dim, HNSW, ef_search=self.ef_search)
        if keep.any():
            index._index.add(np.ascontiguousarray(self._index.reconstruct_n(0, len(self))[keep]))
        return index

    @classmethod
    def _from_vectors(cls, data: bytes, dim: int, rows: int | None) -> DenseIndex:
        try:
            vectors = npy_view(data)  # over the file's bytes: converted once, below
        except (ValueError, EOFError) as error:
            raise IndexCorruptError(f"{VECTORS_FILE} is not a readable .npy file ({error})") from error
        if not (is_quantised(vectors) and vectors.ndim == 1 and dimension(vectors) == dim):
            raise IndexCorruptError(f"{VECTORS_FILE} holds {vectors.dtype} vectors of shape {vectors.shape}, expected "
                                    f"int8 rows of dimension {dim}")
        if rows is not None and len(vectors) != rows:
            raise IndexCorruptError(f"{VECTORS_FILE} holds {len(vectors)} vectors, expected {rows} (one per window)")
        return cls._of_rows(vectors)

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
               ) -> list[list[tuple[int, float]]]:
        """For each query row, up to k (row, cosine) pairs, best first; k is clamped to the rows searched.

        `allowed` (a bool per row) restricts the search to those rows inside FAISS: k of them come back
        whenever k are allowed."""
        check_k(k)
        rows = _normalised(queries, self.dim, "queries")
        allowed = self._checked_mask(allowed)
        k = min(k, len(self) if allowed is None else int(np.count_nonzero(allowed)))
        if k == 0 or len(rows) == 0:
            return [[] for _ in range(len(rows))]
        if allowed is not None and self.kind == HNSW and k <= np.count_nonzero(allowed) <= EXACT_BELOW_ROWS:
            return [self._exact_among(query, np.flatnonzero(allowed), k) for query in rows]
        if self.kind == EXACT:
            scores, ids = self._search_parts(rows, k, allowed)
        else:
            bitmap = None if allowed is None else np.packbits(allowed, bitorder="little")  # alive through the search
            scores, ids = self._index.search(rows, k, params=self._parameters(bitmap, len(self), k))
        # FAISS pads with id -1 when it finds fewer than k neighbours (HNSW can, on small graphs).
        return [
            [(int(i), float(s)) for i, s in zip(id_row, score_row) if i >= 0 and math.isfinite(s)]
            for id_row, score_row in zip(ids, scores)
        ]

    def _search_parts(self, queries: np.ndarray, k: int, allowed: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """FAISS's (scores, ids) of the top k over the parts: each part's top k of its allowed rows, merged by
        score, ties by row (a single part's as FAISS orders them)."""
        found = []
        for part, start in zip(self._parts, self._starts):
            mask = None if allowed is None else allowed[start:start + len(part)]
            available = len(part) if mask is None else int(np.count_nonzero(mask))
            if available == 0:
                continue
            stored_mask = part.stored_mask(None if available == len(part) else mask)
            # the bitmap must stay alive while FAISS searches
            bitmap = None if stored_mask is None else np.packbits(stored_mask, bitorder="little")
            scores, ids = part.index.search(queries, min(k, available),
                                            params=self._parameters(bitmap, part.index.ntotal, k))
            found.append((scores, np.where(ids >= 0, part.rows_of(ids) + start, -1)))
        if len(found) == 1:
            return found[0]
        scores, ids = (np.concatenate(columns, axis=1) for columns in zip(*found))
        order = np.lexsort((ids, -scores), axis=-1)[:, :k]
        return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)

    def best_per_group(self, query: np.ndarray, n: int, groups: np.ndarray, allowed: np.ndarray | None = None
                       ) -> list[tuple[int, float]]:
        """The n groups nearest one query, best first, as (group, cosine of its best row); `groups[row]` is the
        group of each row (a passage, whose rows are its windows), `allowed` as in `search`. Asks FAISS for
        more rows until n groups are found or the allowed rows run out."""
        check_k(n)
        groups = np.asarray(groups)
        if groups.shape != (len(self),):
            raise InputError(f"groups must give one group per row ({len(self)}), got shape {groups.shape}")
        available = len(self) if allowed is None else int(np.count_nonzero(self._checked_mask(allowed)))
        # Most passages have one or two windows, but the nearest rows are often several windows of the same few
        # passages; another pass scans every vector again, while a longer list costs almost nothing more.
        wanted = 4 * n
        while True:
            found = self.search(query, min(wanted, available), allowed=allowed)[0] if available else []
            best: dict[int, float] = {}
            for row, score in found:  # best first, so a group's first row is its best
                best.setdefault(int(groups[row]), score)
            if len(best) >= n or wanted >= available or len(found) < wanted:
                return list(best.items())[:n]
            wanted *= 2

    def similarities(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The cosine of one query with each of the stored `rows` (float32), computed from the stored vectors."""
        unit = _normalised(query, self.dim, "query")
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise InputError(f"rows must lie in 0..{len(self) - 1}")
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return self._reconstructed(rows) @ unit[0]

    def _checked_mask(self, allowed: np.ndarray | None) -> np.ndarray | None:
        """The mask as a bool array of one entry per row; None when it allows every row (nothing to filter)."""
        if allowed is None:
            return None
        allowed = np.asarray(allowed)
        if allowed.dtype != bool or allowed.shape != (len(self),):
            raise InputError(f"allowed must be a bool array of one entry per row ({len(self)}), "
                             f"got {allowed.dtype} of shape {allowed.shape}")
        return None if allowed.all() else allowed

    def _parameters(self, bitmap: np.ndarray | None, rows: int, k: int) -> faiss.SearchParameters | None:
        """FAISS search parameters restricting a search of `rows` rows to those set in `bitmap` (None: all)."""
        if bitmap is None:
            return None
        selector = faiss.IDSelectorBitmap(rows, faiss.swig_ptr(bitmap))
        if self.kind == HNSW:
            # The beam must be at least k wide to return k rows, as an unfiltered HNSW search makes it.
            return faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.ef_search, k))
        return faiss.SearchParameters(sel=selector)

    def _exact_among(self, query: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[int, float]]:
        scores = self._index.reconstruct_batch(rows) @ query
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(rows[i]), float(scores[i])) for i in best]

    def to_files(self) -> dict[str, bytes]:
        """The index as {"dense.npy": int8 rows} ("exact": the rows its parts serve, as they were added or
        loaded) or {"dense.faiss": bytes} ("hnsw"), for `index.store.write_index`."""
        if self.kind == EXACT:
            rows = [part.saved_rows() for part in self._parts]
            return {VECTORS_FILE: encode_npy(np.concatenate(rows) if rows else quantised(np.zeros((0, self.dim))))}
        return {FILE_NAME: faiss.serialize_index(self._index).tobytes()}

    @classmethod
    def from_files(
        cls, files: dict[str, bytes], dim: int, kind: str = EXACT, *, rows: int | None = None
    ) -> DenseIndex:
        """Rebuild from `to_files` output, checking the kind, dimension and (if given) number of rows."""
        dim, kind = _check_dim(dim), _check_kind(kind)
        if kind == EXACT and VECTORS_FILE in files:
            return cls._from_vectors(files[VECTORS_FILE], dim, rows)
        if FILE_NAME not in files:
            raise IndexCorruptError(f"the dense index file {VECTORS_FILE if kind == EXACT else FILE_NAME} is missing "
                                    "from the index")
        try:
            # deserialize_index already returns the concrete class; calling faiss.downcast_index on
            # it would make a second, non-owning wrapper that dangles once the first is freed.
            loaded = faiss.deserialize_index(np.frombuffer(files[FILE_NAME], dtype=np.uint8))
        except (RuntimeError, ValueError, TypeError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise IndexCorruptError(f"{FILE_NAME} is not a readable FAISS index ({first_line})") from exc
        expected_type = faiss.IndexFlatIP if kind == EXACT else faiss.IndexHNSWFlat
        if not isinstance(loaded, expected_type) or loaded.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexCorruptError(
                f"{FILE_NAME} holds a {type(loaded).__name__} (metric {loaded.metric_type}); "
                f"kind {kind!r} expects {expected_type.__name__} with the inner-product metric"
            )
        if loaded.d != dim:
            raise IndexCorruptError(f"{FILE_NAME} holds vectors of dimension {loaded.d}, expected {dim}")
        if rows is not None and loaded.ntotal != rows:
            raise IndexCorruptError(f"{FILE_NAME} holds {loaded.ntotal} vectors, expected {rows} (one per passage)")
        if kind == EXACT:  # saved as float32 before int8 rows
            return cls.of_stored(loaded.reconstruct_n(0, loaded.ntotal))
        index = cls.__new__(cls)
        index.dim, index.kind, index._index = dim, kind, loaded
        return index


@dataclass(frozen=True, eq=False)
class _Part:
    """Rows never changed once made: their saved form (int8 rows with a scale each, a view of the loaded file or
    the rows added), a FAISS float16 index of them for searching, and which rows it still serves: a delete
    narrows `kept` instead of copying the vectors (a part of an archive holds a million)."""

    rows: np.ndarray  # quantised rows (index/quantised.py)
    index: faiss.IndexScalarQuantizer
    kept: np.ndarray | None = None  # the rows served, ascending (int64); None: all of them

    def __len__(self) -> int:
        return len(self.rows) if self.kept is None else len(self.kept)

    def without(self, gone: np.ndarray) -> _Part:
        """The part without its rows `gone` (numbered among the rows it serves)."""
        kept = np.arange(len(self.rows), dtype=np.int64) if self.kept is None else self.kept
        return _Part(self.rows, self.index, np.delete(kept, gone))

    def stored_mask(self, mask: np.ndarray | None) -> np.ndarray | None:
        """`mask` over the rows served as a mask over all the part's rows (None: every row)."""
        if self.kept is None:
            return mask
        stored = np.zeros(len(self.rows), dtype=bool)
        stored[self.kept] = True if mask is None else mask
        return stored

    def rows_of(self, stored: np.ndarray) -> np.ndarray:
        """The served row numbers of the part's rows `stored` (each one served)."""
        return stored if self.kept is None else np.searchsorted(self.kept, stored)

    def reconstructed(self, rows: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(rows if self.kept is None else self.kept[rows])

    def stored(self) -> np.ndarray:
        """The vectors of the rows served as searched, float32 (n, dim)."""
        vectors = self.index.reconstruct_n(0, self.index.ntotal)
        return vectors if self.kept is None else vectors[self.kept]

    def saved_rows(self) -> np.ndarray:
        """The int8 rows of the rows served."""
        return self.rows if self.kept is None else self.rows[self.kept]


# float16 codes are made this many rows at a time, written straight into the FAISS index's memory: the float32
# batch is reused (small enough for the allocator to keep), so the codes are the only memory a load touches anew
CODES_BATCH = 1 << 13


def _part_of_rows(rows: np.ndarray) -> _Part:
    """A part of quantised `rows`, searched as float16 codes of their values."""
    index = faiss.IndexScalarQuantizer(dimension(rows), FLOAT16, faiss.METRIC_INNER_PRODUCT)
    if len(rows):
        index.codes.resize(len(rows) * index.code_size)
        codes = faiss.rev_swig_ptr(index.codes.data(), len(rows) * index.code_size).reshape(len(rows), -1)
        for first in range(0, len(rows), CODES_BATCH):
            batch = _float16(dequantised(rows[first:first + CODES_BATCH]))
            codes[first:first + len(batch)] = batch.view(np.uint8)
        index.ntotal = len(rows)
    return _Part(rows, index)


def _float16(vectors: np.ndarray) -> np.ndarray:
    """float32 -> float16, rounded to nearest even: by torch where it is installed (NumPy's conversion is about 7x
    slower, seconds for an archive's windows), else by NumPy (the same rounding)."""
    if torch is None:
        return vectors.astype(np.float16)
    return torch.from_numpy(np.ascontiguousarray(vectors)).half().numpy()


def _part(vectors: np.ndarray) -> _Part:
    """A part holding `vectors` (unit rows), rounded to int8 rows."""
    return _part_of_rows(quantised(np.ascontiguousarray(vectors, dtype=np.float32)))


def stored_form(vectors: np.ndarray) -> np.ndarray:
    """float32 unit vectors as an exact index holds and gives them back (int8 rows, searched as float16)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return _part(vectors).stored() if len(vectors) else vectors


def _merged_tail(parts: tuple[_Part, ...], new: _Part) -> tuple[_Part, ...]:
    """`parts` then `new`, the newest parts merged into one while the part before them is no larger than they
    are together (or is small) and not large (LARGE_PART): each part below that size is then larger than all
    later ones together, so there are few parts, and a merge copies only parts smaller than the one it stops
    at."""
    tail, size = [new], len(new)
    while len(tail) <= len(parts) and (before := len(parts[-len(tail)])) < LARGE_PART and (
            before <= size or before < SMALL_PART):
        tail.insert(0, parts[-len(tail)])
        size += before
    if len(tail) == 1:
        return (*parts, new)
    return (*parts[:len(parts) + 1 - len(tail)], _part_of_rows(np.concatenate([part.saved_rows() for part in tail])))
