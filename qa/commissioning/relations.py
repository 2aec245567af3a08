"""Relations a commissioning fact can state, and the words in a sentence that state them.

A trigger is a verb pattern ("will take control of", "commissioned by") with the role its body
plays (`SUBJECT`, `AFTER`, ...); `find_triggers` finds them in a sentence and `bodies_for`
finds the bodies each one speaks of. Used by `qa.commissioning`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .pattern_set import PatternSet
from .vocabulary import Mention, longest_first

__all__ = [
    "RELATION_GROUPS", "RELATIONS", "compatible", "primary_group", "SUBJECT", "AFTER", "GIVER", "RECIPIENT",
    "PATIENT", "MODIFIER_BEFORE", "FoundTrigger", "is_actor", "find_triggers", "bodies_for", "services_covered",
]

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


def primary_group(relation: str) -> str:
    return next(name for name, group in RELATION_GROUPS.items() if relation in group)


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
_WORD_START = r"(?<![\w-])"  # every trigger starts a word: scanned once for all triggers (PatternSet)


def _t(relation: str, pattern: str, role: str = SUBJECT) -> _Trigger:
    return _Trigger(relation, re.compile(rf"{_WORD_START}(?:{pattern})(?![\w-])", re.IGNORECASE), role)


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
    _t("has role in", r"(?:a\s+)?(?:central\s+|key\s+|greater\s+|formal\s+)?role\s+for", AFTER),
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
MODIFIER_BEFORE = re.compile(
    r"(?:chair(?:man|woman)?|chief\s+executive|chief\s+officer|secretary|member|head|director|president|"
    r"negotiator|spokes\w+|leader)\s+of\s+(?:the\s+)?(?:(?-i:[A-Z])[\w&-]*\s+(?:and\s+)?){0,4}$"
    r"|retired\s+from\s+(?:the\s+)?$", re.I)
_COORDINATION = re.compile(
    r"\s*(?:,\s*|\s)(?:and/or|and|or|as\s+well\s+as|(?:working\s+)?alongside|together\s+with|plus|&)?\s*"
    r"(?:(?:both|all|the|\d+|relevant|local|other\s+(?:[\w-]+\s+){0,3}?(?:and|or))\s+)*[‘’'\"“”]?", re.I)
_LEAD_IN = re.compile(r"\W{0,3}(?:(?:the|a|an|all|some|most|each|every|their|its|\d+|relevant|local|existing|new|groups\s+of|(?:elements|parts|aspects|sections|some|most|all)\s+of)\s+|[‘’'\"“”\[(]\s*)*", re.I)
_HARD_BOUNDARY = re.compile(r";|\?")
_CLAUSE_BOUNDARY = re.compile(r"\?|,\s+(?:which|but|while|although|whereas|with)\b|\s+but\s", re.I)
_ATTRIBUTIVE = re.compile(r"\b(?:a|an|the|its|their|our|this|these|those)\s+(?:[\w-]+ly\s+)?$", re.I)
_REPORTED_PRONOUN = re.compile(r"\s+(?:that\s+)?(?:they|it|we|he|she)\b", re.I)
_REPORTING = re.compile(r"\b(?:said|says|told|tells|warned|warns|claimed|claims|argued|argues|stated|states|added|explained|believes?|insisted)\b(?!\s+(?:by|to\s+(?:be|have)))", re.I)
_SUBJECT_REACH = 150  # characters: a subject further back than this is rarely the verb's subject


@dataclass(frozen=True)
class FoundTrigger:
    """A trigger in a sentence, with the window of text it governs (sentence-relative offsets)."""

    trigger: _Trigger
    start: int
    end: int
    before: int  # window start: previous trigger end or clause start
    after: int  # window end: next trigger start or clause end


def is_actor(sentence: str, mention: Mention, services: list[Mention]) -> bool:
    """A body that can do things here: not a label ("BMA chair"), a role ("chair of X") or a lone "GP"."""
    if mention.text in ("GP", "practice"):
        return False
    if any(s.start <= mention.start and mention.end <= s.end and s.end - s.start > mention.end - mention.start
           for s in services):
        return False  # "GP" inside "GP services"
    quoted = sentence[max(0, mention.start - 2):mention.start].strip().endswith(("‘", "'", "“", '"'))
    if _MODIFIER_AFTER.match(sentence[mention.end:]) and not (quoted and sentence[mention.end:][:1] in "’'”\""):
        return False
    return not MODIFIER_BEFORE.search(sentence[:mention.start])


@lru_cache(maxsize=1)
def _trigger_set() -> PatternSet:
    return PatternSet([trigger.pattern for trigger in _TRIGGERS], _WORD_START)


def find_triggers(sentence: str, services: list[Mention]) -> list[FoundTrigger]:
    spans: list[tuple[_Trigger, int, int]] = []
    for index, start, end in _trigger_set().matches(sentence):
        if _keeps(_TRIGGERS[index], sentence, start, end, services):
            spans.append((_TRIGGERS[index], start, end))
    kept = longest_first(spans, span=lambda s: (s[1], s[2]))  # "commissioned by" over "commissioned"
    clauses = [0] + [m.end() for m in _CLAUSE_BOUNDARY.finditer(sentence)] + [len(sentence)]
    found = []
    for i, (trigger, start, end) in enumerate(kept):
        clause_start = max(c for c in clauses if c <= start)
        clause_end = min((c for c in clauses if c >= end), default=len(sentence))
        before = max(clause_start, kept[i - 1][2] if i else 0)
        after = min(clause_end, kept[i + 1][1] if i + 1 < len(kept) else len(sentence))
        found.append(FoundTrigger(trigger, start, end, before, max(after, end)))
    return found


def _keeps(trigger: _Trigger, sentence: str, start: int, end: int, services: list[Mention]) -> bool:
    """Reject trigger words used as nouns or idioms: "commissioning decisions", "up and running"."""
    word = sentence[start:end].lower()
    following = sentence[end:]
    if trigger.role in (SUBJECT, GIVER) and word.split()[0].endswith("ing") and _PREPOSITION_BEFORE.search(sentence[:start]):
        return False  # "details on managing X": the gerund names an activity, not what the subject does
    if word.split()[0] in ("take", "takes", "taking", "took", "taken") and word.endswith(" on") and _NO_OBJECT.match(following):
        return False  # "the work CCGs take on would ...": the object came first, in a relative clause
    if trigger.relation == "commissions" and trigger.role == SUBJECT:
        if sentence[max(0, start - 3):start].lower().endswith("co-") or _NOT_A_VERB_AFTER.match(following):
            return False
        if word.endswith("ed") and _ATTRIBUTIVE.search(sentence[:start]):
            return False  # "a locally commissioned service" describes a service; nobody is named
        next_service = next((s for s in services if s.start >= end), None)
        lead = sentence[end:next_service.start] if next_service else ""
        return bool(next_service and _LEAD_IN.fullmatch(lead)) or bool(
            re.match(r"\s+(?:[\w-]+,?\s+){0,5}?services?\b", following, re.I))
    if trigger.relation == "holds budget for" and trigger.role == AFTER:
        return bool(re.search(r"budget", sentence[max(0, start - 60):start], re.I))
    if trigger.relation == "approves" and trigger.role == SUBJECT and word.endswith("ed"):
        return not _BE_BEFORE.search(sentence[:start])  # "bids are approved": nobody named
    if trigger.relation == "runs" and trigger.role == SUBJECT:
        return not _UP_AND_RUNNING.search(sentence[:start])
    if trigger.relation == "manages" and trigger.role == SUBJECT:
        return bool(next((s for s in services if 0 <= s.start - end <= 40), None))
    if trigger.role == GIVER:
        if re.match(r"\s+of\b", following):
            return False  # "transfer of power" is a noun: nobody is named as giving
        passive = _BE_BEFORE.search(sentence[:start]) or re.match(r"\s+to\b", following)
        return bool(_GIVEN_THING.search(following[:80])) and not (word.endswith("ed") and passive)
    if trigger.relation == "has role in" and word.startswith("give"):
        return bool(_ROLE_WORD.search(re.sub(r"^\s*[\w’'-]+(?:\s+[\w’'-]+){0,3}?\s", "", following, count=1)))
    return True


def bodies_for(sentence: str, item: FoundTrigger, bodies: list[Mention], actors: list[Mention]) -> list[tuple[Mention, str]]:
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


def _subject(sentence: str, item: FoundTrigger, actors: list[Mention]) -> list[Mention]:
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


def services_covered(item: FoundTrigger, services: list[Mention]) -> list[Mention]:
    """Services in the trigger's window; before it too when the body comes after ("X ... remains with Y")."""
    start = item.start if item.trigger.role in (SUBJECT, PATIENT) else item.before
    return [s for s in services if start <= s.start and s.end <= item.after]
