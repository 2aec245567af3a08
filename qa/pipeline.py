"""Answering a question, stage by stage, over one index: the pipeline `Engine.ask` runs.

    question (qa.question.analyse: intent, places, names, polarity, answer type, everyday names)
      -> retrieval (qa.retrieve): the preferred side's top passages, a few of the other side's, and the
         passages holding matching commissioning facts (qa.who_answers)
      -> sentence scoring: a cheap prior picks the sentences (qa.answer.SentenceScorer) that the answer
         model reads (qa.answer.rescore, qa.answer_model), each with the question less the names and places
         its passage or article gives (qa.reading)
      -> fit to the question: another place's sentences set aside (qa.place_fit); for an opinion
         question, comments ranked as readers' views (qa.answer.readers_views)
      -> choice and composition: the best sentences, at most one per passage, from the side that answers,
         or an abstention (qa.answer.choose_sentences, qa.answer.compose; English in qa.phrasing)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from index.build import CorpusIndex
from index.records import ARTICLE, COMMENT
from qa.analysis import commissioning_facts, stored_facts_where
from qa.answer import (
    AnswerConfig,
    Candidate,
    SentenceScorer,
    choose_sentences,
    compose,
    rank_passages,
    readers_views,
    rescore,
)
from qa.answer_model import AnswerModel, Calibration
from qa.commissioning import CommissioningFact
from qa.place_fit import elsewhere_in_context, local_places, place_given_by_context
from qa.question import Question
from qa.speakers import Quote, Speakers
from qa.types import Answer, Hit
from qa.who_answers import MAX_FACTS, fact_test


class AnswerPipeline:
    """The stages of answering over one index and retriever. What it builds on first use (the sentence
    scorer, the commissioning facts, the shipped answer model) is kept for the index's lifetime: an engine
    makes a new pipeline whenever its index changes."""

    def __init__(self, index: CorpusIndex, retriever, config: AnswerConfig, model: AnswerModel | None = None):
        self.index = index
        self.retriever = retriever  # a qa.retrieve.Retriever or qa.backend_retrieve.BackendRetriever
        self.config = config
        self._model = model  # None: the shipped model, loaded on the first question
        self._scorer: SentenceScorer | None = None
        self._facts: list[CommissioningFact] | None = None
        self._speakers: dict[str, Speakers] = {}  # per document, made when an answer first reads it
        self._places: dict[str, frozenset[str]] = {}  # per document: the local places it names

    def ask(self, question: Question, k: int, kind: str, doc_ids: Sequence[str] | None, mode: str | None) -> Answer:
        config = self.settings()
        calibration = self.model().calibration
        wanted = prefer = side_asked(kind, question.opinion)
        vector = self.retriever.query_vector(question.text)
        candidates, facts = self.candidates(question, vector, prefer, kind, doc_ids, mode)
        candidates, reported_elsewhere = about_the_asked_place(question, candidates, calibration, config,
                                                               self.document_places)
        if wanted == COMMENT and question.opinion:
            candidates = readers_views(candidates, calibration)
        strength = {side: calibration.confidence(max((c.score for c in candidates if c.hit.kind == side), default=0.0))
                    for side in ((ARTICLE, COMMENT) if kind == "both" else (kind,))}
        if strength[prefer] < config.min_confidence:
            # The preferred side has no answer: the other may (a comment is still labelled as a
            # reader's view; an opinion quoted in reporting is attributed to its speaker).
            prefer = max(strength, key=strength.get)
        # One side answers: a comment never stands in for reporting, and reporting does not dilute
        # what readers said (the side that did not answer is still in `nearest`).
        chosen = [c for c in choose_sentences(candidates, prefer, config) if c.hit.kind == prefer]
        nearest = rank_passages(
            self.retriever.search(question.text, k, kind=kind, doc_ids=doc_ids, mode=mode, vector=vector), candidates)
        answer = compose(question.text, chosen, max(strength.values()), nearest, config, self.speaker, wanted=wanted,
                         elsewhere=reported_elsewhere)
        cited = {(c.doc_id, c.sentence_start, c.sentence_end) for c in answer.citations}
        used = tuple(f for f in facts if (f.doc_id, f.sentence_start, f.sentence_end) in cited)
        return replace(answer, facts=used) if used else answer

    def candidates(self, question: Question, vector, prefer: str, kind: str, doc_ids: Sequence[str] | None,
                   mode: str | None) -> tuple[list[Candidate], list[CommissioningFact]]:
        """Sentences from the preferred side's top passages, a few of the other side's, and the sentences
        of matching commissioning facts, scored by the answer model (best first)."""
        retriever, pool = self.retriever, self.config.passages
        hits = retriever.search(question.text, pool, kind=prefer, doc_ids=doc_ids, mode=mode, vector=vector)
        if kind == "both":
            other = ARTICLE if prefer == COMMENT else COMMENT
            hits += retriever.search(question.text, max(2, pool // 2), kind=other, doc_ids=doc_ids, mode=mode,
                                     vector=vector)
        test = fact_test(question.text) if prefer == ARTICLE else None
        # Only the searched documents' facts, chosen before the MAX_FACTS cut: a document filter or date range
        # must not let facts it excludes take the places of those it keeps.
        facts = [] if test is None else stored_facts_where(self.index, test, MAX_FACTS, doc_ids)
        hits += [retriever.passage_hit(passage_id) for passage_id in self._fact_passages(facts, hits)]
        listed = self._sentence_scorer().candidates(question, vector[0], hits, self._said_by)
        fact_spans = {(f.doc_id, f.sentence_start, f.sentence_end) for f in facts}
        return rescore(self.model(), question, listed, self.config.rescored, fact_spans,
                       lambda c: self._place_given(question, c)), facts

    def model(self) -> AnswerModel:
        return self._model or AnswerModel.shared()

    def settings(self) -> AnswerConfig:
        """The answer settings with the threshold filled in: the model's calibrated one unless set."""
        if self.config.min_confidence is not None:
            return self.config
        return replace(self.config, min_confidence=self.model().calibration.threshold)

    def facts(self) -> list[CommissioningFact]:
        if self._facts is None:
            self._facts = commissioning_facts(self.index)  # extracted when each document was indexed
        return self._facts

    def speaker(self, doc_id: str, start: int, end: int) -> Quote | None:
        """The quote spoken in [start, end) of an article, when the text says who speaks."""
        speakers = self._speakers.get(doc_id)
        if speakers is None:  # (two threads may both make it: the same one, so either may be kept)
            speakers = self._speakers[doc_id] = Speakers(self.index.quotes(doc_id))  # found when indexed
        return speakers.speaker_of(start, end)

    def document_places(self, doc_id: str) -> frozenset[str]:
        """The local places a document's title and text name (found when an answer first needs them)."""
        places = self._places.get(doc_id)
        if places is None:
            document = self.index.documents[doc_id]
            places = self._places[doc_id] = local_places(f"{document.title}\n{document.text}")
        return places

    def _place_given(self, question: Question, candidate: Candidate) -> bool:
        """The candidate's sentence names no place while its passage or article names the asked one."""
        return place_given_by_context(candidate.reads, f"{candidate.said_by} {candidate.hit.text}",
                                      lambda: self.document_places(candidate.hit.doc_id), question.places)

    def _sentence_scorer(self) -> SentenceScorer:
        if self._scorer is None:
            self._scorer = SentenceScorer(self.index, self.index.analysis.idf())  # counted when indexed
        return self._scorer

    def _fact_passages(self, facts: Sequence[CommissioningFact], hits: Sequence[Hit]) -> list[str]:
        """Ids of passages holding the facts' sentences that are not among `hits` already."""
        have = {h.passage_id for h in hits}
        wanted = []
        for fact in facts:
            passage = self.index.article_passage(fact.doc_id, fact.sentence_start, fact.sentence_end)
            if passage and passage.id not in have:
                have.add(passage.id)
                wanted.append(passage.id)
        return wanted

    def _said_by(self, hit: Hit, start: int, end: int, text: str) -> str:
        """Who speaks a quoted article sentence that does not name them, with the role the article gives ("Dr
        Porter, chair of the BMA,": a question may name the office only); "" for any other sentence."""
        if hit.kind != ARTICLE:
            return ""
        quote = self.speaker(hit.doc_id, start, end)
        if quote is None or quote.speaker.split()[-1].lower() in text.lower():
            return ""
        return f"{quote.speaker}, {quote.role}," if quote.role else quote.speaker


def side_asked(kind: str, opinion: bool) -> str:
    """"comment" for an opinion question (or when only comments are searched), else "article"."""
    return kind if kind != "both" else (COMMENT if opinion else ARTICLE)


def about_the_asked_place(question: Question, candidates: list[Candidate], calibration: Calibration,
                          config: AnswerConfig, document_places: Callable[[str], frozenset[str]]
                          ) -> tuple[list[Candidate], tuple[str, ...]]:
    """The candidates that do not speak of another place than the question asks about, and the places that
    sentences strong enough to answer spoke of instead (so an abstention can say where it is reported);
    `document_places(doc_id)` gives the local places a candidate's document names."""
    if not question.places:
        return candidates, ()
    kept, instead = [], []
    for candidate in candidates:
        other = elsewhere_in_context(candidate.text, candidate.hit.text,
                                     lambda doc_id=candidate.hit.doc_id: document_places(doc_id), question.places)
        if not other:
            kept.append(candidate)
        elif calibration.confidence(candidate.score) >= config.min_confidence:
            instead += [place for place in sorted(other) if place not in instead]
    return kept, tuple(instead)
