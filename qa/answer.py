"""Extractive answers: the sentences that best answer a question, each with a numbered citation.

Reporting and reader comments are never blended: a comment's sentence is quoted and labelled as a
reader's view, and questions of fact are answered from reporting first.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from index.build import CorpusIndex
from index.lexical import tokenize
from index.quantised import dequantised
from index.records import ARTICLE, COMMENT
from qa.answer_model import FEATURES, AnswerModel, Calibration, features
from qa.errors import InputError
from qa.phrasing import fallback_note, reported_elsewhere, sentence_line
from qa.question import Question
from qa.reading import without_given_names
from qa.types import Answer, Citation, Hit

# (doc_id, start, end) -> the quote spoken there: .speaker, .role, .cue_start, .cue_end (or None)
SpeakerLookup = Callable[[str, int, int], Any]


@dataclass(frozen=True)
class AnswerConfig:
    """How answers are composed. `min_confidence` None means the answer model's calibrated threshold
    (fitted by `python -m training.calibrate_answers` on a split neither trained on nor reported)."""

    max_sentences: int = 3
    passages: int = 5  # sentences are drawn from this many top passages
    min_confidence: float | None = None
    relative_cutoff: float = 0.75  # a further sentence must be at least this share as likely to answer as the best
    rescored: int = 12  # sentences (ranked by the cheap prior) that the answer model reads

    def __post_init__(self) -> None:
        if not 1 <= self.max_sentences <= 10:
            raise InputError(f"max_sentences must be between 1 and 10, got {self.max_sentences}")
        if not 1 <= self.passages <= 50:
            raise InputError(f"passages must be between 1 and 50, got {self.passages}")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"min_confidence must be between 0 and 1, got {self.min_confidence}")
        if not 1 <= self.rescored <= 200:
            raise InputError(f"rescored must be between 1 and 200, got {self.rescored}")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored against the question.

    `score` is the cheap prior until the answer model has read the sentence; then it is the probability
    that the sentence answers the question (see `rescore`)."""

    hit: Hit
    start: int
    end: int
    text: str
    coverage: float  # idf-weighted share of the question's terms the sentence contains
    similarity: float  # cosine between sentence and question
    score: float
    features: tuple[float, ...] = ()  # what the answer model's score was computed from, once it has read it
    before: str = ""  # the sentence before it in its passage ("" for the first): the answer model reads it first
    said_by: str = ""  # who speaks a quoted sentence that does not name them; the answer model reads it too

    @property
    def reads(self) -> str:
        """The sentence as the answer model reads it: "Dr Vell said: ..." for a quote whose speaker it lacks."""
        return f"{self.said_by} said: {self.text}" if self.said_by else self.text


EVERYDAY_NAMES_WEIGHT = 0.3  # as qa.retrieve.RetrievalConfig.expansion_weight
# A sentence opening with one of these words leans on the one before ("It states that the functions most
# suitable ... include GMS and PMS contracts"): read alone it names neither the report nor its subject, so it
# is a candidate only together with that sentence, read and cited as one (the sentence before stays a
# candidate of its own).
POINTS_BACK = re.compile(r"[\W_]*(?:it|its|this|these|they|their|those|he|his|she|her|such|both|the latter|the former)\b",
                         re.I)


class SentenceScorer:
    """Lists the sentences of retrieved passages with a cheap prior: which ones the answer model reads.

    Sentence vectors come from the index (embedded when it was built), so this never runs the embedder.
    """

    def __init__(self, index: CorpusIndex, idf: dict[str, float]):
        self.index = index
        self.idf = idf
        self._default_idf = max(idf.values(), default=1.0)

    def candidates(self, question: Question, query_vector: np.ndarray, hits: Sequence[Hit],
                   said_by: Callable[[Hit, int, int, str], str] | None = None) -> list[Candidate]:
        """Every sentence of `hits` with its prior; `said_by(hit, start, end, text)` names the speaker of a
        quoted sentence that does not name them ("" otherwise), whose words count towards the prior too: the
        later sentences of a quote answer "what did the GPC negotiator say" as well as the first."""
        terms = self._weights(question.text)
        # The reporting terms for the question's everyday names ("town hall" -> local authority) count too, at
        # the weight retrieval gives them: a plain-language question shares few words with its answer.
        everyday = {t: w for t, w in self._weights(question.everyday_terms).items() if t not in terms}
        result = []
        for hit in hits:
            row = self.index.passage_row[hit.passage_id]
            passage = self.index.passages[row]
            first = self.index.sentence_start[row]
            similarities = dequantised(self.index.sentence_vectors[first:first + len(passage.sentences)]) @ query_vector
            spans = passage.sentences
            for number, ((start, end), similarity) in enumerate(zip(spans, similarities.tolist())):
                text = passage.text[start - passage.start:end - passage.start]
                coverage = read_coverage = self._coverage(terms, text)
                opening = number  # the first sentence read: the one before, when this one points back to it
                if number and POINTS_BACK.match(text):
                    opening = number - 1
                    start = spans[opening][0]
                    text = passage.text[start - passage.start:end - passage.start]
                    read_coverage = self._coverage(terms, text)
                before = passage.text[spans[opening - 1][0] - passage.start:start - passage.start].strip() if opening else ""
                speaker = said_by(hit, start, end, text) if said_by else ""
                read = f"{speaker} {text}" if speaker else text
                if speaker:
                    read_coverage = self._coverage(terms, read)
                # a sentence close in meaning or in rare words (with the one it points back to and its speaker) is
                # worth reading; its own words and meaning are what the answer model's features weigh
                prior = similarity + read_coverage + EVERYDAY_NAMES_WEIGHT * self._coverage(everyday, read)
                result.append(Candidate(hit, start, end, text, coverage, similarity, prior, before=before,
                                        said_by=speaker))
        return result

    def _weights(self, text: str) -> dict[str, float]:
        return {term: self.idf.get(term, self._default_idf) for term in set(tokenize(text))}

    def _coverage(self, weights: dict[str, float], sentence: str) -> float:
        total = sum(weights.values())
        if not total:
            return 0.0
        present = set(tokenize(sentence))
        return sum(w for term, w in weights.items() if term in present) / total


def rescore(model: AnswerModel, question: Question, candidates: Sequence[Candidate], keep: int,
            must_read: set[tuple[str, int, int]] = frozenset(),
            place_given: Callable[[Candidate], bool] | None = None) -> list[Candidate]:
    """The `keep` best candidates by prior (and every sentence in `must_read`, as (doc_id, start, end)),
    read by the answer model with the question as it reads for each (`qa.reading`: without the names its
    passage gives, and without the question's places where `place_given` says its article names the asked
    place): `score` becomes the sentence's calibrated probability of answering and
    `features` what it was computed from (`qa.answer_model.FEATURES`). Best first."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    chosen = ranked[:keep] + [c for c in ranked[keep:] if (c.hit.doc_id, c.start, c.end) in must_read]
    if not chosen:
        return []
    given = [bool(place_given and question.places and place_given(c)) for c in chosen]
    readings = [without_given_names(question.read_placeless if place else question.read_as, c.reads,
                                    f"{c.said_by} {c.hit.text}") for c, place in zip(chosen, given)]
    logits = model.score(question, [c.reads for c in chosen], [c.before for c in chosen], readings)
    table = features(question, logits, [c.reads for c in chosen],
                     [f"{c.said_by} {c.hit.text}" for c in chosen], [c.similarity for c in chosen], [c.coverage for c in chosen],
                     [c.hit.rank for c in chosen])
    probabilities = model.calibration.sentence_probability(table)
    return sorted((replace(c, score=float(p), features=tuple(row)) for c, p, row in zip(chosen, probabilities, table)),
                  key=lambda c: -c.score)


# What readers think is not a fact a sentence states: the answer model, trained on questions of fact, gives
# most comments a low score. For an opinion question a comment is scored by how closely it matches the
# question in meaning and rare words (the prior), mapped so that OPINION_MATCH, the share at which the
# hand-set confidence of earlier versions answered, reads as an even chance; where the answer model finds a
# comment states what was asked (above STATES_IT: "a reader says GPs receive ..."), its log-odds raise that,
# so such a comment outranks one that merely shares the question's words. Not learned: no training data
# of opinion questions exists here (see the README's limitations).
OPINION_MATCH = 0.41


STATES_IT = 0.05  # an answer-model probability above which a comment adds its log-odds above this to its match
OFF_THREAD = 2.0  # log-odds a comment loses when it sits under another article than the best-matching one


def readers_views(candidates: Sequence[Candidate], calibration: Calibration) -> list[Candidate]:
    """Comment candidates rescored for an opinion question (see OPINION_MATCH), best first. A comment under
    another article than the one whose reporting best matches the question counts for less (OFF_THREAD):
    a word in common ("Manchester Airport") does not put a thread on the topic, but a comment that plainly
    answers still can. A comment without the count or date the question asks for ("according to readers,
    how much ...?") loses what the calibrated sentence map takes off any such sentence."""
    comments = [c for c in candidates if c.hit.kind == COMMENT]
    if not comments:
        return sorted(candidates, key=lambda c: -c.score)
    on_topic = {c.hit.doc_id for c in candidates if c.hit.kind == ARTICLE and c.hit.rank == 1}
    threads = on_topic if any(c.hit.doc_id in on_topic for c in comments) else {c.hit.doc_id for c in comments}
    lacks_type = FEATURES.index("answer type missing")
    type_weight = -calibration.weights[lacks_type]

    def view(c: Candidate) -> Candidate:
        match = 12 * (0.6 * c.similarity + 0.4 * c.coverage - OPINION_MATCH)
        away = 0.0 if c.hit.doc_id in threads else OFF_THREAD
        stated = max(0.0, _log_odds(c.score) - _log_odds(STATES_IT))
        wrong_type = type_weight * c.features[lacks_type] if c.features else 0.0
        return replace(c, score=float(1 / (1 + np.exp(-(match + stated - away - wrong_type)))))

    return sorted((view(c) if c.hit.kind == COMMENT else c for c in candidates), key=lambda c: -c.score)


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def rank_passages(hits: Sequence[Hit], scored: Sequence[Candidate]) -> list[Hit]:
    """`hits` reordered by how well their best sentence answers (retrieval order breaks ties and ranks
    passages the model did not read, after those it did)."""
    best: dict[str, float] = {}
    for candidate in scored:
        best[candidate.hit.passage_id] = max(best.get(candidate.hit.passage_id, 0.0), candidate.score)
    ordered = sorted(enumerate(hits), key=lambda pair: (-best.get(pair[1].passage_id, -1.0), pair[0]))
    return [replace(hit, rank=rank) for rank, (_, hit) in enumerate(ordered, start=1)]


def choose_sentences(candidates: Sequence[Candidate], prefer: str, config: AnswerConfig) -> list[Candidate]:
    """The best sentences, none overlapping another (a passage may give two: a report's list of functions
    after the sentence that names the report); `prefer` ("article" or "comment") fills first."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    if not ranked:
        return []
    floor = ranked[0].score * config.relative_cutoff
    chosen: list[Candidate] = []
    for group in (prefer, ARTICLE if prefer == COMMENT else COMMENT):
        for candidate in ranked:
            if len(chosen) >= config.max_sentences:
                break
            if candidate.hit.kind != group or any(_overlap(candidate, c) for c in chosen):
                continue
            if chosen and candidate.score < floor:
                continue
            if any(_same_text(candidate.text, c.text) for c in chosen):
                continue
            chosen.append(candidate)
    return chosen


def _overlap(a: Candidate, b: Candidate) -> bool:
    return a.hit.doc_id == b.hit.doc_id and a.hit.comment == b.hit.comment and a.start < b.end and b.start < a.end


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\W+", "", a.lower()) == re.sub(r"\W+", "", b.lower())


def compose(question: str, chosen: Sequence[Candidate], score: float, nearest: Sequence[Hit],
            config: AnswerConfig, speaker_of: SpeakerLookup | None = None, wanted: str | None = None,
            elsewhere: Sequence[str] = ()) -> Answer:
    """An Answer from chosen sentences, or an abstention that still lists the nearest passages.

    `score` is the answer's confidence; `config.min_confidence` must be set (the engine fills in the
    model's calibrated threshold).

    `wanted` is the side the question asked for ("article" or "comment"); when the answer had to come
    from the other side, it opens by saying so. `elsewhere` names the places the articles report the
    asked-for thing for instead of the one asked about; an abstention says so.
    """
    if config.min_confidence is None:
        raise InputError("compose needs AnswerConfig.min_confidence (Engine.ask fills in the calibrated threshold)")
    if not chosen or score < config.min_confidence:
        return Answer(question=question, text=reported_elsewhere(elsewhere), abstained=True, nearest=tuple(nearest),
                      confidence=score)
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
        lines.append(sentence_line(candidate.text, candidate.start, citation, speaker))
    if wanted in (ARTICLE, COMMENT) and all(c.kind != wanted for c in citations):
        lines.insert(0, fallback_note(wanted))
    return Answer(question=question, text="\n".join(lines), abstained=False, citations=tuple(citations),
                  nearest=tuple(nearest), confidence=score)


def _citation(n: int, candidate: Candidate, speaker: Any) -> Citation:
    hit = candidate.hit
    return Citation(
        n=n, text=hit.text, doc_id=hit.doc_id, title=hit.title, kind=hit.kind, author=hit.author,
        start=hit.start, end=hit.end, score=hit.score, sentence_start=candidate.start,
        sentence_end=candidate.end, passage_id=hit.passage_id, comment=hit.comment,
        speaker=speaker.speaker if speaker else None, speaker_role=speaker.role if speaker else None,
    )
