"""Follow-up questions in a chat: an elliptical turn ("how many of them?", "and in London?") rewritten
against the conversation so far.

The family's modules: `followup` resolves a turn, using `anaphora` (pronouns and the earlier wording each
stands for) and `entities` (the bodies, services, places, sums and people a question names, and its topic
words). Other modules use only the names below.
"""
from .followup import (
    AMOUNT,
    BODY,
    CONTEXT_TURNS,
    MAX_GIST_CHARS,
    PERSON,
    PLACE,
    SERVICE,
    Mention,
    Resolution,
    Turn,
    find_entities,
    resolve,
)

__all__ = ["resolve", "Turn", "Resolution", "CONTEXT_TURNS", "MAX_GIST_CHARS", "find_entities", "Mention",
           "AMOUNT", "BODY", "PERSON", "PLACE", "SERVICE"]
