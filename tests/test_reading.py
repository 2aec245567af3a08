"""The question as the answer model reads it for one sentence: without the names its passage gives."""
from qa.reading import without_given_names


def test_a_name_the_passage_gives_and_the_sentence_leaves_to_it_is_read_out_of_the_question():
    passage = "Beyoncé is a singer. She released Dangerously in Love in 2003."
    assert without_given_names("When did Beyoncé release Dangerously in Love?", "She released Dangerously in Love in 2003.",
                               passage) == "When did release Dangerously in Love?"
    assert without_given_names("What is Beyoncé's first album?", "Her first album was a hit.",
                               passage) == "What is the first album?"


def test_a_name_the_sentence_holds_or_the_passage_never_gives_stays():
    question = "When did Beyoncé release Dangerously in Love?"
    assert without_given_names(question, "Beyoncé released it in 2003.", "Beyoncé released it in 2003.") == question
    # the passage never names her: the sentence may be about someone else, so the name still counts against it
    assert without_given_names(question, "She released it in 2003.", "She released it in 2003.") == question


def test_an_nhs_abbreviation_names_a_kind_of_body_not_a_referent_and_stays():
    question = "Who chairs the CCG (clinical commissioning group) in Salford?"
    passage = "The CCG in Salford has a new chair. Dr Cole chairs it."
    assert without_given_names(question, "Dr Cole chairs it.", passage) == \
        "Who chairs the CCG (clinical commissioning group)?"
