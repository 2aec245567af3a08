"""A vocabulary of NHS bodies, services, places and money, with one canonical name per thing.

`find_bodies`, `find_services`, `find_places` and `find_amounts` return `Mention`s with offsets
into the text given; where names overlap, the longest wins ("London Councils" over "councils").
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

from index.records import AMOUNT, BODY, PLACE, SERVICE, Mention

from .pattern_set import PatternSet

__all__ = [
    "Mention", "longest_first", "find_bodies", "find_services", "find_places", "find_amounts",
    "canonical_body", "canonical_service", "canonical_place", "BODIES", "SERVICES", "PLACES",
]


# Each entry: canonical name -> regex alternatives. Ordinary words match in any case; capitalised
# words (acronyms, proper names) match only as written, so "DES" and "PEC" do not fire on ordinary
# words. Character classes are not rewritten: write (?-i:[A-Z]) for "a capital letter".
_PL = r"(?:s|es)?"  # optional plural
_BODY_TABLE: dict[str, tuple[str, ...]] = {
    "CCGs": (r"clinical commissioning groups?", r"CCGs?", r"NHS (?-i:[A-Z])[\w ]*? CCG"),
    "NHS England area teams": (
        r"NHS England['’]s (?:local )?area teams?", r"(?:local )?area teams?",
        r"NHS England (?:local |regional )?area teams?",
    ),
    "NHS England": (r"NHS England", r"NHSE", r"NHS Commissioning Board", r"NHS CB"),
    "local authorities": (
        r"local authorit(?:y|ies)", r"councils?", r"local government", r"boroughs?",
        r"town halls?", r"county councils?", r"city councils?", r"unitary authorit(?:y|ies)",
        r"local councils?", r"borough councils?", r"district councils?",
        r"(?:(?-i:[A-Z])[\w'’-]+\s+)+(?:City\s+|County\s+|Borough\s+|District\s+|Metropolitan\s+Borough\s+)?Council",
    ),
    "combined authorities": (r"combined authorit(?:y|ies)",),
    "London Councils": (r"London Councils",),
    "health and wellbeing boards": (r"health and well-?being boards?", r"HWBs?"),
    "PCTs": (r"primary care trusts?", r"PCTs?"),
    "strategic health authorities": (r"strategic health authorit(?:y|ies)", r"SHAs?"),
    "local NHS bodies": (),  # "NHS <place>": filled in from the gazetteer below
    "health boards": (r"health boards?", r"(?:(?-i:[A-Z])[\w-]+ )+(?:University )?Health Board"),
    "integration joint boards": (r"integration joint boards?", r"IJBs?"),
    "health and social care partnerships": (r"health and social care partnerships?", r"HSCPs?"),
    "GP consortia": (
        r"(?:GP |commissioning )?consorti(?:a|um|ums)", r"practice-based commissioning (?:groups?|clusters?|consorti(?:a|um))",
        r"PBC (?:groups?|clusters?)", r"locality boards?", r"GP(?:-led)? commissioning groups?",
        r"GP-led boards?",
    ),
    "GP commissioners": (r"GP commissioners?", r"clinical commissioners?"),
    "GP leaders": (r"GP leaders?", r"GP representatives?"),
    "GPs": (
        r"GPs?", r"general practitioners?", r"GP partners?", r"(?:GP )?practices",
        r"groups of (?:GPs|practices)", r"GP surger(?:y|ies)",
    ),
    "federations": (r"(?:GP )?federations?",),
    "primary care networks": (r"primary care networks?", r"PCNs?"),
    "local care organisations": (r"local care organi[sz]ations?", r"LCOs?"),
    "multispecialty community providers": (
        r"multi-?specialty (?:community |care )?providers?", r"MCPs?",
    ),
    "integrated care boards": (r"integrated care boards?", r"ICBs?"),
    "integrated care systems": (r"integrated care systems?", r"ICSs?"),
    "sustainability and transformation partnerships": (
        r"sustainability and transformation (?:partnerships?|plans?)", r"STPs?",
    ),
    "LMCs": (r"local medical committees?", r"LMCs?"),
    "PECs": (r"professional executive committees?", r"PECs?"),
    "clinical senates": (r"clinical senates?",),
    "hospital trusts": (
        r"hospital trusts?", r"acute trusts?", r"foundation trusts?", r"hospitals",
        r"secondary care trusts?", r"district general hospitals?",
        r"(?:(?-i:[A-Z])[\w'’-]+\s+)*Hospitals?\s+(?:(?-i:[A-Z])[\w'’-]+\s+)*(?:NHS\s+)?(?:Foundation\s+)?Trust",
    ),
    "NHS trusts": (r"(?:NHS )?trusts?", r"(?:(?-i:[A-Z])[\w'’-]+\s+)+NHS\s+(?:Foundation\s+)?Trust"),
    "community providers": (r"community providers?", r"community trusts?"),
    "private providers": (r"private (?:providers?|companies|company|sector)",),
    "the Treasury": (r"(?:HM )?Treasury", r"[Cc]hancellor(?: of the Exchequer)?"),
    "the Government": (r"[Gg]overnment", r"ministers?", r"Whitehall", r"[Pp]rime [Mm]inister"),
    "Department of Health": (
        r"Department of Health(?: and Social Care)?", r"DHSC", r"DH", r"DoH",
        r"[Hh]ealth [Ss]ecretary", r"[Hh]ealth [Mm]inisters?",
    ),
    "Scottish Government": (r"Scottish Government", r"Holyrood"),
    "Welsh Government": (r"Welsh Government",),
    "the BMA": (r"BMA", r"British Medical Association"),
    "GPC": (r"GPC", r"(?:Scottish |Welsh )?General Practitioners Committee", r"(?:Scottish |Welsh )?GP [Cc]ommittee", r"SGPC"),
    "RCGP": (r"RCGP", r"Royal College of (?:GPs|General Practitioners)"),
    "NAPC": (r"NAPC", r"National Association of Primary Care"),
    "CQC": (r"CQC", r"Care Quality Commission"),
    "Monitor": (r"Monitor",),
    "NHS Improvement": (r"NHS Improvement", r"NHSI"),
    "Public Health England": (r"Public Health England", r"PHE"),
    "Healthwatch": (r"Healthwatch",),
    "overview and scrutiny committees": (
        r"overview and scrutiny (?:boards?|committees?)", r"(?:health )?scrutiny (?:boards?|committees?|panels?)",
    ),
    "Health and Social Care Board": (r"Health and Social Care Board", r"HSCB"),
    "Strategic Planning and Performance Group": (r"Strategic Planning and Performance Group", r"SPPG"),
    "directors of public health": (r"directors? of public health",),
    "pharmacies": (r"(?:community )?pharmac(?:y|ies)", r"pharmacists?"),
}

_SERVICE_TABLE: dict[str, tuple[str, ...]] = {
    "GP services": (r"GP services?", r"general practice", r"GP care", r"general medical services"),
    "GP access": (
        r"(?:seven-day |7-day |extended )?(?:routine )?GP access", r"(?:seven|7)-day (?:GP )?services",
    ),
    "primary care": (
        r"primary (?:medical )?care(?: services)?", r"primary care commissioning",
    ),
    "GP contract": (r"(?:the )?GP contracts?", r"(?:new )?national (?:voluntary )?contracts?"),
    "GMS contracts": (r"GMS(?: contracts?)?", r"General Medical Services contracts?"),
    "PMS contracts": (r"PMS(?: contracts?)?", r"Personal Medical Services contracts?"),
    "APMS contracts": (r"APMS(?: contracts?)?",),
    "capitated contracts": (r"capitated contracts?", r"capitation contracts?"),
    "enhanced services": (
        r"(?:directed |local |national )?enhanced services?", r"DESs?", r"LESs?",
        r"network contract DES", r"LES and DES", r"DES and LES",
    ),
    "QOF": (r"QOF(?: funding| payments)?", r"Quality and Outcomes Framework"),
    "global sum": (r"global sum",),
    "premises": (r"premises", r"property costs", r"estates?", r"GP buildings"),
    "social care": (r"(?:adult |children['’]s )?social care",),
    "health and social care": (
        r"(?:joint |integrated |joined-up )?health and (?:social )?care(?: services)?",
    ),
    "secondary care": (
        r"secondary care(?: services)?", r"hospital (?:services|care)", r"acute care",
        r"district hospitals",
        r"hospital(?=(?:,\s*[\w-]+)*,?\s+(?:and|or)\s+(?:[\w-]+\s+){0,2}services\b)",  # "hospital, nursing and other services"
    ),
    "community services": (r"community (?:health )?services", r"community care", r"district nursing"),
    "urgent care": (r"(?:community )?urgent care(?: services)?", r"out-of-hours(?: services| care)?", r"OOH"),
    "nursing services": (r"nursing(?: services)?",),
    "care homes": (r"care homes?", r"nursing homes?"),
    "public health": (r"public health(?: services)?",),
    "sexual health services": (r"sexual(?: and reproductive)? health(?: services| clinics)?", r"contraception services"),
    "mental health services": (r"mental health(?: services| care)?",),
    "dental services": (r"dental (?:services|care|contracts?|commissioning)", r"dentistry"),
    "pharmacy services": (r"pharmacy(?: services| contracts?| commissioning)?", r"pharmaceutical services"),
    "eye care services": (r"optometry(?: services| commissioning)?", r"eye care(?: services)?", r"optical services"),
    "maternity services": (r"maternity(?: services| care)?",),
    "prescribing": (r"prescribing",),
    "diagnostics": (r"diagnostics?(?: services)?",),
    "revalidation": (r"revalidation",),
    "performers lists": (r"performer['’]?s['’]? lists?",),
    "performance management": (r"(?:[\w-]+ )?performance management",),
    "contract management": (r"contract management",),
    "co-commissioning": (r"(?:primary care |primary )?co-commissioning(?: responsibilities| role)?",),
    "conflicts of interest": (r"conflicts? of interests?",),
    "budget": (
        r"(?:joint |pooled |commissioning |health |NHS |GP |primary care |social care |annual )*budgets?",
        r"funding",
    ),
}

# Places: canonical name, then aliases after "=". Proper names, so they match only as written.
_PLACE_LIST = """
England; Scotland; Wales; Northern Ireland; UK=United Kingdom=Britain=Great Britain
North East=North-East=the north-east=north-east; North West=North-West=the north-west=north-west; Yorkshire and the Humber; East Midlands; West Midlands; East of England;
South East; South West; North of England=north of England; Midlands; the South; Home Counties
London=the capital; Greater Manchester; Manchester; Merseyside; West Yorkshire;
South Yorkshire; Tyne and Wear; Birmingham; Leeds; Sheffield; Bradford; Liverpool; Bristol;
Newcastle=Newcastle upon Tyne; Leicester; Nottingham; Coventry; Hull=Kingston upon Hull;
Stoke-on-Trent=Stoke; Wolverhampton; Derby; Southampton; Portsmouth; Plymouth; Brighton=Brighton and Hove;
Milton Keynes; Northampton; Norwich; Luton; Sunderland; Preston; Blackpool; Blackburn;
Middlesbrough; Swindon; Oxford; Cambridge; Exeter; Gloucester; York; Peterborough; Ipswich;
Doncaster; Huddersfield; Wakefield; Warrington; Chester; Lancaster; Carlisle; Durham;
Bournemouth; Poole; Dorset; Slough; Southend=Southend-on-Sea; Telford; Worcester; Lincoln;
Solihull; Dudley; Sandwell; Walsall; Kirklees; Calderdale; Barnsley; Rotherham; Gateshead;
Bolton; Bury; Oldham; Rochdale; Salford; Stockport; Tameside; Trafford; Wigan;
Knowsley; St Helens; Sefton=South Sefton; Wirral; Halton; Cheshire; Lancashire; Cumbria;
Northumberland; County Durham; North Yorkshire; East Riding; Lincolnshire; Nottinghamshire;
Derbyshire; Leicestershire; Rutland; Northamptonshire; Warwickshire; Staffordshire;
Shropshire=Shropshire County; Herefordshire; Worcestershire; Gloucestershire; Oxfordshire;
Buckinghamshire; Bedfordshire; Hertfordshire; Cambridgeshire; Norfolk; Suffolk; Essex; Kent;
Surrey; Sussex=East Sussex=West Sussex; Hampshire; Isle of Wight; Berkshire; Wiltshire; Somerset;
Devon; Cornwall; Isles of Scilly
Barking and Dagenham; Barnet; Bexley; Brent; Bromley; Camden; City of London; Croydon; Ealing;
Enfield; Greenwich; Hackney; Hammersmith and Fulham; Haringey; Harrow; Havering; Hillingdon;
Hounslow; Islington; Kensington and Chelsea; Kingston=Kingston upon Thames; Lambeth; Lewisham;
Merton; Newham; Redbridge; Richmond=Richmond upon Thames; Southwark; Sutton; Tower Hamlets;
Waltham Forest; Wandsworth; Westminster
Glasgow; Edinburgh; Aberdeen; Dundee; Inverness; Lothian; Tayside; Grampian; Highland; Fife;
Lanarkshire; Ayrshire and Arran; Scottish Borders; Dumfries and Galloway; Forth Valley;
Greater Glasgow and Clyde; Orkney; Shetland; Western Isles
Cardiff; Swansea; Newport; Wrexham; Betsi Cadwaladr; Cwm Taf; Aneurin Bevan; Hywel Dda; Powys;
Belfast
"""
# Scottish and Welsh health board areas: "NHS Lothian" is a health board, not an English trust.
_DEVOLVED_BOARD_AREAS = (
    "Lothian", "Tayside", "Grampian", "Highland", "Fife", "Lanarkshire", "Ayrshire and Arran",
    "Scottish Borders", "Dumfries and Galloway", "Forth Valley", "Greater Glasgow and Clyde", "Orkney",
    "Shetland", "Western Isles", "Powys",
)


def _parse_places(listing: str) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for item in re.split(r"[;\n]", listing):
        names = [name.strip() for name in item.split("=") if name.strip()]
        for name in names:
            aliases[name] = names[0]
    return aliases


_PLACE_ALIASES = _parse_places(_PLACE_LIST)
PLACES: tuple[str, ...] = tuple(dict.fromkeys(_PLACE_ALIASES.values()))
BODIES: tuple[str, ...] = tuple(_BODY_TABLE)
SERVICES: tuple[str, ...] = tuple(_SERVICE_TABLE)


_REGEX_SYNTAX = re.compile(r"\\.|\[[^\]]*\]|\(\?[:!=<]*")
_NAME_WORD = re.compile(r"[A-Z]{2,}|[A-Z][a-z]*")


def _alternative(pattern: str) -> str:
    """Wrap a pattern so ordinary words match in any case but capitalised names only as written."""
    out, position = [], 0
    for syntax in _REGEX_SYNTAX.finditer(pattern):
        out.append(_NAME_WORD.sub(lambda m: f"(?-i:{m.group()})", pattern[position:syntax.start()]))
        out.append(syntax.group())
        position = syntax.end()
    out.append(_NAME_WORD.sub(lambda m: f"(?-i:{m.group()})", pattern[position:]))
    return "(?i:" + "".join(out) + ")"


_WORD_START = r"(?<![\w-])"  # every name starts a word: scanned once for all names (PatternSet)


def _compile(table: dict[str, tuple[str, ...]]) -> list[tuple[str, re.Pattern[str]]]:
    compiled = []
    for canonical, patterns in table.items():
        for pattern in patterns:
            compiled.append((canonical, re.compile(rf"{_WORD_START}(?:{_alternative(pattern)})(?![\w-])")))
    return compiled


def _combine(compiled: list[tuple[str, re.Pattern[str]]]) -> tuple[tuple[str, ...], PatternSet]:
    """Each pattern's canonical name, in pattern order, and the patterns as one PatternSet."""
    return tuple(canonical for canonical, _ in compiled), PatternSet([p for _, p in compiled], _WORD_START)


@lru_cache(maxsize=1)
def _body_patterns() -> tuple[tuple[str, ...], PatternSet]:
    compiled = _compile(_BODY_TABLE)
    devolved = "|".join(re.escape(a) for a in sorted(_DEVOLVED_BOARD_AREAS, key=len, reverse=True))
    english = "|".join(
        re.escape(name) for name in sorted(_PLACE_ALIASES, key=len, reverse=True)
        if _PLACE_ALIASES[name] not in _DEVOLVED_BOARD_AREAS and name[0].isupper()
    )
    compiled.append(("health boards", re.compile(rf"{_WORD_START}NHS (?:{devolved})(?![\w-])")))
    compiled.append(("local NHS bodies", re.compile(rf"{_WORD_START}NHS (?:{english})(?![\w-])")))
    return _combine(compiled)


@lru_cache(maxsize=1)
def _service_patterns() -> tuple[tuple[str, ...], PatternSet]:
    return _combine(_compile(_SERVICE_TABLE))


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern[str]:
    names = sorted(_PLACE_ALIASES, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")


Spanned = TypeVar("Spanned")


def _start_end(item) -> tuple[int, int]:
    return item.start, item.end


def longest_first(items: Iterable[Spanned],
                  span: Callable[[Spanned], tuple[int, int]] = _start_end) -> list[Spanned]:
    """Of overlapping spans the longest wins (the earliest of equal ones): the items kept, in text order.
    `span` gives an item's (start, end); by default its .start and .end."""
    kept: list[Spanned] = []
    taken: list[tuple[int, int]] = []
    for item in sorted(items, key=lambda i: (span(i)[0] - span(i)[1], span(i)[0])):
        start, end = span(item)
        if all(end <= other_start or start >= other_end for other_start, other_end in taken):
            kept.append(item)
            taken.append((start, end))
    return sorted(kept, key=lambda i: span(i)[0])


def _scan(text: str, patterns: tuple[tuple[str, ...], PatternSet], kind: str) -> list[Mention]:
    canonicals, pattern_set = patterns
    found = [Mention(start, end, text[start:end], canonicals[index], kind)
             for index, start, end in pattern_set.matches(text)]
    return longest_first(found)


def find_bodies(text: str) -> list[Mention]:
    """NHS and government bodies named in text, e.g. "clinical commissioning groups" -> "CCGs"."""
    return _scan(text, _body_patterns(), BODY)


def find_services(text: str) -> list[Mention]:
    """Services, contracts and funds named in text, e.g. "DES" -> "enhanced services"."""
    return _scan(text, _service_patterns(), SERVICE)


def find_places(text: str) -> list[Mention]:
    """Places in the UK named in text, e.g. "South Sefton" -> "Sefton", "the capital" -> "London"."""
    return [
        Mention(m.start(), m.end(), m.group(), _PLACE_ALIASES[m.group()], PLACE)
        for m in _place_pattern().finditer(text)
    ]


_AMOUNT = re.compile(
    r"£\s?(\d[\d,]*(?:\.\d+)?)\s?(bn|billion|m|million|k|thousand)?(?![\w])", re.IGNORECASE
)
_UNIT = {"bn": "bn", "billion": "bn", "m": "m", "million": "m", "k": "k", "thousand": "k"}


def find_amounts(text: str) -> list[Mention]:
    """Sums of money in pounds, canonical in short form: "£850 million" -> "£850m"."""
    return [
        Mention(m.start(), m.end(), m.group(), f"£{m.group(1)}{_UNIT.get((m.group(2) or '').lower(), '')}", AMOUNT)
        for m in _AMOUNT.finditer(text)
    ]


def _canonical(name: str, finder, known: tuple[str, ...]) -> str:
    cleaned = " ".join(name.split())
    for canonical in known:
        if canonical.lower() == cleaned.lower():
            return canonical
    mentions = finder(cleaned)
    if mentions:
        return max(mentions, key=lambda m: m.end - m.start).canonical
    return cleaned


def canonical_body(name: str) -> str:
    """The canonical name of a body ("councils" -> "local authorities"); unknown names come back tidied."""
    return _canonical(name, find_bodies, BODIES)


def canonical_service(name: str) -> str:
    """The canonical name of a service ("LES" -> "enhanced services"); unknown names come back tidied."""
    return _canonical(name, find_services, SERVICES)


def canonical_place(name: str) -> str:
    """The canonical name of a place ("the capital" -> "London"); unknown names come back tidied."""
    cleaned = " ".join(name.split())
    for place in PLACES:
        if place.lower() == cleaned.lower():
            return place
    mentions = find_places(cleaned)
    return max(mentions, key=lambda m: m.end - m.start).canonical if mentions else cleaned
