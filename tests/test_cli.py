"""Tests for qa/cli.py: exit codes and output of `qa index` and `qa ask` (few: the CLI loads the real model).

Exit codes: 0 answered, 1 nothing found, 2 bad input, 3 bad index.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cli import main

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "index" / "default_corpus" / "pulse" / "004_890f01150027ea0e.txt"  # "PCTs are to be scrapped..."


def _qa(*args: str) -> subprocess.CompletedProcess:
    """Run the command as a user would, in a fresh process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def _one_line_error(stderr: str, prefix: str = "qa: error: ") -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), stderr
    return lines[0]


@pytest.fixture(scope="module")
def page_index(tmp_path_factory) -> Path:
    """`qa index` of one page, run through main() so this process's model load is reused."""
    folder = tmp_path_factory.mktemp("cli") / "idx"
    assert main(["index", str(PAGE), "--out", str(folder)]) == 0
    return folder


@pytest.mark.model
def test_index_then_ask_json_answers_with_citations(page_index, capsys):
    assert main(["index", str(PAGE), "--out", str(page_index.parent / "again"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents"] == 1 and summary["model"] == "all-MiniLM-L6-v2" and summary["passages"] > 1

    result = _qa("ask", "When are PCTs to be scrapped?", "--index", str(page_index), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert not answer["abstained"] and answer["citations"]
    first = answer["citations"][0]
    assert "PCTs are to be scrapped by April 2013" in first["sentence"]
    assert first["text"][first["sentence_start"] - first["start"]:first["sentence_end"] - first["start"]] == \
        first["sentence"]


@pytest.mark.model
def test_a_nonsense_question_exits_1_and_shows_the_nearest_passages(page_index):
    result = _qa("ask", "What is the airspeed velocity of an unladen swallow?", "--index", str(page_index))
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("I found nothing in these articles")
    assert "Nearest passages:" in result.stdout


def test_an_empty_question_exits_2_with_a_one_line_error():
    result = _qa("ask", "   ", "--index", str(REPO / "no-such-index"))  # checked before any index or model
    assert result.returncode == 2
    assert _one_line_error(result.stderr) == \
        "qa: error: the question is empty; ask a question of 1 to 1,000 characters"
    assert result.stdout == ""


def test_a_path_that_does_not_exist_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "page.txt"
    assert main(["index", str(missing), "--out", str(tmp_path / "idx")]) == 2
    assert _one_line_error(capsys.readouterr().err) == f"qa: error: {missing}: no such file or folder"
    assert not (tmp_path / "idx").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_path_that_cannot_be_read_as_a_file_exits_2(tmp_path, capsys):
    pipe = tmp_path / "page.txt"
    os.mkfifo(pipe)  # exists, but is neither a file nor a folder: reading it would block
    assert main(["index", str(pipe), "--out", str(tmp_path / "idx")]) == 2
    assert f"qa: error: {pipe}: not a file or folder" in _one_line_error(capsys.readouterr().err)


def test_a_file_that_is_not_utf8_exits_2_naming_the_byte(tmp_path, capsys):
    page = tmp_path / "page.txt"
    page.write_bytes(b"Headline\n\nBody text of the page." + b"\xff\xfe caf\xe9")
    assert main(["index", str(page), "--out", str(tmp_path / "idx")]) == 2
    error = _one_line_error(capsys.readouterr().err)
    assert f"{page} is not UTF-8 text (byte 0xff at offset 32)" in error


def test_a_file_of_another_kind_exits_2_saying_what_is_allowed(tmp_path, capsys):
    paper = tmp_path / "paper.pdf"
    paper.write_bytes(b"%PDF-1.4")
    assert main(["index", str(paper), "--out", str(tmp_path / "idx")]) == 2
    assert "cannot ingest '.pdf' files; allowed: .txt" in _one_line_error(capsys.readouterr().err)


@pytest.mark.model
def test_a_corrupt_index_exits_3(page_index, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(page_index, broken)
    manifest = json.loads((broken / "manifest.json").read_text(encoding="utf-8"))
    path = broken / manifest["files"]["passages.npy"]["name"]
    data = bytearray(path.read_bytes())
    data[10] ^= 0x20
    path.write_bytes(bytes(data))
    result = _qa("ask", "When are PCTs to be scrapped?", "--index", str(broken))
    assert result.returncode == 3
    assert "does not match its sha256" in _one_line_error(result.stderr, "qa: index error: ")


@pytest.mark.model
def test_check_reads_a_large_file_whole_that_a_load_checks_by_size(page_index, tmp_path, capsys, monkeypatch):
    from index import store
    from index.build import load_index

    monkeypatch.setattr(store, "LARGE_FILE", 1024)  # the sentence vectors are a large file here
    assert main(["check", "--index", str(page_index)]) == 0
    assert "every file matches its sha256" in capsys.readouterr().out
    broken = tmp_path / "broken"
    shutil.copytree(page_index, broken)
    manifest = json.loads((broken / "manifest.json").read_text(encoding="utf-8"))
    path = broken / manifest["files"]["sentence_vectors.npy"]["name"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x20
    path.write_bytes(bytes(data))
    assert len(load_index(broken).passages)  # same size: a load maps it and reads only what is used
    assert main(["check", "--index", str(broken)]) == 3
    assert "sentence_vectors.npy" in capsys.readouterr().err


@pytest.mark.model
def test_a_missing_index_exits_3(tmp_path, capsys):
    assert main(["ask", "When are PCTs to be scrapped?", "--index", str(tmp_path / "none")]) == 3
    assert "manifest.json not found" in _one_line_error(capsys.readouterr().err, "qa: index error: ")
