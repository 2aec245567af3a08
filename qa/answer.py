"""Extractive answers: the sentences that best answer a question, each with a numbered citation.

Reporting and reader comments are never blended: a comment's sentence is quoted and labelled as a
reader's view, and questions of fact are answered from reporting first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from index.build import CorpusIndex
from index.lexical import tokenize
from index.records import ARTICLE, COMMENT
from qa.errors import InputError
from qa.types import Answer, Citation, Hit

NOTHING_FOUND = "I found nothing in these articles that answers this question."
# (doc_id, start, end) -> the quote spoken there: .speaker, .role, .cue_start, .cue_end (or None)
SpeakerLookup = Callable[[str, int, int], Any]


@dataclass(frozen=True)
class AnswerConfig:
    """How answers are composed. `min_confidence` comes from `python -m eval.calibrate_abstention`: the
    mean of the thresholds chosen on each half of the shipped question set, each scored on the other half."""

    max_sentences: int = 3
    passages: int = 5  # sentences are drawn from this many top passages
    min_confidence: float = 0.41
    relative_cutoff: float = 0.75  # a further sentence must score at least this share of the best

    def __post_init__(self) -> None:
        if not 1 <= self.max_sentences <= 10:
            raise InputError(f"max_sentences must be between 1 and 10, got {self.max_sentences}")
        if not 1 <= self.passages <= 50:
            raise InputError(f"passages must be between 1 and 50, got {self.passages}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"min_confidence must be between 0 and 1, got {self.min_confidence}")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored against the question."""

    hit: Hit
    start: int
    end: int
    text: str
    coverage: float  # idf-weighted share of the question's terms the sentence contains
    similarity: float  # cosine between sentence and question
    score: float


class SentenceScorer:
    """Scores the sentences of retrieved passages against a question, by meaning and by its rarer words.

    Sentence vectors come from the index (embedded when it was built), so this never runs the model.
    """

    def __init__(self, index: CorpusIndex, idf: dict[str, float]):
        self.index = index
        self.idf = idf
        self._default_idf = max(idf.values(), default=1.0)

    def candidates(self, question: str, query_vector: np.ndarray, hits: Sequence[Hit]) -> list[Candidate]:
        terms = self._weights(question)
        best_hit = max((hit.score for hit in hits), default=1.0) or 1.0
        result = []
        for hit in hits:
            row = self.index.passage_row[hit.passage_id]
            passage = self.index.passages[row]
            first = self.index.sentence_start[row]
            similarities = self.index.sentence_vectors[first:first + len(passage.sentences)] @ query_vector
            for (start, end), similarity in zip(passage.sentences, similarities):
                text = passage.text[start - passage.start:end - passage.start]
                coverage = self._coverage(terms, text)
                score = 0.5 * float(similarity) + 0.35 * coverage + 0.15 * max(hit.score, 0.0) / best_hit
                result.append(Candidate(hit, start, end, text, coverage, float(similarity), score))
        return result

    def _weights(self, text: str) -> dict[str, float]:
        return {term: self.idf.get(term, self._default_idf) for term in set(tokenize(text))}

    def _coverage(self, weights: dict[str, float], sentence: str) -> float:
        total = sum(weights.values())
        if not total:
            return 0.0
        present = set(tokenize(sentence))
        return sum(w for term, w in weights.items() if term in present) / total


def confidence(best: Candidate | None, unfamiliar: float = 0.0, wanted: str | None = None) -> float:
    """How strongly a sentence answers: meaning and word evidence must both be there.

    `unfamiliar` is the share of the question's names the corpus never mentions (see `unfamiliar_share`):
    a question about Leeds cannot be answered from articles that never mention Leeds. `wanted` is the
    kind of answer the question asks for (`answer_type`); a sentence without one answers it less well.
    """
    if best is None:
        return 0.0
    fit = 1.0 if wanted is None or _ANSWER_TYPES[wanted][1].search(best.text) else TYPE_MISMATCH
    return float((0.6 * best.similarity + 0.4 * best.coverage) * (1.0 - unfamiliar) * fit)


TYPE_MISMATCH = 0.8  # a "how many" question answered by a sentence with no number is a weaker answer
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_ANSWER_TYPES = {
    "number": (re.compile(r"^\s*(?:how (?:many|much|big|large)|what (?:proportion|share|percentage|number))\b", re.I),
               re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                          r"hundred|thousand|million|billion|half|quarter|third|majority|most|all|none)\b", re.I)),
    "date": (re.compile(r"^\s*(?:when|by when|from when|by what date|what date|which year|in what year)\b", re.I),
             re.compile(rf"\b(?:{_MONTHS}|\d{{4}}|year|month|week|today|yesterday|next|last|spring|summer|"
                        r"autumn|winter|election)\b", re.I)),
}


def answer_type(question: str) -> str | None:
    """"number" or "date" when the question asks for one (how many, when...), else None."""
    return next((name for name, (asks, _) in _ANSWER_TYPES.items() if asks.search(question)), None)


_WORD = re.compile(r"[\w'’-]+")


def corpus_words(texts) -> frozenset[str]:
    """Every word of the corpus, lower-cased, possessives dropped: what `unfamiliar_share` checks against."""
    return frozenset(_bare(w) for text in texts for w in _WORD.findall(text))


def unfamiliar_share(question: str, known: frozenset[str]) -> float:
    """Share of the question's names (capitalised words after the first, and numbers) absent from the corpus."""
    words = _WORD.findall(question)
    # A lone digit ("option 2", "(0)") names nothing; years and sums ("2019", "17") do.
    names = [w for i, w in enumerate(words) if (i > 0 and w[0].isupper()) or (w.isdigit() and len(w) > 1)]
    if not names:
        return 0.0
    return sum(_bare(w) not in known for w in names) / len(names)


def _bare(word: str) -> str:
    return re.sub(r"['’]s?$", "", word.lower())


def choose_sentences(candidates: Sequence[Candidate], prefer: str, config: AnswerConfig) -> list[Candidate]:
    """The best sentences, at most one per passage; `prefer` ("article" or "comment") fills first."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    if not ranked:
        return []
    floor = ranked[0].score * config.relative_cutoff
    chosen: list[Candidate] = []
    used_passages: set[str] = set()
    for group in (prefer, ARTICLE if prefer == COMMENT else COMMENT):
        for candidate in ranked:
            if len(chosen) >= config.max_sentences:
                break
            if candidate.hit.kind != group or candidate.hit.passage_id in used_passages:
                continue
            if chosen and candidate.score < floor:
                continue
            if any(_same_text(candidate.text, c.text) for c in chosen):
                continue
            chosen.append(candidate)
            used_passages.add(candidate.hit.passage_id)
    return chosen


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\W+", "", a.lower()) == re.sub(r"\W+", "", b.lower())


FALLBACK_NOTES = {
    COMMENT: "No reader's comment answers this; the reporting says:",
    ARTICLE: "The reporting does not answer this; readers' comments say:",
}


def compose(question: str, chosen: Sequence[Candidate], score: float, nearest: Sequence[Hit],
            config: AnswerConfig, speaker_of: SpeakerLookup | None = None, wanted: str | None = None) -> Answer:
    """An Answer from chosen sentences, or an abstention that still lists the nearest passages.

    `wanted` is the side the question asked for ("article" or "comment"); when the answer had to come
    from the other side, it opens by saying so.
    """
    if not chosen or score < config.min_confidence:
        return Answer(question=question, text=NOTHING_FOUND + " The nearest passages are listed as sources.",
                      abstained=True, nearest=tuple(nearest), confidence=score)
    reporting = [c for c in chosen if c.hit.kind == ARTICLE]
    comments = [c for c in chosen if c.hit.kind == COMMENT]
    # The side that answers leads (readers' views for an opinion question); the two never interleave.
    ordered = comments + reporting if chosen[0].hit.kind == COMMENT else reporting + comments
    citations: list[Citation] = []
    lines = []
    for candidate in ordered:
        speaker = speaker_of(candidate.hit.doc_id, candidate.start, candidate.end) \
            if speaker_of and candidate.hit.kind == ARTICLE else None
        citation = _citation(len(citations) + 1, candidate, speaker)
        citations.append(citation)
        lines.append(_sentence_line(candidate, citation, speaker))
    if wanted in FALLBACK_NOTES and all(c.kind != wanted for c in citations):
        lines.insert(0, FALLBACK_NOTES[wanted])
    return Answer(question=question, text="\n".join(lines), abstained=False, citations=tuple(citations),
                  nearest=tuple(nearest), confidence=score)


_QUOTE_MARKS = ("'", '"', "‘", "’", "“", "”")


def _citation(n: int, candidate: Candidate, speaker: Any) -> Citation:
    hit = candidate.hit
    return Citation(
        n=n, text=hit.text, doc_id=hit.doc_id, title=hit.title, kind=hit.kind, author=hit.author,
        start=hit.start, end=hit.end, score=hit.score, sentence_start=candidate.start,
        sentence_end=candidate.end, passage_id=hit.passage_id, comment=hit.comment,
        speaker=speaker.speaker if speaker else None, speaker_role=speaker.role if speaker else None,
    )


def _sentence_line(candidate: Candidate, citation: Citation, speaker: Any) -> str:
    sentence = candidate.text.lstrip("• ").strip()
    if citation.kind == COMMENT:
        who = f"A reader ({citation.author})" if citation.author else "An anonymous reader"
        return f"{who} commented under “{citation.title}”: “{sentence}” [{citation.n}]"
    if speaker is None:
        return f"{sentence} [{citation.n}]"
    if candidate.start <= speaker.cue_start < speaker.cue_end <= candidate.end:
        quoted = candidate.text[speaker.cue_end - candidate.start:].lstrip(" :,-–—").strip()
        if speaker.cue_start - candidate.start > 3 or not quoted.startswith(_QUOTE_MARKS) or len(quoted.split()) < 2:
            return f"{sentence} [{citation.n}]"  # the sentence names its speaker itself ("..., he said")
        sentence = quoted  # an opening cue ("She said: ‘...’") gives way to the full name and role
    role = f" ({citation.speaker_role})" if citation.speaker_role else ""
    return f"According to {citation.speaker}{role}: {sentence} [{citation.n}]"
