"""Does a sentence speak of the place a question asks about?

A London question must not be answered with a Greater Manchester sentence. A sentence that names places,
none of them the asked place or a place within it (Salford is in Greater Manchester, Camden in London), is
about somewhere else; a sentence that names no place may still answer. National names (England, the UK)
neither ask nor exclude: "NHS England" names a body, and a national fact covers every place.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from qa.commissioning import find_places
from qa.reading import joined

NATIONAL = frozenset({"England", "UK", "Scotland", "Wales", "Northern Ireland"})
_WITHIN = {  # place -> the larger areas it lies in
    **{p: ("Greater Manchester", "North West") for p in (
        "Manchester", "Salford", "Trafford", "Bolton", "Bury", "Oldham", "Rochdale", "Stockport", "Tameside", "Wigan")},
    **{p: ("Merseyside", "North West") for p in ("Liverpool", "Sefton", "Knowsley", "St Helens", "Wirral")},
    **{p: ("West Yorkshire", "Yorkshire and the Humber") for p in (
        "Leeds", "Bradford", "Wakefield", "Kirklees", "Calderdale", "Huddersfield")},
    **{p: ("South Yorkshire", "Yorkshire and the Humber") for p in ("Sheffield", "Barnsley", "Rotherham", "Doncaster")},
    **{p: ("Tyne and Wear", "North East") for p in ("Newcastle", "Gateshead", "Sunderland")},
    **{p: ("West Midlands",) for p in ("Birmingham", "Coventry", "Wolverhampton", "Solihull", "Dudley", "Sandwell",
                                       "Walsall")},
    **{p: ("London",) for p in (
        "Barking and Dagenham", "Barnet", "Bexley", "Brent", "Bromley", "Camden", "City of London", "Croydon",
        "Ealing", "Enfield", "Greenwich", "Hackney", "Hammersmith and Fulham", "Haringey", "Harrow", "Havering",
        "Hillingdon", "Hounslow", "Islington", "Kensington and Chelsea", "Kingston", "Lambeth", "Lewisham",
        "Merton", "Newham", "Redbridge", "Richmond", "Southwark", "Sutton", "Tower Hamlets", "Waltham Forest",
        "Wandsworth", "Westminster")},
    "Greater Manchester": ("North West",), "Merseyside": ("North West",), "Cheshire": ("North West",),
    "Lancashire": ("North West",), "Cumbria": ("North West",),
    **{p: ("North of England",) for p in ("North West", "North East", "Yorkshire and the Humber")},
    **{p: ("Midlands",) for p in ("West Midlands", "East Midlands")},
}


def _areas_containing(place: str) -> set[str]:
    """Every larger area `place` lies in (Salford: Greater Manchester, North West, North of England)."""
    found, todo = set(), list(_WITHIN.get(place, ()))
    while todo:
        area = todo.pop()
        if area not in found:
            found.add(area)
            todo += _WITHIN.get(area, ())
    return found


def _areas_of(places: frozenset[str]) -> set[str]:
    return set().union(*(_areas_containing(p) for p in places)) if places else set()


def asked_places(question: str) -> frozenset[str]:
    """The local places a question names (canonical names), national ones left out."""
    return frozenset(m.canonical for m in find_places(question)) - NATIONAL


def local_places(text: str) -> frozenset[str]:
    """The local places `text` names (canonical names), national ones left out."""
    # a passage is asked about once for each of its candidate sentences: remembered, but not a whole article
    return _places_remembered(text) if len(text) <= _REMEMBERED_LENGTH else _places_named(text)


_REMEMBERED_LENGTH = 5_000


def _places_named(text: str) -> frozenset[str]:
    return frozenset(m.canonical for m in find_places(text)) - NATIONAL


_places_remembered = lru_cache(maxsize=4096)(_places_named)


def elsewhere(sentence: str, asked: frozenset[str]) -> frozenset[str]:
    """The places `sentence` names instead of the asked ones; empty when it names an asked place, a place
    within one, an area holding one (a fact about the north of England may answer for Manchester), or no
    local place at all."""
    return _instead(local_places(sentence), asked)


def elsewhere_in_context(sentence: str, passage: str, document_places: Callable[[], frozenset[str]],
                         asked: frozenset[str]) -> frozenset[str]:
    """As `elsewhere`, but a sentence that names no local place speaks of its passage's places when its
    whole document (`document_places()`, asked only then: a long article takes a while to read) never names
    the asked place: "the Treasury will hand a joint budget to 10 local authorities" in a Greater Manchester
    article does not answer a London question, while a quote in an article about London that names its
    speaker's town still may."""
    named = local_places(sentence)
    if named or not asked or not _instead(document_places(), asked):
        return _instead(named, asked)
    return elsewhere(passage, asked)


def place_given_by_context(sentence: str, passage: str, document_places: Callable[[], frozenset[str]],
                           asked: frozenset[str]) -> bool:
    """The sentence names no local place while its passage or document (`document_places()`, asked only
    then) names the asked one, a place within it or an area holding it: the sentence speaks of the asked
    place without repeating it, as news sentences do once the article has said where it is."""
    if not asked or local_places(sentence):
        return False
    return _names_asked(local_places(passage), asked) or _names_asked(document_places(), asked)


# A place named as part of a body's name: "London Councils" is one body and stays; "Salford CCG" and "NHS Salford"
# are read as the kind of body they are ("the CCG", "the trust"), as a sentence of their article calls them.
_NAMES_A_BODY = re.compile(r"\s*(?:Councils|Clinical|Local|Health)\b")
_BODY_KIND = re.compile(r"\s*(CCGs?|LMCs?|(?:City |Borough |County )?Council)\b")
_LEADS_IN = re.compile(r"\b(?:in|across|for|from|throughout|around|within|of|and|or)\s+(?:the\s+)?$", re.I)
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
    about. Whether a sentence speaks of the asked place is judged apart (`elsewhere_in_context`)."""
    kept, at = [], 0
    for mention in find_places(question):
        if mention.canonical in NATIONAL or _NAMES_A_BODY.match(question, mention.end):
            continue
        before, rest = question[at:mention.start], question[mention.end:]
        nhs = before.endswith("NHS ")
        body = _BODY_KIND.match(rest)
        if body or nhs:  # "NHS Waltham Forest" -> "the trust"; "South Sefton CCG" -> "the CCG"
            before = re.sub(r"(?:\bthe\s+)?(?:NHS\s+)?$", "", before, flags=re.I)
            kind = body.group(1).split()[-1].lower().replace("ccg", "CCG").replace("lmc", "LMC") if body else "trust"
            kept += [before, kind] if kind.endswith("s") else [before, "the", kind]
            at = mention.end + (body.end() if body else 0)
            continue
        possessive = _POSSESSIVE.match(rest)
        if possessive:  # "in Cumbria's annual budget" -> "in the annual budget"
            kept += [before, "the"]
            at = mention.end + possessive.end()
            continue
        lead_in = _LEADS_IN.search(before)
        if (_MODIFIED if lead_in else _NOUN_AFTER).match(rest):  # "for Manchester practices" -> "for practices"
            kept.append(before)
        elif _SUBJECT_AFTER.search(before):  # "does Shropshire have" -> "does it have"
            kept += [before, "it"]
        else:  # "practices in the north-west sign" -> "practices sign"
            kept.append(before[:lead_in.start()] if lead_in else before)
        at = mention.end
    return joined([*kept, question[at:]])


def _names_asked(named: frozenset[str], asked: frozenset[str]) -> bool:
    return bool(named) and not _instead(named, asked)


def _instead(named: frozenset[str], asked: frozenset[str]) -> frozenset[str]:
    if not asked or not named:
        return frozenset()
    if any(place in asked or asked & _areas_containing(place) or place in _areas_of(asked) for place in named):
        return frozenset()  # the asked place, a place within it, or an area holding it (the north for Salford)
    return named
