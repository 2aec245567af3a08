"""The records that flow through the index: documents, their comments, passages, and the mentions the
rule families find in a text (names of bodies, services, places, sums, people and documents).

Offsets always point into the text that is stored: a passage of kind "article" into
`Document.text`, a passage of kind "comment" into that comment's `Comment.text`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

ARTICLE = "article"
COMMENT = "comment"
KINDS = (ARTICLE, COMMENT)

# What a `Mention` names: the vocabulary's bodies, services, places and sums; people and documents found
# by their capitals and titles; organisations and groups as speakers of a quote.
BODY, SERVICE, PLACE, AMOUNT = "body", "service", "place", "amount"
PERSON, ORGANISATION, GROUP, DOCUMENT = "person", "organisation", "group", "document"


def content_id(*parts: str, length: int = 16) -> str:
    """A stable id derived from content, so re-ingesting the same page gives the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


@dataclass(frozen=True)
class Comment:
    """A reader's comment under an article; `author` is None when it was posted anonymously."""

    position: int  # 1-based order on the page
    text: str
    author: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Document:
    """An article with its body text as stored and its reader comments."""

    id: str
    title: str
    text: str
    byline: str | None = None
    url: str | None = None
    date: str | None = None
    source: str = ""  # the file (and line, for JSONL) it came from
    comments: tuple[Comment, ...] = ()
    comment_count: int | None = None  # as the page states it; may exceed len(comments)

    def source_text(self, comment: int | None = None) -> str:
        """The stored text a passage's offsets point into: the body, or comment number `comment`."""
        if comment is None:
            return self.text
        return self.comments[comment - 1].text


@dataclass(frozen=True)
class Passage:
    """A retrievable span of a document or comment, with its provenance."""

    id: str
    doc_id: str
    kind: str  # ARTICLE or COMMENT
    title: str
    author: str | None  # article byline or comment author; None when anonymous or unknown
    start: int
    end: int
    text: str
    comment: int | None = None  # comment position for kind == COMMENT
    windows: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    sentences: tuple[tuple[int, int], ...] = field(default=(), compare=False)
    # windows: spans (same coordinates as start/end) that each fit the embedding model's token budget;
    # a passage's dense score is the best of its windows' scores. sentences: the passage's sentences
    # (long ones cut to fit that budget), embedded at index time so answers never wait for the model.


@dataclass(frozen=True)
class Mention:
    """Something a text names: its span, its wording there, the name it stands for and its kind (BODY, PERSON, ...).

    One type for every rule family: the vocabulary's names ("councils" -> "local authorities"), a question's
    entities, and the people and documents a news text names (a bare surname -> the full name first given).
    """

    start: int
    end: int
    text: str
    canonical: str
    kind: str
