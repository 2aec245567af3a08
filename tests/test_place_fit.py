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


def test_the_model_reads_a_question_without_its_places_and_bodies_as_their_kind():
    from qa.reading import without_places

    assert without_places("When will practices in the north-west sign their contracts?") == \
        "When will practices sign their contracts?"
    assert without_places("How big is Cumbria's annual health budget?") == "How big is the annual health budget?"
    assert without_places("What offer is made to GP partners in Manchester?") == "What offer is made to GP partners?"
    assert without_places("What extra money goes to Manchester practices?") == "What extra money goes to practices?"
    assert without_places("What are trusts in London pressing ahead with?") == "What are trusts pressing ahead with?"
    assert without_places("How many boards does Shropshire have?") == "How many boards does it have?"
    assert without_places("How many leads has NHS Waltham Forest appointed?") == "How many leads has the trust appointed?"
    assert without_places("Who is the chair of Salford CCG?") == "Who is the chair of the CCG?"
    assert without_places("How many London CCGs were approved?") == "How many CCGs were approved?"
    # a body named for its place stays, and national names are not local places
    assert without_places("Who chairs London Councils?") == "Who chairs London Councils?"
    assert without_places("What did NHS England decide?") == "What did NHS England decide?"


def test_a_place_is_given_by_context_when_only_the_passage_or_the_article_names_it():
    from qa.place_fit import place_given_by_context

    london = frozenset({"London"})
    never = lambda: frozenset()  # noqa: E731
    assert place_given_by_context("The trust appointed 11 leads.", "In Camden, the trust appointed 11 leads.", never,
                                  london)
    assert place_given_by_context("The trust appointed 11 leads.", "The trust appointed 11 leads.",
                                  lambda: frozenset({"Camden"}), london)
    assert not place_given_by_context("The trust appointed 11 leads.", "The trust appointed 11 leads.",
                                      lambda: frozenset({"Leeds"}), london)  # its article is about elsewhere
    assert not place_given_by_context("Camden's trust appointed 11 leads.", "Camden's trust appointed 11 leads.",
                                      never, london)  # the sentence names its place: read as asked
    assert not place_given_by_context("The trust appointed 11 leads.", "In Camden ...", never, frozenset())
