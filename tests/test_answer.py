"""Tests for qa/answer.py: choosing sentences, composing cited answers and abstentions, JSON output."""
from __future__ import annotations

import json

import pytest

from qa.answer import AnswerConfig, Candidate, choose_sentences, compose, rank_passages
from qa.errors import InputError
from qa.phrasing import NOTHING_FOUND
from qa.speakers import Quote
from qa.types import Answer, Hit

BODY = "Councils will commission GP services. The budget is £6bn.\n• GPs taking on new contracts;"
COMMENT = "Councils will ruin it. Total madness."


def _hit(passage_id: str, kind: str = "article", score: float = 1.0, author: str | None = "Ian Quinn",
         comment: int | None = None) -> Hit:
    text = BODY if kind == "article" else COMMENT
    return Hit(rank=1, score=score, passage_id=passage_id, doc_id="gm", title="Councils to commission GP services",
               kind=kind, author=author, start=0, end=len(text), text=text, comment=comment)


def _candidate(hit: Hit, sentence: str, score: float, similarity: float = 0.8, coverage: float = 0.8) -> Candidate:
    start = hit.text.index(sentence)
    return Candidate(hit, start, start + len(sentence), sentence, coverage, similarity, score)


ARTICLE_1, ARTICLE_2 = _hit("gm:a:1"), _hit("gm:a:2")
CONFIG = AnswerConfig(min_confidence=0.5)  # the engine fills in the model's calibrated threshold
READER = _hit("gm:c1", "comment", author="Vinci Ho", comment=1)
ANONYMOUS = _hit("gm:c2", "comment", author=None, comment=2)


@pytest.mark.parametrize("settings, message", [
    ({"max_sentences": 0}, "max_sentences must be between 1 and 10, got 0"),
    ({"max_sentences": 11}, "max_sentences must be between 1 and 10, got 11"),
    ({"passages": 0}, "passages must be between 1 and 50, got 0"),
    ({"min_confidence": 1.5}, "min_confidence must be between 0 and 1, got 1.5"),
    ({"rescored": 0}, "rescored must be between 1 and 200, got 0"),
])
def test_answer_config_says_what_is_allowed(settings, message):
    with pytest.raises(InputError, match=message):
        AnswerConfig(**settings)


def test_passages_are_reordered_by_their_best_sentence_and_unread_ones_keep_retrieval_order_after():
    unread = _hit("gm:a:3")
    scored = [_candidate(ARTICLE_1, "The budget is £6bn.", 0.2), _candidate(ARTICLE_2, "The budget is £6bn.", 0.9),
              _candidate(ARTICLE_1, "Councils will commission GP services.", 0.4)]
    ranked = rank_passages([ARTICLE_1, unread, ARTICLE_2], scored)
    assert [(h.passage_id, h.rank) for h in ranked] == [("gm:a:2", 1), ("gm:a:1", 2), ("gm:a:3", 3)]


def test_choose_takes_the_best_sentences_that_do_not_overlap_up_to_max_sentences():
    pointing_back = "Councils will commission GP services. The budget is £6bn."  # read with the one before
    candidates = [_candidate(ARTICLE_1, "The budget is £6bn.", 0.95),  # inside the best: not cited twice
                  _candidate(ARTICLE_1, pointing_back, 1.0),
                  _candidate(ARTICLE_1, "• GPs taking on new contracts;", 0.9)]  # the same passage may give another
    chosen = choose_sentences(candidates, "article", AnswerConfig(max_sentences=3))
    assert [c.text for c in chosen] == [pointing_back, "• GPs taking on new contracts;"]
    assert len(choose_sentences(candidates, "article", AnswerConfig(max_sentences=1))) == 1


def test_choose_drops_repeated_sentences_and_those_far_below_the_best():
    candidates = [_candidate(ARTICLE_1, "Councils will commission GP services.", 1.0),
                  _candidate(ARTICLE_2, "Councils will commission GP services.", 0.99),  # the same words again
                  _candidate(READER, "Councils will ruin it.", 0.74)]  # below 0.75 of the best
    chosen = choose_sentences(candidates, "article", AnswerConfig())
    assert [c.hit.passage_id for c in chosen] == ["gm:a:1"]


def test_the_preferred_kind_fills_first_even_when_the_other_scores_higher():
    candidates = [_candidate(READER, "Councils will ruin it.", 1.0),
                  _candidate(ARTICLE_1, "Councils will commission GP services.", 0.9)]
    assert [c.hit.kind for c in choose_sentences(candidates, "article", AnswerConfig())] == ["article", "comment"]
    assert [c.hit.kind for c in choose_sentences(candidates, "comment", AnswerConfig())] == ["comment", "article"]


def test_compose_leads_with_the_side_that_answers_and_labels_every_comment_as_a_readers_view():
    chosen = [_candidate(READER, "Councils will ruin it.", 1.0),
              _candidate(ANONYMOUS, "Total madness.", 0.95),
              _candidate(ARTICLE_1, "Councils will commission GP services.", 0.9)]
    answer = compose("What do readers think?", chosen, 0.8, [READER], CONFIG)
    assert not answer.abstained and answer.confidence == 0.8
    assert answer.text.splitlines() == [
        "A reader (Vinci Ho) commented under “Councils to commission GP services”: “Councils will ruin it.” [1]",
        "An anonymous reader commented under “Councils to commission GP services”: “Total madness.” [2]",
        "Councils will commission GP services. [3]",
    ]
    assert [(c.n, c.kind, c.sentence) for c in answer.citations] == [
        (1, "comment", "Councils will ruin it."), (2, "comment", "Total madness."),
        (3, "article", "Councils will commission GP services.")]
    assert answer.nearest == (READER,)


def test_compose_puts_reporting_first_when_reporting_answers():
    chosen = [_candidate(ARTICLE_1, "Councils will commission GP services.", 1.0),
              _candidate(READER, "Councils will ruin it.", 0.9)]
    answer = compose("Who will commission GP services?", chosen, 0.8, [], CONFIG)
    assert [c.kind for c in answer.citations] == ["article", "comment"]


def test_compose_says_when_the_side_asked_for_has_no_answer():
    chosen = [_candidate(ARTICLE_1, "Councils will commission GP services.", 1.0)]
    answer = compose("What do readers think?", chosen, 0.8, [], CONFIG, wanted="comment")
    assert answer.text.splitlines()[0] == "No reader's comment answers this; the reporting says:"


def test_compose_drops_a_bullet_from_the_answer_line_but_cites_the_stored_sentence():
    chosen = [_candidate(ARTICLE_1, "• GPs taking on new contracts;", 1.0)]
    answer = compose("What will GPs take on?", chosen, 0.9, [], CONFIG)
    assert answer.text == "GPs taking on new contracts; [1]"
    assert answer.citations[0].sentence == "• GPs taking on new contracts;"


def test_compose_names_the_speaker_of_a_quoted_sentence():
    text = "She said: ‘It works.’"
    hit = Hit(rank=1, score=1.0, passage_id="p", doc_id="lmc", title="T", kind="article", author=None,
              start=100, end=100 + len(text), text=text)
    candidate = Candidate(hit, 100, 100 + len(text), text, 1.0, 1.0, 1.0)
    quote = Quote(start=110, end=121, speaker="Dr Tracey Vell", role="chief executive of Manchester LMC",
                  speaker_start=0, speaker_end=14, cue_start=100, cue_end=109)
    answer = compose("q", [candidate], 0.9, [], CONFIG, lambda doc_id, start, end: quote)
    assert answer.text == "According to Dr Tracey Vell (chief executive of Manchester LMC): ‘It works.’ [1]"
    assert (answer.citations[0].speaker, answer.citations[0].speaker_role) == \
        ("Dr Tracey Vell", "chief executive of Manchester LMC")


@pytest.mark.parametrize("score, chosen", [(0.44, True), (0.9, False)])
def test_compose_abstains_below_min_confidence_or_with_nothing_chosen_and_still_lists_the_nearest(score, chosen):
    sentences = [_candidate(ARTICLE_1, "The budget is £6bn.", 1.0)] if chosen else []
    answer = compose("How tall is Big Ben?", sentences, score, [ARTICLE_1, READER], AnswerConfig(min_confidence=0.45))
    assert answer.abstained and answer.citations == ()
    assert answer.text.startswith(NOTHING_FOUND)
    assert answer.nearest == (ARTICLE_1, READER)


def test_answers_and_abstentions_are_json_documents():
    chosen = [_candidate(ARTICLE_1, "The budget is £6bn.", 1.0), _candidate(READER, "Councils will ruin it.", 0.9)]
    for answer in (compose("How big is the budget?", chosen, 0.9, [ARTICLE_1], CONFIG),
                   compose("Nonsense?", [], 0.1, [ARTICLE_1, READER], CONFIG)):
        data = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
        assert data["abstained"] == answer.abstained and data["text"] == answer.text
        assert [c["sentence"] for c in data["citations"]] == [c.sentence for c in answer.citations]
        assert [h["passage_id"] for h in data["nearest"]] == [h.passage_id for h in answer.nearest]
    assert isinstance(Answer("q", "t", True).to_dict()["citations"], list)


@pytest.mark.parametrize("text, cue_end", [
    ("Councils throughout London have written to chiefs demanding powers.", 40),  # reported speech
    ("GP leaders warned: ’", 18),  # nothing quoted left after the cue
])
def test_compose_keeps_a_sentence_whole_unless_a_real_quote_follows_its_cue(text, cue_end):
    hit = Hit(rank=1, score=1.0, passage_id="p", doc_id="d", title="T", kind="article", author=None,
              start=0, end=len(text), text=text)
    quote = Quote(start=0, end=len(text), speaker="Councils", role=None, speaker_start=0, speaker_end=8,
                  cue_start=0, cue_end=cue_end)
    answer = compose("q", [Candidate(hit, 0, len(text), text, 1.0, 1.0, 1.0)], 0.9, [], CONFIG,
                     lambda doc_id, start, end: quote)
    assert answer.text == f"{text} [1]"
