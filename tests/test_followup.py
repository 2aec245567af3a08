"""Follow-up resolution: elliptical questions are rewritten against earlier turns, others left alone."""
from __future__ import annotations

import re

import pytest

from qa.errors import InputError
from qa.followups import BODY, MAX_GIST_CHARS, PERSON, PLACE, Turn, find_entities, resolve


def without_gist(resolved: str) -> str:
    """The rewritten question without the earlier topic carried in trailing brackets."""
    return re.sub(r"\s*\([^()]*\)\?$", "?", resolved)


def conversation(*questions: str) -> list[Turn]:
    """The history after asking each question in turn, resolving each against the ones before."""
    history: list[Turn] = []
    for question in questions:
        history.append(resolve(question, history).to_turn())
    return history


CCG_BUDGET = "Will CCGs take over the £2bn GP budget from NHS England?"


def test_first_question_is_left_alone_even_with_a_pronoun():
    resolution = resolve("Who chairs it?", [])
    assert (resolution.resolved, resolution.rewritten, resolution.carried) == ("Who chairs it?", False, ())


def test_plural_pronoun_takes_the_earlier_plural_body():
    resolution = resolve("What do they commission?", conversation(CCG_BUDGET))
    assert without_gist(resolution.resolved) == "What do CCGs commission?"
    assert resolution.rewritten and resolution.carried[0] == "CCGs"


def test_how_many_of_them():
    resolution = resolve("How many of them submitted bids?", conversation(CCG_BUDGET))
    assert without_gist(resolution.resolved) == "How many of the CCGs submitted bids?"
    history = conversation("Will the local authorities take over public health?")
    expected = "How many of the local authorities agreed?"
    assert without_gist(resolve("How many of them agreed?", history).resolved) == expected


def test_possessive_pronoun():
    assert without_gist(resolve("What is their deadline?", conversation(CCG_BUDGET)).resolved) == "What is CCGs' deadline?"


def test_demonstrative_with_a_noun_takes_the_earlier_name_and_topic():
    resolution = resolve("How big is that budget?", conversation(CCG_BUDGET))
    # The amount asked about is left out of the name; a bare service gets the topic too.
    expected = "How big is the GP budget?"
    assert without_gist(resolution.resolved) == expected
    assert {"CCGs", "NHS England"} <= set(resolution.carried)


def test_demonstrative_naming_a_body_needs_no_topic():
    history = conversation("Will the Greater Manchester health and social care partnership hold the budget?")
    resolution = resolve("Who chairs that partnership?", history)
    assert without_gist(resolution.resolved) == "Who chairs the Greater Manchester health and social care partnership?"


def test_a_possessive_name_stays_with_what_it_owns():
    history = conversation("When does the Health Secretary's new GP contract start?")
    resolution = resolve("Would practices still have to do QOF under it?", history)
    expected = "Would practices still have to do QOF under the Health Secretary's new GP contract?"
    assert without_gist(resolution.resolved) == expected


def test_who_chairs_it_takes_the_named_body_with_its_place():
    history = conversation("What does the Greater Manchester health and social care partnership do?")
    resolution = resolve("who chairs it?", history)
    assert without_gist(resolution.resolved) == "Who chairs the Greater Manchester health and social care partnership?"


def test_new_place_replaces_the_old_one():
    history = conversation("Who commissions GP services in Greater Manchester?")
    resolution = resolve("and in London?", history)
    assert without_gist(resolution.resolved) == "Who commissions GP services in London?"
    assert "Greater Manchester" not in resolution.resolved and resolution.rewritten


def test_place_is_added_where_there_was_none():
    resolution = resolve("What about in Wales?", conversation("Who commissions GP services?"))
    assert without_gist(resolution.resolved) == "Who commissions GP services in Wales?"


def test_new_body_replaces_the_old_one():
    resolution = resolve("What about local authorities?", conversation("What will CCGs commission?"))
    assert without_gist(resolution.resolved) == "What will local authorities commission?"


def test_bare_that_gets_the_earlier_topic_in_brackets():
    resolution = resolve("When will that happen?", conversation(CCG_BUDGET))
    assert resolution.resolved.startswith("When will that happen (")
    assert {"CCGs", "NHS England"} <= set(resolution.carried)


@pytest.mark.parametrize("question", ["Why?", "What happens next?", "What did GPs think?"])
def test_short_questions_without_a_subject_carry_the_topic(question):
    resolution = resolve(question, conversation(CCG_BUDGET))
    assert resolution.rewritten
    assert "CCGs" in resolution.carried


def test_the_carried_topic_is_bounded():
    long_question = "Will CCGs take over " + " and ".join(f"budget number {n}" for n in range(200)) + "?"
    resolution = resolve("Why?", conversation(long_question))
    assert resolution.resolved.startswith("Why (CCGs take over budget number 0")
    assert len(resolution.resolved) <= len("Why ()?") + MAX_GIST_CHARS


def test_self_contained_question_is_left_alone():
    question = "Which CCGs submitted bids to NHS England?"
    resolution = resolve(question, conversation(CCG_BUDGET))
    assert (resolution.resolved, resolution.rewritten, resolution.carried) == (question, False, ())
    assert resolution.reason.startswith("self-contained")


def test_change_of_topic_drops_the_old_context():
    history = conversation(CCG_BUDGET, "What does the Care Quality Commission inspect in care homes?")
    assert history[-1].resolved_question == history[-1].question  # the new topic was left alone
    resolution = resolve("How many of them were rated good?", history)
    assert resolution.resolved.startswith("How many of the care homes were rated good (")
    assert "CCG" not in resolution.resolved  # the topic before the change is not reached
    assert without_gist(resolve("Who chairs it?", history).resolved) == "Who chairs the Care Quality Commission?"


def test_pronoun_may_point_into_the_last_answer():
    question = "Who will commission GP services?"
    answer = "Under the plans, 40 CCGs will take control of commissioning GP services."
    history = [Turn.of(question, question, answer)]
    assert without_gist(resolve("How many of them applied?", history).resolved) == "How many of the CCGs applied?"


def test_it_after_a_verb_of_leading_is_a_body():
    question = "Who will commission health services in Greater Manchester?"
    answer = "Local authorities will share the budget with the health and social care partnership."
    history = [Turn.of(question, question, answer)]
    resolution = resolve("Who chairs it?", history)
    assert without_gist(resolution.resolved) == "Who chairs the health and social care partnership?"


def test_dummy_it_is_not_an_anaphor():
    resolution = resolve("Is it true that CCGs will hold the budget?", conversation(CCG_BUDGET))
    assert not resolution.rewritten


def test_it_after_a_service_verb_is_the_service_and_this_year_stays():
    resolution = resolve("Will local authorities commission it this year?", conversation(CCG_BUDGET))
    assert without_gist(resolution.resolved) == "Will local authorities commission the £2bn GP budget this year?"


def test_person_pronouns_take_a_named_person():
    history = conversation("What did Dr Jane Holloway say about co-commissioning?")
    resolution = resolve("Does she support it?", history)
    assert without_gist(resolution.resolved) == "Does Dr Jane Holloway support co-commissioning?"
    assert "Jane Holloway" in resolution.carried


def test_turns_that_say_nothing_neither_carry_nor_end_a_topic():
    history = conversation(CCG_BUDGET, "Thanks!")
    assert without_gist(resolve("What do they commission?", history).resolved) == "What do CCGs commission?"
    assert history[1].resolved_question == "Thanks!"
    # A turn that continues the topic after a "thanks" still reaches back past it.
    history = conversation(CCG_BUDGET, "Thanks!", "Which CCGs applied first?")
    assert resolve("How big is that budget?", history).resolved.startswith("How big is the GP budget")


def test_restored_turns_without_derived_fields_still_resolve():
    history = [Turn("Will CCGs hold the budget?", "Will CCGs hold the budget?")]
    assert without_gist(resolve("What do they commission?", history).resolved) == "What do CCGs commission?"


def test_turn_reads_its_entities_and_topic():
    turn = Turn.of("and in London?", "Who commissions GP services in London?")
    assert turn.entities == ("GP services", "London")
    assert turn.topic_terms == ("commissions",)
    assert turn.to_dict()["entities"] == ["GP services", "London"]


def test_entities_prefer_the_longer_name_and_find_people():
    kinds = {e.text: e.kind for e in find_entities("Did Prof Ann Lee tell NHS England about plans in Leeds?")}
    assert kinds["NHS England"] == BODY and "England" not in kinds
    assert kinds["Prof Ann Lee"] == PERSON and kinds["Leeds"] == PLACE


@pytest.mark.parametrize("question", ["", "   ", None])
def test_blank_question_is_refused(question):
    with pytest.raises(InputError, match="non-empty"):
        resolve(question, [])


def test_a_pronoun_rewrite_carries_the_earlier_topic():
    history = conversation("Who will take over the £6bn health budget in Greater Manchester?")
    resolved = resolve("How many of them are there?", history).resolved
    assert "Greater Manchester" in resolved and "£6bn" in resolved


def test_a_person_named_for_a_pronoun_is_specific_enough_to_leave_the_earlier_topic_out():
    # The earlier question's words ("chief executive of Manchester LMC") would only dilute "Dr Tracey Vell".
    history = [Turn.of("Who is the chief executive of Manchester LMC?", "Who is the chief executive of Manchester LMC?",
                       "Dr Tracey Vell, chief executive of Manchester LMC, has been involved in the proposals.")]
    resolution = resolve("What does she want the LCO to be?", history)
    assert resolution.resolved == "What does Dr Tracey Vell want the LCO to be?", resolution
    # "they" still carries the topic: a plural body alone says less about what was being discussed.
    assert resolve("What do they commission?", conversation(CCG_BUDGET)).resolved.endswith(")?")
