"""Who commissions what: cited commissioning facts read from article sentences, without a model.

The rules know English, not the corpus: bodies, services and places come from `qa.vocabulary`,
relations from verb patterns (`_TRIGGERS`), status from modal and reporting words. Reader
comments are opinion, so only the article body is read.
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
from qa.vocabulary import (
    Mention, canonical_body, canonical_place, canonical_service, find_amounts, find_bodies,
    find_places, find_services,
)

__all__ = [
    "CommissioningFact", "RELATIONS", "STATUSES", "RELATION_GROUPS", "compatible",
    "extract_facts", "extract_all", "extract_from_files", "filter_facts",
]

STATUSES = ("in force", "planned", "proposed", "demanded", "opposed")

# Relations that say the same kind of thing; a body can hold a role through any label of a group.
RELATION_GROUPS: dict[str, frozenset[str]] = {
    "commissioning": frozenset({"commissions", "takes control of", "takes responsibility for",
                                "responsible for", "delegated to", "bids for"}),
    "budget": frozenset({"holds budget for", "takes control of", "delegated to", "manages"}),
    "running": frozenset({"runs", "manages"}),
    "devolving": frozenset({"devolves"}),
    "liability": frozenset({"retains liability for"}),
    "approval": frozenset({"approves", "must approve", "oversees"}),
    "role": frozenset({"demands role in", "has role in", "must approve", "manages"}),
    "exclusion": frozenset({"has no role in"}),
    "development": frozenset({"develops"}),
    "abolition": frozenset({"scrapped"}),
    "opposition": frozenset({"opposes"}),
}
RELATIONS = tuple(sorted(set().union(*RELATION_GROUPS.values())))


def compatible(a: str, b: str) -> bool:
    """True when two relation labels share a group (e.g. "takes control of" and "commissions")."""
    return a == b or any(a in group and b in group for group in RELATION_GROUPS.values())


def _primary_group(relation: str) -> str:
    return next(name for name, group in RELATION_GROUPS.items() if relation in group)


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


# --- relation triggers -------------------------------------------------------------------------
# Roles: who the body is, relative to the trigger.
SUBJECT = "subject"  # the body before the verb does it: "CCGs will take control of ..."
AFTER = "after"  # the body after the trigger does it: "commissioned by X", "remains with X"
GIVER = "giver"  # the body before gives it away, the body after "to" receives it
RECIPIENT = "recipient"  # the body after receives it: "devolved to X"
PATIENT = "patient"  # the body is acted on: "PCTs are to be scrapped", "replacing X"


@dataclass(frozen=True)
class _Trigger:
    relation: str
    pattern: re.Pattern[str]
    role: str


_W = r"(?:[\w'’£.-]+\s+)"  # one word and its space
_COMMISSIONING = r"(?:\s+(?:the\s+)?commissioning(?:\s+of)?)?"
_BE = r"(?:be|been|being|is|are|was|were|am)\s+(?:\w+ly\s+)?"


def _t(relation: str, pattern: str, role: str = SUBJECT) -> _Trigger:
    return _Trigger(relation, re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE), role)


_TRIGGERS: tuple[_Trigger, ...] = (
    _t("commissions", rf"{_BE}commissioned\s+by", AFTER),
    _t("commissions", rf"{_BE}contracted\s+(?:from|by)", AFTER),
    _t("commissions", r"commission|commissions|commissioned|commissioning"),  # verb use checked below
    _t("takes control of", rf"(?:take|takes|taking|took|taken|gain|gains|gaining)\s+(?:full\s+|over\s+)?control\s+(?:of|over){_COMMISSIONING}"),
    _t("takes control of", r"(?:take|takes|taking|took|taken)\s+over"),
    _t("takes responsibility for", rf"(?:take|takes|taking|took|taken|assume|assumes|assuming|assumed|have|has|having|gain|gains)\s+(?:on\s+)?{_W}{{0,2}}?responsibilit(?:y|ies)(?:\s+(?:for|of)(?:\s+(?:managing|commissioning|running))?)?"),
    _t("takes responsibility for", r"(?:take|takes|taking|took|taken)\s+on"),
    _t("responsible for", rf"(?:retain|retains|retained|retaining|keep|keeps|kept|keeping)\s+(?:{_W}{{0,2}}?)responsibilit(?:y|ies)(?:\s+(?:for|of))?"),
    _t("commissions", r"(?:award|awards|awarded|awarding|let|lets|tender|tenders|tendered|procure|procures|procured)(?=\s+(?:a\s+|the\s+|its\s+|their\s+)?(?:[\w-]+\s+){0,3}?contracts?\b)"),
    _t("responsible for", rf"(?:become\s+|becomes\s+|became\s+|remains?\s+|now\s+|solely\s+|jointly\s+|directly\s+)?responsible\s+for{_COMMISSIONING}"),
    _t("holds budget for", rf"(?:hold|holds|holding|held|manage|manages|managing|managed|control|controls|controlling)\s+{_W}{{0,10}}?budgets?(?:\s+for{_COMMISSIONING})?"),
    _t("holds budget for", r"(?:with|share|shares|sharing)\s+(?:a\s+|their\s+)?(?:pooled|joint|shared|single)\s+budgets?"),
    _t("holds budget for", rf"(?:pool|pools|pooling|pooled|merge|merges|merging|merged)\s+(?:a\s+|the\s+|their\s+|its\s+)?{_W}{{0,3}}?budgets?"),
    _t("holds budget for", r"budget[- ]holders?|budget[- ]holding"),
    _t("holds budget for", r"shared\s+with|split\s+with|pooled\s+with", AFTER),  # kept only after a budget
    _t("manages", r"manage|manages|managing"),
    _t("runs", r"run|runs|running|ran"),
    _t("runs", rf"{_BE}(?:run|governed|led|managed|operated)\s+by|(?:run|governed|led|managed|operated)\s+by", AFTER),
    _t("approves", r"approve|approves|approving|approved|sign\s+off(?:\s+on)?|signs\s+off(?:\s+on)?|signing\s+off(?:\s+on)?|signed\s+off(?:\s+on)?"),
    _t("approves", rf"{_BE}(?:approved|signed\s+off)\s+by", AFTER),
    _t("must approve", r"must\s+approve|powers?\s+to\s+(?:approve|sign\s+off)|(?:a\s+)?veto\s+over"),
    _t("must approve", r"approval(?:\s+(?:of|for)\s+[^,;.]*?)?\s+(?:from|by)", AFTER),
    _t("oversees", r"regulate|regulates|regulating|inspect|inspects|inspecting|monitor|monitors|monitoring|requires?\s+assurance|hold(?:s|ing)?\s+\w+\s+to\s+account|oversee|oversees|overseeing"),
    _t("oversees", r"(?:refer|refers|referred|report|reports|accountable|answerable)\s+to", AFTER),
    _t("has role in", rf"(?:play|plays|playing|have|has|having|want|wants|get|gets|given)\s+(?:a\s+|an\s+)?{_W}{{0,2}}?(?:role|say|voice)(?:\s+to\s+play)?(?:\s+(?:in|over|on)(?:\s+(?:managing|commissioning|overseeing))?)?"),
    _t("has role in", r"(?:more\s+|closely\s+)?involved\s+in"),
    _t("has role in", rf"(?:a\s+)?(?:central\s+|key\s+|greater\s+|formal\s+)?role\s+for", AFTER),
    _t("has role in", r"give|gives|giving", AFTER),  # kept only when a role word follows the body
    _t("has role in", rf"{_BE}shaped\s+by", AFTER),
    _t("has no role in", r"no\s+(?:\w+\s+)?role\s+for", AFTER),
    _t("demands role in", rf"demand(?:s|ed|ing)?\s+(?:a\s+)?{_W}{{0,2}}?role\s+in{_COMMISSIONING}"),
    _t("retains liability for", r"(?:liability|accountability|legal\s+responsibility)\b[^.;]*?\b(?:remains?|rests?|lies|stays?)\s+with", AFTER),
    _t("retains liability for", r"retain(?:s|ed|ing)?\s+(?:the\s+)?(?:liability|accountability)"),
    _t("opposes", r"reject|rejects|rejected|rejecting|oppose|opposes|opposed|opposing|object|objects|objected|objecting"),
    _t("bids for", rf"(?:submit|submits|submitted|retender|retenders|retendered|make|makes|made|put\s+in|lodge|lodged)\s+{_W}{{0,2}}?bids?"),
    _t("develops", rf"{_BE}(?:developed|drawn\s+up|drafted|negotiated|designed)\s+by", AFTER),
    _t("develops", r"(?:develop|develops|developing|draft|drafts|drafting)\s+(?:a\s+|the\s+)?(?:new\s+|local\s+)?contracts?"),
    _t("scrapped", r"scrap|scraps|scrapped|abolish|abolishes|abolished|axed|disbanded|dissolved|wound\s+up", PATIENT),
    _t("scrapped", r"replace|replaces|replacing|replaced", PATIENT),
    _t("has role in", rf"{_BE}consulted", PATIENT),
    _t("devolves", r"devolve|devolves|devolving|devolved|divest|divests|divesting|delegate|delegates|delegating|delegated|transfer|transfers|transferring|transferred|hand\s+over|hands\s+over|handing\s+over|handed\s+over|hand|hands|handing|handed|pass\s+on|passes|passing|pass", GIVER),
    _t("devolves", rf"(?:establish|establishes|establishing|set\s+up|sets\s+up|setting\s+up|create|creates|creating)\s+{_W}{{0,5}}?(?:GP|clinical|practice-based|locality)[- ](?:led\s+)?commissioning"),
    _t("delegated to", r"(?:devolved|delegated|transferred|handed\s+over|handed|passed|pass|passes|will\s+pass|move|moves|moved)\s+to|(?:devolution|delegation|transfer)\W{0,2}\s+(?:\w+\s+){0,3}?(?:to|by)", RECIPIENT),
)

# A giver's object must be something that can be handed over, or "pass" and "transfer" are noise.
_GIVEN_THING = re.compile(r"budget|responsibilit|power|control|commissioning|functions|funding|decision|money|contracts?|management|services", re.I)
_ROLE_WORD = re.compile(r"^\W*(?:[\w-]+\s+){0,2}?(?:role|say|voice|involvement|powers?|control|responsibilit)", re.I)
_NOT_A_VERB_AFTER = re.compile(r"^\s*(?:decisions?|plans?|budgets?|roles?|responsibilit|bids?|structures?|groups?|landscape|arrangements?|intentions?|process|system|board)", re.I)
_TAKING = ("takes control of", "takes responsibility for")
_TAKEN_FROM = re.compile(r"\bfrom\s", re.I)
_UP_AND_RUNNING = re.compile(r"up\s+and\s+$", re.I)
_PREPOSITION_BEFORE = re.compile(r"\b(?:on|about|regarding|concerning)\s+$", re.I)
_NO_OBJECT = re.compile(r"\s+(?:would|will|could|should|may|might|must|can|is|are|was|were|has|have|had)\b|\s*[,.;]", re.I)
_BE_START = re.compile(r"(?:be|been|being|is|are|was|were)\s", re.I)
_PARTICIPLE = re.compile(r"(?:ed|axed|up)$", re.I)
_COORDINATED_VERB = re.compile(r"^\W*,?\s+and\s+(?:[\w-]+\s+){0,3}$", re.I)
_BE_BEFORE = re.compile(r"\b(?:be|been|being|is|are|was|were)\s+(?:to\s+be\s+)?(?:\w+ly\s+)?$", re.I)

# --- where a body is an actor, not a label --------------------------------------------------------
_MODIFIER_AFTER = re.compile(
    r"^(?:['’]s?\s|\s+(?:chair(?:man|woman)?|chiefs?|deputy|negotiator|secretary|members?|conference|staff|away|"
    r"board|governing|decision|officials?|bosses|leaders?|structures?|representatives?|survey|investigation|"
    r"executive|director|officers?|offices?|spokes\w+)\b|-like\b)", re.I)
_MODIFIER_BEFORE = re.compile(
    r"(?:chair(?:man|woman)?|chief\s+executive|chief\s+officer|secretary|member|head|director|president|"
    r"negotiator|spokes\w+|leader)\s+of\s+(?:the\s+)?(?:(?-i:[A-Z])[\w&-]*\s+(?:and\s+)?){0,4}$"
    r"|retired\s+from\s+(?:the\s+)?$", re.I)
_PERSON_PLACE = re.compile(r"(?:\bGP|doctor|partner|resident|based|born)\s+in\s+$", re.I)
_COORDINATION = re.compile(
    r"\s*(?:,\s*|\s)(?:and/or|and|or|as\s+well\s+as|(?:working\s+)?alongside|together\s+with|plus|&)?\s*"
    r"(?:(?:both|all|the|\d+|relevant|local|other\s+(?:[\w-]+\s+){0,3}?(?:and|or))\s+)*[‘’'\"“”]?", re.I)
_LEAD_IN = re.compile(r"\W{0,3}(?:(?:the|a|an|all|some|most|each|every|their|its|\d+|relevant|local|existing|new|groups\s+of|(?:elements|parts|aspects|sections|some|most|all)\s+of)\s+|[‘’'\"“”\[(]\s*)*", re.I)

# --- status, proposer, time -------------------------------------------------------------------------
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
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_WHEN = re.compile(
    r"(?<![\w-])(?i:by|from|in|during|within|until|before|after|since|as\s+early\s+as|no\s+later\s+than|starting|"
    r"beginning|at\s+the\s+end\s+of|ahead\s+of|this|next|last)\s+(?:the\s+)?"
    rf"(?:\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}(?:\s+\d{{4}}|\s+(?i:next|this|last)\s+year)?|(?:19|20)\d\d(?:/\d\d)?"
    r"|(?i:(?:next|this|last|the\s+next|the\s+coming)\s+(?:financial\s+)?(?:year|month|spring|summer|autumn|winter)"
    r"|year|a\s+year|(?:\d+|two|three|four|five|six|twelve|eighteen)\s+(?:months|years|weeks)))(?![\w-])"
)
_REPORTED_DATE = re.compile(r"(?:announced|released|reported|dated|published|wrote|written)\s+(?:[\w-]+\s+){0,5}$", re.I)
_HARD_BOUNDARY = re.compile(r";|\?")
_CLAUSE_BOUNDARY = re.compile(r"\?|,\s+(?:which|but|while|although|whereas|with)\b|\s+but\s", re.I)
_LIST_ITEM = re.compile(r"^\s*[•*\-–]\s")
_NATIONS = ("England", "Scotland", "Wales", "Northern Ireland", "UK")  # in national bodies' names
_ATTRIBUTIVE = re.compile(r"\b(?:a|an|the|its|their|our|this|these|those)\s+(?:[\w-]+ly\s+)?$", re.I)
_REPORTED_PRONOUN = re.compile(r"\s+(?:that\s+)?(?:they|it|we|he|she)\b", re.I)
_REPORTING = re.compile(r"\b(?:said|says|told|tells|warned|warns|claimed|claims|argued|argues|stated|states|added|explained|believes?|insisted)\b(?!\s+(?:by|to\s+(?:be|have)))", re.I)
_SUBJECT_REACH = 150  # characters: a subject further back than this is rarely the verb's subject


@dataclass(frozen=True)
class _Found:
    """A trigger in a sentence, with the window of text it governs (sentence-relative offsets)."""

    trigger: _Trigger
    start: int
    end: int
    before: int  # window start: previous trigger end or clause start
    after: int  # window end: next trigger start or clause end


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
            context = _cue_status(sentence)
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
    actors = [m for m in bodies if _is_actor(sentence, m, services)]
    found = _find_triggers(sentence, services)
    proposer = _proposer(sentence, actors)
    raw: list[tuple[Mention, str, _Found]] = []
    for item in found:
        for body, relation in _bodies_for(sentence, item, bodies, actors):
            raw.append((body, relation, item))
    facts: list[CommissioningFact] = []
    for body, relation, item in raw:
        covered = _covers(item, services)
        status = _status(sentence, item, context)
        facts.append(CommissioningFact(
            body=body.canonical, body_text=body.text, relation=relation,
            relation_text=sentence[item.start:item.end],
            covers=tuple(dict.fromkeys(m.canonical for m in covered)),
            covers_text=tuple(dict.fromkeys(m.text for m in covered)),
            budget=_budget(sentence, covered), place=_place(sentence, body, bodies),
            when=_when(sentence, item), status=status,
            proposer=proposer or _stance_holder(sentence, item, actors, status),
            doc_id=document.id, title=document.title, sentence=sentence,
            sentence_start=offset, sentence_end=offset + len(sentence), source=document.source,
        ))
    return _merge(facts)


def _is_actor(sentence: str, mention: Mention, services: list[Mention]) -> bool:
    """A body that can do things here: not a label ("BMA chair"), a role ("chair of X") or a lone "GP"."""
    if mention.text in ("GP", "practice"):
        return False
    if any(s.start <= mention.start and mention.end <= s.end and s.end - s.start > mention.end - mention.start
           for s in services):
        return False  # "GP" inside "GP services"
    quoted = sentence[max(0, mention.start - 2):mention.start].strip().endswith(("‘", "'", "“", '"'))
    if _MODIFIER_AFTER.match(sentence[mention.end:]) and not (quoted and sentence[mention.end:][:1] in "’'”\""):
        return False
    return not _MODIFIER_BEFORE.search(sentence[:mention.start])


def _find_triggers(sentence: str, services: list[Mention]) -> list[_Found]:
    spans: list[tuple[_Trigger, int, int]] = []
    for trigger in _TRIGGERS:
        for match in trigger.pattern.finditer(sentence):
            if _keeps(trigger, sentence, match, services):
                spans.append((trigger, match.start(), match.end()))
    kept: list[tuple[_Trigger, int, int]] = []
    for trigger, start, end in sorted(spans, key=lambda s: (-(s[2] - s[1]), s[1])):
        if all(end <= other_start or start >= other_end for _, other_start, other_end in kept):
            kept.append((trigger, start, end))
    kept.sort(key=lambda s: s[1])
    clauses = [0] + [m.end() for m in _CLAUSE_BOUNDARY.finditer(sentence)] + [len(sentence)]
    found = []
    for i, (trigger, start, end) in enumerate(kept):
        clause_start = max(c for c in clauses if c <= start)
        clause_end = min((c for c in clauses if c >= end), default=len(sentence))
        before = max(clause_start, kept[i - 1][2] if i else 0)
        after = min(clause_end, kept[i + 1][1] if i + 1 < len(kept) else len(sentence))
        found.append(_Found(trigger, start, end, before, max(after, end)))
    return found


def _keeps(trigger: _Trigger, sentence: str, match: re.Match[str], services: list[Mention]) -> bool:
    """Reject trigger words used as nouns or idioms: "commissioning decisions", "up and running"."""
    word = match.group().lower()
    following = sentence[match.end():]
    if trigger.role in (SUBJECT, GIVER) and word.split()[0].endswith("ing") and _PREPOSITION_BEFORE.search(sentence[:match.start()]):
        return False  # "details on managing X": the gerund names an activity, not what the subject does
    if word.split()[0] in ("take", "takes", "taking", "took", "taken") and word.endswith(" on") and _NO_OBJECT.match(following):
        return False  # "the work CCGs take on would ...": the object came first, in a relative clause
    if trigger.relation == "commissions" and trigger.role == SUBJECT:
        if sentence[max(0, match.start() - 3):match.start()].lower().endswith("co-") or _NOT_A_VERB_AFTER.match(following):
            return False
        if word.endswith("ed") and _ATTRIBUTIVE.search(sentence[:match.start()]):
            return False  # "a locally commissioned service" describes a service; nobody is named
        next_service = next((s for s in services if s.start >= match.end()), None)
        lead = sentence[match.end():next_service.start] if next_service else ""
        return bool(next_service and _LEAD_IN.fullmatch(lead)) or bool(
            re.match(r"\s+(?:[\w-]+,?\s+){0,5}?services?\b", following, re.I))
    if trigger.relation == "holds budget for" and trigger.role == AFTER:
        return bool(re.search(r"budget", sentence[max(0, match.start() - 60):match.start()], re.I))
    if trigger.relation == "approves" and trigger.role == SUBJECT and word.endswith("ed"):
        return not _BE_BEFORE.search(sentence[:match.start()])  # "bids are approved": nobody named
    if trigger.relation == "runs" and trigger.role == SUBJECT:
        return not _UP_AND_RUNNING.search(sentence[:match.start()])
    if trigger.relation == "manages" and trigger.role == SUBJECT:
        return bool(next((s for s in services if 0 <= s.start - match.end() <= 40), None))
    if trigger.role == GIVER:
        if re.match(r"\s+of\b", following):
            return False  # "transfer of power" is a noun: nobody is named as giving
        passive = _BE_BEFORE.search(sentence[:match.start()]) or re.match(r"\s+to\b", following)
        return bool(_GIVEN_THING.search(following[:80])) and not (word.endswith("ed") and passive)
    if trigger.relation == "has role in" and word.startswith("give"):
        return bool(_ROLE_WORD.search(re.sub(r"^\s*[\w’'-]+(?:\s+[\w’'-]+){0,3}?\s", "", following, count=1)))
    return True


def _bodies_for(sentence: str, item: _Found, bodies: list[Mention], actors: list[Mention]) -> list[tuple[Mention, str]]:
    """The bodies a trigger speaks of, each with the relation it holds."""
    role, relation = item.trigger.role, item.trigger.relation
    if role == SUBJECT:
        if relation == "holds budget for" and not re.search(r"budget", sentence[item.start:item.end], re.I):
            relation = "manages"
        pairs = [(m, relation) for m in _subject(sentence, item, actors)]
        source = _TAKEN_FROM.search(sentence, item.end, item.after) if relation in _TAKING else None
        if source:  # "take control of X from Y": Y gives X up
            pairs += [(m, "devolves") for m in _following(sentence, source.end(), actors)]
        return pairs
    if role == AFTER:
        found = _following(sentence, item.end, actors)
        if sentence[item.start:item.end].lower().startswith("giv"):
            found = found[:1]  # "giving X a role": only the first body receives it
        return [(m, relation) for m in found]
    if role == RECIPIENT:
        return [(m, "delegated to") for m in _following(sentence, item.end, actors)]
    if role == GIVER:
        pairs = [(m, "devolves") for m in _subject(sentence, item, actors)]
        to = re.search(r"\bto\s", sentence[item.end:item.after], re.I)
        if to:
            pairs += [(m, "delegated to") for m in _following(sentence, item.end + to.end() - 1, actors)]
        return pairs
    # PATIENT: "X are to be scrapped" names it before; "scrap X", "replacing X" after.
    trigger_text = sentence[item.start:item.end]
    if _PARTICIPLE.search(trigger_text) and (_BE_BEFORE.search(sentence[:item.start]) or _BE_START.match(trigger_text)):
        before = [m for m in bodies if m.end <= item.start and item.start - m.end <= 40]
        return [(before[-1], relation)] if before else []
    after = [m for m in bodies if m.start >= item.end and m.start - item.end <= 30]
    return [(after[0], relation)] if after else []


def _subject(sentence: str, item: _Found, actors: list[Mention]) -> list[Mention]:
    """The nearest actor before the trigger, with any bodies coordinated with it ("X and Y will ...")."""
    floor = max((m.end() for m in _HARD_BOUNDARY.finditer(sentence, 0, item.start)), default=0)
    candidates = [m for m in actors if floor <= m.start and m.end <= item.start and item.start - m.end <= _SUBJECT_REACH
                  and not _speaks_only(sentence, m.end, item.start)]
    if not candidates:
        return []
    chosen = [candidates[-1]]
    if _COORDINATED_VERB.match(sentence[chosen[0].end:item.start]):
        # "X could encompass Y, and will become ...": the nearest body is the first verb's object,
        # the subject of both verbs is the clause's first body.
        chosen = [candidates[0]]
        return chosen
    for previous in reversed(candidates[:-1]):
        if not _COORDINATION.fullmatch(sentence[previous.end:chosen[0].start]):
            break
        chosen.insert(0, previous)
    return chosen


def _speaks_only(sentence: str, start: int, trigger: int) -> bool:
    """True for "X said the board would ...": X reports a clause with a subject of its own.

    Not for "X said they would ..." (a pronoun for X) or "X said this move to devolve" (no subject).
    """
    report = _REPORTING.search(sentence, start, trigger)
    if report is None:
        return False
    if _REPORTED_PRONOUN.match(sentence, report.end()):
        return False
    return not re.search(r"\bto\s+$", sentence[:trigger], re.I)


def _following(sentence: str, position: int, actors: list[Mention]) -> list[Mention]:
    """The actor that starts right after position, with the bodies coordinated after it."""
    first = next((m for m in actors if m.start >= position), None)
    if first is None or not _LEAD_IN.fullmatch(sentence[position:first.start]):
        return []
    chosen = [first]
    for following in (m for m in actors if m.start > first.start):
        if not _COORDINATION.fullmatch(sentence[chosen[-1].end:following.start]):
            break
        chosen.append(following)
    return chosen


def _covers(item: _Found, services: list[Mention]) -> list[Mention]:
    """Services in the trigger's window; before it too when the body comes after ("X ... remains with Y")."""
    start = item.start if item.trigger.role in (SUBJECT, PATIENT) else item.before
    return [s for s in services if start <= s.start and s.end <= item.after]


def _status(sentence: str, item: _Found, context: str | None) -> str:
    """Modality nearest before the trigger; else the tense there; else cues after it, in the sentence, the list."""
    if _NEGATED.search(sentence[item.before:item.start]):
        return "opposed"  # "would not devolve": the sentence says it will not happen
    nearest = _nearest_cue(sentence[item.before:item.start] + _own_stance(sentence[item.start:item.end]))
    if nearest:
        return nearest
    if _INDICATIVE.search(sentence[item.before:item.end]):
        return "in force"
    rest = sentence[:item.start] + " " * (item.end - item.start) + sentence[item.end:]
    return _cue_status(sentence[item.end:item.after]) or _cue_status(rest) or context or "in force"


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


def _cue_status(text: str) -> str | None:
    return next((status for status, cue in _STATUS_CUES if cue.search(text)), None)


def _proposer(sentence: str, actors: list[Mention]) -> str | None:
    """The body a sentence reports as announcing, proposing or demanding what it describes."""
    for mention in actors:
        if _PROPOSED_BY.search(sentence[:mention.start]) or _POSSESSIVE_PROPOSAL.match(sentence[mention.end:]):
            return mention.canonical
        if re.match(rf"\s+{_PROPOSING_VERB}\b", sentence[mention.end:], re.I):
            return mention.canonical
    for mention in find_bodies(sentence):  # roles: "health secretary X's announcement", "the chair of X has said"
        if _POSSESSIVE_PROPOSAL.match(sentence[mention.end:]) or (
                _MODIFIER_BEFORE.search(sentence[:mention.start]) and _SPEAKER_AFTER.match(sentence[mention.end:])):
            return mention.canonical
    return None


def _stance_holder(sentence: str, item: _Found, actors: list[Mention], status: str) -> str | None:
    """Who demands or opposes: the nearest body before the demanding or rejecting word."""
    if status not in ("demanded", "opposed"):
        return None
    cue = dict(_STATUS_CUES)[status].search(sentence, item.before, item.end)
    if cue is None:
        return None
    before = [m for m in actors if m.end <= cue.start() and cue.start() - m.end <= 60]
    return before[-1].canonical if before else None


def _when(sentence: str, item: _Found) -> str | None:
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
        key = (fact.body + "|" + fact.body_text, _primary_group(fact.relation))
        if key not in merged:
            merged[key] = fact
            continue
        first = merged[key]
        merged[key] = replace(first, covers=tuple(dict.fromkeys(first.covers + fact.covers)),
                               covers_text=tuple(dict.fromkeys(first.covers_text + fact.covers_text)),
                               budget=first.budget or fact.budget, when=first.when or fact.when)
    return list(merged.values())
