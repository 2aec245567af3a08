"""Cited answers about who commissions what in the NHS, from news articles and their reader comments.

    >>> from qa import Engine
    >>> engine = Engine.default()
    >>> answer = engine.ask("Who will commission GP services in Greater Manchester?")
    >>> print(answer.text); answer.citations[0].title
"""
from index.build import IndexConfig
from index.chunk import ChunkConfig
from qa.answer import AnswerConfig
from qa.engine import MAX_QUESTION_CHARS, Engine
from qa.retrieve import RetrievalConfig
from qa.errors import (IndexCorruptError, IndexMismatchError, IngestError, InputError, MissingDependencyError,
                       QAError)
from qa.types import Answer, Citation, Comment, Document, Hit

__all__ = ["Engine", "IndexConfig", "ChunkConfig", "RetrievalConfig", "AnswerConfig", "Answer", "Citation", "Hit", "Document", "Comment", "QAError", "InputError", "IngestError",
           "IndexCorruptError", "IndexMismatchError", "MissingDependencyError", "MAX_QUESTION_CHARS"]
