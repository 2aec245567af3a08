"""Question intent: does a question ask what people think (opinion) or what happened (fact)?

Opinion questions are best answered from reader comments; fact questions from article bodies.
The rules are general English phrasing patterns, checked in order; the first that fires decides.
"""
from __future__ import annotations

import re

OPINION = "opinion"
FACT = "fact"
INTENTS = (OPINION, FACT)

# Words that name the comment section or the people writing in it: asking about them is asking
# for opinion, whatever the verb ("what did commenters say", "in the comments").
_COMMENT_WORDS = re.compile(
    r"\b(?:comment(?:s|ers?|ing)?|commentators?|readers?|below the line|have your say)\b", re.I
)

# Verbs and nouns of opinion: a question built on them asks what someone thinks or feels.
_OPINION_WORDS = re.compile(
    r"\b(?:think|thinks|thought|thoughts|feel|feels|felt|feelings?|opinions?|views?|viewpoints?"
    r"|believe[sd]?|beliefs?|react(?:s|ed|ion|ions)?|sentiment|attitudes?|mood|perceptions?"
    r"|perceive[sd]?|impressions?)\b",
    re.I,
)

# People whose stance a question may ask about: the profession the readership is made of, or
# anyone at all ("was anyone against it?"). Not the bare "GP", which mostly modifies a noun
# ("GP services", "GP contract").
_HOLDERS = re.compile(
    r"\b(?:GPs|doctors|clinicians|colleagues|partners|professionals|profession|people|readers"
    r"|anyone|anybody|someone|somebody|everyone|everybody|nobody|no one)\b",
    re.I,
)

# Taking sides against or for something: asked of a holder ("were GPs against it?") or as a
# "who" question ("who opposed the plans?"), these ask for a stance, which the comments carry.
_OPPOSING = re.compile(
    r"\b(?:against|for or against|in favou?r|opposed?|opposing|opposition|object(?:s|ed|ions?)?"
    r"|critici[sz](?:e|es|ed|m)|critical|sceptic(?:al|s)?|skeptic(?:al|s)?|complain(?:s|ed|ts?)?"
    r"|disagree[sd]?|disapprove[sd]?|backlash|resist(?:ed|ance)?|welcome[sd]?)\b",
    re.I,
)

# Milder stance words that are also everyday verbs ("who will support practices?"): opinion
# only when asked of a holder ("do GPs support it?", "what concerns did doctors raise?").
_FEELING = re.compile(
    r"\b(?:support(?:s|ed|ive)?|agree[sd]?|approve[sd]?|happy|unhappy|angry|annoyed|upset"
    r"|worri(?:ed|es)|worry|concerns?|concerned|fears?|feared|praise[sd]?)\b",
    re.I,
)

# Saying and arguing: opinion only when the speaker is an opinion holder ("what did GPs say?");
# "what did NHS England say?" asks for an official statement, which is a fact in an article.
_SAY_WORDS = re.compile(
    r"\b(?:say|says|said|saying|argue[sd]?|arguing|claim(?:s|ed)?|suggest(?:s|ed)?)\b", re.I
)

# A named person or an office holder: what they think, fear or said is reported in articles (quotes with
# their speaker), not in comments ("what does the head of the doctors' union fear?", "what did Dr Vell say?").
_NAMED_SPEAKER = re.compile(
    r"\b(?:Dr|Mr|Mrs|Ms|Miss|Professor|Prof|Sir|Dame|Lord|Baroness)\.?\s+[A-Z]"
    r"|\b(?:head|chair(?:man|woman|person)?|chief|leader|negotiator|secretary|spokes(?:man|woman|person)|boss"
    r"|president|director|minister|chancellor|officer|executive|mayor|commissioner)s?\b(?! of (?:the )?readers)",
)

_WHO_QUESTION = re.compile(r"^\s*(?:and\s+|so\s+)?who\b", re.I)

# Where a clause ends: a holder states a stance only in its own clause ("what do town halls say they would
# do when family doctors act for themselves?" asks what the councils say, not what doctors think).
_CLAUSE_BREAK = re.compile(
    r"[,;:]|\b(?:when|whenever|if|because|since|while|whereas|although|though|unless|after|before|until"
    r"|that|which|whose|where)\b",
    re.I,
)


def opinion_cue(question: str) -> str | None:
    """The phrase that makes `question` an opinion question, or None when it asks for a fact."""
    text = question or ""
    if match := _COMMENT_WORDS.search(text):
        return match.group()
    if _NAMED_SPEAKER.search(text):
        return None  # a reported speaker's view: the article quotes it
    if match := _OPINION_WORDS.search(text):
        return match.group()
    if _WHO_QUESTION.search(text) and (match := _OPPOSING.search(text)):
        return match.group()
    return _holders_stance(text, (_OPPOSING, _FEELING, _SAY_WORDS))


def _holders_stance(text: str, patterns) -> str | None:
    """The first stance word (of `patterns`, in order) in a clause that names an opinion holder."""
    clauses = [clause for clause in _CLAUSE_BREAK.split(text) if _HOLDERS.search(clause)]
    for pattern in patterns:
        for clause in clauses:
            if match := pattern.search(clause):
                return match.group()
    return None


def question_intent(question: str) -> str:
    """Return "opinion" if the question asks what people think, felt or said, else "fact"."""
    return OPINION if opinion_cue(question) is not None else FACT


def wants_comments(question: str) -> bool:
    """True when the question is best answered from reader comments (an opinion question)."""
    return question_intent(question) == OPINION
