"""Who said it: quoted speech and its speakers, found from the text itself.

The finder is the `index.speakers` family (the index uses it to make quoted passages findable by their
speaker's name); this is its public home for callers of the `qa` API, with `straighten_quotes` (the one
table of quote marks, for comparing texts whatever their quoting style).
"""
from index.speakers import (
    DOCUMENT,
    GROUP,
    ORGANISATION,
    PERSON,
    Quote,
    Speakers,
    find_quotes,
    quotes_in_files,
    sentence_speakers,
    speaker_of,
    straighten_quotes,
)

__all__ = ["DOCUMENT", "GROUP", "ORGANISATION", "PERSON", "Quote", "Speakers", "find_quotes", "quotes_in_files",
           "sentence_speakers", "speaker_of", "straighten_quotes"]
