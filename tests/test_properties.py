"""Property-based: generated questions (any Unicode, control characters, lone surrogates, 0 to 10x the length
limit), JSONL records (wrong types, missing fields, huge fields, nested junk) and page texts, thrown at the API
and the CLI. Every case ends in an answer or a one-line error with the right exit code, never a traceback,
and a refused input leaves the index on disk as it was. The keyword embedder stands in for the model."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import index.embed
import qa.cli
import qa.engine
from index.build import build_index, save_index
from index.ingest import load_documents
from index.records import Comment, Document
from qa.cli import EXIT_BAD_INPUT, EXIT_NOTHING_FOUND, EXIT_OK, main
from qa.engine import Engine
from qa.errors import IngestError, InputError, QAError
from qa.question import MAX_QUESTION_CHARS
from qa.types import Answer
from tests.fakes import KeywordEmbedder

VOCABULARY = ["gp", "services", "commission", "ccgs", "testshire", "budget", "readers"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTROL = "\x00\x07\x08\x0b\x0c\r\x1b\x7f\x85\x9b\u202e\u2028\ufeff"

any_char = st.one_of(
    st.characters(codec=None),  # any code point except surrogates
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates (undecodable bytes)
    st.sampled_from(CONTROL),
    st.sampled_from(list("GP services CCGs Testshire?")),
)
questions = st.one_of(
    st.text(any_char, max_size=60),
    # Long ones cheaply: a generated piece repeated up to 10x the limit.
    st.builds(lambda piece, times: (piece * times)[: 10 * MAX_QUESTION_CHARS],
              st.text(any_char, min_size=1, max_size=20), st.integers(1, 10 * MAX_QUESTION_CHARS)),
)


def _documents() -> list[Document]:
    return [Document(id="t1", title="CCGs to commission GP services in Testshire", byline="Jo Bloggs",
                     text="CCGs will commission GP services in Testshire from April. The budget is £2m.",
                     comments=(Comment(1, "Readers say Testshire CCGs cannot commission GP services."),)),
            Document(id="t2", title="Budget row", text="The GP budget in Testshire is disputed by readers.")]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("props") / "index"
    save_index(build_index(_documents(), KeywordEmbedder(VOCABULARY)), folder)
    return folder


@pytest.fixture(scope="module")
def engine(saved) -> Engine:
    return Engine.load(saved, embedder=KeywordEmbedder(VOCABULARY))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _assert_one_line_error(err: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: "), err
    assert not any(c in lines[0] for c in "\x1b\x07\x9b\r") and lines[0].encode("utf-8")


def _assert_printable(out: str) -> None:
    """What a terminal would be sent: valid UTF-8, no escape or control character but newline and tab."""
    out.encode("utf-8")  # a lone surrogate here would be a UnicodeEncodeError on a real stdout
    assert not [c for c in out if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F], repr(out)


# -- questions ----------------------------------------------------------------------------------

@SETTINGS
@given(question=questions)
def test_the_api_answers_or_refuses_any_question_with_an_input_error(engine, question):
    for call in (engine.ask, engine.search, lambda q: engine.chat().ask(q)):
        try:
            result = call(question)
        except InputError as error:
            assert str(error) and "\n" not in str(error)
            continue
        assert question.strip() and len(question.strip()) <= MAX_QUESTION_CHARS
        data = result.to_dict() if isinstance(result, Answer) else [hit.to_dict() for hit in result]
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # what the web app and --json send


@SETTINGS
@given(question=questions, command=st.sampled_from(["ask", "search"]), as_json=st.booleans())
def test_the_cli_answers_or_refuses_any_question_with_exit_2(engine, saved, question, command, as_json):
    with mock.patch.object(qa.cli, "open_engine", lambda index_dir, model=None, args=None: engine):
        # After "--", as a script must pass a question that may start with "-" (argparse would take it as an option).
        code, out, err = _run([command, "--index", str(saved), *(["--json"] if as_json else []), "--", question])
    if code == EXIT_BAD_INPUT:
        _assert_one_line_error(err)
        assert out == ""
        return
    assert code in (EXIT_OK, EXIT_NOTHING_FOUND) and err == ""
    if as_json:
        json.loads(out)
        out.encode("utf-8")
    else:
        _assert_printable(out)


# -- JSONL records and pages --------------------------------------------------------------------

json_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(any_char, max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
field_value = st.one_of(
    json_junk,
    st.text(any_char, max_size=80),
    st.builds(lambda word, n: word * n, st.sampled_from(["GP services ", "x", "Ω"]), st.integers(1, 50_000)),
)
comment = st.one_of(json_junk, st.fixed_dictionaries({}, optional={"text": field_value, "author": field_value,
                                                                   "date": field_value}))
record = st.one_of(
    json_junk,
    st.fixed_dictionaries({}, optional={"id": field_value, "title": field_value, "text": field_value,
                                        "author": field_value, "date": field_value, "url": field_value,
                                        "comments": st.one_of(json_junk, st.lists(comment, max_size=3))}),
)
archives = st.lists(record, max_size=4).map(
    lambda records: "".join(json.dumps(r) + "\n" for r in records))
pages = st.one_of(
    st.text(any_char.filter(lambda c: not 0xD800 <= ord(c) <= 0xDFFF), max_size=400),
    st.builds(lambda head, by, body: f"{head}\n\nBy {by}\n\n{body}\n", st.text(max_size=40), st.text(max_size=20),
              st.text(st.sampled_from(list("CCGs commission GP services in Testshire. \n")), max_size=600)),
)


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    return path


@SETTINGS
@given(content=st.one_of(archives, st.binary(max_size=200)))
def test_any_archive_is_ingested_or_refused_naming_the_file(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), "archive.jsonl", content)
        try:
            documents = load_documents([path])
        except IngestError as error:
            assert str(error).startswith(str(path)) and "\n" not in str(error)
            return
        assert documents
        for document in documents:  # what was accepted can be stored as UTF-8 JSON
            json.dumps([document.title, document.text, [c.text for c in document.comments]],
                       ensure_ascii=False).encode("utf-8")


@SETTINGS
@given(kind=st.sampled_from(["archive.jsonl", "page.txt"]), data=st.data())
def test_the_cli_adds_or_refuses_any_file_and_a_refusal_leaves_the_index_as_it_was(saved, kind, data):
    content = data.draw(archives if kind.endswith(".jsonl") else st.one_of(pages, st.binary(max_size=100)))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "index"
        shutil.copytree(saved, folder)
        before = _snapshot(folder)
        path = _write(Path(tmp), kind, content)
        fake = lambda model_path=None, **_: KeywordEmbedder(VOCABULARY)  # noqa: E731
        with mock.patch.object(index.embed, "SentenceTransformerEmbedder", fake), \
                mock.patch.object(qa.engine, "SentenceTransformerEmbedder", fake):
            code, out, err = _run(["index", str(path), "--out", str(folder), "--append"])
            if code == EXIT_OK:
                assert err == "" and "indexed" in out
                _assert_printable(out)
                Engine.load(folder, embedder=KeywordEmbedder(VOCABULARY))  # what was saved loads
            else:
                assert code == EXIT_BAD_INPUT, err
                _assert_one_line_error(err)
                assert _snapshot(folder) == before
            assert _run(["index", str(path), "--out", str(folder)])[0] == EXIT_BAD_INPUT  # never silently replaced


@SETTINGS
@given(kind=st.sampled_from(["a.jsonl", "a.txt"]), data=st.data())
def test_engine_add_adds_or_refuses_and_a_refusal_changes_nothing(saved, kind, data):
    content = data.draw(archives if kind.endswith(".jsonl") else pages)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "index"
        shutil.copytree(saved, folder)
        engine = Engine.load(folder, embedder=KeywordEmbedder(VOCABULARY))
        before, ids = _snapshot(folder), [d.id for d in engine.documents()]
        try:
            added = engine.add([_write(Path(tmp), kind, content)])
        except QAError as error:
            assert "\n" not in str(error)
            assert _snapshot(folder) == before and [d.id for d in engine.documents()] == ids
            return
        assert added and [d.id for d in engine.documents()] == ids + [d.id for d in added]
        assert Engine.load(folder, embedder=KeywordEmbedder(VOCABULARY)).documents() == engine.documents()
