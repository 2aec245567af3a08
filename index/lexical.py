"""Lexical (BM25) index over passage texts: bm25s computes the scores, plain numpy serves queries.

The index is bm25s's eager score matrix in CSC form (one column per term, one row per passage), so
a query's scores are the sum of its terms' columns. Saved as .npy arrays plus JSON, never pickle.
"""
from __future__ import annotations

import io
import json
import re
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from qa.errors import IndexCorruptError, IndexMismatchError, InputError

# Bump whenever tokenize() changes: an index built with other tokens would silently miss matches.
TOKENIZER_VERSION = 1
METHOD = "lucene"  # BM25 variant: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), no (k1 + 1) factor
FILES = {
    "data": "lexical.data.npy",
    "indices": "lexical.indices.npy",
    "indptr": "lexical.indptr.npy",
    "vocab": "lexical.vocab.json",
    "params": "lexical.params.json",
}

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "`": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"'})
_POSSESSIVE = re.compile(r"'s\b")
# A number keeps its separators ("1,000", "6.5bn") so it stays one token; otherwise runs of letters/digits.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*[^\W_]*|[^\W_]+")
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Casefolded, stopword-free, Snowball-stemmed terms of `text` ("£6bn" -> ["6bn"])."""
    if not isinstance(text, str):
        raise InputError(f"text to tokenize must be a string, got {type(text).__name__}")
    text = _POSSESSIVE.sub("", text.casefold().translate(_QUOTES))
    words = [w.replace(",", "") for w in _TOKEN.findall(text) if w not in _STOPWORDS]
    return _stemmer().stemWords(words)


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    return k


class LexicalIndex:
    """BM25 scores of every passage for a query; rows are passage positions in build order."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
                 terms: list[str], rows: int, k1: float, b: float) -> None:
        self._data, self._indices, self._indptr = data, indices, indptr
        self._vocab = {term: i for i, term in enumerate(terms)}
        self._rows, self.k1, self.b = rows, k1, b

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.5, b: float = 0.75) -> "LexicalIndex":
        """Tokenize `texts` and precompute their BM25 (Lucene variant) term scores."""
        if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
            raise InputError("texts must be a list of strings")
        if isinstance(k1, bool) or not isinstance(k1, (int, float)) or not 0 <= k1 < float("inf"):
            raise InputError(f"k1 must be a finite number >= 0, got {k1!r}")
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 <= b <= 1:
            raise InputError(f"b must be a number between 0 and 1, got {b!r}")
        tokens = [tokenize(t) for t in texts]
        if not any(tokens):  # bm25s cannot index a corpus without a single term
            empty = np.zeros(0, dtype=np.float32)
            return cls(empty, np.zeros(0, np.int32), np.zeros(1, np.int64), [], len(texts), float(k1), float(b))
        bm25 = bm25s.BM25(k1=k1, b=b, method=METHOD)
        bm25.index(tokens, show_progress=False)
        # bm25s appends an empty-string term past the last matrix column; it is no term of ours.
        terms = sorted((t for t in bm25.vocab_dict if t), key=bm25.vocab_dict.__getitem__)
        s = bm25.scores
        return cls(s["data"], s["indices"], s["indptr"], terms, int(s["num_docs"]), float(k1), float(b))

    def __len__(self) -> int:
        return self._rows

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
        k = _check_k(k)
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
        """The index as .npy arrays (allow_pickle=False) and JSON vocabulary/parameters."""
        files = {}
        for key, array in (("data", self._data), ("indices", self._indices), ("indptr", self._indptr)):
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(array), allow_pickle=False)
            files[FILES[key]] = buffer.getvalue()
        terms = sorted(self._vocab, key=self._vocab.__getitem__)
        files[FILES["vocab"]] = json.dumps(terms, ensure_ascii=False).encode("utf-8")
        params = {"k1": self.k1, "b": self.b, "method": METHOD, "rows": self._rows,
                  "tokenizer_version": TOKENIZER_VERSION, "bm25s_version": bm25s.__version__}
        files[FILES["params"]] = json.dumps(params, indent=1).encode("utf-8")
        return files

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> "LexicalIndex":
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
        data, indices, indptr = (_npy(files, FILES[key]) for key in ("data", "indices", "indptr"))
        rows = params.get("rows")
        _check_consistent(data, indices, indptr, terms, rows)
        return cls(data.astype(np.float32, copy=False), indices, indptr, terms, rows,
                   float(params.get("k1", 1.5)), float(params.get("b", 0.75)))


def _json(files: dict[str, bytes], name: str, kind: type) -> object:
    try:
        value = json.loads(files[name].decode("utf-8"))
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


def _check_consistent(data, indices, indptr, terms, rows) -> None:
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
    elif not len(data) == len(indices) == indptr[-1]:
        problems.append(f"data ({len(data)}), indices ({len(indices)}) and indptr end ({indptr[-1]}) disagree")
    elif not problems and len(indices) and (indices.min() < 0 or indices.max() >= rows):
        problems.append(f"row numbers fall outside 0..{rows - 1}")
    if problems:
        raise IndexCorruptError("the lexical index arrays are inconsistent: " + "; ".join(problems))
