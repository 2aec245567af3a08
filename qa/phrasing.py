"""How answers are put in English: every sentence a reader of an answer sees that the corpus did not write.

A cited sentence is quoted as reporting, as a named speaker's words, or as a reader's comment; an
abstention says so and, where it knows, where the thing asked about is reported instead.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from index.records import ARTICLE, COMMENT
from qa.types import Citation

NOTHING_FOUND = "I found nothing in these articles that answers this question."
_FALLBACK_NOTES = {
    COMMENT: "No reader's comment answers this; the reporting says:",
    ARTICLE: "The reporting does not answer this; readers' comments say:",
}
_QUOTE_MARKS = ("'", '"', "‘", "’", "“", "”")


def reported_elsewhere(places: Sequence[str]) -> str:
    """An abstention's text, naming the places the asked-for thing is reported for instead, if any."""
    where = f" They report it for {_and(places)}, not for the place asked about." if places else ""
    return NOTHING_FOUND + where + " The nearest passages are listed as sources."


def fallback_note(wanted: str) -> str:
    """The line that opens an answer from the other side than the one asked for ("article" or "comment")."""
    return _FALLBACK_NOTES[wanted]


def sentence_line(text: str, start: int, citation: Citation, speaker: Any) -> str:
    """One cited sentence (`text`, starting at `start` in its document) as a line of the answer: a reader's
    comment is labelled as one; a quote is attributed to its speaker (.speaker, .role, .cue_start, .cue_end)
    with the role, unless the sentence names them itself ("..., he said")."""
    sentence = text.lstrip("• ").strip()
    if citation.kind == COMMENT:
        who = f"A reader ({citation.author})" if citation.author else "An anonymous reader"
        return f"{who} commented under “{citation.title}”: “{sentence}” [{citation.n}]"
    if speaker is None:
        return f"{sentence} [{citation.n}]"
    if start <= speaker.cue_start < speaker.cue_end <= start + len(text):
        quoted = text[speaker.cue_end - start:].lstrip(" :,-–—").strip()
        if speaker.cue_start - start > 3 or not quoted.startswith(_QUOTE_MARKS) or len(quoted.split()) < 2:
            return f"{sentence} [{citation.n}]"  # the sentence names its speaker itself ("..., he said")
        sentence = quoted  # an opening cue ("She said: ‘...’") gives way to the full name and role
    role = f" ({citation.speaker_role})" if citation.speaker_role else ""
    return f"According to {citation.speaker}{role}: {sentence} [{citation.n}]"


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
