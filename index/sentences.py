"""Sentence boundaries as character spans, tuned for British news prose.

Spans (not strings) so every sentence can be cited and highlighted by offset.
"""
from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "prof", "st", "rev", "sir", "vs", "etc", "e.g", "i.e",
    "inc", "ltd", "co", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "fig", "al", "approx", "cf", "vol", "pp", "ref",
}
_END = re.compile(r"""[.!?]+['"’”)\]]*""")
_WORD_BEFORE = re.compile(r"([A-Za-z.]+)$")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in text[start:end], whitespace trimmed.

    Line breaks end a sentence too: paragraphs, bullets and comment lines stand alone.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        line_start = start + line.start()
        spans.extend(_split_line(text, line_start, start + line.end()))
    return spans


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    sentence_start = start
    for match in _END.finditer(text, start, end):
        stop = match.end()
        if stop < end and not text[stop].isspace():
            continue  # "1.5bn", "e.g.x", URLs
        following = text[stop:end].lstrip()
        # Only a bare full stop can close an abbreviation: in 'said "No." Then' the quote ends a sentence.
        if match.group() == "." and _is_abbreviation(text, sentence_start, match.start(), following):
            continue
        if following and following[0].islower():
            continue  # "...said Dr. smith" style continuation, or an ellipsis mid-sentence
        spans.append((sentence_start, stop))
        sentence_start = stop
    spans.append((sentence_start, end))
    return [trimmed for span in spans if (trimmed := _trim(text, *span))]


def _is_abbreviation(text: str, sentence_start: int, dot: int, following: str) -> bool:
    word = _WORD_BEFORE.search(text[sentence_start:dot])
    if not word:
        return False
    token = word.group(1).lower().rstrip(".")
    if token == "no":  # "No. 10" abbreviates number; "the answer was no." ends a sentence
        return following[:1].isdigit()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
