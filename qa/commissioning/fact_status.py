"""The status of a commissioning fact (in force, planned, proposed, demanded or opposed) and who
proposed it, from the modal, reporting and negating words around its trigger. Used by `qa.commissioning`.
"""
from __future__ import annotations

import re

from .relations import MODIFIER_BEFORE, FoundTrigger
from .vocabulary import Mention

__all__ = ["STATUSES", "status_of", "cue_status", "find_proposer", "stance_holder"]

STATUSES = ("in force", "planned", "proposed", "demanded", "opposed")

_STATUS_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("opposed", re.compile(r"\b(?:reject(?:ed|s)?|oppos(?:e|ed|es|ing)|object(?:s|ed)?|should\s+not|must\s+not|resist|refus(?:e|ed|es|ing)|against|"
                           r"unwilling|reluctant|(?:no|little|not\s+(?:\w+\s+){0,2}(?:an?\s+)?)(?:appetite|desire|willingness|support))\b", re.I)),
    ("demanded", re.compile(r"\b(?:demand(?:s|ed|ing)?|calls?\s+(?:on|for)|called\s+(?:on|for)|should|must|we\s+believe|insist(?:s|ed)?|urg(?:e|es|ed))\b", re.I)),
    ("proposed", re.compile(r"\b(?:could|would|might|may|potentially|propos(?:al|als|ed|es|ing)|options?|opportunity|suggest(?:s|ed)?|under\s+discussion|being\s+discussed|expressed\s+(?:an\s+)?interest|bids?|consult(?:ation|ing)?)\b", re.I)),
    ("planned", re.compile(r"\b(?:will|shall|(?:asked|required|due|agreed)\s+to|(?:is|are)\s+to|is\s+set\s+to|are\s+set\s+to|to\s+be|plans?\s+to|planning|hopes?\s+to|expected\s+to|being\s+developed|going\s+to|timetable|deadline)\b", re.I)),
)
_NEGATED = re.compile(r"\b(?:not|never|no\s+longer|refuses?\s+to|refused\s+to)\s+(?:\w+\s+)?$", re.I)
_INDICATIVE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|now|already|currently|remains?)\b"
    r"(?!\s+(?:\w+ly\s+)?(?:said|told|written|reported|warned|claimed|argued|announced|suggested|stated|added|explained)\b)",
    re.I)
_PROPOSING_VERB = (r"(?:has\s+|have\s+|had\s+)?(?:announced|announces|proposed|proposes|propose|suggested|suggests|"
                   r"demanded|demands|demanding|called|calls|wants|want|rejected|rejects|insisted|insists|said|says)")
_PROPOSED_BY = re.compile(
    r"(?:(?:announced|released|proposed|published|set\s+out|suggested|put\s+forward|demanded|envisaged)(?:\s+by)?|"
    r"(?:letter|proposals?|plans?|timetable|announcement|offer|overview|report|document|consultation)\s+(?:from|by|of))\s+$", re.I)
_POSSESSIVE_PROPOSAL = re.compile(r"^(?:\s+[A-Z][\w-]+){0,3}['’]s\s+(?:announcement|proposals?|plans?|timetable|offer|letter)", re.I)
_SPEAKER_AFTER = re.compile(r"(?:\s+[\w-]+){0,4}\s+(?:has\s+|have\s+)?(?:said|says|wrote|writes)\s+that\b", re.I)


def status_of(sentence: str, item: FoundTrigger, context: str | None) -> str:
    """Modality nearest before the trigger; else the tense there; else cues after it, in the sentence, the list."""
    if _NEGATED.search(sentence[item.before:item.start]):
        return "opposed"  # "would not devolve": the sentence says it will not happen
    nearest = _nearest_cue(sentence[item.before:item.start] + _own_stance(sentence[item.start:item.end]))
    if nearest:
        return nearest
    if _INDICATIVE.search(sentence[item.before:item.end]):
        return "in force"
    rest = sentence[:item.start] + " " * (item.end - item.start) + sentence[item.end:]
    return cue_status(sentence[item.end:item.after]) or cue_status(rest) or context or "in force"


def _own_stance(trigger_text: str) -> str:
    """A trigger's words count as a stance only when they reject or demand ("rejected"), not "must approve"."""
    return trigger_text if re.match(r"(?:reject|oppos|demand)", trigger_text, re.I) else ""


def _nearest_cue(text: str) -> str | None:
    """The status whose cue ends closest to the end of text (the trigger); stronger stances win ties."""
    best: tuple[int, int, str] | None = None
    for rank, (status, cue) in enumerate(_STATUS_CUES):
        for match in cue.finditer(text):
            key = (match.end(), -rank, status)
            best = max(best, key) if best else key
    return best[2] if best else None


def cue_status(text: str) -> str | None:
    return next((status for status, cue in _STATUS_CUES if cue.search(text)), None)


def find_proposer(sentence: str, actors: list[Mention], bodies: list[Mention]) -> str | None:
    """The body a sentence reports as announcing, proposing or demanding what it describes.
    `bodies` are the sentence's `find_bodies`, `actors` those of them that can act."""
    for mention in actors:
        if _PROPOSED_BY.search(sentence[:mention.start]) or _POSSESSIVE_PROPOSAL.match(sentence[mention.end:]):
            return mention.canonical
        if re.match(rf"\s+{_PROPOSING_VERB}\b", sentence[mention.end:], re.I):
            return mention.canonical
    for mention in bodies:  # roles: "health secretary X's announcement", "the chair of X has said"
        if _POSSESSIVE_PROPOSAL.match(sentence[mention.end:]) or (
                MODIFIER_BEFORE.search(sentence[:mention.start]) and _SPEAKER_AFTER.match(sentence[mention.end:])):
            return mention.canonical
    return None


def stance_holder(sentence: str, item: FoundTrigger, actors: list[Mention], status: str) -> str | None:
    """Who demands or opposes: the nearest body before the demanding or rejecting word."""
    if status not in ("demanded", "opposed"):
        return None
    cue = dict(_STATUS_CUES)[status].search(sentence, item.before, item.end)
    if cue is None:
        return None
    before = [m for m in actors if m.end <= cue.start() and cue.start() - m.end <= 60]
    return before[-1].canonical if before else None
