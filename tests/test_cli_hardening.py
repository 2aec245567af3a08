"""`qa` as a new user or an attacker drove it: undecodable questions, closed pipes, wrong destinations, existing
indexes, empty archives, escape sequences in the corpus, `qa docs`, `--model`. No test here loads a model: the
keyword embedder stands in for it (the CLI's own model loading is covered by tests/test_cli.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import index.embed
import qa.cli
import qa.engine
from index.build import build_index, save_index
from index.records import Comment, Document
from qa.cli import main
from qa.engine import Engine
from tests.fakes import KeywordEmbedder

REPO = Path(__file__).resolve().parents[1]
VOCABULARY = ["gp", "services", "commission", "ccgs", "testshire", "budget"]
ESC_TITLE = "Deal \x1b]0;PWNED\x07in \x1b[2JTestshire\x9b31m"
ESC_ARTICLE = {"id": "esc", "title": ESC_TITLE, "author": "Eve \x1b[31mRed", "date": "2024-01-02",
               "text": "CCGs will commission GP services in Testshire \x1b[2J from April next year.",
               "comments": [{"author": "M\x1b[5mallory", "text": "Testshire GP services \x1b]0;owned\x07 are fine."}]}


def _qa(*args, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=REPO, env=env, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=120)


def _one_line(stderr: str, prefix: str = "qa: error: ") -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), stderr
    return lines[0]


@pytest.fixture
def fake_model(monkeypatch):
    """Every model the CLI would load is the keyword embedder; `made` counts how many were asked for."""
    made = []

    def factory(model_path=None, **_):
        made.append(model_path)
        return KeywordEmbedder(VOCABULARY)
    monkeypatch.setattr(index.embed, "SentenceTransformerEmbedder", factory)
    monkeypatch.setattr(qa.engine, "SentenceTransformerEmbedder", factory)
    return made


@pytest.fixture
def esc_index(tmp_path) -> Path:
    archive = tmp_path / "esc.jsonl"
    archive.write_text(json.dumps(ESC_ARTICLE) + "\n", encoding="utf-8")
    folder = tmp_path / "esc-index"
    Engine.build([archive], folder, embedder=KeywordEmbedder(VOCABULARY))
    return folder


def _page(folder: Path, name: str, place: str) -> Path:
    path = folder / f"{name}.jsonl"
    path.write_text(json.dumps({"id": name, "title": f"GP deal in {place}",
                                "text": f"CCGs will commission GP services in {place}."}) + "\n", encoding="utf-8")
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- tracebacks that become messages ------------------------------------------------------------

def test_a_question_with_a_byte_that_is_not_utf8_exits_2_with_one_line():
    done = _qa("ask", b"GP \xff services", "--index", str(REPO / "no-such-index"))
    assert done.returncode == 2, done.stderr
    assert _one_line(done.stderr.decode()) == \
        "qa: error: the question holds the byte 0xFF, which is not UTF-8 (character 4); ask in UTF-8 text"
    assert done.stdout == b""


def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(esc_index):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    child = subprocess.Popen([sys.executable, "-m", "qa.cli", "docs", "--index", str(esc_index), "--json"],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # `| head -0`: nobody will read what it writes
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141 and stderr == ""


def test_index_out_a_file_is_refused_before_any_model_is_loaded(tmp_path, capsys, fake_model):
    target = tmp_path / "afile"
    target.write_text("keep me")
    assert main(["index", str(_page(tmp_path, "a", "Testshire")), "--out", str(target)]) == 2
    assert _one_line(capsys.readouterr().err) == \
        f"qa: error: {target} is a file, not a folder; give a new or empty folder for the index"
    assert fake_model == [] and target.read_text() == "keep me"


# -- nothing is silently replaced ---------------------------------------------------------------

def test_an_existing_index_is_kept_unless_replace_or_append_is_given(tmp_path, capsys, fake_model):
    out = tmp_path / "idx"
    assert main(["index", str(_page(tmp_path, "a", "Testshire")), str(_page(tmp_path, "b", "Leeds")),
                 "--out", str(out)]) == 0
    before = _snapshot(out)
    capsys.readouterr()

    assert main(["index", str(_page(tmp_path, "c", "York")), "--out", str(out)]) == 2
    assert "already holds an index; add --replace to replace it, or --append" in _one_line(capsys.readouterr().err)
    assert _snapshot(out) == before

    assert main(["index", str(_page(tmp_path, "c", "York")), "--out", str(out), "--append", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents"] == 3 and summary["added"] == 1

    assert main(["index", str(_page(tmp_path, "d", "Hull")), "--out", str(out), "--replace"]) == 0
    assert "now holds 1 documents" in capsys.readouterr().out
    assert main(["docs", "--index", str(out), "--json"]) == 0
    assert [d["id"] for d in json.loads(capsys.readouterr().out)] == ["d"]


def test_replace_and_append_together_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["index", str(_page(tmp_path, "a", "X")), "--out", str(tmp_path / "i"), "--replace", "--append"])
    assert stopped.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_an_empty_archive_is_an_error_naming_it_and_writes_nothing(tmp_path, capsys, fake_model):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["index", str(empty), "--out", str(tmp_path / "idx")]) == 2
    assert _one_line(capsys.readouterr().err) == (
        f"qa: error: {empty}: no articles in this file (it is empty or holds only blank lines); "
        "a JSONL archive holds one JSON article per line")
    assert not (tmp_path / "idx").exists()


# -- the terminal -------------------------------------------------------------------------------

def _engine_of(folder: Path):
    return Engine.load(folder, embedder=KeywordEmbedder(VOCABULARY))


@pytest.mark.parametrize("command", [["docs"], ["search", "Testshire GP services"],
                                     ["ask", "Who will commission GP services in Testshire?"]])
def test_escape_sequences_in_the_corpus_never_reach_the_terminal(esc_index, capsys, monkeypatch, command):
    monkeypatch.setattr(qa.cli, "open_engine", lambda index_dir, model=None, args=None: _engine_of(esc_index))
    assert main([*command, "--index", str(esc_index)]) in (0, 1)
    shown = capsys.readouterr().out
    assert "Testshire" in shown and "Deal in Testshire" in shown
    assert not any(ch in shown for ch in "\x1b\x07\x9b"), repr(shown)

    assert main([*command, "--index", str(esc_index), "--json"]) in (0, 1)
    raw = capsys.readouterr().out
    assert "\\u001b]0;PWNED" in raw and "\\u009b" in raw and not any(ch in raw for ch in "\x1b\x07\x9b")


def test_an_error_message_quoting_the_corpus_is_one_clean_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x\\u001b[2J", "text": 5}\n', encoding="utf-8")
    assert main(["index", str(bad), "--out", str(tmp_path / "i")]) == 2
    assert "\x1b" not in _one_line(capsys.readouterr().err)


# -- qa docs and --model ------------------------------------------------------------------------

def test_docs_lists_id_title_date_and_comment_count_without_a_model(esc_index, capsys, fake_model):
    assert main(["docs", "--index", str(esc_index)]) == 0
    assert capsys.readouterr().out == "esc  2024-01-02    1 comments  Deal in Testshire\n"
    assert main(["docs", "--index", str(esc_index), "--json"]) == 0
    row, = json.loads(capsys.readouterr().out)
    assert row == {"id": "esc", "title": ESC_TITLE, "date": "2024-01-02", "byline": "Eve \x1b[31mRed",
                   "comments": 1, "comment_count": None}
    assert fake_model == []  # listing an index folder needs no model


def test_docs_of_a_missing_index_exits_3(tmp_path, capsys):
    assert main(["docs", "--index", str(tmp_path / "none")]) == 3
    assert "manifest.json not found" in _one_line(capsys.readouterr().err, "qa: index error: ")


@pytest.mark.parametrize("command", [["ask", "Who commissions GP services?"], ["search", "GP services"], ["docs"]])
def test_ask_search_and_docs_open_the_index_with_the_model_given(esc_index, capsys, fake_model, command):
    assert main([*command, "--index", str(esc_index), "--model", "/models/mine"]) in (0, 1)
    assert fake_model == ["/models/mine"]


def test_an_index_built_with_another_model_says_which_model_folder_opens_it(tmp_path, capsys):
    embedder = KeywordEmbedder(VOCABULARY)
    embedder.path = tmp_path / "my-model"
    save_index(build_index([Document(id="a", title="T", text="GP services.", comments=(Comment(1, "x"),))],
                           embedder), tmp_path / "idx")
    done = _qa("search", "GP services", "--index", str(tmp_path / "idx"))
    assert done.returncode == 3
    error = _one_line(done.stderr.decode(), "qa: index error: ")
    assert error.endswith(f"built with the model in {(tmp_path / 'my-model').resolve()}: "
                          f"add --model {(tmp_path / 'my-model').resolve()}")


@pytest.mark.parametrize("command", [["eval", "eval/data/pulse_questions.jsonl"], ["serve"]])
def test_eval_and_serve_accept_model(command, tmp_path):
    done = _qa(*command, "--model", str(tmp_path / "no-model"))
    assert done.returncode == 2
    assert "is not a sentence-transformers model folder" in done.stderr.decode(), done.stderr


def test_the_first_use_of_the_shipped_corpus_says_it_is_building(tmp_path, monkeypatch, capsys):
    built = []

    def default(cls, **options):
        built.append(options)
        return Engine.from_documents([Document(id="a", title="T", text="GP services.")],
                                     embedder=KeywordEmbedder(VOCABULARY))
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(Engine, "default", classmethod(default))
    assert main(["docs"]) == 0
    assert _one_line(capsys.readouterr().err, "qa: building the index of the shipped corpus on first use")
    cached = tmp_path / "cache" / "default-0123456789abcdef"
    cached.mkdir(parents=True)
    (cached / "manifest.json").write_text("{}")
    assert main(["docs"]) == 0
    assert capsys.readouterr().err == "" and len(built) == 2
