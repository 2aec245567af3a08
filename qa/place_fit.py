"""Does a sentence speak of the place a question asks about?

A London question must not be answered with a Greater Manchester sentence. A sentence that names places,
none of them the asked place or a place within it (Salford is in Greater Manchester, Camden in London), is
about somewhere else; a sentence that names no place may still answer. National names (England, the UK)
neither ask nor exclude: "NHS England" names a body, and a national fact covers every place.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from qa.commissioning import find_places

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


def _names_asked(named: frozenset[str], asked: frozenset[str]) -> bool:
    return bool(named) and not _instead(named, asked)


def _instead(named: frozenset[str], asked: frozenset[str]) -> frozenset[str]:
    if not asked or not named:
        return frozenset()
    if any(place in asked or asked & _areas_containing(place) or place in _areas_of(asked) for place in named):
        return frozenset()  # the asked place, a place within it, or an area holding it (the north for Salford)
    return named
