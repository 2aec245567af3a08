"""Training questions reworded with WordNet synonyms (training/paraphrase.py), on a tiny WordNet of our own."""
from __future__ import annotations

import random

import pytest

from training.paraphrase import load_synonyms, reword

HEADER = "  1 This software and database is being provided to you, the LICENSEE, by Princeton University\n"


def write_wordnet(folder, pos, synsets, index):
    (folder / f"data.{pos}").write_text(HEADER + "".join(f"{offset} 00 x {len(words):02x} "
                                        + " ".join(f"{w} 0" for w in words) + " 000 | gloss\n"
                                        for offset, words in synsets.items()), encoding="latin-1")
    (folder / f"index.{pos}").write_text(HEADER + "".join(f"{lemma} x {len(offsets)} 0 {len(offsets)} {tagged} "
                                         + " ".join(offsets) + "\n" for lemma, tagged, offsets in index),
                                         encoding="latin-1")


@pytest.fixture()
def wordnet(tmp_path):
    write_wordnet(tmp_path, "noun", {"00000001": ["employ", "employment"], "00000002": ["doctor", "physician"],
                                     "00000003": ["Begin", "Menachem_Begin"]},
                  [("employ", 0, ["00000001"]), ("doctor", 5, ["00000002"]), ("begin", 0, ["00000003"])])
    write_wordnet(tmp_path, "verb", {"00000010": ["employ", "hire"], "00000011": ["begin", "start"]},
                  [("employ", 9, ["00000010"]), ("begin", 7, ["00000011"])])
    for pos in ("adj", "adv"):
        write_wordnet(tmp_path, pos, {}, [])
    return tmp_path


def test_a_word_gets_the_synonyms_of_its_commonest_part_of_speech_never_a_proper_name(wordnet):
    synonyms = load_synonyms(wordnet)
    assert synonyms["employ"] == ["hire"]  # the verb was seen more often than the noun
    assert synonyms["begin"] == ["start"]  # "Menachem Begin" is a name, not a synonym
    assert synonyms["doctor"] == ["physician"]


def test_missing_wordnet_says_how_to_install_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install wordnet-base"):
        load_synonyms(tmp_path)


SYNONYMS = {"employ": ["hire"], "doctor": ["physician"], "practice": ["surgery"], "many": ["numerous"],
            "london": ["capital"]}


def test_only_words_shared_with_the_sentence_are_reworded_names_and_question_words_stay():
    question = "How many doctors does London employ?"
    sentence = "London practices employ 40 doctors."
    assert reword(question, sentence, SYNONYMS, random.Random(0), share=1.0) == "How many physicians does London hire?"


def test_nothing_to_reword_gives_none():
    assert reword("Who chairs the board?", "The board met on Monday.", SYNONYMS, random.Random(0), share=1.0) is None
    assert reword("How many doctors?", "Forty doctors.", SYNONYMS, random.Random(0), share=0.0) is None


def test_a_synonym_the_sentence_already_uses_is_not_chosen():
    assert reword("Do doctors employ staff?", "Doctors employ and hire staff.", SYNONYMS, random.Random(0),
                  share=1.0) == "Do physicians employ staff?"
