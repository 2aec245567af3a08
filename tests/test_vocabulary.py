"""The vocabulary finds NHS bodies, services, places and sums under their canonical names."""
from __future__ import annotations

import pytest

from qa.commissioning import (
    Mention,
    canonical_body,
    canonical_place,
    canonical_service,
    find_amounts,
    find_bodies,
    find_places,
    find_services,
    longest_first,
)


def canon(mentions: list[Mention]) -> list[str]:
    return [m.canonical for m in mentions]


@pytest.mark.parametrize("name, expected", [
    ("clinical commissioning groups", "CCGs"),
    ("Bradford CCG", "CCGs"),
    ("NHSE", "NHS England"),
    ("NHS England's area teams", "NHS England area teams"),
    ("town halls", "local authorities"),
    ("Councils", "local authorities"),
    ("London Councils", "London Councils"),
    ("HWB", "health and wellbeing boards"),
    ("primary care trust", "PCTs"),
    ("practice-based commissioning groups", "GP consortia"),
    ("consortiums", "GP consortia"),
    ("locality board", "GP consortia"),
    ("local medical committee", "LMCs"),
    ("LCOs", "local care organisations"),
    ("HM Treasury", "the Treasury"),
    ("British Medical Association", "the BMA"),
    ("Royal College of GPs", "RCGP"),
    ("Care Quality Commission", "CQC"),
    ("GP federations", "federations"),
    ("foundation trust", "hospital trusts"),
    ("NHS Lothian", "health boards"),
    ("Aneurin Bevan University Health Board", "health boards"),
    ("NHS Sefton", "local NHS bodies"),
    ("Practices", "GPs"),
])
def test_canonical_body(name, expected):
    assert canonical_body(name) == expected


def test_unknown_body_comes_back_tidied():
    assert canonical_body("  the  Parish Pump ") == "the Parish Pump"


def test_longest_name_wins_and_offsets_point_into_text():
    text = "London Councils wrote to NHS England's area team and to local councils."
    mentions = find_bodies(text)
    assert canon(mentions) == ["London Councils", "NHS England area teams", "local authorities"]
    assert all(text[m.start:m.end] == m.text for m in mentions)


def test_acronyms_do_not_fire_on_ordinary_words():
    assert find_bodies("The monitor showed les misérables; pec and shade.") == []
    assert find_services("Les Dennis designed the set.") == []


@pytest.mark.parametrize("text, expected", [
    ("global sum, QOF, LES and DES", ["global sum", "QOF", "enhanced services"]),
    ("directed enhanced services and property costs", ["enhanced services", "premises"]),
    ("GMS and PMS contracts", ["GMS contracts", "PMS contracts"]),
    ("the primary care budget and adult social care", ["budget", "social care"]),
    ("commissioning general practice and sexual health services", ["GP services", "sexual health services"]),
])
def test_services(text, expected):
    assert canon(find_services(text)) == expected


def test_canonical_service():
    assert canonical_service("DES") == "enhanced services"
    assert canonical_service("Quality and Outcomes Framework") == "QOF"


def test_places_are_proper_names_with_aliases():
    text = "GPs in South Sefton, Greater Manchester and the capital; not a bury or a reading."
    assert canon(find_places(text)) == ["Sefton", "Greater Manchester", "London"]
    assert canonical_place("Kingston upon Hull") == "Hull"
    assert canonical_place("waltham forest") == "Waltham Forest"


def test_amounts_are_normalised():
    found = find_amounts("a £6bn budget, £850 million a year and £1.2 billion")
    assert canon(found) == ["£6bn", "£850m", "£1.2bn"]


def test_the_longest_of_overlapping_spans_wins_and_the_earlier_of_equal_ones():
    found = [Mention(4, 11, "England", "England", "place"), Mention(0, 11, "NHS England", "NHS England", "body"),
             Mention(12, 15, "CCG", "CCGs", "body"), Mention(14, 17, "Gss", "x", "body"), Mention(20, 23, "GPs", "GPs", "body")]
    assert [m.text for m in longest_first(found)] == ["NHS England", "CCG", "GPs"]  # in text order
    spans = [("b", 5, 9), ("c", 2, 5), ("a", 0, 3)]  # any item, given how to read its span
    assert longest_first(spans, span=lambda s: (s[1], s[2])) == [("a", 0, 3), ("b", 5, 9)]
