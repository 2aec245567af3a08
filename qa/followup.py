"""Follow-up resolution: rewrite an elliptical question against the conversation so far.

"How many of them?", "and in London?" or "who chairs it?" mean nothing to a retriever on their
own. `resolve` carries the entities (bodies, services, places, amounts, people) and the topic of
earlier turns into such a question, and leaves self-contained questions alone. Every rule is a
plain pattern of English over the shared vocabulary (`qa.vocabulary`); none knows the corpus.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from qa import vocabulary
from qa.errors import InputError
from qa.intent import OPINION, question_intent

BODY, SERVICE, PLACE, AMOUNT, PERSON = "body", "service", "place", "amount", "person"
CONTEXT_TURNS = 3  # how far back a follow-up may reach within one topic
MAX_GIST_CHARS = 240  # the most of the earlier topic added in brackets


@dataclass(frozen=True)
class Entity:
    """A named thing in a text: its kind (BODY, SERVICE, ...), span, wording and canonical name."""

    kind: str
    start: int
    end: int
    text: str
    canonical: str


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
        return cls(question, resolved_question, *_terms(resolved_question), answer=answer)

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


# --- Words: small closed classes of English; content words are whatever is left. ----------------

_WORD = re.compile(r"[\w£][\w£-]*")
_WH = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
_AUX = {
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "has",
    "have", "had", "will", "would", "shall", "should", "can", "could", "may", "might", "must",
}
_PREPOSITIONS = {
    "about", "of", "for", "to", "with", "on", "in", "by", "from", "after", "before", "over",
    "under", "into", "at", "across", "within", "between", "against", "than", "like", "through",
}
_PRONOUNS = {
    "i", "you", "we", "they", "them", "their", "theirs", "it", "its", "he", "him", "his", "she",
    "her", "hers", "this", "that", "these", "those", "me", "us", "our", "my", "your", "one",
}
_FUNCTION = _WH | _AUX | _PREPOSITIONS | _PRONOUNS | {
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


def _words(text: str) -> list[re.Match[str]]:
    return list(_WORD.finditer(text))


def _is_content(word: str) -> bool:
    lower = word.lower()
    return lower not in _FUNCTION and lower not in _GENERIC and not lower.isdigit()


def _stem(word: str) -> str:
    """A crude singular, enough to match "budgets" with "budget" and "CCGs" with "CCG"."""
    lower = word.lower()
    return lower[:-1] if len(lower) > 3 and lower.endswith("s") and not lower.endswith("ss") else lower


# --- Entities: the shared vocabulary, plus people named with capitals ("Dr Jane Smith"). --------

def find_entities(text: str) -> list[Entity]:
    """Bodies, services, places, amounts and people named in text, in order; longest wins overlaps."""
    finders = (
        (BODY, vocabulary.find_bodies), (SERVICE, vocabulary.find_services),
        (PLACE, vocabulary.find_places), (AMOUNT, vocabulary.find_amounts),
    )
    found = [Entity(kind, m.start, m.end, m.text, m.canonical) for kind, find in finders for m in find(text)]
    kept: list[Entity] = []
    # "NHS England" is a body, not the place "England" inside it: the longer name wins.
    for entity in sorted(found, key=lambda e: (-(e.end - e.start), e.start)):
        if all(entity.end <= k.start or entity.start >= k.end for k in kept):
            kept.append(entity)
    kept.extend(_people(text, kept))
    return sorted(kept, key=lambda e: e.start)


def _people(text: str, taken: list[Entity]) -> list[Entity]:
    """Runs of capitalised words outside known names: a title and a name, or two or three names."""
    runs: list[list[re.Match[str]]] = [[]]
    for word in _words(text):
        run = runs[-1]
        inside = any(e.start <= word.start() < e.end for e in taken)
        capitalised = word.group()[:1].isupper() and word.group()[1:].islower()
        joined = bool(run) and not text[run[-1].end():word.start()].strip(" .")
        # A capitalised function word ("What", "Did") starts a question, not a name.
        if capitalised and not inside and (joined or word.group().lower() not in _FUNCTION):
            if not joined:
                runs.append([])
            runs[-1].append(word)
        elif run:
            runs.append([])
    return [person for run in runs if (person := _person(text, run))]


def _person(text: str, run: list[re.Match[str]]) -> Entity | None:
    titled = bool(run) and run[0].group().lower() in _TITLES
    if len(run) < 2 or (not titled and len(run) > 3):
        return None
    name = " ".join(w.group() for w in (run[1:] if titled else run))
    return Entity(PERSON, run[0].start(), run[-1].end(), text[run[0].start():run[-1].end()], name)


def _terms(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The canonical entities and the lower-case topic words of text, each in order, deduplicated."""
    entities = find_entities(text)
    topic = [
        w.group().lower() for w in _words(text)
        if _is_content(w.group()) and not any(e.start <= w.start() < e.end for e in entities)
    ]
    return tuple(dict.fromkeys(e.canonical for e in entities)), tuple(dict.fromkeys(topic))


# --- The conversation so far. ------------------------------------------------------------------

@dataclass(frozen=True)
class _Earlier:
    """An earlier resolved question and the lead of its answer, with the entities read from them."""

    text: str
    entities: tuple[Entity, ...]
    topic: tuple[str, ...]
    answer: str = ""
    answer_entities: tuple[Entity, ...] = ()

    @classmethod
    def of(cls, turn: Turn) -> _Earlier:
        text = turn.resolved_question
        answer_entities = tuple(find_entities(turn.answer))
        return cls(text, tuple(find_entities(text)), _terms(text)[1], turn.answer, answer_entities)

    def sources(self) -> tuple[tuple[str, tuple[Entity, ...]], ...]:
        """Where a pronoun may find its referent: the question first, then the answer to it."""
        return (self.text, self.entities), (self.answer, self.answer_entities)


def _context(history: Sequence[Turn]) -> tuple[_Earlier, ...]:
    """The turns of the current topic, latest first, at most CONTEXT_TURNS of them."""
    earlier: list[_Earlier] = []
    later: Turn | None = None  # the turn after `turn` that said something
    for turn in reversed(history):
        parsed = _Earlier.of(turn)
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
    mine, theirs = _terms(turn.resolved_question), _terms(f"{before.resolved_question} {before.answer}")
    return not (set(mine[0]) & set(theirs[0]) or {_stem(t) for t in mine[1]} & {_stem(t) for t in theirs[1]})


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
    elif anaphors := _anaphors(text, own, context):
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
    (entities_before, topic_before), (entities_after, topic_after) = _terms(question), _terms(resolved)
    carried = [t for t in entities_after if t not in entities_before]
    carried += [t for t in topic_after if t not in topic_before and t not in carried]
    return Resolution(question, resolved, resolved != question, tuple(carried), reason)


def _why_left_alone(own: list[Entity], context: tuple[_Earlier, ...]) -> str:
    if {e.canonical for e in own} & {e.canonical for earlier in context for e in earlier.entities}:
        return "self-contained: names its own subject"
    return "new topic: earlier context dropped"


# Rule: a question with no body, service, amount or person of its own and at most two topic words
# ("why?", "what happens next?", "who decides?") asks about the topic under discussion; so does
# one that shares a topic word with it. An opinion question naming only bodies ("what did GPs
# think?") asks how they took the earlier topic. "Thanks!" is no question and is left alone.
def _lacks_subject(text: str, own: list[Entity], context: tuple[_Earlier, ...]) -> str | None:
    topic = _terms(text)[1]
    subjects = [e for e in own if e.kind != PLACE]
    if subjects:
        if not topic and all(e.kind == BODY for e in subjects) and question_intent(text) == OPINION:
            return "opinion question about the earlier topic"
        return None
    if not topic and not any(w.group().lower() in _WH for w in _words(text)):
        return None  # "thanks!", "ok": an acknowledgement, not a question
    earlier_topic = {_stem(t) for earlier in context for t in earlier.topic}
    if len(topic) <= 2 or {_stem(t) for t in topic} & earlier_topic:
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


def _article_start(text: str, entity: Entity) -> int:
    """Where the entity starts, counting a "the" just before it ("the BMA")."""
    return entity.start - 4 if text[max(0, entity.start - 4):entity.start].lower() == "the " else entity.start


# --- Fragments: "and in London?", "what about NHS England?" repeat the last question, swapped. --

_LEAD = re.compile(
    r"^(?:(?:and|or|but|also|so)\s+)?(?:(?:what|how)\s+about|what\s+of|same\s+(?:for|in|with)"
    r"|likewise\s+(?:for|in))\b|^(?:and|or|also)\b",
    re.I,
)
_PLACE_PREPOSITIONS = {"in", "for", "across", "within", "outside", "around", "from"}


def _fragment(text: str, own: list[Entity]) -> str | None:
    """For a fragment, the preposition to put before a new place ("in"); None for a full question."""
    lead = _LEAD.match(text)
    rest = [w.group().lower() for w in _words(text[lead.end():] if lead else text)]
    if rest and (rest[0] in _WH | _AUX or any(w in _PRONOUNS for w in rest)):
        return None  # "and how many of them?" is a question of its own, with a pronoun
    if (lead and len(rest) <= 5) or (own and len(rest) <= 3):
        return next((w for w in rest if w in _PLACE_PREPOSITIONS), "in")
    return None


def _resolve_fragment(
    text: str, own: list[Entity], preposition: str, context: tuple[_Earlier, ...]
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


# --- Anaphora: pronouns and demonstratives that point back at an earlier turn. ----------------

@dataclass(frozen=True)
class _Anaphor:
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
_BEFORE_POINTING = _AUX | _PREPOSITIONS | _WH | {"and", "but", "so", "or"}
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


def _anaphors(text: str, own: list[Entity], context: tuple[_Earlier, ...]) -> list[_Anaphor]:
    """The pronouns and demonstratives in text that point back at an earlier turn, in order."""
    words = _words(text)
    earlier_stems = {_stem(w.group()) for earlier in context for w in _words(earlier.text)}
    found = []
    for i, word in enumerate(words):
        lower = word.group().lower()
        if lower in _PERSONAL:
            found.append(_personal(text, words, i))
        elif lower in _DEMONSTRATIVES:
            found.append(_demonstrative(text, words, i, own, earlier_stems))
    return [anaphor for anaphor in found if anaphor is not None]


def _personal(text: str, words: list[re.Match[str]], i: int) -> _Anaphor | None:
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
    possessive = lower in _POSSESSIVE or (lower == "her" and after is not None and _is_content(after.group()))
    return _Anaphor(word.start(), word.end(), kind, possessive)


def _demonstrative(
    text: str, words: list[re.Match[str]], i: int, own: list[Entity], earlier_stems: set[str]
) -> _Anaphor | None:
    word, lower, after = words[i], words[i].group().lower(), _next_word(text, words, i)
    before = words[i - 1].group().lower() if i else None
    if after is not None and after.group().lower() in _TIME_NOUNS | {"who", "which", "that"}:
        return None  # "this year", "those who..." point elsewhere
    named = next((e for e in own if after is not None and e.start == after.start()), None)
    pointing = before is None or before in _BEFORE_POINTING or lower != "that"
    if named is not None and pointing:  # "that budget", naming what it points at
        return _Anaphor(word.start(), named.end, "noun")
    if named is None and after is not None and _stem(after.group()) in earlier_stems:
        return _Anaphor(word.start(), after.end(), "noun")  # "that timetable", said before
    if named is None and (after is None or pointing):  # "when will that happen?"
        return _Anaphor(word.start(), word.end(), "event")
    return None


def _next_word(text: str, words: list[re.Match[str]], i: int) -> re.Match[str] | None:
    """The word right after words[i], or None when punctuation or the end comes first."""
    if i + 1 < len(words) and not text[words[i].end():words[i + 1].start()].strip():
        return words[i + 1]
    return None


def _following(words: list[re.Match[str]], i: int) -> str | None:
    """The word after words[i], skipping one auxiliary ("it is true", "it will happen")."""
    rest = [w.group().lower() for w in words[i + 1:i + 3]]
    if rest and rest[0] in _AUX | {"s"}:
        rest = rest[1:]
    return rest[0] if rest else None


def _object_of(words: list[re.Match[str]], i: int, verbs: set[str]) -> bool:
    """Whether words[i] is the object of one of `verbs` ("commission it", "pay for it", "sit on it")."""
    before = [w.group().lower() for w in words[max(0, i - 2):i]]
    if before and before[-1] in {"for", "on"}:
        before = before[:-1]
    return bool(before) and before[-1] in verbs


def _resolve_anaphors(
    text: str, own: list[Entity], anaphors: list[_Anaphor], context: tuple[_Earlier, ...]
) -> tuple[str, str]:
    taken = {e.canonical for e in own}
    # In "how big is that budget?" the amount is what is asked: it stays out of the rewrite.
    size_question = re.match(r"how\s+(?:much|big|large|many)\b", text, re.I) is not None
    edits, notes, unresolved = [], [], False
    for anaphor in anaphors:
        phrase = _referent(text, anaphor, context, taken, size_question)
        if phrase is None:
            unresolved = True  # a bare "that", or no earlier entity of the right kind
            continue
        edits.append((anaphor.start, anaphor.end, _fit(text, anaphor, phrase)))
        notes.append(f"'{text[anaphor.start:anaphor.end]}' -> '{phrase}'")
    resolved = _apply(text, edits) if edits else text
    # The earlier topic is always carried: a pronoun replaced by a name ("how many of the local
    # authorities are there?") still leaves out what the conversation was about (the £6bn budget in
    # Greater Manchester), and naming the wrong one of several people is softened by the topic.
    resolved = _with_gist(resolved, own, context[0])
    if resolved != (_apply(text, edits) if edits else text):
        notes.append("added the earlier topic")
    elif unresolved:
        notes.append("nothing earlier to resolve it with")
    return resolved, "resolved: " + "; ".join(notes)


def _referent(
    text: str, anaphor: _Anaphor, context: tuple[_Earlier, ...], taken: set[str], size_question: bool
) -> str | None:
    """The earlier wording the anaphor stands for, most recent turn first; None when unclear."""
    if anaphor.kind == "noun":
        # "that budget": an earlier entity with the same canonical name, or ending in that noun.
        wording = text[anaphor.start:anaphor.end].split(maxsplit=1)[-1]
        names, noun = {e.canonical for e in find_entities(wording)}, _stem(wording.split()[-1])
        for earlier in context:
            for source, entities in earlier.sources():
                same = [e for e in entities if e.canonical in names or _stem(e.text.split()[-1]) == noun]
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


def _fits(entity: Entity, preference: tuple[str, str | None]) -> bool:
    kind, number = preference
    last = entity.text.split()[-1].lower()
    plural = last.endswith("s") and not last.endswith("ss")
    return entity.kind == kind and (number is None or (number == "plural") == plural)


def _phrase(text: str, entities: tuple[Entity, ...], entity: Entity, skip_amounts: bool = False) -> str:
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
    return _POSSESSIVE_GAP.fullmatch(gap) is not None and not set(gap.lower().split()) & _FUNCTION


def _is_possessor(text: str, entity: Entity) -> bool:
    return re.match(r"['’]s\b", text[entity.end:]) is not None


def _fit(text: str, anaphor: _Anaphor, phrase: str) -> str:
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


# --- The gist of the earlier topic, in brackets: "When will that happen (CCGs take over X)?" ----

_QUALIFIER = re.compile(r"^(?P<core>.*?)\s*\((?P<carried>[^()]*)\)\s*[?.!]*\s*$", re.S)


def _split_qualifier(text: str) -> tuple[str, list[str]]:
    """A question's own part and the carried parts in its trailing brackets, if any."""
    match = _QUALIFIER.match(text)
    if not match:
        return text.rstrip(" ?.!"), []
    return match["core"].rstrip(" ?.!"), [p.strip() for p in match["carried"].split(";") if p.strip()]


def _with_gist(text: str, own: list[Entity], last: _Earlier) -> str:
    """Text with the gist of the last turn in brackets; a new place drops the old ones from it."""
    core, carried = _split_qualifier(last.text)
    parts = [_lead_stripped(core)] + carried
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
    words, i = _words(core), 0
    while i < len(words):
        lower = words[i].group().lower()
        if lower == "how" and i + 1 < len(words) and words[i + 1].group().lower() not in _AUX:
            i += 2  # "how many", "how big"
        elif lower in _WH | _AUX | {"and", "so", "but", "or", "then"} or (i and lower in {"of", "about"}):
            i += 1
        else:
            break
    return core[words[i].start():] if i < len(words) else ""


def _without_places(part: str) -> str:
    edits = []
    for place in (e for e in find_entities(part) if e.kind == PLACE):
        before = _words(part[:place.start])
        preposition = before and before[-1].group().lower() in _PLACE_PREPOSITIONS
        edits.append((before[-1].start() if preposition else place.start, place.end, ""))
    return _replace(part, edits)


def _has_content(part: str) -> bool:
    return bool(find_entities(part)) or any(_is_content(w.group()) for w in _words(part))
