"""The choices callers name by string, each listed once: passage kind filters, retrieval modes and dense index
kinds. A leaf with no imports of weight, so a command line can offer the choices without loading any library."""
from __future__ import annotations

from index.records import KINDS

__all__ = ["DENSE_KINDS", "EXACT", "HNSW", "KIND_FILTERS", "MODES"]

KIND_FILTERS = ("both", *KINDS)  # what `kind=` takes: both kinds of passage, or one
MODES = ("hybrid", "lexical", "dense")  # retrieval: fused, BM25 only, vectors only
EXACT, HNSW = "exact", "hnsw"
DENSE_KINDS = (EXACT, HNSW)  # FAISS flat (exact) or HNSW graph (approximate)
