"""Who said it: quoted and reported speech in news text and the speakers the text names for it.

The family's modules: `attribution` ties a quote to its speaker by speech cues, `mentions` finds the people
and documents a text names outside quotes, `quote_marks` where quotes start and end. Other modules use
only the names below.
"""
from index.records import DOCUMENT, GROUP, ORGANISATION, PERSON

from .attribution import Quote, QuoteSpans, Speakers, find_quotes, quotes_in_files, sentence_speakers, speaker_of
from .quote_marks import straighten_quotes

__all__ = ["Quote", "QuoteSpans", "Speakers", "find_quotes", "speaker_of", "sentence_speakers", "quotes_in_files",
           "straighten_quotes", "DOCUMENT", "GROUP", "ORGANISATION", "PERSON"]
