"""Training pairs for the answer model (training.answer_scorer.make_pairs)."""
import random

from training.answer_scorer import make_pairs

CONTEXT = ("Beyoncé Knowles is an American singer. She released Dangerously in Love in 2003. "
           "The album sold eleven million copies.")
ARTICLE = {"title": "Beyoncé", "paragraphs": [{"context": CONTEXT, "qas": [
    {"question": "When did Beyoncé release Dangerously in Love?",
     "answers": [{"text": "2003", "answer_start": CONTEXT.index("2003")}]}]}]}


def test_pairs_hold_a_positive_and_negatives_of_the_same_paragraph():
    pairs = make_pairs([ARTICLE], 10, random.Random(1))
    assert ("When did Beyoncé release Dangerously in Love?", "She released Dangerously in Love in 2003.", 1, "") in pairs
    assert any(label == 0 for _, _, label, _ in pairs)


def test_with_given_names_a_question_is_read_as_answering_reads_it_for_each_sentence():
    pairs = make_pairs([ARTICLE], 10, random.Random(1), given_names_share=1.0)
    positive = [question for question, sentence, label, _ in pairs if label == 1]
    # the answering sentence leaves "Beyoncé" to its paragraph: the question is read without her name
    assert positive == ["When did release Dangerously in Love?"]


def test_hard_negatives_are_the_wrong_sentences_the_model_scores_highest():
    asked = []

    def hardest(requests):  # a stand-in model: the sentence mentioning copies scores highest
        asked.extend(requests)
        return [next(i for i, s in enumerate(sentences) if "copies" in s) for _, sentences, _ in requests]

    pairs = make_pairs([ARTICLE], 10, random.Random(1), hard_share=1.0, hardest=hardest)
    same_paragraph = [s for _, s, label, _ in pairs if label == 0 and "Dangerously" not in s]
    assert same_paragraph == ["The album sold eleven million copies."]
    # the sentence holding the answer is never offered as a negative
    assert all("2003" not in s for _, sentences, _ in asked for s in sentences)
