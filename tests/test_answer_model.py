"""The shipped answer model: its NumPy forward pass, what it prefers, and the answers it gives on the default corpus."""
from __future__ import annotations

import numpy as np
import pytest

from qa.answer_model import FEATURES, AnswerModel, Calibration, pair_ids
from qa.question import analyse

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def model() -> AnswerModel:
    return AnswerModel.shared()


def test_numpy_forward_matches_the_torch_model_it_was_trained_as(model):
    torch = pytest.importorskip("torch")
    from safetensors.numpy import load_file

    from index.embed import default_model_path
    from qa.answer_model import MODEL_DIR, WEIGHTS_FILE
    from training.answer_scorer import Scorer

    trained = {k: torch.tensor(v.astype(np.float32)) for k, v in load_file(str(MODEL_DIR / WEIGHTS_FILE)).items()}
    scorer = Scorer(default_model_path(), model._bert.layers)
    scorer.head.load_state_dict({"weight": trained.pop("head.weight"), "bias": trained.pop("head.bias")})
    missing, unexpected = scorer.bert.load_state_dict(trained, strict=False)
    assert not unexpected and all("word_embeddings" in name or "position_ids" in name for name in missing)
    scorer.bert.eval()
    questions = ["Who commissions GP services?", "When was the deal signed?", "Who commissions GP services?"]
    sentences = ["Councils will commission GP services from April.", "The deal was signed in 2015.",
                 "It rained all week in a town with a long and well-documented history of weather."]
    contexts = ["The deal was announced today.", "", "Councils will commission GP services from April."]
    ids, segments = pair_ids(model._bert.tokenizer, questions, sentences, contexts)
    with torch.no_grad():
        expected = scorer(ids, segments).numpy()
    # atol: the NumPy model runs GELU's tanh form (qa.answer_model), within 5e-4 of torch's exact one
    np.testing.assert_allclose(model.logits(questions, sentences, contexts), expected, atol=5e-3)


def test_a_sentence_is_read_after_its_context_in_the_question_s_segment(model):
    tokenizer = model._bert.tokenizer
    (alone, in_context), (alone_segments, context_segments) = pair_ids(
        tokenizer, ["Who pays?"] * 2, ["Councils pay."] * 2, ["", "The deal was signed."])
    question, context = (tokenizer.encode(t, add_special_tokens=False).ids for t in ("Who pays?", "The deal was signed."))
    sentence_part = alone[len(question) + 2:]
    assert in_context == alone[:len(question) + 2] + context + [alone[len(question) + 1]] + sentence_part
    assert context_segments == [0] * (len(question) + len(context) + 3) + [1] * len(sentence_part)
    assert alone_segments == [0] * (len(question) + 2) + [1] * len(sentence_part)


def test_a_model_trained_without_context_reads_sentences_alone(model):
    sentences = ["Councils will commission GP services from April."]
    with_context = model.score("Who commissions GP services?", sentences, ["It was a wet week."])
    alone = model.score("Who commissions GP services?", sentences)
    assert (with_context == alone).all() != model.reads_context


def test_the_answering_sentence_outscores_a_near_miss_and_an_off_topic_one(model):
    scores = model.score("Which body will commission GP services in Greater Manchester from April?", [
        "GP services in Greater Manchester will be commissioned by local authorities alongside CCGs from April.",
        "GP services in London will be commissioned by NHS England's area teams.",
        "The weather in Manchester was wet in April.",
    ])
    assert scores[0] > scores[1] and scores[0] > scores[2]


def test_calibration_maps_features_and_best_sentences_to_probabilities_monotonically():
    calibration = Calibration(weights=(2.0, 0, 0, 0, -1.0, 0, 0), bias=-1.0, scale=2.0, shift=0.0, threshold=0.5)
    table = np.zeros((4, 7))
    table[:, 0] = [-3.0, 0.0, 0.5, 4.0]
    probabilities = calibration.sentence_probability(table)
    assert np.all(np.diff(probabilities) > 0) and probabilities[2] == pytest.approx(0.5)
    table[:, 4] = 1.0  # the question's names are missing from the passage: less likely to answer
    assert np.all(calibration.sentence_probability(table) < probabilities)
    confidences = [calibration.confidence(p) for p in (0.1, 0.5, 0.9)]
    assert confidences[0] < confidences[1] < confidences[2] and confidences[1] == pytest.approx(0.5)


def test_a_sentence_without_what_the_question_asks_for_cannot_answer_however_well_it_matches():
    calibration = Calibration(weights=(5.0,) + (0.0,) * (len(FEATURES) - 1), bias=0.0)
    table = np.zeros((2, len(FEATURES)))
    table[:, 0] = 8.0  # the model's logit: a near-certain match in words
    table[1, FEATURES.index("answer type missing")] = 1.0  # "how many ...?" and no number in the sentence
    assert calibration.sentence_probability(table).tolist() == [pytest.approx(1.0), 0.0]


def test_the_shipped_calibration_is_read(model):
    assert model.calibration != Calibration()  # fitted by python -m training.calibrate_answers
    assert 0.0 < model.calibration.threshold < 1.0 and model.calibration.scale > 0


def test_empty_input_scores_nothing(model):
    assert model.score("Who?", []).shape == (0,)


def test_an_unreadable_model_folder_is_a_clear_error(tmp_path):
    from qa.errors import IndexCorruptError

    (tmp_path / "answer_scorer.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(IndexCorruptError, match="cannot be read"):
        AnswerModel(tmp_path)


# --- the questions issue 10 named, on the default corpus -----------------------------------


def test_co_commissioning_question_cites_the_list_of_functions(default_engine):
    answer = default_engine.ask("What could CCGs take over under co-commissioning?")
    assert not answer.abstained
    assert any("GMS and PMS contracts" in c.sentence for c in answer.citations[:2]), answer.text


def _about_london(answer) -> bool:
    """Cites the London Councils report (or abstains saying where it is reported), never a Manchester sentence."""
    if any("Manchester" in c.sentence for c in answer.citations):
        return False
    if answer.abstained:
        return "not for the place asked about" in answer.text
    return "London" in answer.citations[0].text


def test_a_london_question_is_not_answered_with_a_manchester_sentence(default_engine):
    assert _about_london(default_engine.ask("Who will commission GP services in London?"))


def test_a_london_follow_up_is_not_answered_with_a_manchester_sentence(default_engine):
    chat = default_engine.chat()
    assert "Greater Manchester" in chat.ask("Who will commission GP services in Greater Manchester?").citations[0].sentence
    answer = chat.ask("And in London?")
    assert answer.resolved_question == "Who will commission GP services in London?" and _about_london(answer)


def test_a_question_about_a_place_the_articles_never_report_abstains_and_says_where_they_do(default_engine):
    answer = default_engine.ask("Who will commission GP services in Leeds?")
    assert answer.abstained and "They report it for Greater Manchester" in answer.text


def test_a_sentence_that_leaves_its_place_and_body_to_the_article_answers_a_question_naming_them(default_engine):
    # "The trust has appointed 11 GP clinical leads" names neither Waltham Forest nor its trust; its article
    # does. The model reads the question as "has the trust appointed" for it (qa.reading.without_places).
    answer = default_engine.ask("How many GP clinical leads has NHS Waltham Forest appointed?")
    assert not answer.abstained
    assert "11 GP clinical leads" in answer.citations[0].sentence, answer.text


def test_readers_views_on_the_manchester_deal_leave_out_the_airport(default_engine):
    answer = default_engine.ask("What do readers think of the Greater Manchester deal?")
    assert answer.citations and answer.citations[0].kind == "comment"
    assert not any("Airport" in c.sentence for c in answer.citations), answer.text


def test_what_ccgs_did_not_want_is_not_answered_with_what_suits_them(default_engine):
    answer = default_engine.ask("What did CCGs not want to take on?")
    assert not answer.abstained
    assert "revalidation" in answer.citations[0].sentence, answer.text


def test_a_question_naming_a_speaker_finds_the_later_sentences_of_their_quote(default_engine):
    # The "main concern" sentence continues Dr Hughes's quote without naming him; the model reads it with
    # his name (Candidate.said_by), so it is not passed over for the sentence that introduces him.
    answer = default_engine.ask("What did Dr John Hughes say was the main concern for GP practices?")
    assert not answer.abstained
    assert "main concern" in answer.citations[0].sentence, answer.text
    assert answer.citations[0].speaker == "Dr John Hughes"


def test_a_comment_that_states_the_answer_is_found_under_another_article(default_engine):
    # Not the thread of the best-matching article: a comment the answer model finds answering still wins.
    answer = default_engine.ask("According to a reader, how much do GPs receive per patient per year?")
    assert answer.citations and answer.citations[0].kind == "comment"
    assert "135" in answer.citations[0].sentence, answer.text


@pytest.mark.parametrize(("question", "sentence", "lacks"), [
    ("Who is the chair of the NAPC?", "But NAPC chief executive Mike Ramsden advised GP commissioners.", True),
    ("Who is the chair of Manchester LMC?", "Dr Tracey Vell, chair of Manchester LMC, said it was unexpected.", False),
    ("What salary is the chief executive paid?", "He set out the Five Year Forward View.", True),  # a name, not money
    ("How much is Cumbria's annual health budget?", "The county's annual £850 million health budget.", False),
    ("How many CCGs applied?", "Some 67 CCGs applied.", False),
    ("How many CCGs will commission?", "CCGs take all responsibility for the £6bn budget.", True),  # no number of CCGs
    ("What share of CCGs applied?", "Most CCGs applied.", False),  # a share may be given in words
])
def test_an_answer_must_hold_the_amount_or_office_asked_for(question, sentence, lacks):
    assert analyse(question).lacks_answer_type(sentence) is lacks


def test_a_missing_date_only_weighs_while_a_missing_count_rules_the_sentence_out():
    from qa.answer_model import cannot_answer, features

    sentence = ["The board agreed the plan after a long debate."]
    rows = [features(analyse(question), np.zeros(1), sentence, sentence, [0.5], [0.5], [1])
            for question in ("When did the board agree the plan?", "How many members agreed the plan?")]
    missing = FEATURES.index("answer type missing")
    assert [row[0, missing] for row in rows] == [0.5, 1.0]
    assert [bool(cannot_answer(row)[0]) for row in rows] == [False, True]
