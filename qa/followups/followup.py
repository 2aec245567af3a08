"""Follow-up resolution: rewrite an elliptical question against the conversation so far.

"How many of them?", "and in London?" or "who chairs it?" mean nothing to a retriever on their
own. `resolve` carries the entities (bodies, services, places, amounts, people) and the topic of
earlier turns into such a question, and leaves self-contained questions alone. Every rule is a
plain pattern of English over the shared vocabulary (`qa.commissioning`); none knows the corpus.
Entities and topic words are read by `entities`, pronouns and their referents by `anaphora`.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa.errors import InputError
from qa.intent import OPINION, question_intent

from .anaphora import Anaphor, find_anaphors, find_referent, fit_phrase
from .entities import (
    AMOUNT,
    AUXILIARIES,
    BODY,
    PERSON,
    PLACE,
    PRONOUNS,
    SERVICE,
    WH_WORDS,
    Mention,
    entities_and_topic,
    find_entities,
    is_content_word,
    stem,
    word_matches,
)

__all__ = [
    "AMOUNT", "BODY", "CONTEXT_TURNS", "Mention", "MAX_GIST_CHARS", "PERSON", "PLACE", "Resolution", "SERVICE",
    "Turn", "find_entities", "resolve",
]

CONTEXT_TURNS = 3  # how far back a follow-up may reach within one topic
MAX_GIST_CHARS = 240  # the most of the earlier topic added in brackets


@dataclass(frozen=True)
class Turn:
    """One asked question, what it was resolved to, and the entities and topic terms it carries."""

    question: str
    resolved_question: str
    entities: tuple[str, ...] = ()  # canonical names in the resolved question, in order
    topic_terms: tuple[str, ...] = ()  # its lower-case content words outside the entities
    answer: str = ""  # the lead of the answer given, if any: "how many of them?" may point into it

    @classmethod
    def of(cls, question: str, resolved_question: str, answer: str = "") -> Turn:
        """A turn whose entities and topic terms are read from its resolved question."""
        return cls(question, resolved_question, *entities_and_topic(resolved_question), answer=answer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "resolved_question": self.resolved_question,
            "entities": list(self.entities),
            "topic_terms": list(self.topic_terms),
            "answer": self.answer,
        }


@dataclass(frozen=True)
class Resolution:
    """What `resolve` did: the question as asked and as resolved, what was carried, and why."""

    question: str
    resolved: str
    rewritten: bool
    carried: tuple[str, ...] = ()  # canonical entities, then topic terms, brought in from earlier
    reason: str = ""

    def to_turn(self, answer: str = "") -> Turn:
        """The turn to record, with the lead of the answer that was given to it."""
        return Turn.of(self.question, self.resolved, answer)


# --- The conversation so far. ------------------------------------------------------------------

@dataclass(frozen=True)
class EarlierTurn:
    """An earlier resolved question and the lead of its answer, with the entities read from them."""

    text: str
    entities: tuple[Mention, ...]
    topic: tuple[str, ...]
    answer: str = ""
    answer_entities: tuple[Mention, ...] = ()

    @classmethod
    def of(cls, turn: Turn) -> EarlierTurn:
        text = turn.resolved_question
        answer_entities = tuple(find_entities(turn.answer))
        return cls(text, tuple(find_entities(text)), entities_and_topic(text)[1], turn.answer, answer_entities)

    def sources(self) -> tuple[tuple[str, tuple[Mention, ...]], ...]:
        """Where a pronoun may find its referent: the question first, then the answer to it."""
        return (self.text, self.entities), (self.answer, self.answer_entities)


def _context(history: Sequence[Turn]) -> tuple[EarlierTurn, ...]:
    """The turns of the current topic, latest first, at most CONTEXT_TURNS of them."""
    earlier: list[EarlierTurn] = []
    later: Turn | None = None  # the turn after `turn` that said something
    for turn in reversed(history):
        parsed = EarlierTurn.of(turn)
        if not (parsed.entities or parsed.topic):
            continue  # "thanks!" says nothing to carry and changes no topic
        if later is not None and _opened_topic(later, turn):
            break
        earlier.append(parsed)
        later = turn
        if len(earlier) == CONTEXT_TURNS:
            break
    return tuple(earlier)


def _opened_topic(turn: Turn, before: Turn) -> bool:
    # A question left as asked that shares nothing with the turn before it started a new topic;
    # what came before belongs to another conversation.
    if turn.resolved_question != turn.question:
        return False
    mine = entities_and_topic(turn.resolved_question)
    theirs = entities_and_topic(f"{before.resolved_question} {before.answer}")
    return not (set(mine[0]) & set(theirs[0]) or {stem(t) for t in mine[1]} & {stem(t) for t in theirs[1]})


# --- Resolution. ---------------------------------------------------------------------------------

def resolve(question: str, history: Sequence[Turn]) -> Resolution:
    """Rewrite `question` against `history` when it leans on earlier turns; else return it as is."""
    text = _checked(question)
    context = _context(history)
    if not context:
        return Resolution(text, text, False, (), "first question: nothing to carry")
    own = find_entities(text)
    if (preposition := _fragment(text, own)) is not None:
        resolved, reason = _resolve_fragment(text, own, preposition, context)
    elif anaphors := find_anaphors(text, own, context):
        resolved, reason = _resolve_anaphors(text, own, anaphors, context)
    elif reason := _lacks_subject(text, own, context):
        resolved = _with_gist(text, own, context[0])
    else:
        return Resolution(text, text, False, (), _why_left_alone(own, context))
    return _resolution(text, resolved, reason)


def _checked(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"question must be a non-empty string, got {question!r}")
    return " ".join(question.split())


def _resolution(question: str, resolved: str, reason: str) -> Resolution:
    entities_before, topic_before = entities_and_topic(question)
    entities_after, topic_after = entities_and_topic(resolved)
    carried = [t for t in entities_after if t not in entities_before]
    carried += [t for t in topic_after if t not in topic_before and t not in carried]
    return Resolution(question, resolved, resolved != question, tuple(carried), reason)


def _why_left_alone(own: list[Mention], context: tuple[EarlierTurn, ...]) -> str:
    if {e.canonical for e in own} & {e.canonical for earlier in context for e in earlier.entities}:
        return "self-contained: names its own subject"
    return "new topic: earlier context dropped"


# Rule: a question with no body, service, amount or person of its own and at most two topic words
# ("why?", "what happens next?", "who decides?") asks about the topic under discussion; so does
# one that shares a topic word with it. An opinion question naming only bodies ("what did GPs
# think?") asks how they took the earlier topic. "Thanks!" is no question and is left alone.
def _lacks_subject(text: str, own: list[Mention], context: tuple[EarlierTurn, ...]) -> str | None:
    topic = entities_and_topic(text)[1]
    subjects = [e for e in own if e.kind != PLACE]
    if subjects:
        if not topic and all(e.kind == BODY for e in subjects) and question_intent(text) == OPINION:
            return "opinion question about the earlier topic"
        return None
    if not topic and not any(w.group().lower() in WH_WORDS for w in word_matches(text)):
        return None  # "thanks!", "ok": an acknowledgement, not a question
    earlier_topic = {stem(t) for earlier in context for t in earlier.topic}
    if len(topic) <= 2 or {stem(t) for t in topic} & earlier_topic:
        return "no subject of its own: carried the earlier topic"
    return None


def _replace(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Text with each (start, end, new) span replaced and its spaces tidied."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return " ".join(text.split())


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Like `_replace`, for a whole question: its first letter stays a capital."""
    text = _replace(text, edits)
    return text[:1].upper() + text[1:]


def _article_start(text: str, entity: Mention) -> int:
    """Where the entity starts, counting a "the" just before it ("the BMA")."""
    return entity.start - 4 if text[max(0, entity.start - 4):entity.start].lower() == "the " else entity.start


# --- Fragments: "and in London?", "what about NHS England?" repeat the last question, swapped. --

_LEAD = re.compile(
    r"^(?:(?:and|or|but|also|so)\s+)?(?:(?:what|how)\s+about|what\s+of|same\s+(?:for|in|with)"
    r"|likewise\s+(?:for|in))\b|^(?:and|or|also)\b",
    re.I,
)
_PLACE_PREPOSITIONS = {"in", "for", "across", "within", "outside", "around", "from"}


def _fragment(text: str, own: list[Mention]) -> str | None:
    """For a fragment, the preposition to put before a new place ("in"); None for a full question."""
    lead = _LEAD.match(text)
    rest = [w.group().lower() for w in word_matches(text[lead.end():] if lead else text)]
    if rest and (rest[0] in WH_WORDS | AUXILIARIES or any(w in PRONOUNS for w in rest)):
        return None  # "and how many of them?" is a question of its own, with a pronoun
    if (lead and len(rest) <= 5) or (own and len(rest) <= 3):
        return next((w for w in rest if w in _PLACE_PREPOSITIONS), "in")
    return None


def _resolve_fragment(
    text: str, own: list[Mention], preposition: str, context: tuple[EarlierTurn, ...]
) -> tuple[str, str]:
    last, edits, swaps = context[0], [], []
    for entity in own:
        if entity.canonical in {e.canonical for e in last.entities}:
            continue
        same_kind = [e for e in last.entities if e.kind == entity.kind]
        new = text[_article_start(text, entity):entity.end]
        if same_kind and entity.kind == PLACE:  # a new place replaces every old one
            edits += [(_article_start(last.text, e), e.end, new) for e in same_kind]
        elif same_kind:  # a new body or service replaces the first of its kind
            edits.append((_article_start(last.text, same_kind[0]), same_kind[0].end, new))
        elif entity.kind == PLACE:  # a place where there was none narrows the question
            end = len(_split_qualifier(last.text)[0])
            edits.append((end, end, f" {preposition} {new}"))
        else:
            return _with_gist(text, own, last), "fragment completed with the earlier topic"
        swaps.append(f"{', '.join(e.text for e in same_kind) or 'nothing'} -> {entity.text}")
    if not edits:
        return _with_gist(text, own, last), "fragment completed with the earlier topic"
    return _apply(last.text, edits), "repeated the last question with " + "; ".join(swaps)


# --- Anaphora: each pronoun found by `anaphora` gives way to the earlier wording it stands for. --

def _resolve_anaphors(
    text: str, own: list[Mention], anaphors: list[Anaphor], context: tuple[EarlierTurn, ...]
) -> tuple[str, str]:
    taken = {e.canonical for e in own}
    # In "how big is that budget?" the amount is what is asked: it stays out of the rewrite.
    size_question = re.match(r"how\s+(?:much|big|large|many)\b", text, re.I) is not None
    edits, notes, unresolved = [], [], False
    for anaphor in anaphors:
        phrase = find_referent(text, anaphor, context, taken, size_question)
        if phrase is None:
            unresolved = True  # a bare "that", or no earlier entity of the right kind
            continue
        edits.append((anaphor.start, anaphor.end, fit_phrase(text, anaphor, phrase)))
        notes.append(f"'{text[anaphor.start:anaphor.end]}' -> '{phrase}'")
    resolved = _apply(text, edits) if edits else text
    # The earlier topic is carried: a pronoun replaced by a name ("how many of the local authorities are
    # there?") still leaves out what the conversation was about (the £6bn budget in Greater Manchester).
    # Not when every pronoun was a person's and each found one: "what does Dr Vell want ..." is already
    # specific, and the earlier question's words ("chief executive of Manchester LMC") only dilute it.
    if unresolved or not all(anaphor.kind == "person" for anaphor in anaphors):
        resolved = _with_gist(resolved, own, context[0])
    if resolved != (_apply(text, edits) if edits else text):
        notes.append("added the earlier topic")
    elif unresolved:
        notes.append("nothing earlier to resolve it with")
    return resolved, "resolved: " + "; ".join(notes)


# --- The gist of the earlier topic, in brackets: "When will that happen (CCGs take over X)?" ----

_QUALIFIER = re.compile(r"^(?P<core>.*?)\s*\((?P<carried>[^()]*)\)\s*[?.!]*\s*$", re.S)


def _split_qualifier(text: str) -> tuple[str, list[str]]:
    """A question's own part and the carried parts in its trailing brackets, if any."""
    match = _QUALIFIER.match(text)
    if not match:
        return text.rstrip(" ?.!"), []
    return match["core"].rstrip(" ?.!"), [p.strip() for p in match["carried"].split(";") if p.strip()]


def _with_gist(text: str, own: list[Mention], last: EarlierTurn) -> str:
    """Text with the gist of the last turn in brackets; a new place drops the old ones from it."""
    core, carried = _split_qualifier(last.text)
    parts = [_lead_stripped(core), *carried]
    if any(e.kind == PLACE for e in own):
        parts = [_without_places(p) for p in parts]
    own_part = _split_qualifier(text)[0]
    # Two parts at most: the last question and what it carried, so gists do not snowball.
    parts = [p for p in parts if _has_content(p) and p.lower() not in own_part.lower()][:2]
    if not parts:
        return text
    gist = "; ".join(parts)
    if len(gist) > MAX_GIST_CHARS:  # a long earlier question must not make this one too long to ask
        gist = gist[:MAX_GIST_CHARS].rsplit(" ", 1)[0].rstrip(" ;,")
    return _apply(f"{own_part} ({gist})?", [])


def _lead_stripped(core: str) -> str:
    """The question without its question words: "Who commissions X in Y" -> "commissions X in Y"."""
    words, i = word_matches(core), 0
    while i < len(words):
        lower = words[i].group().lower()
        if lower == "how" and i + 1 < len(words) and words[i + 1].group().lower() not in AUXILIARIES:
            i += 2  # "how many", "how big"
        elif lower in WH_WORDS | AUXILIARIES | {"and", "so", "but", "or", "then"} or (i and lower in {"of", "about"}):
            i += 1
        else:
            break
    return core[words[i].start():] if i < len(words) else ""


def _without_places(part: str) -> str:
    edits = []
    for place in (e for e in find_entities(part) if e.kind == PLACE):
        before = word_matches(part[:place.start])
        preposition = before and before[-1].group().lower() in _PLACE_PREPOSITIONS
        edits.append((before[-1].start() if preposition else place.start, place.end, ""))
    return _replace(part, edits)


def _has_content(part: str) -> bool:
    return bool(find_entities(part)) or any(is_content_word(w.group()) for w in word_matches(part))
