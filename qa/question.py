"""A question analysed once, before anything is retrieved: what every later stage of answering asks of it.

`analyse` checks the text and reads off its intent (fact or opinion), the places and names it asks about,
whether it asks about a refusal or an absence, the kind of answer it wants (a count, a date), the reporting
terms for its everyday names, and the text the answer model reads. Retrieval, sentence scoring, the place
check and composition each take the `Question` rather than parsing the text again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.errors import InputError
from qa.intent import OPINION, question_intent
from qa.place_fit import asked_places
from qa.plain_words import expansion, in_reporting_terms, spelled_out
from qa.reading import without_places

MAX_QUESTION_CHARS = 1000
_NOT_TEXT = re.compile("[\ud800-\udfff]")  # lone surrogates: Python allows them in str, no encoder does

COUNT, DATE, MONEY, ROLE = "count", "date", "money", "role"

# Names a question asks about: capitalised words after its first word, and numbers of two digits or more.
_NAME = re.compile(r"(?<!^)\b[A-Z][\w'’&-]*|\b\d[\d,.]*\d\b")
NEGATION = re.compile(r"\b(?:not|never|no|none|nor|n't|cannot|without|refus\w*|reject\w*|oppos\w*|declin\w*|"
                      r"against|fail\w*|unable|neither)\b|n't\b", re.I)

_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
# A date's numbers ("25 September", "April 2013") do not count anything.
_DATE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{1,2}}\b|\b(?:19|20)\d\d\b")
_NUMBER_WORDS = (r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|"
                 r"thousands?|millions?|billions?|half|quarter|third|dozens?|per ?cent")  # not "one": "one proposal"
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_COUNT = re.compile(rf"\d|\b(?:{_NUMBER_WORDS}|majority|most|all|none)\b", re.I)  # a number, or a share in words
# What a question asks for (how many, how much, when), and what a sentence needs to hold to answer it.
_ASKS_COUNT = re.compile(r"\b(?:how (?:many|much|big|large|long|old)|what (?:proportion|share|percentage|number|"
                         r"amount|salary|cost|price|fee|sum|figure|rate|level of funding)|at what cost)\b", re.I)
_ASKS_DATE = re.compile(r"^\s*(?:when|by when|from when)\b|\b(?:by|on|from) what date\b|\bwhat date\b|"
                        r"\b(?:which|what) (?:year|month|day)\b", re.I)
# "How much is the budget?", "what salary ...": an amount of money, not any number ("Five Year Forward View").
_ASKS_MONEY = re.compile(r"\bwhat (?:salary|cost|price|fee|sum)\b|\bhow much (?:money|funding|cash)\b|\bhow much "
                         r"(?:is|was|will|would|does|did|do|are|were|has|have)\b.*\b(?:budget|cost|spend\w*|paid|pay|"
                         r"worth|fund\w*|salary|fee|price|invest\w*|sav\w*)\b", re.I)
_HOW_MANY = re.compile(r"\bhow many\b", re.I)
_SUM = re.compile(r"[£$€]\s?\d[\d,.]*\s*(?:bn|m|k|billion|million|thousand)?\b", re.I)
_MONEY = re.compile(r"[£$€]|\b\d[\d,.]*\s*(?:bn|m|k|p)\b|"
                    r"\b(?:million|billion|thousand|pounds?|pence|dollars?|euros?)\b", re.I)
# "Who is the chair of ...?": the answer names someone in that office; a sentence about another office
# holder ("NAPC chief executive Mike Ramsden") does not answer it.
_ROLES = {"chair": r"chair", "chief executive": r"chief executive|ceo|chief exec", "chief officer": r"chief officer",
          "accountable officer": r"accountable officer", "clinical lead": r"clinical lead", "secretary": r"secretary",
          "president": r"president", "director": r"director", "head": r"head", "leader": r"leader",
          "mayor": r"mayor", "minister": r"minister", "chancellor": r"chancellor", "spokes": r"spokes"}
_ASKS_ROLE = re.compile(r"^\s*who\s+(?:is|was|will be|has been|became|becomes)\s+(?:the\s+)?(?:new\s+|current\s+)?"
                        r"(" + "|".join(_ROLES) + r")", re.I)
_DATE_WORDS = re.compile(rf"\b(?:{_MONTHS}|\d{{4}}|years?|months?|weeks?|today|yesterday|tomorrow|next|last|spring|"
                         r"summer|autumn|winter|century|decade|election)\b", re.I)


@dataclass(frozen=True)
class Question:
    """What answering needs to know of a question, read once (see `analyse`)."""

    text: str  # as asked, stripped
    opinion: bool  # asks what people think: answered from readers' comments first
    places: frozenset[str]  # local places it names (canonical names; national ones left out)
    names: tuple[str, ...]  # capitalised names and numbers an answer should mention, lower-cased
    negative: bool  # asks about a refusal, an absence or opposition
    asks_for: str | None  # COUNT, DATE, MONEY, ROLE or None: the kind of answer a sentence must hold
    office: str | None  # for ROLE, the office asked about ("chair" in "who is the chair of X?")
    everyday_terms: str  # the reporting terms for its everyday names ("town hall" -> local authority)
    read_as: str  # as the answer model reads it: reporting names, abbreviations spelled out
    read_placeless: str  # read_as without its local places: for a sentence whose article says where it is

    def lacks_answer_type(self, sentence: str) -> bool:
        """It asks how many / how much / when / who holds an office, and `sentence` holds no count / amount of
        money / date / mention of that office to answer with (numbers the question itself gives, and the
        numbers of dates, do not count)."""
        if self.asks_for == DATE:
            return not _DATE_WORDS.search(sentence)
        if self.asks_for == MONEY:
            return not _MONEY.search(sentence)
        if self.asks_for == ROLE:
            return not re.search(rf"\b(?:{_ROLES[self.office]})", sentence, re.I)
        if self.asks_for == COUNT:
            rest = _DATE.sub(" ", sentence)
            how_many = bool(_HOW_MANY.search(self.text))
            if how_many:  # a sum of money counts no CCGs: "the £6bn budget"
                rest = _SUM.sub(" ", rest)
            for number in re.findall(r"\d[\d,.]*", self.text):
                rest = re.sub(rf"(?<![\d,.]){re.escape(number)}(?![\d,.]*\d)", " ", rest)
            # "how many" asks for a number: "all responsibilities" or "most GPs" does not give one
            return not (_NUMBER if how_many else _COUNT).search(rest)
        return False


def analyse(text: object) -> Question:
    """The question checked (InputError if it is not text of 1 to MAX_QUESTION_CHARS characters) and read."""
    text = check_question(text)
    asks_for = _answer_type(text)
    places, read_as = asked_places(text), model_reading(text)
    return Question(text=text, opinion=question_intent(text) == OPINION, places=places,
                    names=tuple(question_names(text)), negative=bool(NEGATION.search(text)), asks_for=asks_for,
                    office=_ASKS_ROLE.search(text).group(1).lower() if asks_for == ROLE else None,
                    everyday_terms=expansion(text), read_as=read_as,
                    read_placeless=without_places(read_as) if places else read_as)


def _answer_type(text: str) -> str | None:
    if _ASKS_DATE.search(text):
        return DATE
    if _ASKS_MONEY.search(text):
        return MONEY
    if _ASKS_COUNT.search(text):
        return COUNT
    return ROLE if _ASKS_ROLE.search(text) else None


def check_question(question: object) -> str:
    """The question, stripped; InputError if it is not text of 1 to MAX_QUESTION_CHARS characters."""
    if not isinstance(question, str):
        raise InputError(f"a question must be text, got {type(question).__name__}")
    bad = _NOT_TEXT.search(question)
    if bad:
        code, at = ord(bad.group()), bad.start() + 1
        # U+DC80..U+DCFF is how Python carries a byte it could not decode (a command-line argument, a file name).
        what = f"the byte 0x{code - 0xDC00:02X}, which is not UTF-8" if code >= 0xDC80 else \
            f"U+{code:04X}, a lone surrogate that is not a character"
        raise InputError(f"the question holds {what} (character {at}); ask in UTF-8 text")
    stripped = question.strip()
    if not stripped:
        raise InputError(f"the question is empty; ask a question of 1 to {MAX_QUESTION_CHARS:,} characters")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(stripped):,} characters long; "
                         f"the most allowed is {MAX_QUESTION_CHARS:,}")
    return stripped


def question_names(question: str) -> list[str]:
    return [m.group().lower().rstrip("'’s") or m.group().lower() for m in _NAME.finditer(question.strip())]


def model_reading(question: str) -> str:
    """The question as the answer model reads it: everyday names in reporting terms, NHS abbreviations
    spelled out (it learned English from Wikipedia questions, not NHS shorthand)."""
    return spelled_out(in_reporting_terms(question))
