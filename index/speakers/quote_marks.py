"""Quote marks in news text: where quoted material starts and ends, and the text with it blanked.

Curly and straight, single and double marks are all used, and a closing ’ is also an apostrophe,
so a quote is told by where its marks stand. Used by `attribution`.
"""
from __future__ import annotations

import re

__all__ = ["MASK_CHAR", "quote_regions", "mask_quotes", "straighten_quotes"]

_OPENERS, _SINGLE, _DOUBLE = "‘’“\"'", "‘’'", "“”\""
MASK_CHAR = "░"
# Curly, low and reversed quotes, primes, the modifier-letter apostrophe and the backtick as the straight
# mark they stand for: the one table for every comparison that quoting style must not decide.
_STRAIGHT = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
})


def straighten_quotes(text: str) -> str:
    """`text` with every quote mark and apostrophe written straight (' and "), character for character."""
    return text.translate(_STRAIGHT)


def quote_regions(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_block) of quoted material; a block opens a paragraph or follows a colon."""
    regions = []
    for line in re.finditer(r"[^\n]+", text):
        line_start, line_end = line.start(), line.start() + len(line.group().rstrip())
        i = line_start
        while i < line_end:
            before = text[line_start:i]
            if text[i] in _OPENERS and _opens(text, i, line_end) :
                block = not before.strip() or before.rstrip().endswith(":")
                close = _closer(text, i, line_end, strict=block)
                if close is None and not block:
                    i += 1  # an unmatched mark inside prose is an apostrophe
                    continue
                end = line_end if close is None else close + 1
                regions.append((i, end, block))
                i = end
            else:
                i += 1
    return regions


def _opens(text: str, i: int, line_end: int) -> bool:
    prev = text[i - 1] if i else "\n"
    return (prev.isspace() or prev in "([:—–-") and i + 1 < line_end and not text[i + 1].isspace()


def _closer(text: str, opener: int, line_end: int, strict: bool) -> int | None:
    """Index of the mark closing the quote opened at `opener`; a closing ’ is also an apostrophe."""
    family = _DOUBLE if text[opener] in _DOUBLE else _SINGLE
    for j in range(opener + 1, line_end):
        if text[j] not in family or text[j] in "‘“" or text[j - 1].isspace():
            continue
        prev, nxt = text[j - 1], text[j + 1] if j + 1 < line_end else ""
        if nxt.isalnum():
            continue  # don't, performer’s
        if not strict or prev in ".,!?;:…" or not nxt or not nxt.isspace():
            return j
        if prev not in "sS":
            return j  # in a long quote, s’ before a space is more likely a plural possessive (GPs’ voices)
    return None


def mask_quotes(text: str, regions: list[tuple[int, int, bool]]) -> str:
    """The text with quoted material blanked, so quoted words never look like speakers or cues."""
    chars = list(text)
    for start, end, _ in regions:
        chars[start:end] = MASK_CHAR * (end - start)
    return "".join(chars)
