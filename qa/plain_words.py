"""How people name NHS bodies, roles, services and places in everyday English, and the terms reporting uses.

A patient or a journalist asks about "the town hall", "family doctors" or "the GP pay deal"; the trade
press writes "local authority", "GPs" and "the GP contract". `expansion` lists the reporting terms for the
everyday names a question uses, so the lexical side of retrieval can find them. Written from knowledge of
the domain (how the NHS in England is organised and reported), never from evaluation questions.
"""
from __future__ import annotations

import re

# everyday phrase (a regular expression, matched case-insensitively on word boundaries) -> reporting terms
EVERYDAY_NAMES: dict[str, str] = {
    # local government
    r"town halls?|(?:the |local )?councils?|council bosses|county hall|civic centre|local government":
        "local authority local authorities council councils",
    r"mayors?|metro mayor": "mayor combined authority",
    # commissioners and the national bodies
    r"(?:local )?(?:health )?(?:buying|purchasing) groups?|groups? (?:of GPs )?that (?:buy|pay for|plan) (?:health )?services"
    r"|local (?:NHS|health) (?:groups?|bodies|organisations?)|gp[- ]led (?:groups?|bodies)":
        "CCG CCGs clinical commissioning group commissioners",
    r"gp consortium|gp consortia|gp groups?": "GP consortia consortium commissioning",
    r"(?:nhs|health service) (?:headquarters|hq|bosses|chiefs|leaders|top brass)|national health (?:bosses|chiefs|body)"
    r"|the national (?:nhs|health) body|nhs national|central nhs|nhs bosses|nhs chiefs|health chiefs":
        "NHS England national commissioning board",
    r"regional (?:nhs|health) (?:teams?|offices?|bosses)|area teams?|local (?:nhs england )?offices?":
        "area team area teams local area team NHS England",
    r"primary care trusts?|old trusts?": "PCT PCTs primary care trust",
    r"(?:the )?(?:health )?(?:regulator|watchdog|inspectors?|inspectorate)": "CQC Care Quality Commission regulator",
    r"(?:the )?(?:competition|market) (?:regulator|watchdog)|(?:the )?(?:health )?(?:finance|money) regulator":
        "Monitor regulator competition",
    r"health ministers?|health secretary|(?:the )?department(?: of health)?|(?:the )?government|ministers|whitehall":
        "Department of Health Secretary of State health secretary ministers government",
    r"(?:the )?pm|prime minister|downing street|no\.? ?10": "prime minister government",
    r"(?:the )?chancellor|(?:the )?treasury|(?:the )?budget statement": "chancellor treasury",
    r"health and wellbeing boards?|wellbeing boards?|health boards?": "health and wellbeing board HWB",
    r"(?:doctors'?|gps'?) union|doctors' trade union": "BMA GPC British Medical Association",
    r"gp leaders|gp negotiators|gps' negotiators": "GPC BMA LMC GP leaders negotiators",
    r"local (?:gp|doctors'?) (?:committees?|representatives|leaders)": "LMC LMCs local medical committee",
    r"royal college|gps' college|college of gps": "RCGP Royal College of General Practitioners",
    r"(?:the )?(?:health )?think[- ]tanks?": "King's Fund Nuffield Trust think tank",
    # people and places of care
    r"family doctors?|(?:local )?doctors|gps?|general practitioners?|(?:the )?gp": "GP GPs general practice",
    r"surgery|surgeries|doctors'? surger(?:y|ies)|(?:gp|doctors') practices?|health centres?":
        "practice practices GP practices surgery",
    r"practice managers?|surgery managers?": "practice manager practice managers",
    r"hospitals?|hospital trusts?|acute trusts?|nhs trusts?": "hospital trust trusts acute",
    r"(?:patients'?|the public's) (?:watchdog|champion|voice)": "Healthwatch patients",
    r"care homes?|social care|adult care|care services": "social care adult social care care homes",
    r"a ?& ?e|casualty|emergency departments?": "A&E accident and emergency urgent care",
    r"out[- ]of[- ]hours|evenings? and weekends?|night and weekend": "out-of-hours OOH extended hours seven-day",
    r"walk[- ]in (?:centres?|clinics?)": "walk-in centre urgent care",
    r"chemists?|pharmacies": "pharmacy pharmacists community pharmacy",
    r"mental health services?|psychiatric": "mental health",
    r"health checks?|screening|jabs|vaccinations?|immuni[sz]ations?": "public health screening vaccination immunisation",
    r"public health|preventing illness|prevention": "public health prevention local authority",
    # money, contracts and power
    r"(?:gp|doctors'?) (?:pay deal|pay|deal|pay contract)|gp contract deal": "GP contract GMS PMS contract",
    r"pay for performance|performance pay|points system|targets? payments?": "QOF quality and outcomes framework",
    r"(?:extra|additional|special) services|optional services": "enhanced services DES LES",
    r"buildings|premises|surgery buildings": "premises estates",
    r"(?:the )?budget|pot of money|(?:the )?money|(?:the )?cash|funding pot|spending": "budget funding £ bn million",
    r"hand(?:ing|ed|s)? over (?:power|control|money)|devolution|devolved|devolving|local control": "devolution devolve devolved",
    r"take (?:over|on|charge)|taking (?:over|charge)|be in charge|run(?:ning)? (?:it|services)":
        "commission commissioning responsibility responsible take on",
    r"(?:buy|buying|pay for|paying for|plan(?:ning)? and buy(?:ing)?|fund(?:ing)?) (?:services|care|health care)":
        "commission commissioning commissioners",
    r"shared (?:control|responsibility)|jointly|joint control|working together": "co-commissioning joint commissioning jointly",
    r"conflicts? of interest|self[- ]interest|own (?:interests|pockets)|vested interests?": "conflicts of interest conflict",
    r"private (?:firms?|companies|sector|providers)|privati[sz]ation": "private providers private sector competition tender",
    r"scrapp(?:ed|ing)|abolish(?:ed|ing)?|got rid of|axed": "abolished scrapped abolition",
    r"(?:a )?shake[- ]?up|overhaul|reorgani[sz]ation|reforms?": "reforms reorganisation changes",
    r"(?:the )?health (?:bill|act|law)|new law|legislation": "Health and Social Care Act bill legislation",
    # places: a region or a county for the places in it, and informal names
    r"(?:the )?north[- ]west|manchester area|greater manchester|the north": "Greater Manchester Manchester north west",
    r"(?:the )?capital|(?:in )?london": "London",
    r"(?:the )?north[- ]east|tyneside": "north east Newcastle",
    r"(?:the )?midlands": "Midlands Birmingham",
    r"merseyside|liverpool area": "Liverpool Merseyside Sefton",
    r"(?:the )?south[- ]west": "south west Bristol Devon Cornwall",
    r"yorkshire": "Yorkshire Leeds Sheffield York",
    r"(?:the )?home counties|south[- ]east": "south east Kent Surrey Sussex",
    r"across (?:the )?country|nationwide|(?:all )?(?:of )?england|nationally": "national England",
}
_PATTERNS = [(re.compile(rf"(?<![\w-])(?:{phrase})(?![\w-])", re.I), terms) for phrase, terms in EVERYDAY_NAMES.items()]


# Everyday English for what reporting says plainly, read by the answer model in the plain words: it learned
# from Wikipedia questions, which rarely use idioms ("put pen to paper" for sign, "carry the can" for blame).
# Each means the same in any subject, so reading it plainly is safe whatever the corpus.
PLAIN_ENGLISH: dict[str, str] = {
    r"put(?:s|ting)? pen to paper": "sign",
    r"carr(?:y|ies|ied|ying) the can": "take the blame",
    r"foot(?:s|ing)? the bill": "pay",
    r"(?:g[eo]t|gets|getting|given|gave|give) the (?:go-ahead|green light|nod)": "approved",
    r"green[- ]lit|rubber[- ]stamp(?:ed|s)?": "approved",
    r"(?:g[eo]t|gets|getting) the (?:chop|axe)": "scrapped",
    r"cash[- ](?:starved|strapped)|hard[- ]up|strapped for cash": "underfunded",
    r"(?:a )?trial (?:version|run)|(?:a )?dry run": "a pilot",
    r"(?:g[eo]t|gets|getting) (?:it |them )?(?:off the ground|up and running|going)": "establish",
    r"chipp(?:ed|ing)? away at|(?:eat|ate|eating|eaten) away at": "undermined",
    r"medics": "doctors",
    r"medic": "doctor",
    r"(?:the )?top (?:brass|bosses)": "leaders",
    r"red tape": "bureaucracy",
    r"pull(?:ed|s|ing)? out of": "withdraw from",
    r"sign(?:ed|s|ing)? up (?:to|for)": "join",
    r"(?:step(?:ped|s|ping)?|stood|stand(?:s|ing)?) down from": "left",
}
_PLAIN = [(re.compile(rf"(?<![\w-])(?:{phrase})(?![\w-])", re.I), plain) for phrase, plain in PLAIN_ENGLISH.items()]


def expansion(question: str) -> str:
    """The reporting terms for the everyday names in `question` (an empty string when it has none)."""
    found = []
    for pattern, terms in _PATTERNS + _PLAIN:
        if pattern.search(question) and terms not in found:
            found.append(terms)
    return " ".join(found)


# Everyday names of bodies, roles and places with one reporting name each (singular, plural), put in the
# question's place for the answer model: it reads "Which law do the BMA say..." as it learned to read
# questions, while expansion terms appended to a question only dilute it. Names that could mean several
# bodies ("the regulator") or a region holding many places ("the north-west") are left to `expansion`.
REPORTING_NAMES: dict[str, tuple[str, str]] = {
    r"town halls?|county halls?|local councils?": ("local authority", "local authorities"),
    r"local (?:health )?(?:buying|purchasing) groups?|local (?:nhs|health) groups?(?: that (?:buy|pay for|plan) "
    r"(?:health )?services)?|groups? (?:of gps )?that (?:buy|pay for|plan) (?:health )?services": ("CCG", "CCGs"),
    r"(?:nhs|health service) (?:headquarters|hq)|(?:the )?national health (?:body|service body)"
    r"|(?:the )?national (?:nhs|health) body": ("NHS England", "NHS England"),
    r"(?:the )?(?:doctors'?|gps'?) union(?:'s)? (?:gp|gps'?) committee": ("the GPC", "the GPC"),
    r"(?:the )?(?:doctors'?|gps'?|medics'?) (?:trade )?union": ("the BMA", "the BMA"),
    r"local (?:gp|doctors'?) (?:committees?|representatives)": ("LMC", "LMCs"),
    r"(?:the )?(?:royal )?college of gps|(?:the )?gps' college": ("the RCGP", "the RCGP"),
    r"family doctors?|general practitioners?": ("GP", "GPs"),
    r"(?:doctors'?|gp|family doctors'?) surger(?:y|ies)|surgeries": ("GP practice", "GP practices"),
    r"(?:the )?old (?:local )?(?:health )?trusts?|primary care trusts?": ("PCT", "PCTs"),
    r"(?:gp|doctors'?) pay deal|gp contract deal": ("GP contract", "GP contract"),
    r"(?:patients'?|the public's) (?:watchdog|champion)": ("Healthwatch", "Healthwatch"),
    r"the capital's": ("London's", "London's"),  # not "the capital" alone: "Mexico City was declared the capital"
    r"(?:the )?treasury (?:boss|chief)": ("the chancellor", "the chancellor"),
    r"(?:the )?health service(?= (?:cash|money|funds|funding|budget|bosses|chiefs|leaders|staff)\b)": ("NHS", "NHS"),
    r"(?:the )?lake district county": ("Cumbria", "Cumbria"),
    r"(?:the )?(?:nhs|health) (?:regulator|watchdog)": ("the CQC", "the CQC"),
    r"hospital (?:doctors|specialists|experts)": ("consultants", "consultants"),
}
_REPORTING = [(re.compile(rf"(?<![\w-])(?:{phrase})(?![\w-])", re.I), names) for phrase, names in REPORTING_NAMES.items()]


def in_reporting_terms(question: str) -> str:
    """`question` with everyday names of bodies, roles and places replaced by the names reporting uses:
    "What do town halls want?" -> "What do local authorities want?"; idioms in plain words (`PLAIN_ENGLISH`)."""
    for pattern, plain in _PLAIN:
        question = pattern.sub(plain, question)
    for pattern, (singular, plural) in _REPORTING:
        question = pattern.sub(lambda m, one=singular, many=plural: many if m.group().lower().endswith("s") else one,
                               question)
    return question


# Abbreviations the trade press uses unexplained. The answer model learned English from Wikipedia questions,
# not NHS shorthand: it reads "PCTs" as letters, so a question about "primary care trusts" would not meet it.
ABBREVIATIONS: dict[str, str] = {
    "CCG": "clinical commissioning group", "PCT": "primary care trust", "SHA": "strategic health authority",
    "LMC": "local medical committee", "GPC": "GPs committee of the BMA", "BMA": "British Medical Association",
    "RCGP": "Royal College of GPs", "CQC": "Care Quality Commission", "HWB": "health and wellbeing board",
    "LCO": "local care organisation", "CSU": "commissioning support unit", "NAPC": "National Association of Primary Care",
    "PBC": "practice-based commissioning", "GMS": "general medical services", "PMS": "personal medical services",
    "APMS": "alternative provider medical services", "QOF": "quality and outcomes framework",
    "DES": "directed enhanced service", "LES": "local enhanced service", "OOH": "out-of-hours",
    "STP": "sustainability and transformation plan", "ICS": "integrated care system",
}
_ABBREVIATION = re.compile(r"\b(" + "|".join(ABBREVIATIONS) + r")(s)?\b")


def spelled_out(text: str) -> str:
    """`text` with the first use of each NHS abbreviation followed by its meaning: "67 CCGs (clinical
    commissioning groups)"."""
    seen: set[str] = set()

    def spell(match: re.Match) -> str:
        short, plural = match.group(1), match.group(2) or ""
        if short in seen:
            return match.group()
        seen.add(short)
        return f"{match.group()} ({ABBREVIATIONS[short]}{plural})"

    return _ABBREVIATION.sub(spell, text)
