"""Tests for index/onnx_embed.py: indexing through ONNX Runtime with int8 weights, with the real MiniLM model."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.embed import SentenceTransformerEmbedder
from index.onnx_embed import OnnxEmbedder
from qa import Engine

TEXTS = ["NHS England will delegate GP commissioning to CCGs from April.",
         "Councils in Greater Manchester take over a £6bn health and social care budget.",
         "Readers said the plan was rushed and practices were never asked.",
         "A short one.", "The LMC said practices would need funding for the extra work before they agree.",
         "Health and wellbeing boards will sign off the plans.", "Monitor", "The CQC inspected 40 practices.",
         "Dr Chaand Nagpaul, chair of the BMA's GP committee, said GPs feared funding would prop up hospitals."]


@pytest.fixture(scope="module")
def embedders(tmp_path_factory):
    cache = tmp_path_factory.mktemp("onnx")
    return SentenceTransformerEmbedder(threads=1), OnnxEmbedder(cache_dir=cache, threads=1), cache


def test_int8_vectors_point_where_the_float32_ones_do(embedders):
    float32, int8, _ = embedders
    exact, quick = float32.encode(TEXTS), int8.encode(TEXTS)  # more than a question's few texts: the ONNX path
    cosines = (exact * quick).sum(axis=1)
    assert quick.dtype == np.float32 and quick.shape == exact.shape
    assert np.allclose(np.linalg.norm(quick, axis=1), 1.0, atol=1e-5)
    assert cosines.min() > 0.95 and cosines.mean() > 0.98
    assert not np.allclose(quick, exact, atol=1e-4)  # it did take the int8 path


def test_a_question_is_embedded_by_the_float32_path(embedders):
    float32, int8, _ = embedders
    assert np.array_equal(int8.encode(TEXTS[:1]), float32.encode(TEXTS[:1]))


def test_spans_are_pooled_from_the_same_pass(embedders):
    _, int8, _ = embedders
    spans = [[(0, len(text) // 2), (len(text) // 2, len(text))] for text in TEXTS]
    whole, pooled = int8.encode_with_spans(TEXTS, spans)
    assert np.allclose((whole * int8.encode(TEXTS)).sum(axis=1), 1.0, atol=1e-4)
    assert [len(p) for p in pooled] == [2] * len(TEXTS)


def test_the_exported_model_is_kept_and_reused(embedders):
    _, int8, cache = embedders
    files = sorted(p.name for p in cache.iterdir())
    made = int8.onnx_file.stat().st_mtime_ns
    again = OnnxEmbedder(cache_dir=cache, threads=1)
    assert again.onnx_file == int8.onnx_file and again.onnx_file.stat().st_mtime_ns == made
    assert sorted(p.name for p in cache.iterdir()) == files and not any(n.endswith(".partial") for n in files)


def test_an_index_built_through_onnx_opens_and_answers_with_the_default_embedder(embedders, tmp_path):
    float32, int8, _ = embedders
    archive = tmp_path / "archive.jsonl"
    archive.write_text("\n".join(json.dumps({"id": doc_id, "title": title, "text": " ".join(texts)})
                                 for doc_id, title, texts in (("a", "Manchester deal", TEXTS[:3]),
                                                              ("b", "Inspections", TEXTS[6:]))) + "\n")
    Engine.build([archive], tmp_path / "index", embedder=int8, progress=False)
    hits = Engine.load(tmp_path / "index", embedder=float32).search("Who inspected practices?", 2, mode="dense")
    assert hits[0].title == "Inspections"


def test_qa_index_int8_builds_an_index_that_qa_ask_answers_from(tmp_path, monkeypatch, capsys):
    from qa.cli import main

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))  # where the exported model is kept
    page = sorted((Path(__file__).resolve().parents[1] / "index" / "default_corpus" / "pulse").glob("*.txt"))[4]
    assert main(["index", str(page), "--out", str(tmp_path / "index"), "--int8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "all-MiniLM-L6-v2"
    assert list((tmp_path / "cache" / "onnx").glob("*-int8.onnx"))
    assert main(["ask", "Who will take over from PCTs?", "--index", str(tmp_path / "index"), "--json"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["nearest"]
