"""The real embedder: the NumPy query path equals sentence-transformers, and pooled spans line up."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import bert_numpy
from index.embed import NUMPY_MAX_TEXTS, SentenceTransformerEmbedder, default_model_path
from qa.errors import InputError

pytestmark = pytest.mark.model

TEXTS = [
    "Who will commission GP services in Greater Manchester?",
    "CCGs",
    "GP practices could see the majority of their funding - including global sum, QOF, enhanced services "
    "and premises - devolved to CCGs within a year, according to a timetable released by NHS England. " * 4,
]


def test_the_numpy_twin_gives_sentence_transformers_vectors(real_embedder):
    fast = real_embedder.encode(TEXTS)  # few texts: the NumPy path
    assert len(TEXTS) <= NUMPY_MAX_TEXTS
    reference = real_embedder.encode_all(TEXTS)  # sentence-transformers itself
    assert fast.dtype == np.float32 and fast.shape == (3, 384)
    assert np.abs(fast - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)


def test_token_counts_exclude_special_tokens_and_match_the_model_tokenizer(real_embedder):
    counts = real_embedder.count_tokens(TEXTS)
    tokenizer = real_embedder._sentence_transformer().tokenizer
    assert counts == [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in TEXTS]
    assert real_embedder.max_tokens == 254


def test_pooled_span_vectors_stay_close_to_the_sentence_alone(real_embedder):
    text = "CCGs will take over the GP budget. Readers said the plan would fail."
    spans = [(0, 34), (35, len(text))]
    whole, pooled = real_embedder.encode_with_spans([text], [spans])
    assert np.abs(whole[0] - real_embedder.encode_all([text])[0]).max() < 1e-5
    alone = real_embedder.encode_all([text[s:e] for s, e in spans])
    similarity = (pooled[0] * alone).sum(axis=1)
    assert pooled[0].shape == (2, 384) and (similarity > 0.8).all()
    assert similarity[0] > float(pooled[0][0] @ alone[1])  # each span is nearest its own sentence


def test_only_plain_bert_mean_pooling_folders_take_the_numpy_path(tmp_path):
    assert bert_numpy.supports(default_model_path())
    assert not bert_numpy.supports(tmp_path)
    with pytest.raises(InputError, match="not a sentence-transformers model folder"):
        SentenceTransformerEmbedder(tmp_path)


# Every way out to the network refused and recorded, then the model loaded through sentence-transformers.
_LOAD_WITH_NO_NETWORK = """
import os, socket
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("no network in this test")
socket.socket.connect = lambda self, address: refuse(address)
socket.create_connection = socket.getaddrinfo = refuse
from index.embed import SentenceTransformerEmbedder
vectors = SentenceTransformerEmbedder(fast_queries=False).encode(["Who commissions GP services?"] * 10)
print(vectors.shape, attempts, os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
"""


def test_the_model_loads_from_its_folder_offline_without_setting_the_hubs_variables():
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    run = subprocess.run([sys.executable, "-c", _LOAD_WITH_NO_NETWORK], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[-1] == "(10, 384) [] None None"  # no connection tried, no variable set
