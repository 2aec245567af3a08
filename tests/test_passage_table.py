"""Tests for passages held as columns (index/passage_table.py): what reads back is what the chunker made,
ids find their rows, filters and joins keep rows in step with their windows and sentences, and an index saved
before passages were arrays still loads."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest

from index.build import build_index, delete_documents, load_index, save_index
from index.chunk import chunk_document
from index.passage_table import PassageTable, passage_id
from index.records import Comment, Document
from index.store import MANIFEST, encode_jsonl
from tests.fakes import KeywordEmbedder
from tests.test_store_segments import SMALL_CHUNKS, VOCABULARY


@pytest.fixture(scope="module")
def index():
    documents = [Document(id=f"d{n}", title=f"GP services ({n})", byline="A reporter" if n % 2 else None,
                          text=" ".join(f"CCGs in place {n} will commission GP services, sentence {i}." for i in range(9)),
                          comments=tuple(Comment(c + 1, f"Councils should decide, says reader {c}.", f"r{c}")
                                         for c in range(n % 3))) for n in range(6)]
    return build_index(documents, KeywordEmbedder(VOCABULARY), SMALL_CHUNKS)


def test_every_passage_reads_back_as_the_chunker_made_it(index):
    made = [p for d in index.documents.values() for p in _chunked(index, d)]
    assert list(index.passages) == made
    assert [(p.windows, p.sentences) for p in index.passages] == [(p.windows, p.sentences) for p in made]
    assert index.passages[-1] == made[-1] and index.passages[1:3] == made[1:3]
    with pytest.raises(IndexError, match="out of range"):
        index.passages[len(made)]


def _chunked(index, document):
    embedder = KeywordEmbedder(VOCABULARY)
    return chunk_document(document, embedder.count_tokens, embedder.max_tokens, SMALL_CHUNKS.chunk)


def test_an_id_finds_its_row_and_a_near_miss_finds_none(index):
    for row, passage in enumerate(index.passages):
        assert index.passage_row[passage.id] == row
    first = index.passages[0]
    assert index.passage_row.get(passage_id(first.doc_id, None, first.start, first.end + 1)) is None
    assert index.passage_row.get("no-such-doc:a:0-10") is None and index.passage_row.get("garbage") is None
    assert list(index.passage_row) == [p.id for p in index.passages]


def test_comments_are_marked_and_rows_of_a_document_are_its_own(index):
    assert index.passages.is_comment().tolist() == [p.kind == "comment" for p in index.passages]
    for doc_id in index.documents:
        assert [index.passages[r].doc_id for r in index.passages.rows_of(doc_id)] == \
            [p.doc_id for p in index.passages if p.doc_id == doc_id]


def test_a_join_hands_on_the_rows_of_each_document_it_found(index):
    first = index.passages.taken(np.array([p.doc_id < "d3" for p in index.passages]), index.documents)
    rest = index.passages.taken(np.array([p.doc_id >= "d3" for p in index.passages]), index.documents)
    assert first.rows_of("d1")  # found once, row by row: the join moves the later tables' on
    joined = PassageTable.joined([first, rest], index.documents)
    fresh = PassageTable(index.documents, joined.doc_ids, joined.spans, joined.window_start, joined.window_spans,
                         joined.sentence_start, joined.sentence_spans)
    for doc_id in [*index.documents, "missing"]:
        assert joined.rows_of(doc_id) == fresh.rows_of(doc_id) == index.passages.rows_of(doc_id)


def test_a_delete_keeps_the_other_passages_with_their_spans(index):
    kept = delete_documents(index, ["d2", "d4"])
    assert list(kept.passages) == [p for p in index.passages if p.doc_id not in {"d2", "d4"}]
    assert [p.sentences for p in kept.passages] == [p.sentences for p in index.passages
                                                    if p.doc_id not in {"d2", "d4"}]


def test_a_passage_whose_id_is_not_the_chunkers_is_refused(index):
    odd = replace(index.passages[0], id="custom")
    with pytest.raises(ValueError, match="not the chunker's"):
        PassageTable.of([odd], index.documents)


def test_an_index_saved_with_passages_as_json_lines_still_loads(index, tmp_path):
    save_index(index, tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    rows = [{"id": p.id, "doc_id": p.doc_id, "kind": p.kind, "author": p.author, "start": p.start, "end": p.end,
             "comment": p.comment, "windows": [list(w) for w in p.windows],
             "sentences": [list(s) for s in p.sentences]} for p in index.passages]
    data = encode_jsonl(rows)
    for name in [n for n in manifest["files"] if n.startswith("passage")]:
        (tmp_path / manifest["files"].pop(name)["name"]).unlink()
    (tmp_path / "passages.g0001.jsonl").write_bytes(data)
    manifest["files"]["passages.jsonl"] = {"name": "passages.g0001.jsonl", "size": len(data),
                                           "sha256": hashlib.sha256(data).hexdigest()}
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    loaded = load_index(tmp_path)
    assert loaded.passages == index.passages and list(loaded.documents) == list(index.documents)
    assert [(p.windows, p.sentences) for p in loaded.passages] == [(p.windows, p.sentences) for p in index.passages]
    assert np.array_equal(loaded.sentence_start, index.sentence_start)
    assert np.array_equal(loaded.sentence_vectors, index.sentence_vectors)
