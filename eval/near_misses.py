"""Near-miss questions made from answerable ones: the topic stays, the answer goes.

SQuAD v1 and COVID-QA hold only answerable questions. The product must also say "not in these
articles" when a question names what the articles name but asks for something they never state, so
both the answer model's training pairs and the development sets make such questions the ways SQuAD 2.0's
writers did: swap a name or a number for one the passage does not hold, turn the question's polarity, or
swap a word for its opposite. Every function is deterministic given its `random.Random`.
"""
from __future__ import annotations

import random
import re
from collections.abc import Sequence

# Runs of capitalised words (not the question's first word) and numbers: what a swap replaces.
_NAME = re.compile(r"(?<!^)(?<![\w'’])[A-Z][\w'’-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w'’-]*)*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_AUXILIARY = re.compile(r"\b(did|does|do|is|was|were|are|can|could|will|would|has|have|had|should|must)\b", re.I)
OPPOSITES = {
    "first": "last", "last": "first", "largest": "smallest", "smallest": "largest", "most": "least",
    "least": "most", "highest": "lowest", "lowest": "highest", "before": "after", "after": "before",
    "earliest": "latest", "latest": "earliest", "increase": "decrease", "decrease": "increase",
    "north": "south", "south": "north", "east": "west", "west": "east", "biggest": "smallest",
    "oldest": "newest", "newest": "oldest", "longest": "shortest", "shortest": "longest",
    "best": "worst", "worst": "best", "more": "fewer", "fewer": "more", "win": "lose", "won": "lost",
    "start": "end", "began": "ended", "major": "minor", "positive": "negative", "negative": "positive",
    "higher": "lower", "lower": "higher", "larger": "smaller", "smaller": "larger", "early": "late",
    "late": "early", "accepted": "rejected", "rejected": "accepted", "allowed": "banned", "banned": "allowed",
    "support": "oppose", "supported": "opposed", "opposed": "supported", "public": "private",
    "private": "public", "inside": "outside", "outside": "inside", "male": "female", "female": "male",
}
_OPPOSITE = re.compile(r"\b(" + "|".join(OPPOSITES) + r")\b", re.I)


_NOT_A_VERB = {"the", "a", "an", "his", "her", "its", "their", "this", "that", "these", "those", "some", "many",
               "most", "one", "it", "they", "he", "she", "there", "we", "you", "i", "not", "never", "to", "of", "in"}


def names(text: str) -> list[str]:
    """Capitalised names (not a sentence's first word, which is capitalised anyway) and numbers in `text`."""
    found = [m.group().rstrip(".") for m in _NAME.finditer(text)
             if not re.search(r"(?:^|[.!?]['\"’”]?)\s*$", text[:m.start()])]
    return found + _NUMBER.findall(text)


def swap_name(question: str, pool: Sequence[str], passage: str, rng: random.Random) -> str | None:
    """The question with one name or number replaced by another from `pool` that `passage` never mentions."""
    present = [m for m in list(_NAME.finditer(question)) + list(_NUMBER.finditer(question)) if len(m.group()) > 1]
    if not present:
        return None
    target = rng.choice(present)
    is_number = target.group()[0].isdigit()
    lowered = passage.lower()
    choices = [p for p in pool if p[0].isdigit() == is_number and p.lower() not in lowered
               and p.lower() not in question.lower()]
    if is_number and not choices:
        choices = [_other_number(target.group(), rng)]
    if not choices:
        return None
    replacement = rng.choice(choices)
    if replacement.lower() in lowered:
        return None
    return question[:target.start()] + replacement + question[target.end():]


def _other_number(number: str, rng: random.Random) -> str:
    digits = re.sub(r"\D", "", number)
    value = int(digits) if digits else 1
    if 1000 <= value <= 2100:  # a year: another year
        return str(value + rng.choice([-13, -7, -3, 4, 9, 17]))
    return f"{max(2, value * rng.choice([2, 3, 5]) + rng.randint(1, 9)):,}"


def negate(question: str) -> str | None:
    """The question with its first auxiliary verb negated ("Who was appointed" -> "Who was not appointed")."""
    for match in _AUXILIARY.finditer(question):
        following = re.match(r"\s+([a-z]+)\b", question[match.end():])
        if following and following.group(1) not in _NOT_A_VERB:  # "was appointed", not "was the"
            return question[:match.end()] + " not" + question[match.end():]
    return None


def flip_opposite(question: str) -> str | None:
    """The question with one word swapped for its opposite (first -> last, largest -> smallest...)."""
    match = _OPPOSITE.search(question)
    if not match:
        return None
    word = match.group()
    opposite = OPPOSITES[word.lower()]
    opposite = opposite.capitalize() if word[0].isupper() else opposite
    return question[:match.start()] + opposite + question[match.end():]


def near_miss(question: str, pool: Sequence[str], passage: str, rng: random.Random) -> tuple[str, str] | None:
    """(near-miss question, how it was made) or None: a name swap when one is possible, else an
    opposite, else a negation."""
    makers = [("swap", lambda: swap_name(question, pool, passage, rng)), ("opposite", lambda: flip_opposite(question)),
              ("negate", lambda: negate(question))]
    if rng.random() < 0.3:  # some polarity changes even where a swap is possible
        makers = makers[1:] + makers[:1]
    for how, make in makers:
        changed = make()
        if changed and changed != question:
            return changed, how
    return None
