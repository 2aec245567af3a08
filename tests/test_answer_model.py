"""The shipped answer model: its NumPy forward pass, what it prefers, and the answers it gives on the default corpus."""
from __future__ import annotations

import numpy as np
import pytest

from qa.answer_model import AnswerModel, Calibration, pair_ids

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
    ids, segments = pair_ids(model._bert.tokenizer, questions, sentences)
    with torch.no_grad():
        expected = scorer(ids, segments).numpy()
    np.testing.assert_allclose(model.logits(questions, sentences), expected, atol=2e-3)


def test_the_answering_sentence_outscores_a_near_miss_and_an_off_topic_one(model):
    scores = model.score("Which body will commission GP services in Greater Manchester from April?", [
        "GP services in Greater Manchester will be commissioned by local authorities alongside CCGs from April.",
        "GP services in London will be commissioned by NHS England's area teams.",
        "The weather in Manchester was wet in April.",
    ])
    assert scores[0] > scores[1] and scores[0] > scores[2]


def test_calibration_maps_logits_to_probabilities_monotonically():
    calibration = Calibration(scale=2.0, shift=-1.0, threshold=0.5)
    probabilities = calibration.probability(np.array([-3.0, 0.0, 0.5, 4.0]))
    assert np.all(np.diff(probabilities) > 0) and probabilities[2] == pytest.approx(0.5)
    assert 0.0 < probabilities[0] < probabilities[-1] < 1.0


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


def test_a_london_question_leads_with_london_not_greater_manchester(default_engine):
    answer = default_engine.ask("Who will commission GP services in London?")
    assert not answer.abstained
    assert "London" in answer.citations[0].sentence, answer.text
    assert not any("Greater Manchester" in c.sentence and "London" not in c.sentence for c in answer.citations)


def test_a_london_follow_up_leads_with_london_too(default_engine):
    chat = default_engine.chat()
    chat.ask("Who will commission GP services in Greater Manchester?")
    answer = chat.ask("And in London?")
    assert not answer.abstained and "London" in answer.citations[0].sentence, answer.text


def test_readers_views_on_the_manchester_deal_leave_out_the_airport(default_engine):
    answer = default_engine.ask("What do readers think of the Greater Manchester deal?")
    assert answer.citations and answer.citations[0].kind == "comment"
    assert not any("Airport" in c.sentence for c in answer.citations), answer.text


def test_what_ccgs_did_not_want_is_not_answered_with_what_suits_them(default_engine):
    answer = default_engine.ask("What did CCGs not want to take on?")
    assert not answer.abstained
    assert "revalidation" in answer.citations[0].sentence, answer.text
