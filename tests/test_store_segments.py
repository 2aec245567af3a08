"""Tests for saving an index as segments (index/segments.py, index/saved.py): an add writes one new segment
and a delete one small tombstones file, every other file is kept as it was, and what loads is what a
build of the same documents gives."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from index.build import IndexConfig, build_index, delete_documents, load_index, merge_batch, prepare_batch, save_index
from index.chunk import ChunkConfig
from index.records import Comment, Document
from index.segments import FANOUT, TOMBSTONES, merge_run
from index.store import MANIFEST, read_manifest
from qa.analysis import ANALYSERS
from qa.engine import Engine
from qa.errors import IndexCorruptError
from qa.retrieve import Retriever
from tests.fakes import KeywordEmbedder

REPO = Path(__file__).resolve().parents[1]
VOCABULARY = ["gp", "services", "commission", "ccgs", "councils", "manchester", "budget", "pcts", "london"]
SMALL_CHUNKS = IndexConfig(ChunkConfig(passage_words=20, window_words=8, overlap_sentences=1))
QUERIES = ["gp services in manchester", "councils budget", "pcts scrapped", "london ccgs"]
PLACES = ["Manchester", "London", "Leeds", "Kent", "Bristol", "Sefton"]


def _document(doc_id: str, place: str = "Manchester", comments: int = 1) -> Document:
    body = " ".join(f"Sentence {i}: CCGs in {place} will commission GP services with a budget of £{i}m. "
                    f"Councils in {place} said \u201cthe PCTs were better\u201d, Dr Ann Lee, a GP, added."
                    for i in range(6))
    return Document(id=doc_id, title=f"GP services in {place} ({doc_id})", text=body,
                    comments=tuple(Comment(n + 1, f"Councils in {place} should decide, says reader {n}.")
                                   for n in range(comments)))


def _documents(count: int, prefix: str = "d") -> list[Document]:
    return [_document(f"{prefix}{n}", PLACES[n % len(PLACES)], n % 3) for n in range(count)]


def _results(index) -> list:
    retriever = Retriever(index, KeywordEmbedder(VOCABULARY))
    return [[(h.passage_id, h.score) for h in retriever.search(q, 20, mode=mode)]
            for q in QUERIES for mode in ("hybrid", "lexical", "dense")]


def _same(one, other) -> None:
    """The same documents, passages, vectors, term scores and analysis, in the same order."""
    assert list(one.documents) == list(other.documents) and one.passages == other.passages
    assert np.array_equal(one.window_passage, other.window_passage)
    assert np.array_equal(one.dense.vectors(), other.dense.vectors())
    assert np.array_equal(one.sentence_vectors, other.sentence_vectors)
    assert np.array_equal(one.sentence_start, other.sentence_start) and one.passage_row == other.passage_row
    assert one.analysis.quotes == other.analysis.quotes and one.analysis.rows == other.analysis.rows
    assert one.analysis.document_frequency == other.analysis.document_frequency
    assert one.meta() == other.meta()
    assert _results(one) == _results(other)


def _entries(folder: Path) -> dict:
    return read_manifest(folder)["files"]


def _saved(folder: Path, documents: list[Document]):
    index = build_index(documents, KeywordEmbedder(VOCABULARY), SMALL_CHUNKS, progress=False)
    save_index(index, folder)
    return load_index(folder)


def test_an_add_writes_one_segment_and_keeps_every_file_it_had(tmp_path):
    loaded = _saved(tmp_path, _documents(8))
    before = _entries(tmp_path)
    updated = merge_batch(loaded, prepare_batch(_documents(1, "new"), KeywordEmbedder(VOCABULARY), SMALL_CHUNKS, ()))
    save_index(updated, tmp_path)

    after = _entries(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before  # same names, sizes and hashes
    new = sorted(set(after) - set(before))
    assert new and all(name.startswith("seg1.") for name in new) and "seg1.passages.npy" in new
    assert [s["name"] for s in read_manifest(tmp_path)["meta"]["segments"]] == ["base", "seg1"]
    assert set(os.listdir(tmp_path)) - {MANIFEST} == {entry["name"] for entry in after.values()}
    full = build_index(_documents(8) + _documents(1, "new"), KeywordEmbedder(VOCABULARY), SMALL_CHUNKS)
    _same(load_index(tmp_path), updated)
    _same(load_index(tmp_path), full)


def test_a_delete_writes_only_the_tombstones_and_a_load_drops_them(tmp_path):
    loaded = _saved(tmp_path, _documents(8))
    before = _entries(tmp_path)
    updated = delete_documents(loaded, ["d3"])
    save_index(updated, tmp_path)
    after = _entries(tmp_path)
    assert set(after) - set(before) == {TOMBSTONES}
    assert {k: v for k, v in after.items() if k != TOMBSTONES} == before
    assert json.loads((tmp_path / after[TOMBSTONES]["name"]).read_text()) == {"base": ["d3"]}
    rest = [d for d in _documents(8) if d.id != "d3"]
    _same(load_index(tmp_path), updated)
    _same(load_index(tmp_path), build_index(rest, KeywordEmbedder(VOCABULARY), SMALL_CHUNKS))


def test_adds_deletes_and_replacements_through_the_engine_load_as_a_build_of_what_is_left(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    folder = tmp_path / "idx"
    save_index(build_index(_documents(30), embedder, SMALL_CHUNKS, analysers=ANALYSERS), folder)
    engine = Engine.load(folder, embedder=embedder)
    kept = {d.id: d for d in _documents(30)}
    for step in range(14):
        page = tmp_path / f"p{step}.jsonl"
        document = _document(f"p{step}", PLACES[step % 6], 0)
        page.write_text(json.dumps({"id": document.id, "title": document.title, "text": document.text}) + "\n")
        engine.add([page])
        kept[document.id] = engine.document(document.id)  # as ingested: its source is the page
        if step % 4 == 1:
            engine.delete([f"d{step // 4}"])
            del kept[f"d{step // 4}"]
        if step % 5 == 2:  # replaced: deleted from its segment, added in a new one
            engine.add([page], replace=True)
            kept[document.id] = kept.pop(document.id)
    segments = read_manifest(folder)["meta"]["segments"]
    assert 2 < len(segments) < 2 + FANOUT  # deltas were written, and merged
    loaded = Engine.load(folder, embedder=embedder)
    assert list(loaded._index.documents) == list(engine._index.documents) == list(kept)
    _same(loaded._index, engine._index)
    _same(loaded._index, build_index(list(kept.values()), embedder, SMALL_CHUNKS, analysers=ANALYSERS))


def test_many_tombstones_compact_the_index_into_one_base(tmp_path):
    loaded = _saved(tmp_path, _documents(8))
    for doc_id in ("d0", "d1"):
        loaded = delete_documents(loaded, [doc_id])
        save_index(loaded, tmp_path)
        assert TOMBSTONES in _entries(tmp_path)
    loaded = delete_documents(loaded, ["d2"])  # 3 of 8: more than a quarter
    save_index(loaded, tmp_path)
    assert TOMBSTONES not in _entries(tmp_path)
    assert [s["name"] for s in read_manifest(tmp_path)["meta"]["segments"]] == ["base"]
    _same(load_index(tmp_path), build_index(_documents(8)[3:], KeywordEmbedder(VOCABULARY), SMALL_CHUNKS))


def test_an_index_another_writer_saved_since_is_written_whole_not_on_top_of_the_wrong_generation(tmp_path):
    loaded = _saved(tmp_path, _documents(8))
    other = delete_documents(load_index(tmp_path), ["d1"])
    save_index(other, tmp_path)
    save_index(delete_documents(loaded, ["d2"]), tmp_path)  # built on the generation before `other`'s
    assert TOMBSTONES not in _entries(tmp_path)
    assert sorted(load_index(tmp_path).documents) == sorted({f"d{n}" for n in range(8)} - {"d2"})


@pytest.mark.parametrize("sizes, take", [
    ([40], 1), ([40] * (FANOUT - 1), 1), ([40] * FANOUT, FANOUT),
    ([40 * FANOUT] * (FANOUT - 1) + [40] * FANOUT, 2 * FANOUT - 1), ([5000, 40, 40], 1),
])
def test_deltas_merge_when_a_size_class_fills(sizes, take):
    assert merge_run(sizes) == take


def test_a_damaged_delta_file_is_named(tmp_path):
    engine_folder = tmp_path / "idx"
    embedder = KeywordEmbedder(VOCABULARY)
    save_index(build_index(_documents(8), embedder, SMALL_CHUNKS, analysers=ANALYSERS), engine_folder)
    page = tmp_path / "p.jsonl"
    page.write_text(json.dumps({"id": "p", "title": "P", "text": "GP services in London."}) + "\n")
    Engine.load(engine_folder, embedder=embedder).add([page])
    path = engine_folder / _entries(engine_folder)["seg1.passages.npy"]["name"]
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(IndexCorruptError, match=r"seg1.passages.npy \(seg1.passages.g0002.npy\) .* the manifest"):
        load_index(engine_folder)


# Each child adds one page to an index of twelve (so the pages go to deltas, not a compaction) while the others do.
_WRITER = textwrap.dedent("""
    import sys
    from qa.engine import Engine
    from tests.fakes import KeywordEmbedder
    Engine.load(sys.argv[1], embedder=KeywordEmbedder({vocabulary!r})).add([sys.argv[2]])
""")


def test_concurrent_adds_to_segments_lose_no_document(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    folder = tmp_path / "idx"
    save_index(build_index(_documents(12), embedder, SMALL_CHUNKS, analysers=ANALYSERS), folder)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    pages = []
    for n in range(4):
        pages.append(tmp_path / f"w{n}.jsonl")
        pages[-1].write_text(json.dumps({"id": f"w{n}", "title": f"W{n}", "text": "CCGs in Kent commission GP."}) + "\n")
    processes = [subprocess.Popen([sys.executable, "-c", _WRITER.format(vocabulary=VOCABULARY), str(folder), str(page)],
                                  cwd=REPO, env=env, stderr=subprocess.PIPE, text=True) for page in pages]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    loaded = load_index(folder)
    assert set(loaded.documents) == {f"d{n}" for n in range(12)} | {f"w{n}" for n in range(4)}
    assert len(read_manifest(folder)["meta"]["segments"]) > 1


def test_an_index_saved_to_another_folder_is_written_there_whole(tmp_path):
    loaded = _saved(tmp_path / "a", _documents(8))
    _saved(tmp_path / "b", _documents(8, "other"))  # the same generation, other documents
    save_index(delete_documents(loaded, ["d2"]), tmp_path / "b")
    assert TOMBSTONES not in _entries(tmp_path / "b")
    assert sorted(load_index(tmp_path / "b").documents) == sorted({f"d{n}" for n in range(8)} - {"d2"})


def test_a_delta_whose_documents_are_all_deleted_is_dropped(tmp_path):
    loaded = _saved(tmp_path, _documents(8))
    loaded = merge_batch(loaded, prepare_batch(_documents(1, "new"), KeywordEmbedder(VOCABULARY), SMALL_CHUNKS, ()))
    save_index(loaded, tmp_path)
    assert any(name.startswith("seg1.") for name in _entries(tmp_path))
    save_index(delete_documents(loaded, ["new0"]), tmp_path)
    assert [s["name"] for s in read_manifest(tmp_path)["meta"]["segments"]] == ["base"]
    assert not any(name.startswith("seg1.") or name == TOMBSTONES for name in _entries(tmp_path))
    _same(load_index(tmp_path), build_index(_documents(8), KeywordEmbedder(VOCABULARY), SMALL_CHUNKS))
