"""Who a news text names outside its quotes: people with the roles given them, and documents.

No list of people is used: titles, role words, capitalisation and appositives ("Simon Stevens,
chief executive of NHS England,") find names, and a bare surname resolves to the full name first
introduced. The word lists here also serve speaker attribution (`attribution`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.records import DOCUMENT, PERSON, Mention

__all__ = [
    "ROLE_WORD_SET", "DOCUMENT_NOUNS", "ORGANISATION_WORDS",
    "FUNCTION_WORDS", "NAME_PATTERN", "SPEECH_VERB", "NamedMention", "people_mentions", "document_mentions",
    "word_tokens", "is_nameish",
]

_TITLES = "Dr|Mr|Mrs|Ms|Miss|Mx|Professor|Prof|Sir|Dame|Lord|Lady|Baroness|Cllr|Councillor"
_ROLE_WORDS = (
    "chair|chairman|chairwoman|vice-chair|deputy|chief|executive|officer|secretary|negotiator|member|"
    "director|president|minister|chancellor|mayor|spokesperson|spokesman|spokeswoman|lead|leader|head|"
    "partner|manager|adviser|advisor|consultant|founder|editor|treasurer|governor|councillor|trustee|"
    "representative|commissioner|professor|dean|registrar|surgeon|pharmacist|nurse|GP|MP"
)
ROLE_WORD_SET = set(_ROLE_WORDS.lower().split("|"))
DOCUMENT_NOUNS = (
    "letter|document|overview|report|paper|guidance|statement|consultation|review|briefing|memo|"
    "bulletin|strategy|framework|email|circular|minutes|survey|response|submission|manifesto|white paper"
)
ORGANISATION_WORDS = {
    "council", "councils", "trust", "board", "group", "association", "college", "society", "foundation",
    "department", "service", "services", "health", "care", "england", "partnership", "committee",
    "network", "alliance", "federation", "institute", "university", "hospital", "surgery", "practice",
    "authority", "commission", "conference", "office", "government", "treasury", "centre", "union",
    "agency", "forum", "fund", "party", "parliament", "forest",
}
# Capitalised words that start sentences or clauses but never name a speaker.
_STOP_CAPS = set(
    "The A An But And However It He She They We I You This That These Those Others Some Many Most All Both "
    "Each Several In At On Of For Under With As If When While Yet So Or Nor Meanwhile Elsewhere Exclusive "
    "There Here Its Their His Her Our My Your Also Then Now Today Yesterday Last Next Crucially "
    "Spearheaded Following After Before During Despite Since By From Into Across Throughout Within "
    "January February March April May June July August September October November December".split()
)
FUNCTION_WORDS = {"a", "an", "the", "of", "for", "in", "at", "and", "on", "to", "&", "with", "from", "by", "as",
             "that", "which", "who", "this", "its", "their", "his", "her", "it", "is", "was", "are", "were"}

NAME_PATTERN = r"(?:O[’'])?[A-Z][a-z]*[A-Z]?[a-z]+(?:-[A-Z][a-z]*[A-Z]?[a-z]+)*"
_TITLED = re.compile(rf"\b(?:{_TITLES})\.?\s+{NAME_PATTERN}(?:\s+{NAME_PATTERN}){{0,2}}")
_ROLE_THEN_NAME = re.compile(rf"\b(?i:{_ROLE_WORDS})\s+({NAME_PATTERN}(?:\s+{NAME_PATTERN}){{1,2}})")
_NAME_THEN_ROLE = re.compile(
    rf"\b({NAME_PATTERN}\s+{NAME_PATTERN}(?:\s+{NAME_PATTERN})?),\s+"
    rf"(?=(?:an?\s+|the\s+)?(?:[\w&-]+\s+){{0,4}}?(?i:{_ROLE_WORDS.replace('|GP', '')})\b|an?\s+GP\b)"
)
_DOC_MENTION = re.compile(
    rf"\b(?i:the|a|an|this|its|their)\s+(░+\s+|(?:[a-z][\w-]*\s+){{0,2}}?)({DOCUMENT_NOUNS})\b"
    rf"(?:\s+from\s+(?:the\s+)?([A-Z][\w’'-]*(?:\s[A-Z][\w’'-]*)*))?"
)
# Verbs of saying: one ends a name's appositive here, and cues a quote in `attribution`.
SPEECH_VERB = re.compile(
    r"\b(said|says|say|told|tells|added|adds|warned|warns|warn|explained|explains|claimed|claims|claim|"
    r"stated|states|announced|announces|argued|argues|argue|insisted|insists|urged|urges|advised|advises|"
    r"suggested|suggests|suggest|reported|reports|acknowledged|admitted|admits|noted|stressed|stresses|"
    r"emphasised|emphasises|echoed|echoes|believes|believe|predicted|predicts|maintained|maintains|"
    r"described|describes|recommended|recommends|confirmed|confirms|wrote|written|writes|replied|"
    r"concluded|commented|conceded|demanded|demands|demand|(?:called|calls|calling)(?=\s+(?:for|on)\b)|"
    r"saying|stating|demanding|adding|warning|claiming|arguing|insisting|urging|explaining|suggesting|"
    r"describing|telling|noting|stressing|promised|promises|pledged|pledges|vowed|vows)\b"
)
_ROLE_SET_OFF = re.compile(
    rf"(?:^|[.!?]\s+|\n|(?:But|And|However),?\s+)((?:[A-Z][\w’'&-]*\s+){{0,3}}(?:(?i:{_ROLE_WORDS})\s*)+"
    rf"(?:(?:of|for|at)\s+[^,.;:░\n]{{1,50}})?),\s*$"
)
_TOKEN = re.compile(r"[^\W_](?:[\w&-]|[’'](?=\w))*|[^\w\s]")


@dataclass(frozen=True)
class NamedMention(Mention):
    """A person (kind PERSON) or document (DOCUMENT) named outside quotes: a `Mention` whose canonical name is
    the full name first introduced ("Stevens" -> "Simon Stevens") or the document's ("London Councils'
    letter"), with what attributing a quote to it needs besides."""

    role: str | None  # as the text gives it: "chief executive of NHS England"
    tail: int  # end of the name plus any appositive role (", chief executive of X,"); `end` is the name's own
    head: str = ""  # a document's noun, so "the letter" finds "London Councils' letter"


def people_mentions(text: str, masked: str) -> list[NamedMention]:
    """Person mentions in order, each resolved to the full name and role first introduced."""
    found: list[tuple[int, int]] = []
    for match in _TITLED.finditer(masked):
        found.append(match.span())
    for pattern in (_ROLE_THEN_NAME, _NAME_THEN_ROLE):
        for match in pattern.finditer(masked):
            words = match.group(1).split()
            if not any(w in _STOP_CAPS or w.lower() in ORGANISATION_WORDS or w.lower() in ROLE_WORD_SET
                       or re.fullmatch(_TITLES, w) for w in words):
                found.append(match.span(1))
    spans = sorted(set(found), key=lambda span: (span[0], -span[1]))
    # Sorted by start, longest first: a span lies inside another exactly when an earlier one reaches its end.
    kept, reach = [], -1
    for span in spans:
        if span[1] > reach:
            kept.append(span)
        reach = max(reach, span[1])
    registry: dict[str, tuple[str, str | None]] = {}  # surname -> (full name, role)
    mentions = []
    for start, end in kept:
        name = re.sub(r"[’']s$", "", text[start:end])
        end, wording = start + len(name), name
        role, tail = _role_before(masked, start), end
        if role is None:
            role, tail = _appositive(masked, end)
        words = [w for w in name.split() if not re.fullmatch(rf"(?:{_TITLES})\.?", w)]
        known = registry.get(words[-1])
        if len(words) >= 2 or known is None:
            if known is None or len(known[0].split()) < len(name.split()):
                registry[words[-1]] = (name, role or (known[1] if known else None))
        else:
            name, role = known[0], role or known[1]
        if role and registry[words[-1]][1] is None:
            registry[words[-1]] = (registry[words[-1]][0], role)
        mentions.append(NamedMention(start, end, wording, name, PERSON, role, tail))
    return mentions


def _role_before(masked: str, start: int) -> str | None:
    """A role written just before a name: "BMA chair", "NHS England chief executive"."""
    tokens = word_tokens(masked, max(0, start - 120), start)
    run: list[re.Match] = []
    for token in reversed(tokens):
        word = token.group()
        if word.lower() in ROLE_WORD_SET or (is_nameish(word) and run) or (word in ("of", "and") and run):
            run.insert(0, token)
        else:
            break
    while run and (run[0].group() in ("of", "and") or (run[0].group().lower() not in ROLE_WORD_SET and not run[1:])):
        run.pop(0)
    if not run or run[-1].group().lower() not in ROLE_WORD_SET:
        set_off = _ROLE_SET_OFF.search(masked, max(0, start - 120), start)  # "NHS England's director of X, Dr Y"
        return set_off.group(1) if set_off else None
    return masked[run[0].start() : run[-1].end()]


_AFTER_NAME = re.compile(r",\s+")
_SET_OFF_ROLE = re.compile(r"[^,.;:░]{1,140},")


def _appositive(masked: str, end: int) -> tuple[str | None, int]:
    """A role set off after a name ("Simon Stevens, chief executive of NHS England,") and where it ends.
    Matched in place (pattern.match(text, pos)): slicing off the rest of the page for every name made a long
    article quadratic."""
    after = _AFTER_NAME.match(masked, end)
    if not after:
        return None, end
    start = after.end()
    comma = _SET_OFF_ROLE.match(masked, start)
    if comma and not SPEECH_VERB.search(comma.group()):
        stop = comma.end() - 1
    else:
        stop = start
        for token in word_tokens(masked, start, min(len(masked), start + 140)):
            word = token.group()
            if word[0].islower() and word not in FUNCTION_WORDS and word.lower() not in ROLE_WORD_SET:
                break
            if not word[0].isalnum():
                break
            stop = token.end()
    role = re.sub(r"^(?:an?|the)\s+", "", masked[start:stop].strip())
    if not any(w.lower() in ROLE_WORD_SET for w in role.split()):
        return None, end
    tail = stop + 1 if masked[stop : stop + 1] == "," else stop
    return role, tail


def document_mentions(text: str, masked: str) -> list[NamedMention]:
    """Document mentions: "the letter from London Councils" becomes "London Councils' letter"."""
    mentions: list[NamedMention] = []
    for match in _DOC_MENTION.finditer(masked):
        noun, source = match.group(2).lower(), match.group(3)
        earlier = [d for d in mentions if d.head == noun]
        if source:
            source = source.strip()
            name = f"{source}' {noun}" if source.endswith("s") else f"{source}'s {noun}"
        elif not match.group(1).strip() and earlier:
            name = earlier[-1].canonical  # "the overview" is the overview named before
        else:
            name = (text[match.start(1) : match.end(1)] + noun).strip()
        mentions.append(NamedMention(match.start(), match.end(), text[match.start():match.end()], name, DOCUMENT, None,
                                     match.end(), head=noun))
    return mentions


def word_tokens(text: str, start: int, end: int) -> list[re.Match]:
    return list(_TOKEN.finditer(text, start, end))


def is_nameish(word: str) -> bool:
    return word[:1].isupper() and word not in _STOP_CAPS and not re.fullmatch(rf"(?:{_TITLES})\.?", word)
