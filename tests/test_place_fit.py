"""Place fit: a sentence about another place does not answer a question about this one."""
from qa.place_fit import asked_places, elsewhere


def test_a_sentence_about_another_city_is_elsewhere():
    asked = asked_places("Who will commission GP services in London?")
    assert elsewhere("GP services will be commissioned by councils in Greater Manchester.", asked) == {"Greater Manchester"}


def test_a_place_within_the_asked_one_answers_for_it():
    assert not elsewhere("Camden CCG will commission GP services.", asked_places("Who commissions GP services in London?"))


def test_an_area_holding_the_asked_place_may_answer_for_it():
    asked = asked_places("Which deal for the north led to the Manchester health plans?")
    assert not elsewhere("The chancellor announced a settlement to create a powerhouse in the north of England.", asked)
    assert not elsewhere("Councils in the North West back the plan.", asked_places("What do councils in Salford think?"))


def test_an_area_not_holding_the_asked_place_is_elsewhere():
    asked = asked_places("Who commissions GP services in London?")
    assert elsewhere("A powerhouse in the north of England was announced.", asked) == {"North of England"}


def test_a_sentence_naming_no_local_place_or_only_england_may_answer():
    asked = asked_places("Who commissions GP services in Leeds?")
    assert not elsewhere("NHS England will commission GP services.", asked)
    assert not elsewhere("CCGs will commission GP services.", asked)


def test_a_sentence_naming_no_place_speaks_of_its_passage_s_places_when_its_document_never_names_the_asked_one():
    from qa.place_fit import elsewhere_in_context

    sentence = "The Treasury will hand over a joint budget."
    passage = "Greater Manchester will take control of its budget. The Treasury will hand over a joint budget."
    manchester, london = frozenset({"Greater Manchester"}), frozenset({"London"})
    names_manchester, names_both = (lambda: manchester), (lambda: manchester | london)
    assert elsewhere_in_context(sentence, passage, names_manchester, london) == manchester
    assert not elsewhere_in_context(sentence, passage, names_both, london)  # the article names London
    assert not elsewhere_in_context(sentence, passage, names_manchester, frozenset({"Salford"}))  # within the area
    assert not elsewhere_in_context("London will follow.", passage, names_manchester, london)  # its own place decides
