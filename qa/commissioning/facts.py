"""Who commissions what: cited commissioning facts read from article sentences, without a model.

The rules know English, not the corpus: bodies, services and places come from `vocabulary`,
relations from verb patterns (`relations`), status from modal and reporting words
(`fact_status`). Reader comments are opinion, so only the article body is read.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from index.records import Document
from index.sentences import split_sentences
from qa.errors import InputError

from .fact_status import STATUSES, cue_status, find_proposer, stance_holder, status_of
from .relations import (
    RELATION_GROUPS,
    RELATIONS,
    FoundTrigger,
    bodies_for,
    compatible,
    find_triggers,
    is_actor,
    primary_group,
    services_covered,
)
from .vocabulary import (
    Mention,
    canonical_body,
    canonical_place,
    canonical_service,
    find_amounts,
    find_bodies,
    find_places,
    find_services,
)

__all__ = [
    "CommissioningFact", "RELATIONS", "STATUSES", "RELATION_GROUPS", "compatible",
    "extract_facts", "extract_all", "extract_from_files", "filter_facts",
]


@dataclass(frozen=True)
class CommissioningFact:
    """One claim of who commissions, holds, approves or gives up what, with the sentence that says it."""

    body: str  # canonical name from the vocabulary
    body_text: str  # the wording in the sentence
    relation: str  # one of RELATIONS
    relation_text: str
    covers: tuple[str, ...]  # canonical services
    covers_text: tuple[str, ...]
    budget: str | None  # a sum such as "£6bn", when the sentence gives one for a budget
    place: str | None
    when: str | None  # the date phrase as written: "by April 2013", "within a year"
    status: str  # one of STATUSES
    proposer: str | None  # canonical body that announced, proposed, demanded or opposed it
    doc_id: str
    title: str
    sentence: str
    sentence_start: int  # offsets into Document.text
    sentence_end: int
    source: str = ""  # the file the document came from

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["covers"], data["covers_text"] = list(self.covers), list(self.covers_text)
        return data


# --- when, where and how much -------------------------------------------------------------------
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_WHEN = re.compile(
    r"(?<![\w-])(?i:by|from|in|during|within|until|before|after|since|as\s+early\s+as|no\s+later\s+than|starting|"
    r"beginning|at\s+the\s+end\s+of|ahead\s+of|this|next|last)\s+(?:the\s+)?"
    rf"(?:\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}(?:\s+\d{{4}}|\s+(?i:next|this|last)\s+year)?|(?:19|20)\d\d(?:/\d\d)?"
    r"|(?i:(?:next|this|last|the\s+next|the\s+coming)\s+(?:financial\s+)?(?:year|month|spring|summer|autumn|winter)"
    r"|year|a\s+year|(?:\d+|two|three|four|five|six|twelve|eighteen)\s+(?:months|years|weeks)))(?![\w-])"
)
_REPORTED_DATE = re.compile(r"(?:announced|released|reported|dated|published|wrote|written)\s+(?:[\w-]+\s+){0,5}$",
                            re.I)
_PERSON_PLACE = re.compile(r"(?:\bGP|doctor|partner|resident|based|born)\s+in\s+$", re.I)
_LIST_ITEM = re.compile(r"^\s*[•*\-–]\s")
_NATIONS = ("England", "Scotland", "Wales", "Northern Ireland", "UK")  # in national bodies' names


def extract_facts(document: Document) -> list[CommissioningFact]:
    """Every commissioning fact stated in the document's article text, in text order."""
    if not isinstance(document, Document):
        raise InputError(f"extract_facts needs a Document, got {type(document).__name__}")
    facts: list[CommissioningFact] = []
    context: str | None = None
    for start, end in split_sentences(document.text):
        sentence = document.text[start:end]
        if not _LIST_ITEM.match(sentence):
            context = None  # a list's lead-in ("Options being considered include:") governs its items only
        facts.extend(_sentence_facts(document, sentence, start, context))
        if sentence.rstrip().endswith(":"):
            context = cue_status(sentence)
    return facts


def extract_all(documents: Iterable[Document]) -> list[CommissioningFact]:
    """The facts of every document, in document order."""
    return [fact for document in documents for fact in extract_facts(document)]


def extract_from_files(paths: Iterable[str | Path]) -> list[CommissioningFact]:
    """Load magazine pages or JSONL archives and extract their facts."""
    from index.ingest import load_documents  # imported late: only file users need the parser

    return extract_all(load_documents(paths))


def filter_facts(facts: Iterable[CommissioningFact], body: str | None = None, place: str | None = None,
                 covers: str | None = None) -> list[CommissioningFact]:
    """Facts about a body, place and service, matched case-insensitively by canonical name or wording."""
    for name, value in (("body", body), ("place", place), ("covers", covers)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InputError(f"{name} must be a non-empty string or None, got {value!r}")
    facts = list(facts)
    if not all(isinstance(fact, CommissioningFact) for fact in facts):
        raise InputError("filter_facts needs CommissioningFact items, as returned by extract_facts")
    return [
        fact for fact in facts
        if (body is None or _same(body, canonical_body(body), fact.body, [fact.body_text]))
        and (place is None or _same(place, canonical_place(place), fact.place or "", []))
        and (covers is None or any(_same(covers, canonical_service(covers), c, list(fact.covers_text))
                                   for c in fact.covers or ("",)))
    ]


def _same(query: str, canonical: str, value: str, wordings: Sequence[str]) -> bool:
    query = query.strip().lower()
    return (canonical.lower() == value.lower() or query == value.lower()
            or any(query == w.lower() or query in w.lower().split(" ") for w in wordings))


# --- one sentence -----------------------------------------------------------------------------------
def _sentence_facts(document: Document, sentence: str, offset: int, context: str | None) -> list[CommissioningFact]:
    bodies = find_bodies(sentence)
    if not bodies:
        return []
    services = [s for s in find_services(sentence)  # "primary care" in "primary care networks" is a name
                if not any(b.start <= s.start and s.end <= b.end and b.end - b.start > s.end - s.start for b in bodies)]
    actors = [m for m in bodies if is_actor(sentence, m, services)]
    found = find_triggers(sentence, services)
    proposer = find_proposer(sentence, actors, bodies)
    raw: list[tuple[Mention, str, FoundTrigger]] = []
    for item in found:
        for body, relation in bodies_for(sentence, item, bodies, actors):
            raw.append((body, relation, item))
    facts: list[CommissioningFact] = []
    for body, relation, item in raw:
        covered = services_covered(item, services)
        status = status_of(sentence, item, context)
        facts.append(CommissioningFact(
            body=body.canonical, body_text=body.text, relation=relation,
            relation_text=sentence[item.start:item.end],
            covers=tuple(dict.fromkeys(m.canonical for m in covered)),
            covers_text=tuple(dict.fromkeys(m.text for m in covered)),
            budget=_budget(sentence, covered), place=_place(sentence, body, bodies),
            when=_when(sentence, item), status=status,
            proposer=proposer or stance_holder(sentence, item, actors, status),
            doc_id=document.id, title=document.title, sentence=sentence,
            sentence_start=offset, sentence_end=offset + len(sentence), source=document.source,
        ))
    return _merge(facts)


def _when(sentence: str, item: FoundTrigger) -> str | None:
    dates = [m for m in _WHEN.finditer(sentence) if not _REPORTED_DATE.search(sentence[:m.start()])]
    after = [m for m in dates if item.end <= m.start() and m.end() <= max(item.after, item.end + 60)]
    before = [m for m in dates if item.before <= m.start() and m.end() <= item.start]
    chosen = after[0] if after else (before[-1] if before else None)
    return chosen.group() if chosen else None


def _place(sentence: str, body: Mention, bodies: list[Mention]) -> str | None:
    """The place in the body's own name ("NHS Sefton"), else the place nearest to it outside other names."""
    places = [p for p in find_places(sentence) if not _PERSON_PLACE.search(sentence[:p.start])]
    own = [p for p in places if body.start <= p.start and p.end <= body.end and p.canonical not in _NATIONS]
    if own:
        return own[0].canonical
    free = [p for p in places if not any(m.start <= p.start and p.end <= m.end for m in bodies)]
    if not free:
        return None
    return min(free, key=lambda p: min(abs(p.start - body.end), abs(body.start - p.end))).canonical


def _budget(sentence: str, covered: list[Mention]) -> str | None:
    budgets = [m for m in covered if m.canonical == "budget"]
    amounts = find_amounts(sentence)
    if not budgets or not amounts:
        return None
    target = budgets[0]
    return min(amounts, key=lambda a: min(abs(a.start - target.end), abs(target.start - a.end))).canonical


def _merge(facts: list[CommissioningFact]) -> list[CommissioningFact]:
    """One fact per body and kind of relation in a sentence; later mentions add what they cover."""
    merged: dict[tuple[str, str], CommissioningFact] = {}
    for fact in facts:
        key = (fact.body + "|" + fact.body_text, primary_group(fact.relation))
        if key not in merged:
            merged[key] = fact
            continue
        first = merged[key]
        merged[key] = replace(first, covers=tuple(dict.fromkeys(first.covers + fact.covers)),
                               covers_text=tuple(dict.fromkeys(first.covers_text + fact.covers_text)),
                               budget=first.budget or fact.budget, when=first.when or fact.when)
    return list(merged.values())
