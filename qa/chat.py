"""A chat session: follow-up questions are resolved against earlier turns, then asked of an engine.

A web app holds one `ChatSession` per user; a script can save one with `to_dict` (plain JSON) and
restore it with `ChatSession.from_dict`. No language model: resolution is `qa.followups.resolve`.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from index.options import KIND_FILTERS
from qa.errors import InputError
from qa.followups import Resolution, Turn, resolve
from qa.question import check_question
from qa.types import Answer

FORMAT = "chat-session"
FORMAT_VERSION = 1
DEFAULT_MAX_TURNS = 50  # older turns are forgotten; resolution only reaches a few back anyway


class Asker(Protocol):
    """What a session needs of an engine (`qa.engine.Engine` is one)."""

    def ask(self, question: str, *, k: int = 5, kind: str = "both",
            doc_ids: Sequence[str] | None = None) -> Answer: ...


class ChatSession:
    """A conversation with an engine: each question is resolved against the turns before it."""

    def __init__(self, engine: Asker, *, k: int = 5, kind: str = "both", doc_ids: Sequence[str] | None = None,
                 max_turns: int = DEFAULT_MAX_TURNS):
        if not callable(getattr(engine, "ask", None)):
            raise InputError(f"engine must have an ask(question, ...) method, got {type(engine).__name__}")
        self.engine = engine
        self.k = _checked_count("k", k)
        self.kind = _checked_kind(kind)
        self.doc_ids = _checked_doc_ids(doc_ids)
        self.max_turns = _checked_count("max_turns", max_turns)
        self._turns: list[Turn] = []
        self._lock = threading.Lock()  # one user may send two questions at once; keep turns in order

    @property
    def history(self) -> tuple[Turn, ...]:
        """The turns so far, oldest first."""
        return tuple(self._turns)

    def preview(self, question: str) -> Resolution:
        """How `question` would be resolved now, without asking it or recording a turn."""
        return resolve(question, self._turns)

    def ask(self, question: str, *, kind: str | None = None, doc_ids: Sequence[str] | None = None) -> Answer:
        """Resolve the question against the conversation, ask the engine, record the turn.

        `kind` and `doc_ids` override the session's defaults for this question only. The Answer's
        `question` is the question as asked; `resolved_question` is set when it was rewritten.
        """
        check_question(question)  # as asked, before rewriting: the limits are the engine's, whatever the rewrite
        kind = self.kind if kind is None else _checked_kind(kind)
        doc_ids = self.doc_ids if doc_ids is None else _checked_doc_ids(doc_ids)
        with self._lock:
            resolution = resolve(question, self._turns)
            answer = self.engine.ask(resolution.resolved, k=self.k, kind=kind,
                                     doc_ids=list(doc_ids) if doc_ids is not None else None)
            self._turns.append(resolution.to_turn(answer_lead(answer)))
            del self._turns[:-self.max_turns]
        return replace(answer, question=resolution.question,
                       resolved_question=resolution.resolved if resolution.rewritten else None)

    def reset(self) -> None:
        """Forget the conversation; the next question starts afresh."""
        with self._lock:
            self._turns.clear()

    def to_dict(self) -> dict[str, Any]:
        """The session's settings and turns as plain JSON-able data."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "k": self.k,
            "kind": self.kind,
            "doc_ids": list(self.doc_ids) if self.doc_ids is not None else None,
            "max_turns": self.max_turns,
            "turns": [turn.to_dict() for turn in self._turns],
        }

    @classmethod
    def from_dict(cls, engine: Asker, data: dict[str, Any]) -> ChatSession:
        """A session restored from `to_dict` output, asking `engine`; InputError if data is malformed."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"chat session data must be a dict with format {FORMAT!r}")
        if data.get("version") != FORMAT_VERSION:
            raise InputError(f"chat session data has version {data.get('version')!r}; "
                             f"this library reads version {FORMAT_VERSION}")
        session = cls(engine, k=data.get("k", 5), kind=data.get("kind", "both"), doc_ids=data.get("doc_ids"),
                      max_turns=data.get("max_turns", DEFAULT_MAX_TURNS))
        turns = data.get("turns", [])
        if not isinstance(turns, list):
            raise InputError(f"chat session data: turns must be a list, got {type(turns).__name__}")
        # Entities and topic terms are derived data: read them again rather than trust the file.
        session._turns = [Turn.of(*_turn_texts(i, turn)) for i, turn in enumerate(turns)][-session.max_turns:]
        return session


_CITATION_MARK = re.compile(r"\s*\[\d+\]")


def answer_lead(answer: Answer) -> str:
    """The answer's first cited statement, which a follow-up's "them" most often points into."""
    if answer.abstained:
        return ""
    mark = _CITATION_MARK.search(answer.text)
    return (answer.text[:mark.start()] if mark else answer.text).strip()


def _turn_texts(i: int, turn: Any) -> tuple[str, str, str]:
    question, resolved, answer = (turn.get(key, "") if isinstance(turn, dict) else None
                                  for key in ("question", "resolved_question", "answer"))
    if not all(isinstance(text, str) and text.strip() for text in (question, resolved)):
        raise InputError(f"chat session data: turns[{i}] needs non-empty text "
                         "in 'question' and 'resolved_question'")
    if not isinstance(answer, str):
        raise InputError(f"chat session data: turns[{i}] 'answer' must be text, got {type(answer).__name__}")
    return question, resolved, answer


def _checked_kind(kind: str) -> str:
    if kind not in KIND_FILTERS:
        raise InputError(f"kind must be one of {', '.join(KIND_FILTERS)}, got {kind!r}")
    return kind


def _checked_count(name: str, value: int) -> int:
    # The engine checks k's upper bound; here only what would break the session itself.
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def _checked_doc_ids(doc_ids: Sequence[str] | None) -> tuple[str, ...] | None:
    if doc_ids is None:
        return None
    if not isinstance(doc_ids, (list, tuple, set, frozenset)) or not all(isinstance(d, str) for d in doc_ids):
        raise InputError(f"doc_ids must be a list of document id strings, got {doc_ids!r}")
    return tuple(doc_ids)
