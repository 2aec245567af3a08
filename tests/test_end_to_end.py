"""End to end on the shipped corpus with the real model and real FAISS: known answers, abstention, and
faults (damaged files, another model, a bad JSONL line, a save killed midway) that must lose nothing.

The expected answers were checked by reading index/default_corpus/pulse/*.txt.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from index.store import read_manifest
from qa.engine import Engine
from qa.errors import IndexCorruptError, IndexMismatchError, IngestError
from qa.phrasing import NOTHING_FOUND

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[1]
GM_DEAL = "'Groundbreaking' deal to see local authorities commissioning GP services alongside CCGs"  # 000
CCG_BUDGET = "CCGs to take over majority of GP budget, under NHS England proposals"  # 001
LONDON = "Local authorities demand role in commissioning primary care"  # 002
NEW_DAWN = "New dawn for commissioning as GPs start taking hold of budgets"  # 004
PCTS = "When are PCTs to be scrapped?"


def _check_citations(engine: Engine, answer) -> None:
    for citation in answer.citations:
        source = engine.document(citation.doc_id).source_text(citation.comment)
        assert source[citation.sentence_start:citation.sentence_end] == citation.sentence
        assert source[citation.start:citation.end] == citation.text


@pytest.mark.parametrize("question, title, words", [
    ("Which bodies would commission GP services in Greater Manchester?", GM_DEAL,
     "commissioned by local authorities working alongside CCGs in Greater Manchester"),
    (PCTS, NEW_DAWN, "PCTs are to be scrapped by April 2013"),
    ("How many CCGs will take control of commissioning GP services?", GM_DEAL,
     "67 CCGs will take control of commissioning GP services"),
    ("By when must CCGs retender their co-commissioning bids?", CCG_BUDGET,
     "retender co-commissioning bids by 6 January"),
    ("How many GP-led boards manage the health budget in Cumbria?", NEW_DAWN,
     "six GP-led boards are directly managing a share of the county's annual £850 million health budget"),
])
def test_known_questions_cite_the_passage_that_answers_them(default_engine, question, title, words):
    answer = default_engine.ask(question)
    assert not answer.abstained
    first = answer.citations[0]
    assert first.title == title and first.kind == "article"
    assert words in first.sentence
    assert {c.kind for c in answer.citations} == {"article"}  # a question of fact: reporting only
    _check_citations(default_engine, answer)
    json.dumps(answer.to_dict())


def test_an_opinion_question_quotes_labelled_reader_comments(default_engine):
    answer = default_engine.ask("What do readers think about councils commissioning GP services?")
    comments = [c for c in answer.citations if c.kind == "comment"]
    assert comments and not answer.abstained
    for citation in comments:
        who = f"A reader ({citation.author})" if citation.author else "An anonymous reader"
        assert f"{who} commented under “{citation.title}”: “{citation.sentence}” [{citation.n}]" in answer.text
    _check_citations(default_engine, answer)


@pytest.mark.parametrize("question", ["What is the airspeed velocity of an unladen swallow?",
                                      "Who won the 1966 World Cup final?"])
def test_a_question_the_corpus_cannot_answer_abstains_with_the_nearest_passages(default_engine, question):
    answer = default_engine.ask(question)
    assert answer.abstained and answer.citations == ()
    assert answer.text.startswith(NOTHING_FOUND)
    assert len(answer.nearest) == 5


def test_the_cached_default_index_is_reused(default_engine, real_embedder):
    generation = read_manifest(default_engine.index_dir)["generation"]
    again = Engine.default(embedder=real_embedder, cache_dir=default_engine.index_dir.parent)
    assert again.index_dir == default_engine.index_dir
    assert read_manifest(again.index_dir)["generation"] == generation
    assert again.ask(PCTS).to_dict() == default_engine.ask(PCTS).to_dict()


# -- faults ---------------------------------------------------------------------------------------

@pytest.fixture
def index_copy(default_engine, tmp_path) -> Path:
    """A private copy of the default index folder, to damage."""
    folder = tmp_path / default_engine.index_dir.name
    shutil.copytree(default_engine.index_dir, folder)
    return folder


def _stored(folder: Path, logical: str) -> Path:
    return folder / read_manifest(folder)["files"][logical]["name"]


def _answers_pcts(engine: Engine) -> bool:
    answer = engine.ask(PCTS)
    return not answer.abstained and "PCTs are to be scrapped by April 2013" in answer.citations[0].sentence


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, logical, message", [
    (_truncate, "dense.npy", r"dense.npy \(dense.g\d+.npy\) in .* bytes, the manifest says \d+: it is truncated"),
    (_flip, "passages.npy", r"passages.npy \(passages.g\d+.npy\) in .* does not match its sha256"),
    (_flip, "sentence_vectors.npy", r"sentence_vectors.npy .* does not match its sha256"),
    (_truncate, "manifest.json", r"manifest.json is not valid JSON"),
])
def test_a_damaged_index_file_is_refused_by_name(index_copy, real_embedder, damage, logical, message):
    damage(index_copy / logical if logical == "manifest.json" else _stored(index_copy, logical))
    with pytest.raises(IndexCorruptError, match=message):
        Engine.load(index_copy, embedder=real_embedder)


def test_a_damaged_default_cache_is_rebuilt_not_trusted(index_copy, real_embedder):
    _flip(_stored(index_copy, "dense.npy"))
    engine = Engine.default(embedder=real_embedder, cache_dir=index_copy.parent)
    assert engine.index_dir == index_copy and _answers_pcts(engine)
    assert _answers_pcts(Engine.load(index_copy, embedder=real_embedder))


def test_an_index_built_with_one_model_is_refused_by_another(index_copy):
    from index.embed import SentenceTransformerEmbedder

    renamed = SentenceTransformerEmbedder(name="renamed-minilm")
    with pytest.raises(IndexMismatchError, match="model: stored 'all-MiniLM-L6-v2', expected 'renamed-minilm'"):
        Engine.load(index_copy, embedder=renamed)


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


DORSET = json.dumps({"id": "dorset-1", "title": "Dorset CCG to commission minor injuries units",
                     "text": "Dorset CCG will commission the county's minor injuries units from April, "
                             "taking the contracts over from NHS England."})


def test_a_bad_jsonl_line_is_named_and_nothing_indexed_is_lost(index_copy, real_embedder, tmp_path):
    engine = Engine.load(index_copy, embedder=real_embedder)
    manifest = (index_copy / "manifest.json").read_bytes()
    listing = sorted(os.listdir(index_copy))
    bad = _jsonl(tmp_path / "more.jsonl", [DORSET, "", '{"id": "cut-off", "title": "Half a line'])
    with pytest.raises(IngestError, match=re.escape(f"{bad} line 3: not valid JSON")):
        engine.add([bad])
    assert len(engine.documents()) == 5 and _answers_pcts(engine)
    assert (index_copy / "manifest.json").read_bytes() == manifest and sorted(os.listdir(index_copy)) == listing
    reloaded = Engine.load(index_copy, embedder=real_embedder)
    assert len(reloaded.documents()) == 5 and _answers_pcts(reloaded)


# The child adds a page with the real model and the real store, but pauses after the first file of the
# new generation is durably written, so the SIGKILL lands mid-save: new files on disk, old manifest.
_CHILD = textwrap.dedent("""
    import sys, time
    import index.store as store
    from qa.engine import Engine

    write = store._write_atomic

    def write_then_pause(folder, name, data):
        write(folder, name, data)
        print("wrote", name, flush=True)
        time.sleep(300)

    store._write_atomic = write_then_pause
    Engine.load(sys.argv[1]).add([sys.argv[2]])
""")


def test_a_save_killed_midway_leaves_the_last_good_index(index_copy, real_embedder, tmp_path):
    generation = read_manifest(index_copy)["generation"]
    more = _jsonl(tmp_path / "more.jsonl", [DORSET])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(index_copy), str(more)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(240, child.kill)
    watchdog.start()
    try:
        line = child.stdout.readline()
        assert line.startswith("wrote "), child.stderr.read()
        assert (index_copy / line.split()[1]).is_file()  # the new generation had started to land
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        watchdog.cancel()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    assert read_manifest(index_copy)["generation"] == generation
    survivor = Engine.load(index_copy, embedder=real_embedder)
    assert len(survivor.documents()) == 5 and _answers_pcts(survivor)

    # The next save goes through and clears what the killed one left behind.
    survivor.add([more])
    names = set(os.listdir(index_copy)) - {".lock"}  # the writer lock file stays, empty, by design
    assert {entry["name"] for entry in read_manifest(index_copy)["files"].values()} | {"manifest.json"} == names
    reloaded = Engine.load(index_copy, embedder=real_embedder)
    assert len(reloaded.documents()) == 6 and _answers_pcts(reloaded)
    answer = reloaded.ask("Who will commission the minor injuries units in Dorset?")
    assert answer.citations and answer.citations[0].doc_id == "dorset-1"


def test_documents_added_to_the_default_engine_never_reach_its_cache(default_engine, real_embedder, tmp_path):
    page = tmp_path / "extra.jsonl"
    page.write_text('{"id": "extra", "title": "Extra", "text": "Leeds CCG will commission dermatology."}\n')
    engine = Engine.default(embedder=real_embedder, cache_dir=default_engine.index_dir.parent).configured()
    before = read_manifest(engine.index_dir)["generation"]
    engine.add([page])
    assert engine.document("extra").title == "Extra"
    assert read_manifest(engine.index_dir)["generation"] == before
    assert "extra" not in {d.id for d in Engine.load(engine.index_dir, embedder=real_embedder).documents()}
