"""Many regexes run as one: every match each pattern's own `finditer` would give, from one pass of the text.

The vocabulary and the trigger verbs are hundreds of patterns; calling each one's `finditer` on every
sentence was most of the cost of reading facts (65 s of a 5 MB article's 84 s). One combined regex
stops only where some pattern matches, and there reports every pattern that matches, with its end.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["PatternSet"]


class PatternSet:
    """Patterns that share flags, have no groups of their own, never match empty text and all begin
    with `shared_prefix`, a zero-width assertion (e.g. a lookbehind) tested once per position for all."""

    def __init__(self, patterns: Sequence[re.Pattern[str]], shared_prefix: str = "") -> None:
        if not patterns:
            raise ValueError("a PatternSet needs at least one pattern")
        flags = patterns[0].flags
        for pattern in patterns:
            if pattern.flags != flags or pattern.groups or not pattern.pattern.startswith(shared_prefix):
                raise ValueError(f"every pattern needs flags {flags}, no groups and the prefix {shared_prefix!r}, "
                                 f"got {pattern.pattern!r}")
        rests = [pattern.pattern[len(shared_prefix):] for pattern in patterns]
        # The first lookahead makes positions where nothing matches fail fast; at the others, one optional
        # group per pattern records where that pattern's own match there would end.
        any_matches = "(?=" + "|".join(f"(?:{rest})" for rest in rests) + ")"
        each_end = "".join(f"(?=({rest})?)" for rest in rests)
        self._combined = re.compile(shared_prefix + any_matches + each_end, flags)
        self.patterns = tuple(patterns)

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """(pattern index, start, end) of each match of `patterns[i].finditer(text)`, ordered by index, then start."""
        resume = [0] * len(self.patterns)  # where each pattern's finditer would search next: its matches never overlap
        found = []
        for candidate in self._combined.finditer(text):
            start = candidate.start()
            for group, matched in enumerate(candidate.groups()):
                if matched is not None and start >= resume[group]:
                    if not matched:
                        raise ValueError("a PatternSet's patterns must not match empty text")
                    found.append((group, start, start + len(matched)))
                    resume[group] = start + len(matched)
        found.sort()
        return found
