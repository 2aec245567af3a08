"""Tests for changing an index without rebuilding it: Engine.delete, Engine.add(..., replace=True), the
`qa add` and `qa delete` commands, and the index folder's writer lock (concurrent processes lose nothing)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import index.embed
import qa.engine
from index.build import IndexConfig, build_index, delete_documents
from index.chunk import ChunkConfig
from index.records import Comment, Document
from index.store import writer_lock
from qa.cli import main
from qa.engine import Engine
from qa.errors import IndexBusyError, InputError
from tests.fakes import KeywordEmbedder

REPO = Path(__file__).resolve().parents[1]
VOCABULARY = ["gp", "services", "commission", "ccgs", "councils", "manchester", "budget", "pcts", "london"]
SMALL_CHUNKS = IndexConfig(ChunkConfig(passage_words=20, window_words=8, overlap_sentences=1))
QUERIES = ["gp services in manchester", "councils budget", "pcts scrapped", "london ccgs"]


def _document(doc_id: str, place: str = "Manchester", comments: int = 1) -> Document:
    body = " ".join(f"Sentence {i}: CCGs in {place} will commission GP services with a budget of £{i}m."
                    for i in range(8))
    return Document(id=doc_id, title=f"GP services in {place} ({doc_id})", text=body,
                    comments=tuple(Comment(n + 1, f"Councils in {place} should decide, says reader {n}.")
                                   for n in range(comments)))


def _documents() -> list[Document]:
    return [_document("a"), _document("b", "London", 2), _document("c", "Leeds"), _document("d", "Kent", 0)]


def _results(engine: Engine) -> list:
    return [[(h.passage_id, round(h.score, 5)) for h in engine.search(q, 20, mode=mode)]
            for q in QUERIES for mode in ("hybrid", "lexical", "dense")]


@pytest.mark.parametrize("dense_kind", ["exact", "hnsw"])
def test_delete_removes_the_documents_without_embedding_and_matches_a_build_of_the_rest(dense_kind):
    embedder = KeywordEmbedder(VOCABULARY)
    config = IndexConfig(SMALL_CHUNKS.chunk, dense_kind)
    engine = Engine.from_documents(_documents(), embedder=embedder, config=config)
    embedded = len(embedder.encoded_texts)
    assert engine.delete(["b", "d"]) == ["b", "d"]
    assert len(embedder.encoded_texts) == embedded  # nothing embedded again
    assert [d.id for d in engine.documents()] == ["a", "c"]
    assert all(p.doc_id in ("a", "c") for p in engine.passages())
    rest = Engine.from_documents([_document("a"), _document("c", "Leeds")], embedder=KeywordEmbedder(VOCABULARY),
                                 config=config)
    assert _results(engine) == _results(rest)
    assert np.array_equal(engine._index.sentence_vectors, rest._index.sentence_vectors)
    assert engine.commissioning() == rest.commissioning()


def test_deleting_an_unknown_id_names_it_and_changes_nothing():
    engine = Engine.from_documents(_documents(), embedder=KeywordEmbedder(VOCABULARY), config=SMALL_CHUNKS)
    before = engine.passages()
    with pytest.raises(InputError, match=r"no document with id 'zzz' in this index; `qa docs --index DIR` lists"):
        engine.delete(["a", "zzz"])
    with pytest.raises(InputError, match="give at least one document id"):
        engine.delete([])
    assert engine.passages() == before


def test_deleting_everything_leaves_an_empty_index_that_can_grow_again():
    embedder = KeywordEmbedder(VOCABULARY)
    index = delete_documents(build_index(_documents(), embedder, SMALL_CHUNKS), [d.id for d in _documents()])
    assert not index.passages and len(index.dense) == 0 and len(index.sentence_vectors) == 0
    assert index.analysis.passages == 0 and not index.analysis.document_frequency


def test_replace_swaps_a_document_embedding_only_the_new_one(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    engine = Engine.from_documents(_documents(), embedder=embedder, config=SMALL_CHUNKS)
    page = tmp_path / "b.jsonl"
    page.write_text(json.dumps({"id": "b", "title": "PCTs scrapped", "text": "PCTs are to be scrapped in London."}) + "\n")
    with pytest.raises(InputError, match=r"already in the index: b; pass replace=True \(qa add --replace\)"):
        engine.add([page])
    embedded = len(embedder.encoded_texts)
    engine.add([page], replace=True)
    assert all("PCTs" in t or "London" in t or "scrapped" in t for t in embedder.encoded_texts[embedded:])
    assert engine.document("b").title == "PCTs scrapped"
    assert [p.text for p in engine.passages() if p.doc_id == "b"] == ["PCTs are to be scrapped in London."]
    assert [d.id for d in engine.documents()] == ["a", "c", "d", "b"]


def test_saved_changes_are_what_a_later_load_sees(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    archive = tmp_path / "all.jsonl"
    archive.write_text("".join(json.dumps({"id": d.id, "title": d.title, "text": d.text}) + "\n"
                               for d in _documents()))
    engine = Engine.build([archive], tmp_path / "idx", embedder=embedder, config=SMALL_CHUNKS)
    engine.delete(["c"])
    loaded = Engine.load(tmp_path / "idx", embedder=embedder)
    assert [d.id for d in loaded.documents()] == ["a", "b", "d"]
    assert _results(loaded) == _results(engine)


def test_a_second_writer_waits_then_fails_naming_the_folder_and_changes_nothing(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    folder = tmp_path / "idx"
    archive = tmp_path / "a.jsonl"
    archive.write_text(json.dumps({"id": "x", "title": "GP services", "text": "CCGs commission GP services."}) + "\n")
    engine = Engine.build([archive], folder, embedder=embedder)
    manifest = (folder / "manifest.json").read_bytes()
    engine.lock_timeout = 0.3
    with writer_lock(folder):  # another writer, as far as the engine can tell (its own open file description)
        started = time.monotonic()
        with pytest.raises(IndexBusyError, match=rf"another process is writing the index at {folder} .*waited 0.3 s"):
            engine.delete(["x"])
        assert time.monotonic() - started >= 0.3
    assert (folder / "manifest.json").read_bytes() == manifest
    assert [d.id for d in engine.documents()] == ["x"]
    engine.delete(["x"])  # the lock is free again
    assert not Engine.load(folder, embedder=embedder).documents()


_CLI_WITH_FAKE_MODEL = textwrap.dedent("""
    import sys
    import index.embed
    from tests.fakes import KeywordEmbedder
    index.embed.SentenceTransformerEmbedder = lambda model_path=None, **_: KeywordEmbedder({vocabulary!r})
    from qa.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.fixture
def fake_model(monkeypatch):
    factory = lambda model_path=None, **_: KeywordEmbedder(VOCABULARY)  # noqa: E731
    monkeypatch.setattr(index.embed, "SentenceTransformerEmbedder", factory)
    monkeypatch.setattr(qa.engine, "SentenceTransformerEmbedder", factory)


def _archive(folder: Path, doc_id: str) -> Path:
    path = folder / f"{doc_id}.jsonl"
    document = _document(doc_id, "London")
    path.write_text(json.dumps({"id": doc_id, "title": document.title, "text": document.text}) + "\n")
    return path


def test_qa_add_and_qa_delete_change_an_index_in_place(tmp_path, fake_model, capsys):
    folder = tmp_path / "idx"
    assert main(["index", str(_archive(tmp_path, "one")), "--out", str(folder)]) == 0
    capsys.readouterr()
    assert main(["add", str(_archive(tmp_path, "two")), str(_archive(tmp_path, "three")), "--index", str(folder),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == ["two", "three"]
    assert main(["delete", "two", "--index", str(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["deleted"] == ["two"] and summary["documents"] == 2
    assert main(["add", str(_archive(tmp_path, "one")), "--index", str(folder)]) == 2  # already there
    assert "pass replace=True (qa add --replace)" in capsys.readouterr().err
    assert main(["add", str(_archive(tmp_path, "one")), "--index", str(folder), "--replace"]) == 0
    assert "added 1 documents" in capsys.readouterr().out
    assert main(["delete", "nope", "--index", str(folder)]) == 2
    assert "no document with id 'nope'" in capsys.readouterr().err
    assert main(["delete", "one", "--index", str(tmp_path / "missing")]) == 2
    assert "holds no index" in capsys.readouterr().err
    with writer_lock(folder):
        assert main(["delete", "one", "--index", str(folder), "--wait", "0.2"]) == 4
    assert f"qa: index busy: another process is writing the index at {folder}" in capsys.readouterr().err
    assert sorted(d.id for d in Engine.load(folder, embedder=KeywordEmbedder(VOCABULARY)).documents()) == \
        ["one", "three"]


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_qa_add_processes_lose_no_document(tmp_path, writers):
    script = tmp_path / "qa_fake.py"
    script.write_text(_CLI_WITH_FAKE_MODEL.format(vocabulary=VOCABULARY))
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    folder = tmp_path / "idx"
    seed = subprocess.run([sys.executable, str(script), "index", str(_archive(tmp_path, "seed")), "--out", str(folder)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert seed.returncode == 0, seed.stderr
    expected = {"seed"}
    for round_ in range(2):
        names = [f"r{round_}w{w}" for w in range(writers)]
        processes = [subprocess.Popen([sys.executable, str(script), "add", str(_archive(tmp_path, name)),
                                       "--index", str(folder)], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for name in names]
        for process in processes:
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
        expected.update(names)
        held = {d.id for d in Engine.load(folder, embedder=KeywordEmbedder(VOCABULARY)).documents()}
        assert held == expected, f"round {round_}: lost {sorted(expected - held)}"


def test_an_engine_told_not_to_save_updates_leaves_its_folder_as_it_was(tmp_path):
    embedder = KeywordEmbedder(VOCABULARY)
    saved = Engine(build_index(_documents()[:2], embedder, SMALL_CHUNKS), embedder, index_dir=tmp_path)
    assert saved.save_updates  # a folder is written by default ...
    kept = Engine(build_index(_documents()[:2], embedder, SMALL_CHUNKS), embedder, index_dir=tmp_path,
                  save_updates=False)
    kept.delete(["b"])
    assert not (tmp_path / "manifest.json").exists()  # ... not when told otherwise
    assert [d.id for d in kept.documents()] == ["a"]
    assert kept.configured().save_updates is False
