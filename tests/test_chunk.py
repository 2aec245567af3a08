"""Tests for index/chunk.py: passage sizes and overlap, windows within the token budget, exact offsets."""
from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from index.chunk import ChunkConfig, chunk_document
from index.ingest import load_documents
from index.records import ARTICLE, COMMENT, Comment, Document, Passage
from qa.errors import InputError
from tests.fakes import KeywordEmbedder

CORPUS = Path(__file__).resolve().parents[1] / "index" / "default_corpus" / "pulse"


def _document(text: str, comments: tuple[Comment, ...] = ()) -> Document:
    return Document(id="doc1", title="A title", text=text, byline="Ian Quinn", comments=comments)


def _ten_word_sentences(n: int) -> list[str]:
    return [f"Sentence {i} has exactly ten words in it for sure." for i in range(n)]


def _words(text: str) -> int:
    return len(text.split())


def _check_windows(passage: Passage, source: str, count_tokens, max_tokens: int, window_words: int) -> None:
    """Windows tile the passage in order, each within both budgets, and drop nothing but whitespace."""
    windows = passage.windows
    assert windows and windows[0][0] == passage.start and windows[-1][1] == passage.end, passage.id
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert end <= start and source[end:start].strip() == "", passage.id
    texts = [source[a:b] for a, b in windows]
    assert all(count <= max_tokens for count in count_tokens(texts)), passage.id
    assert all(_words(text) <= window_words for text in texts), passage.id


def _subword_tokens(texts):
    """A stand-in for a WordPiece counter: one token per four characters of each word."""
    return [sum(-(-len(word) // 4) for word in text.split()) for text in texts]


@pytest.mark.parametrize("overlap, runs", [
    (0, [(0, 2), (3, 5), (6, 8), (9, 11)]),
    (1, [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 11)]),
    (2, [(0, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7), (6, 8), (7, 9), (8, 10), (9, 11)]),
])
def test_passages_hold_whole_sentences_up_to_passage_words_and_repeat_the_overlap(overlap, runs):
    sentences = _ten_word_sentences(12)
    text = " ".join(sentences)
    config = ChunkConfig(passage_words=30, window_words=10, overlap_sentences=overlap)
    embedder = KeywordEmbedder([], max_tokens=64)
    passages = chunk_document(_document(text), embedder.count_tokens, embedder.max_tokens, config)
    assert [p.text for p in passages] == [" ".join(sentences[a:b + 1]) for a, b in runs]
    assert all(_words(p.text) <= 30 for p in passages)


def test_default_corpus_passages_and_windows_respect_every_budget():
    embedder = KeywordEmbedder([], max_tokens=40)
    config = ChunkConfig(passage_words=120, window_words=30, overlap_sentences=1)
    checked = 0
    for document in load_documents([CORPUS]):
        for passage in chunk_document(document, embedder.count_tokens, embedder.max_tokens, config):
            source = document.source_text(passage.comment)
            assert passage.text == source[passage.start:passage.end]
            assert _words(passage.text) <= 120
            _check_windows(passage, source, embedder.count_tokens, embedder.max_tokens, 30)
            checked += 1
    assert checked > 50


def test_a_giant_sentence_is_cut_into_windows_within_the_budget():
    sentence = " ".join(f"word{i}" for i in range(500)) + "."
    text = f"A short opening. {sentence} A short close."
    embedder = KeywordEmbedder([], max_tokens=64)
    config = ChunkConfig()  # window_words 80 > 64 tokens: the token budget must cut further
    passages = chunk_document(_document(text), embedder.count_tokens, embedder.max_tokens, config)
    for passage in passages:
        assert _words(passage.text) <= config.passage_words
        _check_windows(passage, text, embedder.count_tokens, embedder.max_tokens, config.window_words)
    assert passages[0].start == 0 and passages[-1].end == len(text)
    covered = {i for p in passages for i in range(p.start, p.end)}
    assert all(i in covered for i, char in enumerate(text) if not char.isspace())


def test_a_giant_single_token_is_cut_by_characters_within_the_budget():
    token = "https://example.org/" + "x" * 5000
    text = f"See the page.\n{token}\nThat is all."
    passages = chunk_document(_document(text), _subword_tokens, 64, ChunkConfig())
    for passage in passages:
        _check_windows(passage, text, _subword_tokens, 64, ChunkConfig().window_words)
    first, last = text.index(token), text.index(token) + len(token)
    pieces = sorted({(max(a, first), min(b, last)) for p in passages for a, b in p.windows if a < last and b > first})
    assert len(pieces) > 1  # 1,255 "tokens" of 4 characters: it had to be cut
    assert "".join(text[a:b] for a, b in pieces) == token
    assert passages[0].start == 0 and passages[-1].end == len(text)


def test_offsets_point_into_the_body_or_the_comment_they_came_from():
    body = " ".join(_ten_word_sentences(30))
    comments = (Comment(1, "Short and cross. Very cross indeed.", author="Vinci Ho"),
                Comment(2, " ".join(_ten_word_sentences(40))),
                Comment(3, "Bin collection\nFlu injection\nWhat next?", author=None))
    document = _document(body, comments)
    embedder = KeywordEmbedder([], max_tokens=64)
    passages = chunk_document(document, embedder.count_tokens, embedder.max_tokens, ChunkConfig(passage_words=100))
    for passage in passages:
        assert passage.text == document.source_text(passage.comment)[passage.start:passage.end]
        assert passage.doc_id == "doc1" and passage.title == "A title"
    assert len({p.id for p in passages}) == len(passages)


def test_each_comment_gets_passages_of_its_own_never_merged_with_another():
    comments = (Comment(1, "Councils are no better.", author="Took Early Retirement"),
                Comment(2, "Yet more reorganisation.", author=None),
                Comment(3, " ".join(_ten_word_sentences(25)), author="Vinci Ho"))
    document = _document("The body has one sentence only.", comments)
    embedder = KeywordEmbedder([], max_tokens=64)
    passages = chunk_document(document, embedder.count_tokens, embedder.max_tokens, ChunkConfig(passage_words=100))
    article = [p for p in passages if p.kind == ARTICLE]
    assert [(p.text, p.author, p.comment) for p in article] == [("The body has one sentence only.", "Ian Quinn", None)]
    by_comment = {}
    for p in passages:
        if p.kind == COMMENT:
            by_comment.setdefault(p.comment, []).append(p)
    assert [p.text for p in by_comment[1]] == ["Councils are no better."]
    assert [p.text for p in by_comment[2]] == ["Yet more reorganisation."]
    assert len(by_comment[3]) >= 3  # 250 words in passages of at most 100
    assert {p.author for p in by_comment[1]} == {"Took Early Retirement"} and by_comment[2][0].author is None
    assert {p.author for p in by_comment[3]} == {"Vinci Ho"}


def test_the_same_document_gives_the_same_passage_ids():
    document = _document(" ".join(_ten_word_sentences(30)), (Comment(1, "A reader's view."),))
    embedder = KeywordEmbedder([], max_tokens=64)
    first = chunk_document(document, embedder.count_tokens, embedder.max_tokens)
    second = chunk_document(document, embedder.count_tokens, embedder.max_tokens)
    assert [p.id for p in first] == [p.id for p in second]
    assert [p.windows for p in first] == [p.windows for p in second]


@pytest.mark.parametrize("settings, message", [
    ({"passage_words": 19}, "passage_words must be between 20 and 2000, got 19"),
    ({"passage_words": 2001}, "passage_words must be between 20 and 2000, got 2001"),
    ({"window_words": 4}, r"window_words must be between 5 and passage_words \(200\), got 4"),
    ({"passage_words": 50, "window_words": 80}, r"window_words must be between 5 and passage_words \(50\), got 80"),
    ({"overlap_sentences": -1}, "overlap_sentences must be between 0 and 5, got -1"),
    ({"overlap_sentences": 6}, "overlap_sentences must be between 0 and 5, got 6"),
    ({"passage_words": "200"}, "passage_words must be a whole number, got '200'"),
    ({"window_words": 40.5}, "window_words must be a whole number, got 40.5"),
    ({"overlap_sentences": None}, "overlap_sentences must be a whole number, got None"),
])
def test_chunk_config_says_what_is_allowed(settings, message):
    with pytest.raises(InputError, match=message):
        ChunkConfig(**settings)


def _hash_chain_text(seed: str, length: int) -> str:
    """Deterministic URL-like gibberish: one giant 'word' a WordPiece tokenizer cuts into many pieces."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789" * 3 + "/.-_?=&%,"
    out: list[str] = []
    data = hashlib.sha256(seed.encode()).digest()
    while len(out) < length:
        out.extend(alphabet[b % len(alphabet)] for b in data)
        data = hashlib.sha256(data).digest()
    return "".join(out[:length])


@pytest.mark.model
def test_every_window_fits_the_real_models_token_budget(real_embedder):
    # s5/340 and s9/347 are 255 tokens whole but 254 in halves: joined again they overflowed the budget.
    texts = [_hash_chain_text("s5", 340), _hash_chain_text("s9", 347),
             "A short opening. " + _hash_chain_text("giant", 6000) + " A closing sentence.",
             "https://example.org/" + "/".join(f"seg{i}" for i in range(800)),
             " ".join(["commissioning"] * 700) + ".",
             " ".join(f"£{i}.{i % 10}bn" for i in range(600)) + "."]
    count, budget = real_embedder.count_tokens, real_embedder.max_tokens
    for text in texts:
        passages = chunk_document(_document(text), count, budget, ChunkConfig())
        for passage in passages:
            _check_windows(passage, text, count, budget, ChunkConfig().window_words)
        assert passages[0].start == 0 and passages[-1].end == len(text)
