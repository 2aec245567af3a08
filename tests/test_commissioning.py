"""The commissioning extractor: general patterns, held-out paragraphs, the gold table and filters."""
from __future__ import annotations

import json

import pytest

from eval.commissioning_eval import GOLD, load_gold, score
from qa.commissioning import CommissioningFact, compatible, extract_all, extract_facts, filter_facts
from qa.errors import InputError
from qa.types import Comment, Document

# Three paragraphs written for these tests, not taken from the corpus; EXPECTED was written
# before the extractor ever read them, in the gold table's format.
SCOTLAND = Document(
    id="held-out-scotland", title="Health board to run out-of-hours care", source="scotland.txt",
    text=(
        "NHS Greater Glasgow and Clyde will take over responsibility for commissioning out-of-hours GP "
        "services from April 2025, the Scottish Government announced yesterday. Under the proposals, the "
        "health board would also hold the budget for community pharmacy services, worth £120m a year.\n\n"
        "Integration joint boards, which currently commission district nursing, could see their role "
        "reduced. The BMA's Scottish GP committee rejected the plan, arguing that funding for general "
        "practice must remain ring-fenced."
    ),
)
BIRMINGHAM = Document(
    id="held-out-birmingham", title="Councils pool sexual health budgets", source="birmingham.txt",
    text=(
        "Birmingham City Council is to commission sexual health services jointly with Solihull from next "
        "year, after the two councils agreed to pool their public health budgets. The contract, worth £12 "
        "million, will be run by University Hospitals Birmingham NHS Foundation Trust.\n\n"
        "Public Health England must approve any changes to the HIV prevention programme. Local GPs will "
        "continue to provide contraception services under a locally commissioned service."
    ),
)
NETWORKS = Document(
    id="held-out-networks", title="Networks to hold DES budget", source="networks.txt",
    text=(
        "From July, primary care networks will hold the budget for the Network Contract DES, which funds "
        "clinical pharmacists and social prescribers. Integrated care boards will take control of "
        "commissioning pharmacy, optometry and dental services from NHS England by April 2024.\n\n"
        "The GPC said practices should be able to opt out of the DES, and demanded that LMCs be consulted "
        "on any local variations. Several ICBs have delegated the management of enhanced services back to "
        "their primary care networks."
    ),
)
HELD_OUT = (SCOTLAND, BIRMINGHAM, NETWORKS)


def fact(page, quote, body, relation, covers=(), place=None, when=None, status="in force", proposer=None):
    return {"page": page, "quote": quote, "body": body, "relation": relation, "covers": list(covers),
            "place": place, "when": when, "status": status, "proposer": proposer}


EXPECTED = [
    fact("scotland.txt", "will take over responsibility for commissioning out-of-hours GP services", "health boards",
         "takes responsibility for", ["urgent care", "GP services"], "Greater Glasgow and Clyde", "from April 2025",
         "planned", "Scottish Government"),
    fact("scotland.txt", "the health board would also hold the budget", "health boards", "holds budget for",
         ["budget", "pharmacy services"], None, None, "proposed"),
    fact("scotland.txt", "which currently commission district nursing", "integration joint boards", "commissions",
         ["community services"]),
    fact("scotland.txt", "Scottish GP committee rejected the plan", "GPC", "opposes", [], None, None, "opposed", "GPC"),
    fact("birmingham.txt", "Birmingham City Council is to commission sexual health services", "local authorities",
         "commissions", ["sexual health services"], "Birmingham", "from next year", "planned"),
    fact("birmingham.txt", "the two councils agreed to pool their public health budgets", "local authorities",
         "holds budget for", ["budget", "public health"], None, None, "planned"),
    fact("birmingham.txt", "will be run by University Hospitals Birmingham NHS Foundation Trust", "hospital trusts",
         "runs", [], "Birmingham", None, "planned"),
    fact("birmingham.txt", "Public Health England must approve any changes", "Public Health England", "must approve"),
    fact("networks.txt", "primary care networks will hold the budget for the Network Contract DES",
         "primary care networks", "holds budget for", ["budget", "enhanced services"], None, "From July", "planned"),
    fact("networks.txt", "Integrated care boards will take control of commissioning", "integrated care boards",
         "takes control of", ["pharmacy services", "eye care services", "dental services"], None, "by April 2024",
         "planned"),
    fact("networks.txt", "from NHS England by April 2024", "NHS England", "devolves",
         ["pharmacy services", "eye care services", "dental services"], None, "by April 2024", "planned"),
    fact("networks.txt", "demanded that LMCs be consulted", "LMCs", "has role in", [], None, None, "demanded", "GPC"),
    fact("networks.txt", "Several ICBs have delegated the management of enhanced services", "integrated care boards",
         "devolves", ["enhanced services"]),
    fact("networks.txt", "Several ICBs have delegated the management of enhanced services", "primary care networks",
         "delegated to", ["enhanced services"]),
]


# A second batch, written after the first had been used to fix the extractor, to measure again.
WALES = Document(
    id="held-out-wales", title="Ministers step in", source="wales.txt",
    text=(
        "Betsi Cadwaladr University Health Board has been placed in special measures, and the Welsh "
        "Government will now oversee its mental health services. Ministers said the board would remain "
        "responsible for commissioning GP out-of-hours care across north Wales.\n\n"
        "Local councils in Wrexham and Flintshire warned they had not been consulted."
    ),
)
CUMBRIA = Document(
    id="held-out-cumbria", title="One budget for Cumbria", source="cumbria.txt",
    text=(
        "Under the new arrangements, the integrated care board will commission community and mental health "
        "services for Cumbria, with a pooled budget of £1.1bn shared with the county council. GP federations "
        "could run the extended-access hubs, but the LMC has demanded a veto over any new contracts.\n\n"
        "The CQC will continue to regulate all providers."
    ),
)
HULL = Document(
    id="held-out-hull", title="Out-of-hours handover", source="hull.txt",
    text=(
        "In 2006, Hull PCT handed its out-of-hours contract to a social enterprise. The trust had previously "
        "commissioned the service from a private provider, and kept control of the budget until the contract "
        "ended.\n\n"
        "The strategic health authority approved the transfer in March 2006, but local GPs opposed it."
    ),
)
HELD_OUT_2 = (WALES, CUMBRIA, HULL)
EXPECTED_2 = [
    fact("wales.txt", "the Welsh Government will now oversee its mental health services", "Welsh Government",
         "oversees", ["mental health services"], None, None, "planned"),
    fact("wales.txt", "the board would remain responsible for commissioning GP out-of-hours care", "health boards",
         "responsible for", ["GP services", "urgent care"], "Wales", None, "proposed"),
    fact("cumbria.txt", "the integrated care board will commission community and mental health", "integrated care boards",
         "commissions", ["mental health services"], "Cumbria", None, "planned"),
    fact("cumbria.txt", "with a pooled budget of £1.1bn", "integrated care boards", "holds budget for", ["budget"],
         "Cumbria", None, "planned"),
    fact("cumbria.txt", "shared with the county council", "local authorities", "holds budget for", ["budget"],
         "Cumbria", None, "planned"),
    fact("cumbria.txt", "GP federations could run the extended-access hubs", "federations", "runs", [], None, None,
         "proposed"),
    fact("cumbria.txt", "the LMC has demanded a veto over any new contracts", "LMCs", "must approve", [], None, None,
         "demanded", "LMCs"),
    fact("cumbria.txt", "The CQC will continue to regulate all providers", "CQC", "oversees", [], None, None, "planned"),
    fact("hull.txt", "Hull PCT handed its out-of-hours contract", "PCTs", "devolves", ["urgent care"], "Hull", "In 2006"),
    fact("hull.txt", "The trust had previously commissioned the service", "NHS trusts", "commissions"),
    fact("hull.txt", "kept control of the budget", "NHS trusts", "holds budget for", ["budget"]),
    fact("hull.txt", "The strategic health authority approved the transfer in March 2006", "strategic health authorities",
         "approves", [], None, "in March 2006"),
    fact("hull.txt", "but local GPs opposed it", "GPs", "opposes", [], None, None, "opposed", "GPs"),
]

# A third batch, written after the second had been used to fix the extractor; never tuned on.
LEEDS = Document(
    id="held-out-leeds", title="Leeds handover", source="leeds.txt",
    text=(
        "Responsibility for urgent care in Leeds will pass to the new integrated care board in July, when the "
        "city's CCG is abolished. Until then, the CCG retains responsibility for the £1.3bn budget.\n\n"
        "Leeds City Council has been asked to take on the commissioning of school nursing."
    ),
)
BELFAST = Document(
    id="held-out-belfast", title="Pharmacy budget stays central", source="belfast.txt",
    text=(
        "Community pharmacies in Northern Ireland are commissioned by the Strategic Planning and Performance "
        "Group, which replaced the Health and Social Care Board in 2022. The Department of Health said it "
        "would not devolve the pharmacy budget to local councils."
    ),
)
BRISTOL = Document(
    id="held-out-bristol", title="Contract overturned", source="bristol.txt",
    text=(
        "Last year NHS Bristol CCG awarded a five-year contract for musculoskeletal services to a private "
        "provider, but the decision was overturned after the local authority's health scrutiny committee "
        "objected. GP practices in the city now hold their own budgets for minor surgery under an enhanced "
        "service."
    ),
)
HELD_OUT_3 = (LEEDS, BELFAST, BRISTOL)
EXPECTED_3 = [
    fact("leeds.txt", "Responsibility for urgent care in Leeds will pass to the new integrated care board",
         "integrated care boards", "delegated to", ["urgent care"], "Leeds", "in July", "planned"),
    fact("leeds.txt", "when the city's CCG is abolished", "CCGs", "scrapped", [], "Leeds", "in July", "planned"),
    fact("leeds.txt", "the CCG retains responsibility for the £1.3bn budget", "CCGs", "holds budget for", ["budget"]),
    fact("leeds.txt", "Leeds City Council has been asked to take on the commissioning of school nursing",
         "local authorities", "takes responsibility for", ["nursing services"], "Leeds", None, "planned"),
    fact("belfast.txt", "are commissioned by the Strategic Planning and Performance", "Strategic Planning and "
         "Performance Group", "commissions", ["pharmacy services"], "Northern Ireland"),
    fact("belfast.txt", "which replaced the Health and Social Care Board in 2022", "Health and Social Care Board",
         "scrapped", [], "Northern Ireland", "in 2022"),
    fact("belfast.txt", "would not devolve the pharmacy budget to local councils", "Department of Health",
         "devolves", ["budget", "pharmacy services"], None, None, "opposed", "Department of Health"),
    fact("belfast.txt", "would not devolve the pharmacy budget to local councils", "local authorities",
         "delegated to", ["budget", "pharmacy services"], None, None, "opposed", "Department of Health"),
    fact("bristol.txt", "NHS Bristol CCG awarded a five-year contract", "CCGs", "commissions", [], "Bristol",
         "Last year"),
    fact("bristol.txt", "health scrutiny committee objected", "overview and scrutiny committees", "opposes", [],
         None, None, "opposed"),
    fact("bristol.txt", "GP practices in the city now hold their own budgets", "GPs", "holds budget for",
         ["budget", "enhanced services"]),
]

# Precision and recall the first time the extractor read each batch (before any fix it prompted):
# batch 1 P 1.00 R 0.50, batch 2 P 0.86 R 0.46, batch 3 P 1.00 R 0.45. Each batch's misses then led
# to general rules, so these floors now guard against regressions; they no longer measure generalisation.
@pytest.mark.parametrize("documents, expected", [
    (HELD_OUT, EXPECTED), (HELD_OUT_2, EXPECTED_2), (HELD_OUT_3, EXPECTED_3),
], ids=["batch1", "batch2", "batch3"])
def test_held_out_paragraphs_meet_the_floor(documents, expected):
    report = score(extract_all(documents), expected)
    assert report.precision >= 0.85, [(f.body, f.relation, f.sentence) for f in report.false_positives]
    assert report.recall >= 0.75, [(g["body"], g["relation"], g["quote"]) for g in report.misses]


def test_default_corpus_meets_the_floor():
    from eval.commissioning_eval import DEFAULT_PAGES
    from qa.commissioning import extract_from_files

    report = score(extract_from_files([DEFAULT_PAGES]), load_gold())
    assert report.precision >= 0.85 and report.recall >= 0.75, (report.precision, report.recall)


def test_gold_quotes_are_sentences_of_the_pages():
    from eval.commissioning_eval import DEFAULT_PAGES
    from index.ingest import load_documents
    from index.sentences import split_sentences

    documents = {doc.source.rsplit("/", 1)[-1]: doc for doc in load_documents([DEFAULT_PAGES])}
    for record in load_gold(GOLD):
        doc = documents[record["page"]]
        holding = [s for s, e in split_sentences(doc.text) if record["quote"] in doc.text[s:e]]
        assert len(holding) == 1, record["quote"]


def one(text: str) -> list[CommissioningFact]:
    return extract_facts(Document(id="t", title="t", text=text, source="t.txt"))


def summary(facts):
    return [(f.body, f.relation, f.status) for f in facts]


def test_passive_voice_names_the_agent_after_by():
    facts = one("Community services will be commissioned by the county council and the CCG.")
    assert summary(facts) == [("local authorities", "commissions", "planned"), ("CCGs", "commissions", "planned")]
    assert facts[0].covers == ("community services",)


def test_giving_away_names_giver_and_receiver():
    facts = one("The trust is handing over its commissioning budget to GP consortia in Kent.")
    assert summary(facts) == [("NHS trusts", "devolves", "in force"), ("GP consortia", "delegated to", "in force")]
    assert facts[1].place == "Kent"


def test_liability_that_remains_with_a_body():
    [fact_] = one("Legally, liability for dental commissioning remains with NHS England.")
    assert (fact_.body, fact_.relation, fact_.covers) == ("NHS England", "retains liability for", ("dental services",))


def test_status_follows_modality_and_stance():
    assert one("Councils could commission public health services.")[0].status == "proposed"
    assert one("Councils are demanding a role in commissioning primary care.")[0].status == "demanded"
    assert one("The LMC rejected plans for CCGs to commission GP services.")[0].status == "opposed"
    assert one("PCTs are to be scrapped by April 2030.")[0].when == "by April 2030"


def test_list_items_take_status_from_their_lead_in():
    text = "Options under discussion include:\n  • CCGs taking on responsibility for QOF;"
    assert summary(one(text)) == [("CCGs", "takes responsibility for", "proposed")]


def test_labels_and_people_are_not_actors():
    assert one("The BMA chair said the CCG board meeting ran late.") == []
    assert one("Dr Smith, chair of Leeds CCG, said commissioning decisions were delayed.") == []


def test_comments_are_not_sources_of_fact():
    doc = Document(id="c", title="t", text="Nothing to see.",
                   comments=(Comment(position=1, text="CCGs will commission GP services."),))
    assert extract_facts(doc) == []


def test_offsets_cite_the_sentence_in_the_article_text():
    doc = Document(id="o", title="t", text="Intro line.\n\nCCGs will take control of commissioning QOF.")
    [fact_] = extract_facts(doc)
    assert doc.text[fact_.sentence_start:fact_.sentence_end] == fact_.sentence
    assert json.loads(json.dumps(fact_.to_dict()))["covers"] == ["QOF"]


def test_filter_by_synonym_place_and_service():
    facts = extract_all(HELD_OUT)
    assert {f.doc_id for f in filter_facts(facts, body="councils")} == {"held-out-birmingham"}
    assert filter_facts(facts, body="Integrated Care Boards") == filter_facts(facts, body="ICBs")
    assert all(f.place == "Birmingham" for f in filter_facts(facts, place="birmingham"))
    assert {f.body for f in filter_facts(facts, covers="DES")} >= {"primary care networks"}
    assert filter_facts(facts, body="the Treasury") == []


def test_bad_input_says_what_is_allowed():
    with pytest.raises(InputError, match="Document"):
        extract_facts("CCGs commission GP services")
    with pytest.raises(InputError, match="body"):
        filter_facts([], body="  ")
    with pytest.raises(InputError, match="CommissioningFact"):
        filter_facts([{"body": "CCGs"}])


def test_relation_compatibility_is_by_group():
    assert compatible("takes control of", "commissions")
    assert compatible("delegated to", "holds budget for")
    assert not compatible("devolves", "commissions")
