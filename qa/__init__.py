"""Cited answers about who commissions what in the NHS, from news articles and their reader comments.

    >>> from qa import Engine
    >>> engine = Engine.default()
    >>> answer = engine.ask("Who will commission GP services in Greater Manchester?")
    >>> print(answer.text); answer.citations[0].title

Only the errors are imported eagerly (they live in `index.errors`, a leaf module); the rest of the API
imports `index` and models, so the public names below load on first use (PEP 562).
"""
from qa.errors import IndexCorruptError, IndexMismatchError, IngestError, InputError, MissingDependencyError, QAError

_LAZY = {
    "Engine": "qa.engine", "MAX_QUESTION_CHARS": "qa.question", "DEFAULT_CORPUS": "index.corpus",
    "SentenceTransformerEmbedder": "index.embed", "ChatSession": "qa.chat",
    "OnnxEmbedder": "index.onnx_embed",  # indexing through ONNX Runtime with int8 weights (the `int8` extra)
    "IndexConfig": "index.build", "ChunkConfig": "index.chunk",
    "RetrievalConfig": "qa.retrieve", "AnswerConfig": "qa.answer", "split_sentences": "index.sentences",
    "AnswerModel": "qa.answer_model",  # Engine(answer_model=AnswerModel(folder)): another trained scorer
    "MODES": "index.options", "KIND_FILTERS": "index.options",
    # one JSON Lines reader and one library-version lookup, for eval as for the index
    "jsonl_rows": "index.jsonl", "library_versions": "index.store",
    "Answer": "qa.types", "Citation": "qa.types", "Hit": "qa.types", "Document": "qa.types", "Comment": "qa.types",
}

__all__ = ["QAError", "InputError", "IngestError", "IndexCorruptError", "IndexMismatchError", "MissingDependencyError",
           *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
