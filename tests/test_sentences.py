"""Tests for index/sentences.py: sentence spans in British news prose, as offsets into the text."""
from __future__ import annotations

import pytest

from index.sentences import split_sentences


def _sentences(text: str, start: int = 0, end: int | None = None) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text, start, end)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dr Hamish Stedman spoke. Mr Jones agreed.", ["Dr Hamish Stedman spoke.", "Mr Jones agreed."]),
        ("Dr. Smith met Mr. Jones. Prof. Ng left.", ["Dr. Smith met Mr. Jones.", "Prof. Ng left."]),
        ("Mrs. Pipe wrote, e.g. to Simon Stevens. He replied.", ["Mrs. Pipe wrote, e.g. to Simon Stevens.", "He replied."]),
        ("It was signed by J. Smith at the LMC. Talks went on.", ["It was signed by J. Smith at the LMC.", "Talks went on."]),
        ("He lives at No. 10 Downing Street. The answer was no. Then he left.",
         ["He lives at No. 10 Downing Street.", "The answer was no.", "Then he left."]),
    ],
)
def test_abbreviations_and_initials_do_not_end_a_sentence(text, expected):
    assert _sentences(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The budget is £1.5bn. It grew by 2.5% last year.", ["The budget is £1.5bn.", "It grew by 2.5% last year."]),
        ("See www.nhs.uk for details. Then apply.", ["See www.nhs.uk for details.", "Then apply."]),
        ("2.11pm. I may be wrong. What? Yes! Really...", ["2.11pm.", "I may be wrong.", "What?", "Yes!", "Really..."]),
    ],
)
def test_decimals_urls_and_times_stay_whole(text, expected):
    assert _sentences(text) == expected


def test_closing_quotes_belong_to_the_sentence_they_end():
    text = "He said: ‘This is a genuine opportunity.’ Others disagreed. She said \"No.\" And that was it."
    assert _sentences(text) == [
        "He said: ‘This is a genuine opportunity.’", "Others disagreed.", 'She said "No."', "And that was it."]


def test_a_lowercase_word_after_the_stop_continues_the_sentence():
    text = "Totally fine... and then more. The end"
    assert _sentences(text) == ["Totally fine... and then more.", "The end"]


def test_newlines_end_sentences_even_without_a_full_stop():
    text = "Bin collection\nFlu injection\nWhat next?"
    assert _sentences(text) == ["Bin collection", "Flu injection", "What next?"]


def test_each_bullet_is_a_sentence_of_its_own():
    text = ("Proposals currently under discussion include:\n"
            "• GPs taking on responsibility for a new contract;\n"
            "• Joined-up electronic health records for their populations.\n"
            "Practices will look at forming larger legal entities.")
    assert _sentences(text) == [
        "Proposals currently under discussion include:",
        "• GPs taking on responsibility for a new contract;",
        "• Joined-up electronic health records for their populations.",
        "Practices will look at forming larger legal entities.",
    ]


def test_spans_are_trimmed_offsets_into_the_whole_text():
    text = "  Padded start.   \n\n   Second line here.  "
    spans = split_sentences(text)
    assert spans == [(2, 15), (23, 40)]
    assert [text[a:b] for a, b in spans] == ["Padded start.", "Second line here."]


def test_a_range_gives_absolute_offsets_inside_that_range_only():
    text = "First one. Second one. Third one."
    spans = split_sentences(text, 11, 33)
    assert spans == [(11, 22), (23, 33)]
    assert all(11 <= a < b <= 33 for a, b in spans)


@pytest.mark.parametrize("text", ["", "   ", "\n\n \n"])
def test_blank_text_has_no_sentences(text):
    assert split_sentences(text) == []
