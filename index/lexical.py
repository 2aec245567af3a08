"""Lexical (BM25) index over passage texts: plain numpy serves queries from term counts.

Rows are held as parts, each a CSC matrix of term counts (one column per term of its own vocabulary, one
row per passage) with each passage's length. A query's BM25 is computed from its terms' columns in every
part with the statistics of all of them (document frequency, passage count, mean length), so the scores do
not depend on how rows are split into parts: an archive's segments are searched where they were read (their
arrays are views of the saved files), and an add is a new part, without a join or a rescoring of the rest.
Small trailing parts are merged as they are added. Saved as .npy arrays plus JSON, never pickle.
"""
from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from index.errors import IndexCorruptError, IndexMismatchError, InputError, check_k
from index.speakers import straighten_quotes
from index.store import npy_view

# Bump whenever tokenize() changes: an index built with other tokens would silently miss matches.
TOKENIZER_VERSION = 1
METHOD = "lucene"  # BM25 variant: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), no (k1 + 1) factor
FILES = {
    "indices": "lexical.indices.npy",
    "indptr": "lexical.indptr.npy",
    "tf": "lexical.tf.npy",
    "lengths": "lexical.lengths.npy",
    "vocab": "lexical.vocab.json",
    "params": "lexical.params.json",
}

_POSSESSIVE = re.compile(r"'s\b")
# A number keeps its separators ("1,000", "6.5bn") so it stays one token; otherwise runs of letters/digits.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*[^\W_]*|[^\W_]+")
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
# One Snowball stemmer for the process: its only state is a memo of a pure function, so no caller can see
# another's. PyStemmer says not to call one instance concurrently; stemWord holds the GIL throughout, so
# threads sharing it are safe on CPython's default build (a free-threaded build would want one per thread).
_STEMMER = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Casefolded, stopword-free, Snowball-stemmed terms of `text` ("£6bn" -> ["6bn"])."""
    if not isinstance(text, str):
        raise InputError(f"text to tokenize must be a string, got {type(text).__name__}")
    text = _POSSESSIVE.sub("", straighten_quotes(text.casefold()))
    words = [w.replace(",", "") for w in _TOKEN.findall(text) if w not in _STOPWORDS]
    return _STEMMER.stemWords(words)


@dataclass(frozen=True, eq=False)
class _Part:
    """Rows with their own CSC arrays over their own vocabulary, rows counted from the part's first. A delete
    narrows the rows served (`served`) instead of copying the arrays without them."""

    indices: np.ndarray  # the stored row of each entry, by term column then row
    indptr: np.ndarray  # each column's first entry (len(terms) + 1)
    tf: np.ndarray  # each entry's term count (the narrowest integer type that holds them, as saved)
    lengths: np.ndarray  # terms per stored row
    terms: list[str]
    vocab: dict[str, int]
    served: np.ndarray | None = None  # each stored row's number among the rows served, -1 if deleted; None: all

    @classmethod
    def of(cls, indices: np.ndarray, indptr: np.ndarray, tf: np.ndarray, lengths: np.ndarray,
           terms: list[str]) -> _Part:
        return cls(indices, indptr, tf, lengths, terms, {term: i for i, term in enumerate(terms)})

    @classmethod
    def from_counts(cls, columns: np.ndarray, rows: np.ndarray, tf: np.ndarray, lengths: np.ndarray,
                    terms: list[str], *, ordered: bool = False) -> _Part:
        """The part of (term column, row, count) entries: sorted into CSC by column then row (unless `ordered`:
        already so). Columns with no entry are dropped, so the vocabulary holds only terms the rows use."""
        used = np.bincount(columns, minlength=len(terms)) > 0
        if not used.all():
            renumber = np.cumsum(used) - 1  # keeps the order of the columns kept
            columns, terms = renumber[columns], [t for t, keep in zip(terms, used) if keep]
        if not ordered:
            order = np.lexsort((rows, columns))
            columns, rows, tf = columns[order], rows[order], tf[order]
        df = np.bincount(columns, minlength=len(terms)).astype(np.int64)
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return cls.of(rows.astype(np.int32), indptr, tf.astype(np.int32), lengths.astype(np.int32), terms)

    def __len__(self) -> int:
        return len(self.lengths) if self.served is None else int(np.count_nonzero(self.served >= 0))

    def served_lengths(self) -> np.ndarray:
        return self.lengths if self.served is None else self.lengths[self.served >= 0]

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows served that hold `term` (ascending, numbered among the rows served) and its count in each."""
        column = self.vocab.get(term)
        if column is None:
            return self.indices[:0], self.tf[:0]
        start, end = int(self.indptr[column]), int(self.indptr[column + 1])
        rows, counts = self.indices[start:end], self.tf[start:end]
        if self.served is None:
            return rows, counts
        rows = self.served[rows]
        kept = rows >= 0
        return rows[kept], counts[kept]

    def without(self, removed: np.ndarray) -> _Part:
        """The part without the rows served that `removed` marks (later rows move up); nothing is copied but the
        row numbering."""
        served = np.arange(len(self.lengths), dtype=np.int32) if self.served is None else self.served
        alive = served >= 0
        alive[alive] = ~removed[served[alive]]
        served = np.full(len(self.lengths), -1, dtype=np.int32)
        served[alive] = np.arange(np.count_nonzero(alive), dtype=np.int32)
        return replace(self, served=served)

    def compacted(self) -> _Part:
        """The part holding only the rows served, stored afresh (for a save or a join); the terms no row served
        uses are dropped. Nothing is tokenised or sorted: the kept entries stay in CSC order."""
        if self.served is None:
            return self
        removed = self.served < 0
        kept = ~removed[self.indices]
        indices, tf, lengths = self.served[self.indices[kept]], self.tf[kept], self.lengths[~removed]
        ends = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])[self.indptr]  # kept entries before each column
        df, terms = np.diff(ends), self.terms
        if not df.all():  # drop the terms no kept row uses
            terms = [t for t, count in zip(terms, df) if count]
            df = df[df > 0]
        return _Part.of(indices, np.concatenate([[0], np.cumsum(df)]).astype(np.int64), tf, lengths, terms)

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(column, row, count) of every entry of a compacted part."""
        columns = np.repeat(np.arange(len(self.terms), dtype=np.int64), np.diff(self.indptr))
        return columns, self.indices.astype(np.int64), self.tf


# Trailing parts this small are merged as parts are added (an add brings a few rows); larger ones, an archive's
# segments as loaded, stay as they are: copying them together is most of what loading them would cost.
SMALL_PART = 1 << 16


class LexicalIndex:
    """BM25 scores of every passage for a query; rows are passage positions in build order."""

    def __init__(self, parts: Sequence[_Part], k1: float, b: float) -> None:
        self._parts = tuple(part for part in parts if len(part))
        self.k1, self.b = k1, b
        self._starts = np.cumsum([0] + [len(part) for part in self._parts], dtype=np.int64)  # each part's first row
        self._rows = int(self._starts[-1])
        lengths = [part.served_lengths() for part in self._parts]
        self._total_length = sum(int(part.sum(dtype=np.int64)) for part in lengths)
        # BM25's length normalisation of each row, k1 (1 - b + b len / avglen), with the mean over every part
        mean = self._total_length / self._rows if self._total_length else 1.0
        self._norms = [(k1 * (1 - b + b * part / mean)).astype(np.float32) for part in lengths]

    @classmethod
    def _of_counts(cls, texts: list[str], k1: float, b: float) -> LexicalIndex:
        vocab: dict[str, int] = {}
        columns, rows, counts, lengths = [], [], [], []
        for row, text in enumerate(texts):
            tokens = tokenize(text)
            lengths.append(len(tokens))
            for term, count in Counter(tokens).items():
                columns.append(vocab.setdefault(term, len(vocab)))
                rows.append(row)
                counts.append(count)
        part = _Part.from_counts(np.array(columns, dtype=np.int64), np.array(rows, dtype=np.int64),
                                 np.array(counts, dtype=np.int32), np.array(lengths, dtype=np.int32), list(vocab))
        return cls([part], k1, b)

    def extended(self, texts: list[str]) -> LexicalIndex:
        """A new index with `texts` appended as rows len(self)...; only they are tokenised."""
        _check_texts(texts)
        return LexicalIndex.concatenated([self, LexicalIndex._of_counts(texts, self.k1, self.b)])

    @classmethod
    def concatenated(cls, indexes: list[LexicalIndex]) -> LexicalIndex:
        """One index of `indexes`' rows, the first's rows first; nothing is tokenised, and their parts are
        shared (small trailing ones merged). They must share k1 and b."""
        first = indexes[0]
        if any((index.k1, index.b) != (first.k1, first.b) for index in indexes):
            raise InputError("lexical indexes to concatenate must share k1 and b")
        parts = first._parts
        for index in indexes[1:]:
            for part in index._parts:
                parts = _merged_tail(parts, part)
        return cls(parts, first.k1, first.b)

    def without(self, rows: np.ndarray) -> LexicalIndex:
        """A new index without the passages at `rows` (later rows move up); the parts' arrays are shared (a part
        that loses rows serves fewer of them)."""
        removed = np.zeros(self._rows, dtype=bool)
        removed[np.asarray(rows, dtype=np.int64)] = True
        parts = [part.without(removed[start:start + len(part)]) if removed[start:start + len(part)].any() else part
                 for part, start in zip(self._parts, self._starts)]
        return LexicalIndex(parts, self.k1, self.b)

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.5, b: float = 0.75) -> LexicalIndex:
        """Tokenize `texts` and index their term counts for BM25 (Lucene variant)."""
        _check_texts(texts)
        if isinstance(k1, bool) or not isinstance(k1, (int, float)) or not 0 <= k1 < float("inf"):
            raise InputError(f"k1 must be a finite number >= 0, got {k1!r}")
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 <= b <= 1:
            raise InputError(f"b must be a number between 0 and 1, got {b!r}")
        return cls._of_counts(texts, float(k1), float(b))

    def __len__(self) -> int:
        return self._rows

    def average_length(self) -> float | None:
        """The mean number of terms per passage, BM25's avgdl (None for an empty index)."""
        return self._total_length / self._rows if self._rows else None

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for `query` (float32, length len(self)); zeros if no term matches.

        Lucene's idf = ln(1 + (N - df + 0.5) / (df + 0.5)) times tf / (tf + k1 (1 - b + b len / avglen)), in
        float32, a row's weights added in the query's term order, whatever part holds the row."""
        if not isinstance(query, str):
            raise InputError(f"query must be a string, got {type(query).__name__}")
        total = np.zeros(self._rows, dtype=np.float32)
        for term in tokenize(query):
            postings = [part.postings(term) for part in self._parts]
            df = sum(len(rows) for rows, _ in postings)
            if not df:
                continue
            idf = np.float32(np.log1p((self._rows - df + 0.5) / (df + 0.5)))
            for first, norm, (rows, counts) in zip(self._starts, self._norms, postings):
                if len(rows):
                    counts = counts.astype(np.float32)
                    weight = norm[rows]
                    weight += counts
                    np.divide(counts, weight, out=weight)
                    weight *= idf
                    total[rows + first if first else rows] += weight  # a term's rows are distinct
        return total

    def known_share(self, query: str) -> float:
        """Share of the query's terms that occur anywhere in the corpus (1.0 for a query with no terms)."""
        terms = tokenize(query)
        known = sum(any(len(part.postings(term)[0]) for part in self._parts) for term in terms)
        return known / len(terms) if terms else 1.0

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to k (row, score) pairs, best first, ties by row; rows scoring 0 are left out."""
        k = check_k(k)
        scores = self.scores(query)
        matched = np.flatnonzero(scores > 0)
        if len(matched) > k:
            matched = matched[np.argpartition(-scores[matched], k - 1)[:k]]
            # argpartition cuts ties at the k-th score arbitrarily; take every row tied with it.
            cut = scores[matched].min()
            matched = np.union1d(matched, np.flatnonzero(scores == cut))
        order = np.lexsort((matched, -scores[matched]))[:k]
        return [(int(matched[i]), float(scores[matched[i]])) for i in order]

    def to_files(self) -> dict[str, bytes]:
        """The index as .npy arrays (allow_pickle=False) and JSON vocabulary/parameters, its parts joined into
        one: term counts and lengths, not scores (a query computes them)."""
        whole = _joined(self._parts)
        files = {}
        for key, array in (("indices", whole.indices), ("indptr", whole.indptr),
                           ("tf", _narrowest(whole.tf)), ("lengths", whole.lengths)):
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(array), allow_pickle=False)
            files[FILES[key]] = buffer.getvalue()
        files[FILES["vocab"]] = json.dumps(whole.terms, ensure_ascii=False).encode("utf-8")
        params = {"k1": self.k1, "b": self.b, "method": METHOD, "rows": self._rows,
                  "tokenizer_version": TOKENIZER_VERSION}
        files[FILES["params"]] = json.dumps(params, indent=1).encode("utf-8")
        return files

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> LexicalIndex:
        """Rebuild from `to_files` output, checking that the arrays, vocabulary and parameters agree. The arrays
        are read where they lie (views of the files' bytes, never copied)."""
        missing = [name for name in FILES.values() if name not in files]
        if missing:
            raise IndexCorruptError(f"the lexical index is missing {', '.join(missing)}")
        params = _json(files, FILES["params"], dict)
        terms = _json(files, FILES["vocab"], list)
        if params.get("method") != METHOD or params.get("tokenizer_version") != TOKENIZER_VERSION:
            raise IndexMismatchError(
                f"the lexical index was built with BM25 method {params.get('method')!r} and tokenizer "
                f"version {params.get('tokenizer_version')!r}; this library uses {METHOD!r} and version "
                f"{TOKENIZER_VERSION}: rebuild the index"
            )
        indices, indptr, tf, lengths = (_npy(files, FILES[key]) for key in ("indices", "indptr", "tf", "lengths"))
        rows = params.get("rows")
        _check_consistent(tf, indices, indptr, terms, rows)
        if tf.dtype.kind not in "iu" or lengths.dtype.kind not in "iu" or len(lengths) != rows:
            raise IndexCorruptError(f"the lexical index has term counts of {tf.dtype} and {len(lengths)} passage "
                                    f"lengths of {lengths.dtype} for {rows} rows (integers, one per row)")
        k1, b = float(params.get("k1", 1.5)), float(params.get("b", 0.75))
        return cls([_Part.of(indices, indptr, tf, lengths, terms)], k1, b)


def _merged_tail(parts: tuple[_Part, ...], new: _Part) -> tuple[_Part, ...]:
    """`parts` then `new`, with the trailing parts smaller than SMALL_PART (and `new`) merged into one."""
    tail = [new]
    while len(tail) <= len(parts) and len(parts[-len(tail)]) < SMALL_PART:
        tail.insert(0, parts[-len(tail)])
    if len(tail) == 1:
        return (*parts, new)
    return (*parts[:len(parts) + 1 - len(tail)], _joined(tail))


def _joined(parts: Sequence[_Part]) -> _Part:
    """One part of `parts`' rows in order. The later parts (an add: a few passages) are joined by one stable sort
    of their entries by column, then inserted into the first part's columns: its arrays are copied once, never
    sorted again."""
    parts = [part.compacted() for part in parts]
    if not parts:
        return _Part.of(np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32), [])
    if len(parts) == 1:
        return parts[0]
    return _with_rows_of(parts[0], parts[1] if len(parts) == 2 else _sorted_together(parts[1:]))


def _sorted_together(parts: Sequence[_Part]) -> _Part:
    """`_joined` by one stable sort of all entries by column: each part's entries are in CSC order and its rows
    come after the earlier parts', so sorting by column alone puts them in order."""
    vocab: dict[str, int] = {}
    terms: list[str] = []
    columns, rows, counts, offset = [], [], [], 0
    for part in parts:
        part_columns, part_rows, part_tf = part.entries()
        columns.append(_global_columns(part.terms, vocab, terms)[part_columns])
        rows.append(part_rows + offset)
        counts.append(part_tf.astype(np.int32))
        offset += len(part)
    columns, rows, counts = np.concatenate(columns), np.concatenate(rows), np.concatenate(counts)
    order = np.argsort(columns, kind="stable")
    return _Part.from_counts(columns[order], rows[order], counts[order],
                             np.concatenate([part.lengths for part in parts]), terms, ordered=True)


def _with_rows_of(first: _Part, other: _Part) -> _Part:
    """`first` with `other`'s rows after its own: each of other's entries is inserted at the end of its term's
    column (its row is after every row there); terms new to `first` get columns at the end."""
    terms, vocab = list(first.terms), dict(first.vocab)
    other_columns, other_rows, other_tf = other.entries()
    columns = _global_columns(other.terms, vocab, terms)[other_columns]
    order = np.argsort(columns, kind="stable")  # keeps each column's rows ascending
    columns, rows, tf = columns[order], (other_rows[order] + len(first)).astype(np.int32), other_tf[order]
    indptr = np.concatenate([first.indptr, np.full(len(terms) - len(first.terms), first.indptr[-1])])
    at = indptr[columns + 1]  # after the column's own entries
    indices = np.insert(first.indices.astype(np.int32), at, rows)
    counts = np.insert(first.tf.astype(np.int32), at, tf.astype(np.int32))
    indptr = indptr + np.concatenate([[0], np.cumsum(np.bincount(columns, minlength=len(terms)))])
    lengths = np.concatenate([first.lengths, other.lengths]).astype(np.int32)
    return _Part(indices, indptr, counts, lengths, terms, vocab)


def _narrowest(counts: np.ndarray) -> np.ndarray:
    """Term counts as uint8 or uint16 when they fit (almost every count is 1 to 3): a quarter of int32's bytes
    on disk."""
    largest = int(counts.max()) if len(counts) else 0
    for dtype in (np.uint8, np.uint16):
        if largest <= np.iinfo(dtype).max:
            return counts.astype(dtype)
    return counts


def _global_columns(part_terms: list[str], vocab: dict[str, int], terms: list[str]) -> np.ndarray:
    """Each of a part's terms' column in the joined vocabulary (`vocab` and `terms`, extended with the new)."""
    columns = np.empty(len(part_terms), dtype=np.int64)
    for column, term in enumerate(part_terms):
        if term not in vocab:
            vocab[term] = len(terms)
            terms.append(term)
        columns[column] = vocab[term]
    return columns


def _check_texts(texts: object) -> None:
    if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
        raise InputError("texts must be a list of strings")


def _json(files: dict[str, bytes], name: str, kind: type) -> object:
    try:
        value = json.loads(str(files[name], "utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{name} is not valid JSON ({exc})") from exc
    if not isinstance(value, kind):
        raise IndexCorruptError(f"{name} should hold a JSON {kind.__name__}, found {type(value).__name__}")
    return value


def _npy(files: dict[str, bytes], name: str) -> np.ndarray:
    try:
        array = npy_view(files[name])  # over the file's bytes, not a copy
    except (ValueError, OSError, EOFError) as exc:
        raise IndexCorruptError(f"{name} is not a readable .npy array ({exc})") from exc
    if array.ndim != 1 or array.dtype.kind not in "iuf":
        raise IndexCorruptError(f"{name} should be a 1-d numeric array, found {array.dtype} {array.shape}")
    return array


def _check_consistent(tf, indices, indptr, terms, rows) -> None:
    """Raise IndexCorruptError unless the arrays form a CSC matrix of len(terms) columns and `rows` rows."""
    problems = []
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        problems.append(f"row count {rows!r} is not a non-negative integer")
    if not all(isinstance(t, str) and t for t in terms) or len(set(terms)) != len(terms):
        problems.append("the vocabulary is not a list of distinct non-empty terms")
    if indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        problems.append("indices and indptr must hold integers")
    elif len(indptr) != len(terms) + 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        problems.append(f"indptr has {len(indptr)} entries for {len(terms)} terms or is not increasing")
    elif not len(tf) == len(indices) == indptr[-1]:
        problems.append(f"term counts ({len(tf)}), indices ({len(indices)}) and indptr end ({indptr[-1]}) disagree")
    elif not problems and len(indices) and (indices.min() < 0 or indices.max() >= rows):
        problems.append(f"row numbers fall outside 0..{rows - 1}")
    if problems:
        raise IndexCorruptError("the lexical index arrays are inconsistent: " + "; ".join(problems))
