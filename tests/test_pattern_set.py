"""A PatternSet finds exactly what each of its patterns' own `finditer` finds, in the same order."""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from eval.scale_benchmark import article
from index.sentences import split_sentences
from qa.commissioning import PatternSet

_WORD_START = r"(?<![\w-])"


def one_by_one(pattern_set: PatternSet, text: str) -> list[tuple[int, int, int]]:
    """What the set replaces: each pattern's finditer in turn."""
    return [(index, match.start(), match.end())
            for index, pattern in enumerate(pattern_set.patterns) for match in pattern.finditer(text)]


def word_patterns(*sources: str, flags: int = 0) -> PatternSet:
    return PatternSet([re.compile(rf"{_WORD_START}(?:{source})(?![\w-])", flags) for source in sources], _WORD_START)


def test_patterns_that_match_at_one_place_are_all_found_there_with_their_own_ends():
    patterns = word_patterns(r"NHS England", r"NHS England area teams?", r"area teams?")
    text = "NHS England area teams and NHS England"
    assert patterns.matches(text) == [(0, 0, 11), (0, 27, 38), (1, 0, 22), (2, 12, 22)]
    assert patterns.matches(text) == one_by_one(patterns, text)


def test_a_pattern_resumes_after_its_own_match_as_finditer_does_while_the_others_do_not():
    patterns = PatternSet([re.compile("aa"), re.compile("a")])
    assert patterns.matches("aaa") == [(0, 0, 2), (1, 0, 1), (1, 1, 2), (1, 2, 3)] == one_by_one(patterns, "aaa")


def test_each_pattern_keeps_its_own_case_rules_and_the_sets_flags():
    assert word_patterns(r"(?i:councils?)", r"CCGs?").matches("Councils, ccg and CCG") == [(0, 0, 8), (1, 18, 21)]
    assert word_patterns(r"take\s+over", flags=re.IGNORECASE).matches("They TAKE over") == [(0, 5, 14)]


# Shapes the vocabulary and the trigger verbs use: names sharing a start, scoped case, runs of capitalised
# words, a lookahead inside, lazy word gaps.
_VOCABULARY_LIKE = (
    r"(?i:clinical commissioning groups?)", r"(?-i:CCGs?)", r"(?-i:NHS) (?-i:England)",
    r"(?-i:NHS) (?-i:England) (?i:(?:local |regional )?area teams?)", r"(?i:(?:local )?area teams?)",
    r"(?i:councils?)", r"(?:(?-i:[A-Z])[\w'’-]+\s+)+(?:City\s+|County\s+)?Council", r"(?-i:GP)s?",
    r"(?i:(?:(?-i:GP) )?practices)", r"(?i:hospital)(?=(?:,\s*[\w-]+)*,?\s+(?:and|or)\s+(?:[\w-]+\s+){0,2}services\b)",
    r"(?i:(?:joint |pooled |health |(?-i:GP) )*budgets?)", r"(?i:(?-i:GP) services?)", r"(?i:primary care)",
)
_TRIGGER_LIKE = (
    r"(?:be|been|is|are|was|were)\s+(?:\w+ly\s+)?commissioned\s+by", r"commission|commissions|commissioned|commissioning",
    r"(?:take|takes|taking|took)\s+(?:full\s+)?control\s+(?:of|over)", r"(?:take|takes|taking|took)\s+over",
    r"(?:hold|holds|held|manage|manages)\s+(?:[\w'’£.-]+\s+){0,10}?budgets?", r"manage|manages|managing",
)


@pytest.mark.parametrize("sources, flags", [(_VOCABULARY_LIKE, 0), (_TRIGGER_LIKE, re.IGNORECASE)],
                         ids=["vocabulary", "triggers"])
def test_on_news_text_it_finds_what_the_patterns_find_one_by_one(sources, flags):
    pattern_set = word_patterns(*sources, flags=flags)
    corpus = sorted(Path(__file__).parent.parent.joinpath("index", "default_corpus").rglob("*.txt"))
    texts = [path.read_text() for path in corpus] + [article(random.Random(seed), seed)["text"] for seed in range(5)]
    sentences = [text[start:end] for text in texts for start, end in split_sentences(text)]
    assert len(sentences) > 200 and sum(len(pattern_set.matches(s)) for s in sentences) > 100
    for sentence in sentences:
        assert pattern_set.matches(sentence) == one_by_one(pattern_set, sentence), sentence
    # Whole texts too: matches that span sentences, and long runs of candidate positions.
    assert all(pattern_set.matches(text) == one_by_one(pattern_set, text) for text in texts)


@pytest.mark.parametrize("patterns, prefix", [
    ([], ""),
    ([re.compile("a"), re.compile("b", re.IGNORECASE)], ""),  # flags differ
    ([re.compile("(a)")], ""),  # a group of its own
    ([re.compile("a")], _WORD_START),  # lacks the shared prefix
])
def test_patterns_it_cannot_combine_are_refused(patterns, prefix):
    with pytest.raises(ValueError):
        PatternSet(patterns, prefix)


def test_a_pattern_that_matches_empty_text_is_refused_when_it_does():
    with pytest.raises(ValueError, match="empty"):
        PatternSet([re.compile("a*")]).matches("b")
