"""The query path runs on one BLAS thread (qa.threads) and gives the threads back afterwards."""
from __future__ import annotations

import numpy  # noqa: F401  (loads the BLAS library whose threads are counted)
from threadpoolctl import threadpool_info

from qa.threads import query_threads


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_the_limit_holds_inside_and_is_lifted_after():
    before = blas_threads()
    with query_threads(1):
        assert blas_threads() == {1}
    assert blas_threads() == before
    with query_threads(None):
        assert blas_threads() == before


def test_ask_and_search_read_the_question_on_one_thread(default_engine, monkeypatch):
    seen = []
    retriever = default_engine._retriever
    original = retriever.query_vector

    def recording(question):
        seen.append(blas_threads())
        return original(question)

    monkeypatch.setattr(retriever, "query_vector", recording)
    before = blas_threads()
    default_engine.ask("Who will commission GP services in Greater Manchester?")
    default_engine.search("Greater Manchester budget")
    assert seen and all(threads == {1} for threads in seen)
    assert blas_threads() == before
