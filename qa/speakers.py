"""Who said it: quoted speech and its speakers, found from the text itself.

The finder lives in `index.speakers` (the index uses it to make quoted passages findable by their
speaker's name); this is its public home for callers of the `qa` API.
"""
from index.speakers import (
    DOCUMENT,
    GROUP,
    ORGANISATION,
    PERSON,
    Quote,
    find_quotes,
    quotes_in_files,
    sentence_speakers,
    speaker_of,
)

__all__ = ["DOCUMENT", "GROUP", "ORGANISATION", "PERSON", "Quote", "find_quotes", "quotes_in_files",
           "sentence_speakers", "speaker_of"]
