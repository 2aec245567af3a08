"""Question intent: opinion questions (what people think or said) versus fact questions."""
from __future__ import annotations

import pytest

from qa.intent import FACT, OPINION, opinion_cue, question_intent, wants_comments


@pytest.mark.parametrize(
    "question",
    [
        "What did readers think of the plans?",
        "How did GPs feel about co-commissioning?",
        "What was said in the comments?",
        "What do commenters say about NHS England?",
        "Was anyone against the proposals?",
        "Were GPs in favour of taking on the budget?",
        "Who opposed the changes?",
        "How did doctors react?",
        "What concerns did GPs raise about conflicts of interest?",
        "What did GPs say about the timetable?",
        "Did anybody support the move?",
        "What is the mood among colleagues?",
        "What did readers think of the chief executive's plan?",  # readers asked: comments, whoever is named
        "Why did one commenting GP turn down a job at the CCG?",
        "What did GPs say when the deal was announced?",  # the holder says it in its own clause
    ],
)
def test_opinion_questions(question):
    assert question_intent(question) == OPINION
    assert wants_comments(question)
    assert opinion_cue(question)


@pytest.mark.parametrize(
    "question",
    [
        "Who commissions GP services?",
        "How big is the budget?",
        "What did NHS England say about the timetable?",
        "When will CCGs take over primary care commissioning?",
        "Who will support practices with premises costs?",
        "What would GP services look like under the plans?",
        "Which functions are most suitable for full delegation?",
        "Give me an overview of co-commissioning.",
        # a named or office-holding speaker's view is reported in the article, with the quote
        "What does the head of the doctors' union fear the money could prop up?",
        "What did Dr Tracey Vell think of the plans?",
        "What do the chief executives of the trusts believe?",
        # the councils say it; the doctors are only named in the clause after "when"
        "What do town halls say they could take on when family doctors make choices that suit themselves?",
        "",
    ],
)
def test_fact_questions(question):
    assert question_intent(question) == FACT
    assert not wants_comments(question)
    assert opinion_cue(question) is None


def test_cue_names_the_phrase_that_decided():
    assert opinion_cue("Were any GPs sceptical?") == "sceptical"
    assert opinion_cue("What did the readers make of it?") == "readers"
