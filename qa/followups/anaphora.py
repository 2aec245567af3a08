"""Anaphora in a follow-up question: the pronouns and demonstratives that point back at an earlier
turn ("how many of them?", "who chairs it?", "that budget"), and the earlier wording each stands for.

`followup` puts that wording in the anaphor's place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .entities import (
    AMOUNT,
    AUXILIARIES,
    BODY,
    FUNCTION_WORDS,
    PERSON,
    PLACE,
    PREPOSITIONS,
    SERVICE,
    WH_WORDS,
    Mention,
    find_entities,
    is_content_word,
    stem,
    word_matches,
)

__all__ = ["Anaphor", "find_anaphors", "find_referent", "fit_phrase"]

if TYPE_CHECKING:
    from .followup import EarlierTurn


@dataclass(frozen=True)
class Anaphor:
    start: int
    end: int
    # "plural", "singular", "thing" (a service or money), "organisation", "person", "noun"
    # ("that budget") or "event" (a bare "that": the earlier topic as a whole)
    kind: str
    possessive: bool = False


_PERSONAL = {
    "they": "plural", "them": "plural", "their": "plural", "theirs": "plural",
    "it": "singular", "its": "singular", "he": "person", "him": "person", "his": "person",
    "she": "person", "her": "person",
}
_POSSESSIVE = {"their", "theirs", "its", "his"}
_DEMONSTRATIVES = {"this", "that", "these", "those"}
# After these words a "that" points back; after a verb it opens a clause ("said that CCGs...").
_BEFORE_POINTING = AUXILIARIES | PREPOSITIONS | WH_WORDS | {"and", "but", "so", "or"}
# Deictic times: "this year" points at the calendar, not at an earlier turn.
_TIME_NOUNS = {"year", "month", "week", "day", "time", "morning", "afternoon", "evening", "point"}
# After "it (is)", these make "it" a dummy subject: "is it true that...", "is it likely".
_DUMMY_IT_NEXT = {
    "true", "possible", "likely", "clear", "known", "necessary", "fair", "right", "wrong",
    "correct", "legal", "worth", "the", "time", "too",
}
# Verbs whose object is a service or money, not a body: "who commissions it?", "who pays for it?".
_SERVICE_VERBS = {
    "commission", "commissions", "commissioned", "fund", "funds", "funded", "pay", "pays", "paid",
    "provide", "provides", "provided", "deliver", "delivers", "delivered", "offer", "offers",
    "spend", "spends", "spent", "cut", "cuts", "hold", "holds", "control", "controls", "share",
}
# Verbs whose object is a body: "who chairs it?", "who runs it?".
_BODY_VERBS = {
    "chair", "chairs", "chaired", "lead", "leads", "led", "run", "runs", "head", "heads", "oversee",
    "oversees", "govern", "governs", "join", "joined", "abolish", "abolished", "scrap", "scrapped",
    "regulate", "regulates", "inspect", "inspects", "replace", "replaced", "sit", "sits",
}
# "When will it happen?": "it" is the event under discussion, not a body or a service.
_EVENT_VERBS = {
    "happen", "happens", "happened", "start", "starts", "started", "begin", "begins", "come",
    "comes", "go", "goes", "end", "ends", "apply", "applies", "proceed", "finish", "launch",
}


def find_anaphors(text: str, own: list[Mention], context: tuple[EarlierTurn, ...]) -> list[Anaphor]:
    """The pronouns and demonstratives in text that point back at an earlier turn, in order."""
    words = word_matches(text)
    earlier_stems = {stem(w.group()) for earlier in context for w in word_matches(earlier.text)}
    found = []
    for i, word in enumerate(words):
        lower = word.group().lower()
        if lower in _PERSONAL:
            found.append(_personal(text, words, i))
        elif lower in _DEMONSTRATIVES:
            found.append(_demonstrative(text, words, i, own, earlier_stems))
    return [anaphor for anaphor in found if anaphor is not None]


def _personal(text: str, words: list[re.Match[str]], i: int) -> Anaphor | None:
    word, lower, following = words[i], words[i].group().lower(), _following(words, i)
    kind = _PERSONAL[lower]
    if lower == "it" and following in _DUMMY_IT_NEXT:
        return None
    if lower == "it" and following in _EVENT_VERBS:
        kind = "event"
    elif lower == "it" and _object_of(words, i, _SERVICE_VERBS):
        kind = "thing"
    elif lower == "it" and _object_of(words, i, _BODY_VERBS):
        kind = "organisation"
    # "her" is possessive before a noun ("her view"), an object otherwise ("ask her").
    after = _next_word(text, words, i)
    possessive = lower in _POSSESSIVE or (lower == "her" and after is not None and is_content_word(after.group()))
    return Anaphor(word.start(), word.end(), kind, possessive)


def _demonstrative(
    text: str, words: list[re.Match[str]], i: int, own: list[Mention], earlier_stems: set[str]
) -> Anaphor | None:
    word, lower, after = words[i], words[i].group().lower(), _next_word(text, words, i)
    before = words[i - 1].group().lower() if i else None
    if after is not None and after.group().lower() in _TIME_NOUNS | {"who", "which", "that"}:
        return None  # "this year", "those who..." point elsewhere
    named = next((e for e in own if after is not None and e.start == after.start()), None)
    pointing = before is None or before in _BEFORE_POINTING or lower != "that"
    if named is not None and pointing:  # "that budget", naming what it points at
        return Anaphor(word.start(), named.end, "noun")
    if named is None and after is not None and stem(after.group()) in earlier_stems:
        return Anaphor(word.start(), after.end(), "noun")  # "that timetable", said before
    if named is None and (after is None or pointing):  # "when will that happen?"
        return Anaphor(word.start(), word.end(), "event")
    return None


def _next_word(text: str, words: list[re.Match[str]], i: int) -> re.Match[str] | None:
    """The word right after words[i], or None when punctuation or the end comes first."""
    if i + 1 < len(words) and not text[words[i].end():words[i + 1].start()].strip():
        return words[i + 1]
    return None


def _following(words: list[re.Match[str]], i: int) -> str | None:
    """The word after words[i], skipping one auxiliary ("it is true", "it will happen")."""
    rest = [w.group().lower() for w in words[i + 1:i + 3]]
    if rest and rest[0] in AUXILIARIES | {"s"}:
        rest = rest[1:]
    return rest[0] if rest else None


def _object_of(words: list[re.Match[str]], i: int, verbs: set[str]) -> bool:
    """Whether words[i] is the object of one of `verbs` ("commission it", "pay for it", "sit on it")."""
    before = [w.group().lower() for w in words[max(0, i - 2):i]]
    if before and before[-1] in {"for", "on"}:
        before = before[:-1]
    return bool(before) and before[-1] in verbs


def find_referent(
    text: str, anaphor: Anaphor, context: tuple[EarlierTurn, ...], taken: set[str], size_question: bool
) -> str | None:
    """The earlier wording the anaphor stands for, most recent turn first; None when unclear."""
    if anaphor.kind == "noun":
        # "that budget": an earlier entity with the same canonical name, or ending in that noun.
        wording = text[anaphor.start:anaphor.end].split(maxsplit=1)[-1]
        names, noun = {e.canonical for e in find_entities(wording)}, stem(wording.split()[-1])
        for earlier in context:
            for source, entities in earlier.sources():
                same = [e for e in entities if e.canonical in names or stem(e.text.split()[-1]) == noun]
                if same:
                    return _phrase(source, entities, same[0], size_question)
        return None
    for earlier in context:
        # Kind and number outrank place: a plural body in the answer beats a plural service asked about.
        for preference in _preferences(anaphor.kind, size_question):
            for source, entities in earlier.sources():
                # "it" after "the Health Secretary's new contract" is the contract, not its owner.
                fitting = [e for e in entities if e.canonical not in taken and _fits(e, preference)
                           and (anaphor.kind in ("organisation", "person") or not _is_possessor(source, e))]
                if fitting:
                    return _phrase(source, entities, fitting[0], size_question)
    return None


def _preferences(kind: str, size_question: bool) -> list[tuple[str, str | None]]:
    """Which entities a pronoun prefers, best first, as (entity kind, "plural"/"singular"/None)."""
    if kind == "person":
        return [(PERSON, None)]
    if kind == "organisation":
        return [(BODY, "singular"), (BODY, None)]
    if kind == "plural":  # plural names first, bodies (the usual actors) before services
        return [(BODY, "plural"), (SERVICE, "plural"), (BODY, None)]
    if kind == "singular" and size_question:  # "how much is it?" asks the sum of a service
        return [(SERVICE, "singular"), (SERVICE, None), (BODY, "singular")]
    if kind == "thing":  # "who pays for it?": a service or a sum
        return [(SERVICE, "singular"), (AMOUNT, None), (SERVICE, None)]
    if kind == "singular":
        return [(BODY, "singular"), (SERVICE, "singular"), (AMOUNT, None), (SERVICE, None), (PLACE, None)]
    return []  # "event": the earlier topic as a whole, added as a gist


def _fits(entity: Mention, preference: tuple[str, str | None]) -> bool:
    kind, number = preference
    last = entity.text.split()[-1].lower()
    plural = last.endswith("s") and not last.endswith("ss")
    return entity.kind == kind and (number is None or (number == "plural") == plural)


def _phrase(text: str, entities: tuple[Mention, ...], entity: Mention, skip_amounts: bool = False) -> str:
    """The entity with the names joined to it and its "the" ("the Greater Manchester board")."""
    entities = tuple(e for e in entities if e == entity or not (skip_amounts and e.kind == AMOUNT))
    first = last = entities.index(entity)
    while first > 0 and _owned_by(text[entities[first - 1].end:entities[first].start]):
        first -= 1
    while last + 1 < len(entities) and not text[entities[last].end:entities[last + 1].start].strip():
        last += 1
    start = entities[first].start
    # "that budget" in an earlier question is "the budget" now; "the" stays as it was.
    before = re.search(r"\b(?:the|this|that|these|those)\s+(?:£\S+\s+)?$", text[:start], re.I)
    phrase = text[start:entities[last].end]
    canonical_first = entities[first].canonical.split()[0]
    if canonical_first.islower() and canonical_first == phrase.split()[0].lower():
        phrase = phrase[:1].lower() + phrase[1:]  # a common noun capitalised only to start a sentence
    # The vocabulary says which names take "the" ("the BMA"); else keep the earlier text's article.
    wants_article = before is not None or entities[first].canonical.lower().startswith("the ")
    return ("the " if wants_article and not phrase.lower().startswith("the ") else "") + phrase


_POSSESSIVE_GAP = re.compile(r"['’]s\s+(?:[a-z-]+\s+){0,2}")


def _owned_by(gap: str) -> bool:
    """Whether the gap between two names joins them: side by side ("London CCGs"), or the first
    owning the second ("the Health Secretary's new contract") with no preposition between."""
    if not gap.strip():
        return True
    return _POSSESSIVE_GAP.fullmatch(gap) is not None and not set(gap.lower().split()) & FUNCTION_WORDS


def _is_possessor(text: str, entity: Mention) -> bool:
    return re.match(r"['’]s\b", text[entity.end:]) is not None


def fit_phrase(text: str, anaphor: Anaphor, phrase: str) -> str:
    """The phrase in the anaphor's grammatical place: possessive, "of the CCGs", capitalised."""
    if anaphor.possessive:
        phrase += "'" if phrase.endswith("s") else "'s"
    before = text[:anaphor.start].split()
    first = phrase.split()[0]
    common = first.islower() or (first.endswith("s") and first[:-1].isupper())  # "practices", "CCGs"
    if anaphor.kind == "plural" and before and before[-1].lower() == "of" and common and first != "the":
        phrase = "the " + phrase  # "how many of them" -> "how many of the CCGs"
    if anaphor.start == 0 or text[anaphor.start].isupper():
        phrase = phrase[:1].upper() + phrase[1:]
    return phrase
