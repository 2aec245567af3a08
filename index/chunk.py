"""Sentence-aware chunking into passages, and of passages into windows the embedder can take whole.

A passage is what retrieval ranks and citations show (about `passage_words` words). Its windows are
smaller sentence-aligned spans, each within the model's token budget, so the model never truncates;
a passage's dense score is the best of its windows'.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.errors import InputError
from index.records import ARTICLE, COMMENT, Document, Passage
from index.sentences import split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]
Span = tuple[int, int]


@dataclass(frozen=True)
class ChunkConfig:
    """How text is cut; each default is defined here only."""

    passage_words: int = 200
    window_words: int = 80
    overlap_sentences: int = 1

    def __post_init__(self) -> None:
        for name in ("passage_words", "window_words", "overlap_sentences"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"{name} must be a whole number, got {value!r}")
        if not 20 <= self.passage_words <= 2000:
            raise InputError(f"passage_words must be between 20 and 2000, got {self.passage_words}")
        if not 5 <= self.window_words <= self.passage_words:
            raise InputError(
                f"window_words must be between 5 and passage_words ({self.passage_words}), got {self.window_words}")
        if not 0 <= self.overlap_sentences <= 5:
            raise InputError(f"overlap_sentences must be between 0 and 5, got {self.overlap_sentences}")

    def to_dict(self) -> dict[str, int]:
        return {"passage_words": self.passage_words, "window_words": self.window_words,
                "overlap_sentences": self.overlap_sentences}


def chunk_document(document: Document, count_tokens: TokenCounter, max_tokens: int,
                   config: ChunkConfig = ChunkConfig()) -> list[Passage]:
    """All passages of an article body and of each of its comments (a comment is never merged with another)."""
    passages = _chunk_text(document, None, count_tokens, max_tokens, config)
    for comment in document.comments:
        passages.extend(_chunk_text(document, comment.position, count_tokens, max_tokens, config))
    return passages


def _chunk_text(document: Document, comment: int | None, count_tokens: TokenCounter, max_tokens: int,
                config: ChunkConfig) -> list[Passage]:
    text = document.source_text(comment)
    units = _units(text, count_tokens, max_tokens, config.window_words)
    if not units:
        return []
    passages = []
    for first, last in _pack(units, config.passage_words, config.overlap_sentences):
        start, end = units[first][0], units[last][1]
        windows = _windows(units[first:last + 1], max_tokens, config.window_words)
        if comment is None:
            kind, author, tag = ARTICLE, document.byline, "a"
        else:
            kind, author, tag = COMMENT, document.comments[comment - 1].author, f"c{comment}"
        passages.append(Passage(
            id=f"{document.id}:{tag}:{start}-{end}", doc_id=document.id, kind=kind, title=document.title,
            author=author, start=start, end=end, text=text[start:end], comment=comment,
            # _windows numbers units within this passage's slice, so shift back to the whole text.
            windows=tuple((units[first + a][0], units[first + b][1]) for a, b in windows),
            sentences=tuple((unit.start, unit.end) for unit in units[first:last + 1]),
        ))
    return passages


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    words: int
    tokens: int

    def __getitem__(self, i: int) -> int:  # unit[0], unit[1]: its span
        return (self.start, self.end)[i]


def _units(text: str, count_tokens: TokenCounter, max_tokens: int, window_words: int) -> list[_Unit]:
    """Sentences, with any sentence too long for one window cut at word boundaries."""
    spans: list[Span] = []
    for start, end in split_sentences(text):
        spans.extend(_cut_long(text, start, end, window_words))
    return _fit(text, spans, count_tokens, max_tokens)


def _fit(text: str, spans: list[Span], count_tokens: TokenCounter, max_tokens: int) -> list[_Unit]:
    """Units from spans, halving any span over the token budget (dense prose, long numbers, URLs)."""
    units = []
    for (start, end), count in zip(spans, count_tokens([text[s:e] for s, e in spans])):
        if count > max_tokens and end - start > 1:
            units.extend(_fit(text, _halve(text, start, end), count_tokens, max_tokens))
        else:
            units.append(_Unit(start, end, _words(text[start:end]), count))
    return units


def _halve(text: str, start: int, end: int) -> list[Span]:
    words = _words(text[start:end])
    if words > 1:
        return _cut_long(text, start, end, (words + 1) // 2)
    middle = (start + end) // 2  # one giant "word": cut it by characters
    return [(start, middle), (middle, end)]


def _cut_long(text: str, start: int, end: int, max_words: int) -> list[Span]:
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    if len(words) <= max_words:
        return [(start, end)]
    return [(words[i][0], words[min(i + max_words, len(words)) - 1][1]) for i in range(0, len(words), max_words)]


def _words(text: str) -> int:
    return len(text.split())


def _pack(units: Sequence[_Unit], max_words: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy runs of whole units up to max_words; each run restarts `overlap` units back."""
    runs = []
    first = 0
    while first < len(units):
        last, words = first, units[first].words
        while last + 1 < len(units) and words + units[last + 1].words <= max_words:
            last += 1
            words += units[last].words
        runs.append((first, last))
        if last == len(units) - 1:
            break
        first = max(first + 1, last + 1 - overlap)
    return runs


def _windows(units: Sequence[_Unit], max_tokens: int, max_words: int) -> list[tuple[int, int]]:
    """Runs of units within both the word and the token budget, without overlap (the passages overlap).

    Units that touch (pieces of one giant word cut by characters) are never joined: a tokenizer splits
    the rejoined word differently, so their token counts do not add up.
    """
    runs = []
    first = 0
    while first < len(units):
        last, words, tokens = first, units[first].words, units[first].tokens
        while (last + 1 < len(units) and words + units[last + 1].words <= max_words
               and tokens + units[last + 1].tokens <= max_tokens
               and units[last].end < units[last + 1].start):
            last += 1
            words += units[last].words
            tokens += units[last].tokens
        runs.append((first, last))
        first = last + 1
    return runs
