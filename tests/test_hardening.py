"""Inputs a new user or an attacker tried at the Python API: each gets a clear error, nothing is silently
replaced (keyword embedder; no model)."""
from __future__ import annotations

import json

import pytest

from index.build import build_index, load_index, save_index
from index.ingest import load_documents
from index.records import Comment, Document
from index.store import check_destination
from qa.engine import Engine
from qa.errors import IngestError, InputError
from qa.question import check_question
from qa.terminal import json_text, plain
from tests.fakes import KeywordEmbedder

VOCABULARY = ["gp", "services", "commission", "ccgs", "testshire", "budget"]


def documents() -> list[Document]:
    return [Document(id="t1", title="CCGs to commission GP services in Testshire", byline="Jo Bloggs",
                     text="CCGs will commission GP services in Testshire from April. The budget is £2m.",
                     comments=(Comment(1, "Testshire CCGs cannot commission GP services.", author="Reader"),))]


@pytest.fixture
def engine() -> Engine:
    return Engine.from_documents(documents(), embedder=KeywordEmbedder(VOCABULARY))


@pytest.mark.parametrize("question, said", [("\ud800", r"U\+D800, a lone surrogate"),
                                            ("GP \udcff services", r"the byte 0xFF, which is not UTF-8"),
                                            ("Who? \udbff", r"U\+DBFF")])
def test_a_question_that_is_not_text_is_refused_by_ask_search_and_check(engine, question, said):
    for call in (check_question, engine.ask, engine.search, lambda q: engine.chat().ask(q)):
        with pytest.raises(InputError, match=said) as refused:
            call(question)
        assert "UTF-8" in str(refused.value)


def test_a_jsonl_string_with_half_a_surrogate_pair_is_refused_naming_line_and_field(tmp_path):
    archive = tmp_path / "a.jsonl"
    archive.write_text('{"title": "ok", "text": "fine"}\n{"title": "T", "text": "half \\ud83d here"}\n',
                       encoding="utf-8")
    with pytest.raises(IngestError, match=r"a\.jsonl line 2: field 'text' holds \\ud83d at character 6"):
        load_documents([archive])
    archive.write_text('{"title": "T", "text": "x", "comments": [{"text": "y", "author": "\\udc00"}]}\n')
    with pytest.raises(IngestError, match=r"comments\[0\] field 'author' holds \\udc00"):
        load_documents([archive])


@pytest.mark.parametrize("content", ["", "\n\n   \n"])
def test_an_archive_with_no_articles_is_an_error_naming_the_file(tmp_path, content):
    archive = tmp_path / "empty.jsonl"
    archive.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=rf"{archive}: no articles in this file"):
        load_documents([archive])
    with pytest.raises(IngestError, match="no articles"):
        Engine.build([archive], tmp_path / "idx", embedder=KeywordEmbedder(VOCABULARY))
    assert not (tmp_path / "idx").exists()


def test_check_destination_says_whether_an_index_is_there_and_refuses_files(tmp_path):
    assert check_destination(tmp_path / "new") is False
    (tmp_path / "empty").mkdir()
    assert check_destination(tmp_path / "empty") is False
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_destination(tmp_path / "file")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not an index"):
        check_destination(tmp_path / "other")
    folder = tmp_path / "idx"
    save_index(build_index(documents(), KeywordEmbedder(VOCABULARY)), folder)
    assert check_destination(folder) is True


def test_the_manifest_records_the_model_folder_and_keeps_it_through_an_update(tmp_path):
    from index.build import add_documents

    embedder = KeywordEmbedder(VOCABULARY)
    embedder.path = tmp_path / "my-model"  # what SentenceTransformerEmbedder carries
    index = build_index(documents(), embedder)
    assert index.meta()["model_path"] == str((tmp_path / "my-model").resolve())
    save_index(index, tmp_path / "idx")
    loaded = load_index(tmp_path / "idx")
    assert loaded.model_path == str((tmp_path / "my-model").resolve())
    more = Document(id="t2", title="Another", text="Budget for GP services.")
    assert add_documents(loaded, [more], embedder).meta()["model_path"] == loaded.model_path
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["meta"]["model_path"] == str((tmp_path / "my-model").resolve())


ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x1b[31m\x9b2J\x9d0;x\x07\x1bc\x00\x08\r\u202e"


def test_plain_strips_every_escape_sequence_and_control_character_but_keeps_lines():
    assert plain(f"Title{ESCAPES} here\n\tindented") == "Title here\n\tindented"
    assert plain("unfinished \x1b[") == "unfinished "
    assert plain("café — “quoted” £6bn") == "café — “quoted” £6bn"
    assert plain("bad byte \udcff") == "bad byte \ufffd"


def test_json_text_escapes_controls_that_json_dumps_leaves_raw_and_still_parses():
    data = {"title": f"T{ESCAPES}", "ok": "café £6bn"}
    text = json_text(data)
    assert json.loads(text) == data
    assert not any(ch in text for ch in "\x1b\x07\x9b\x9d\u202e")
    assert "café £6bn" in text


def test_a_chat_checks_the_question_as_asked_not_as_rewritten(engine):
    question = "0\x0b\x0b" * 400  # 1,198 characters once stripped; the rewrite collapses them to 799
    with pytest.raises(InputError, match="the most allowed is 1,000"):
        engine.chat().ask(question)
    with pytest.raises(InputError, match="the most allowed is 1,000"):
        engine.ask(question)
