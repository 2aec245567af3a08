"""How the answer model reads a question for one candidate sentence: without the names and places the
sentence leaves to its passage or article (`without_given_names`, `without_places`).

The model learned from Wikipedia questions, whose near misses swap a name, that a name the sentence lacks
marks a near miss. But a sentence that answers often names its subject only by reference, the passage having
named it already: "She released the album in 2003" after "Beyoncé ...", "The trust has appointed 11 GP
clinical leads" in a paragraph on NHS Waltham Forest. So for each candidate the question is read without
the names its passage holds and its sentence does not; a name the passage never gives still counts against
the sentence, and whether the passage is about the right thing is weighed apart (the features "names
missing from passage", `qa.place_fit`).

Chosen by measurement on SQuAD articles of the training split (1,500 questions, shipped model): the
question-level AUROC of answerable vs near-miss questions went from 0.918 to 0.925 (the paragraph without its
answering sentence 0.893 -> 0.900, a swapped name 0.944 -> 0.950).
"""
from __future__ import annotations

import re

from qa.commissioning import find_places
from qa.place_fit import NATIONAL
from qa.plain_words import ABBREVIATIONS

# A capitalised name of one or more words ("Simon Stevens", "Royal College of GPs"), not the question's first
# word, with the meaning `spelled_out` may have put after it ("CCG (clinical commissioning group)").
_NAME = re.compile(r"(?<!^)(?<![\w'’])[A-Z][\w'’-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w'’-]*)*(?:\s+\([^)]*\))?")
# An NHS abbreviation names a kind of body or role (a CCG, GPs), not one referent a passage can give.
_KINDS = frozenset(ABBREVIATIONS) | {f"{short}s" for short in ABBREVIATIONS}
_LEADS_IN = re.compile(r"\b(?:in|of|for|at|from|by|on|to|with)\s+(?:the\s+)?$", re.I)


def without_given_names(reading: str, sentence: str, passage: str) -> str:
    """`reading` (a question as the model reads it) without the names that `passage` holds and `sentence`
    does not: "When did Beyoncé release it?" is read as "When did release it?" for "She released it in 2003"
    when her name is elsewhere in the passage."""
    in_sentence, in_passage = sentence.lower(), passage.lower()
    kept, at = [], 0
    for match in _NAME.finditer(reading):
        name = re.sub(r"\s+\([^)]*\)$", "", match.group())
        owner = re.sub(r"['’]s?$", "", name)
        lowered = owner.lower()
        if owner in _KINDS or lowered in in_sentence or lowered not in in_passage:
            continue
        before = reading[at:match.start()]
        if owner != name:  # "Beyoncé's first album" -> "the first album"
            kept += [before, "the"]
            at = match.end()
            continue
        lead_in = _LEADS_IN.search(before)
        kept.append(before[:lead_in.start()] if lead_in else before)
        at = match.end()
    return joined([*kept, reading[at:]]) if kept else reading


# A place named as part of a body's name: "London Councils" is one body and stays; "Salford CCG" and "NHS Salford"
# are read as the kind of body they are ("the CCG", "the trust"), as a sentence of their article calls them.
_NAMES_A_BODY = re.compile(r"\s*(?:Councils|Clinical|Local|Health)\b")
_BODY_KIND = re.compile(r"\s*(CCGs?|LMCs?|(?:City |Borough |County )?Council)\b")
_PLACE_LEADS_IN = re.compile(r"\b(?:in|across|for|from|throughout|around|within|of|and|or)\s+(?:the\s+)?$", re.I)
_POSSESSIVE = re.compile(r"['’]s?\b")
# a word after the place that makes it an adjective ("Manchester practices"), unless it is one of these
_NOUN_AFTER = re.compile(r"\s+(?!(?:and|or|to|with|for|in|on|at|by|from|of|as|is|are|was|were|have|has|had|"
                         r"will|would|can|could|should|do|does|did|be|been)\b)[A-Za-z]")
# after "in", "for"... the place is an adjective only before a noun such as these ("for Manchester practices"):
# "trusts in London pressing ahead" is a phrase to take out whole
_MODIFIED = re.compile(r"\s+(?:GPs?|practices?|surgeries|surgery|councils?|boroughs?|patients?|hospitals?|trusts?|"
                       r"doctors?|health|devolution|deal|budgets?|plans?|organisations?|areas?|region|services?|"
                       r"residents?|pilots?|schemes?|commissioners?|partners?|city|county|town)\b")
_SUBJECT_AFTER = re.compile(r"\b(?:does|did|do|has|have|had|is|was|are|were|will|would|can|could)\s+$", re.I)


def without_places(question: str) -> str:
    """`question` with the local places it names taken out ("When will practices in the north-west sign?" ->
    "When will practices sign?"), for the answer model: it learned from Wikipedia questions that a name
    missing from a sentence marks a near miss, while a news sentence seldom repeats the place its article is
    about. Whether a sentence speaks of the asked place is judged apart (`qa.place_fit`)."""
    kept, at = [], 0
    for mention in find_places(question):
        if mention.canonical in NATIONAL or _NAMES_A_BODY.match(question, mention.end):
            continue
        before, rest = question[at:mention.start], question[mention.end:]
        nhs = before.endswith("NHS ")
        body = _BODY_KIND.match(rest)
        if body or nhs:  # "NHS Waltham Forest" -> "the trust"; "South Sefton CCG" -> "the CCG"
            before = re.sub(r"(?:\bthe\s+)?(?:NHS\s+)?$", "", before, flags=re.I)
            word = body.group(1).split()[-1] if body else "trust"
            kind = word.lower() if word.startswith("Council") else word
            kept += [before, kind] if kind.endswith("s") else [before, "the", kind]
            at = mention.end + (body.end() if body else 0)
            continue
        possessive = _POSSESSIVE.match(rest)
        if possessive:  # "in Cumbria's annual budget" -> "in the annual budget"
            kept += [before, "the"]
            at = mention.end + possessive.end()
            continue
        lead_in = _PLACE_LEADS_IN.search(before)
        if (_MODIFIED if lead_in else _NOUN_AFTER).match(rest):  # "for Manchester practices" -> "for practices"
            kept.append(before)
        elif _SUBJECT_AFTER.search(before):  # "does Shropshire have" -> "does it have"
            kept += [before, "it"]
        else:  # "practices in the north-west sign" -> "practices sign"
            kept.append(before[:lead_in.start()] if lead_in else before)
        at = mention.end
    return joined([*kept, question[at:]])


def joined(parts: list[str]) -> str:
    """What is left of a question once words are taken out, as one tidy line."""
    text = re.sub(r"\s+([,.?!;:'’])", r"\1", re.sub(r"\s{2,}", " ", " ".join(parts)))
    return re.sub(r"\bthe the\b", "the", text, flags=re.I).strip()
