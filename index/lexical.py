"""Lexical (BM25) index over passage texts: plain numpy computes the scores and serves queries.

The index is an eager score matrix in CSC form (one column per term, one row per passage), so a query's
scores are the sum of its terms' columns. Beside it are each entry's term count and each passage's
length, so adding or removing passages rescores the matrix in a few vectorised passes without
tokenising the other passages again. Saved as .npy arrays plus JSON, never pickle: the term counts and
lengths, not the scores, which loading computes again, bit for bit the same: at 69k passages (3.4M entries,
a 13 MB scores file) in about 0.05 s, the first call in a fresh process on this 2-core machine.
"""
from __future__ import annotations

import io
import json
import re
from collections import Counter

import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from index.errors import IndexCorruptError, IndexMismatchError, InputError, check_k
from index.speakers import straighten_quotes

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


class LexicalIndex:
    """BM25 scores of every passage for a query; rows are passage positions in build order."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
                 terms: list[str], rows: int, k1: float, b: float,
                 tf: np.ndarray | None = None, lengths: np.ndarray | None = None) -> None:
        self._data, self._indices, self._indptr = data, indices, indptr
        self._terms = list(terms)
        self._vocab = {term: i for i, term in enumerate(self._terms)}
        self._rows, self.k1, self.b = rows, k1, b
        self._tf = tf if tf is not None else np.zeros(len(data), dtype=np.int32)  # count of each entry's term
        self._lengths = lengths if lengths is not None else np.zeros(rows, dtype=np.int32)  # terms per passage

    @classmethod
    def _from_counts(cls, columns: np.ndarray, rows: np.ndarray, tf: np.ndarray, lengths: np.ndarray,
                     terms: list[str], k1: float, b: float, *, ordered: bool = False) -> LexicalIndex:
        """The index of (term column, row, count) entries: sorted into CSC by column then row (unless `ordered`:
        already so), and scored. Columns with no entry are dropped, so the vocabulary holds only terms the
        passages use."""
        used = np.bincount(columns, minlength=len(terms)) > 0
        if not used.all():
            renumber = np.cumsum(used) - 1  # keeps the order of the columns kept
            columns, terms = renumber[columns], [t for t, keep in zip(terms, used) if keep]
        if not ordered:
            order = np.lexsort((rows, columns))
            columns, rows, tf = columns[order], rows[order], tf[order]
        rows, tf = rows.astype(np.int32), tf.astype(np.int32)
        df = np.bincount(columns, minlength=len(terms)).astype(np.int64)
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        lengths = lengths.astype(np.int32)
        return cls(_weights(rows, indptr, tf, lengths, k1, b), rows, indptr, terms, len(lengths),
                   float(k1), float(b), tf, lengths)

    def _entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(column, row, count) of every stored entry."""
        columns = np.repeat(np.arange(len(self._terms), dtype=np.int64), np.diff(self._indptr))
        return columns, self._indices.astype(np.int64), self._tf

    def extended(self, texts: list[str]) -> LexicalIndex:
        """A new index with `texts` appended as rows len(self)...; only they are tokenised."""
        _check_texts(texts)
        return LexicalIndex.concatenated([self, LexicalIndex._counted(texts, self.k1, self.b)])

    @classmethod
    def _counted(cls, texts: list[str], k1: float, b: float) -> LexicalIndex:
        vocab: dict[str, int] = {}
        columns, rows, counts, lengths = [], [], [], []
        for row, text in enumerate(texts):
            tokens = tokenize(text)
            lengths.append(len(tokens))
            for term, count in Counter(tokens).items():
                columns.append(vocab.setdefault(term, len(vocab)))
                rows.append(row)
                counts.append(count)
        return cls._from_counts(np.array(columns, dtype=np.int64), np.array(rows, dtype=np.int64),
                                np.array(counts, dtype=np.int32), np.array(lengths, dtype=np.int32), list(vocab),
                                k1, b)

    @classmethod
    def concatenated(cls, parts: list[LexicalIndex]) -> LexicalIndex:
        """One index of `parts`' rows, the first part's rows first; nothing is tokenised. The parts must share
        k1 and b. The later parts (an add: a few passages) are joined first, then their entries are inserted
        into the first part's columns: its arrays are copied once, never sorted again."""
        first = parts[0]
        if any((part.k1, part.b) != (first.k1, first.b) for part in parts):
            raise InputError("lexical indexes to concatenate must share k1 and b")
        if len(parts) == 1:
            return first
        rest = parts[1] if len(parts) == 2 else cls._sorted_together(parts[1:])
        return first._with_rows_of(rest)

    @classmethod
    def _sorted_together(cls, parts: list[LexicalIndex]) -> LexicalIndex:
        """`concatenated` by one stable sort of all entries by column: each part's entries are in CSC order
        and its rows come after the earlier parts', so sorting by column alone puts them in order."""
        vocab, terms = {}, []
        columns, rows, counts, offset = [], [], [], 0
        for part in parts:
            part_columns, part_rows, part_tf = part._entries()
            columns.append(_global_columns(part._terms, vocab, terms)[part_columns])
            rows.append(part_rows + offset)
            counts.append(part_tf)
            offset += len(part)
        columns, rows, counts = np.concatenate(columns), np.concatenate(rows), np.concatenate(counts)
        order = np.argsort(columns, kind="stable")
        return cls._from_counts(columns[order], rows[order], counts[order],
                                np.concatenate([part._lengths for part in parts]), terms, parts[0].k1,
                                parts[0].b, ordered=True)

    def _with_rows_of(self, other: LexicalIndex) -> LexicalIndex:
        """This index with `other`'s rows after its own: each of other's entries is inserted at the end of its
        term's column (its row is after every row there); terms new to this index get columns at the end."""
        terms = list(self._terms)
        vocab = dict(self._vocab)
        other_columns, other_rows, other_tf = other._entries()
        columns = _global_columns(other._terms, vocab, terms)[other_columns]
        order = np.argsort(columns, kind="stable")  # keeps each column's rows ascending
        columns, rows, tf = columns[order], (other_rows[order] + self._rows).astype(np.int32), other_tf[order]
        indptr = np.concatenate([self._indptr, np.full(len(terms) - len(self._terms), self._indptr[-1])])
        at = indptr[columns + 1]  # after the column's own entries
        indices, counts = np.insert(self._indices, at, rows), np.insert(self._tf, at, tf.astype(self._tf.dtype))
        indptr = indptr + np.concatenate([[0], np.cumsum(np.bincount(columns, minlength=len(terms)))])
        lengths = np.concatenate([self._lengths, other._lengths]).astype(np.int32)
        return LexicalIndex(_weights(indices, indptr, counts, lengths, self.k1, self.b), indices, indptr, terms,
                            len(lengths), self.k1, self.b, counts, lengths)

    def without(self, rows: np.ndarray) -> LexicalIndex:
        """A new index without the passages at `rows` (later rows move up); nothing is tokenised or sorted: the
        kept entries stay in CSC order, so only the row numbers and the column ends are worked out again."""
        removed = np.zeros(self._rows, dtype=bool)
        removed[np.asarray(rows, dtype=np.int64)] = True
        kept = ~removed[self._indices]
        renumber = (np.cumsum(~removed) - 1).astype(np.int32)
        indices, tf, lengths = renumber[self._indices[kept]], self._tf[kept], self._lengths[~removed]
        ends = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])[self._indptr]  # kept entries before each column
        df, terms = np.diff(ends), self._terms
        if not df.all():  # drop the terms no kept passage uses
            terms = [t for t, count in zip(terms, df) if count]
            df = df[df > 0]
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return LexicalIndex(_weights(indices, indptr, tf, lengths, self.k1, self.b), indices, indptr, terms,
                            len(lengths), self.k1, self.b, tf, lengths)

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.5, b: float = 0.75) -> LexicalIndex:
        """Tokenize `texts` and precompute their BM25 (Lucene variant) term scores."""
        _check_texts(texts)
        if isinstance(k1, bool) or not isinstance(k1, (int, float)) or not 0 <= k1 < float("inf"):
            raise InputError(f"k1 must be a finite number >= 0, got {k1!r}")
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 <= b <= 1:
            raise InputError(f"b must be a number between 0 and 1, got {b!r}")
        return cls._counted(texts, float(k1), float(b))

    def __len__(self) -> int:
        return self._rows

    def average_length(self) -> float | None:
        """The mean number of terms per passage, BM25's avgdl (None for an empty index)."""
        return float(self._lengths.mean()) if self._rows else None

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for `query` (float32, length len(self)); zeros if no term matches."""
        if not isinstance(query, str):
            raise InputError(f"query must be a string, got {type(query).__name__}")
        total = np.zeros(self._rows, dtype=np.float32)
        for term in tokenize(query):
            column = self._vocab.get(term)
            if column is not None:
                start, end = self._indptr[column], self._indptr[column + 1]
                total += np.bincount(self._indices[start:end], weights=self._data[start:end],
                                     minlength=self._rows).astype(np.float32)
        return total

    def known_share(self, query: str) -> float:
        """Share of the query's terms that occur anywhere in the corpus (1.0 for a query with no terms)."""
        terms = tokenize(query)
        return sum(term in self._vocab for term in terms) / len(terms) if terms else 1.0

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
        """The index as .npy arrays (allow_pickle=False) and JSON vocabulary/parameters; the scores are left
        out (from_files computes them from the term counts and lengths)."""
        files = {}
        for key, array in (("indices", self._indices), ("indptr", self._indptr),
                           ("tf", _narrowest(self._tf)), ("lengths", self._lengths)):
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(array), allow_pickle=False)
            files[FILES[key]] = buffer.getvalue()
        files[FILES["vocab"]] = json.dumps(self._terms, ensure_ascii=False).encode("utf-8")
        params = {"k1": self.k1, "b": self.b, "method": METHOD, "rows": self._rows,
                  "tokenizer_version": TOKENIZER_VERSION}
        files[FILES["params"]] = json.dumps(params, indent=1).encode("utf-8")
        return files

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> LexicalIndex:
        """Rebuild from `to_files` output, checking that the arrays, vocabulary and parameters agree."""
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
        tf = tf.astype(np.int32)  # stored in the narrowest type that holds it
        return cls(_weights(indices, indptr, tf, lengths, k1, b), indices, indptr, terms, rows, k1, b, tf, lengths)


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


def _weights(rows: np.ndarray, indptr: np.ndarray, tf: np.ndarray, lengths: np.ndarray,
             k1: float, b: float) -> np.ndarray:
    """Each CSC entry's BM25 weight (float32) from its term count, its passage's length and its column's
    document frequency: Lucene's idf = ln(1 + (N - df + 0.5) / (df + 0.5)) times tf / (tf + k1 (1 - b + b len /
    avglen)). Computed when the index is built or changed and again when it is loaded, never stored."""
    if not len(tf):
        return np.zeros(0, dtype=np.float32)
    df = np.diff(indptr)
    idf = np.log1p((len(lengths) - df + 0.5) / (df + 0.5))
    length_norm = k1 * (1 - b + b * lengths / lengths.mean())  # per passage, then read for each entry
    return (np.repeat(idf, df) * tf / (tf + length_norm[rows])).astype(np.float32)


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
        array = np.load(io.BytesIO(files[name]), allow_pickle=False)
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
