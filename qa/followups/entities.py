"""What a question names: bodies, services, places and amounts from the shared vocabulary
(`qa.commissioning`), people named with capitals, and the topic words left over.

The closed classes of English words here (question words, auxiliaries, pronouns, ...) tell topic
words from the rest. Used by `followup` and `anaphora`.
"""
from __future__ import annotations

import re

from index.records import AMOUNT, BODY, PERSON, PLACE, SERVICE, Mention
from qa.commissioning import find_amounts, find_bodies, find_places, find_services, longest_first

__all__ = [
    "BODY", "SERVICE", "PLACE", "AMOUNT", "PERSON", "Mention", "WH_WORDS", "AUXILIARIES", "PREPOSITIONS", "PRONOUNS",
    "FUNCTION_WORDS", "word_matches", "is_content_word", "stem", "find_entities", "entities_and_topic",
]


# --- Words: small closed classes of English; content words are whatever is left. ----------------

_WORD = re.compile(r"[\w£][\w£-]*")
WH_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
AUXILIARIES = {
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "has",
    "have", "had", "will", "would", "shall", "should", "can", "could", "may", "might", "must",
}
PREPOSITIONS = {
    "about", "of", "for", "to", "with", "on", "in", "by", "from", "after", "before", "over",
    "under", "into", "at", "across", "within", "between", "against", "than", "like", "through",
}
PRONOUNS = {
    "i", "you", "we", "they", "them", "their", "theirs", "it", "its", "he", "him", "his", "she",
    "her", "hers", "this", "that", "these", "those", "me", "us", "our", "my", "your", "one",
}
FUNCTION_WORDS = WH_WORDS | AUXILIARIES | PREPOSITIONS | PRONOUNS | {
    "the", "a", "an", "and", "or", "but", "so", "if", "then", "not", "no", "yes", "any", "some",
    "all", "there", "here", "s", "t", "also", "just", "too", "very", "as", "up", "out", "off",
    "same", "else", "other", "more", "most", "much", "many", "such", "own", "each", "every",
}
# Words that ask something of a topic without naming one: "what happens next?", "is that true?".
_GENERIC = {
    "happen", "happens", "happened", "happening", "mean", "means", "meant", "think", "thought",
    "feel", "felt", "say", "said", "says", "make", "made", "get", "got", "go", "going", "goes",
    "know", "known", "true", "false", "right", "wrong", "next", "now", "still", "yet", "really",
    "actually", "exactly", "big", "large", "long", "often", "soon", "thing", "things", "start",
    "starts", "begin", "begins", "take", "place", "react", "reacted", "view", "views",
    "exist", "exists", "work", "works", "come", "comes", "idea", "please", "tell",
    # Pleasantries say nothing about the topic.
    "ok", "okay", "thanks", "thank", "cheers", "hello", "hi", "bye", "goodbye", "great", "fine",
    "lovely", "interesting", "sure", "see",
}
_TITLES = {"dr", "mr", "mrs", "ms", "miss", "prof", "professor", "sir", "dame", "lord", "baroness"}


def word_matches(text: str) -> list[re.Match[str]]:
    return list(_WORD.finditer(text))


def is_content_word(word: str) -> bool:
    lower = word.lower()
    return lower not in FUNCTION_WORDS and lower not in _GENERIC and not lower.isdigit()


def stem(word: str) -> str:
    """A crude singular, enough to match "budgets" with "budget" and "CCGs" with "CCG"."""
    lower = word.lower()
    return lower[:-1] if len(lower) > 3 and lower.endswith("s") and not lower.endswith("ss") else lower


# --- Entities: the shared vocabulary, plus people named with capitals ("Dr Jane Smith"). --------

def find_entities(text: str) -> list[Mention]:
    """Bodies, services, places, amounts and people named in text, in order; longest wins overlaps."""
    found = [m for find in (find_bodies, find_services, find_places, find_amounts) for m in find(text)]
    # "NHS England" is a body, not the place "England" inside it: the longer name wins.
    kept = longest_first(found)
    kept.extend(_people(text, kept))
    return sorted(kept, key=lambda e: e.start)


def _people(text: str, taken: list[Mention]) -> list[Mention]:
    """Runs of capitalised words outside known names: a title and a name, or two or three names."""
    runs: list[list[re.Match[str]]] = [[]]
    for word in word_matches(text):
        run = runs[-1]
        inside = any(e.start <= word.start() < e.end for e in taken)
        capitalised = word.group()[:1].isupper() and word.group()[1:].islower()
        joined = bool(run) and not text[run[-1].end():word.start()].strip(" .")
        # A capitalised function word ("What", "Did") starts a question, not a name.
        if capitalised and not inside and (joined or word.group().lower() not in FUNCTION_WORDS):
            if not joined:
                runs.append([])
            runs[-1].append(word)
        elif run:
            runs.append([])
    return [person for run in runs if (person := _person(text, run))]


def _person(text: str, run: list[re.Match[str]]) -> Mention | None:
    titled = bool(run) and run[0].group().lower() in _TITLES
    if len(run) < 2 or (not titled and len(run) > 3):
        return None
    name = " ".join(w.group() for w in (run[1:] if titled else run))
    return Mention(run[0].start(), run[-1].end(), text[run[0].start():run[-1].end()], name, PERSON)


def entities_and_topic(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The canonical entities and the lower-case topic words of text, each in order, deduplicated."""
    entities = find_entities(text)
    topic = [
        w.group().lower() for w in word_matches(text)
        if is_content_word(w.group()) and not any(e.start <= w.start() < e.end for e in entities)
    ]
    return tuple(dict.fromkeys(e.canonical for e in entities)), tuple(dict.fromkeys(topic))
