"""What the public API returns: search hits, citations and answers. All plain, frozen, JSON-able."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from index.records import ARTICLE, COMMENT, KINDS, Comment, Document, Passage

__all__ = ["ARTICLE", "COMMENT", "KINDS", "Comment", "Document", "Passage", "Hit", "Citation", "Answer"]


@dataclass(frozen=True)
class Hit:
    """A ranked passage from `Engine.search`, with the same provenance fields as a citation."""

    rank: int  # 1-based
    score: float  # fused score; higher is better
    passage_id: str
    doc_id: str
    title: str
    kind: str  # "article" or "comment"
    author: str | None
    start: int  # offsets into the stored text of the article body or of the comment
    end: int
    text: str
    comment: int | None = None  # comment position when kind == "comment"
    lexical_score: float | None = None
    dense_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the passage, and the sentence in it that supports the answer."""

    n: int
    text: str  # the whole passage text
    doc_id: str
    title: str
    kind: str
    author: str | None
    start: int  # passage offsets into the stored text (see Hit)
    end: int
    score: float
    sentence_start: int  # offsets of the supporting sentence, in the same stored text
    sentence_end: int
    passage_id: str = ""
    comment: int | None = None
    speaker: str | None = None  # who is quoted in the supporting sentence, when the text says
    speaker_role: str | None = None

    @property
    def sentence(self) -> str:
        """The supporting sentence itself."""
        return self.text[self.sentence_start - self.start : self.sentence_end - self.start]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sentence"] = self.sentence
        return data


@dataclass(frozen=True)
class Answer:
    """An extractive answer: sentences with [n] markers, the citations they point to, or an abstention."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    nearest: tuple[Hit, ...] = ()  # the closest passages, shown even when abstaining
    resolved_question: str | None = None  # set by chat when a follow-up was rewritten
    confidence: float = 0.0
    facts: tuple[Any, ...] = field(default=())  # commissioning facts used, when any

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "resolved_question": self.resolved_question,
            "text": self.text,
            "abstained": self.abstained,
            "confidence": self.confidence,
            "citations": [c.to_dict() for c in self.citations],
            "nearest": [h.to_dict() for h in self.nearest],
            "facts": [f.to_dict() if hasattr(f, "to_dict") else f for f in self.facts],
        }
