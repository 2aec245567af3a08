"""The public entry point: an Engine over one index answers `search`, `ask`, `chat` and `commissioning`."""
from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from index.analysis import complete
from index.build import (
    INDEX_RECIPE,
    CorpusIndex,
    IndexConfig,
    build_index,
    delete_documents,
    load_index,
    merge_batch,
    prepare_batch,
    save_index,
)
from index.embed import Embedder, SentenceTransformerEmbedder
from index.ingest import load_documents
from index.records import ARTICLE, COMMENT, Document
from index.store import DEFAULT_LOCK_TIMEOUT, FORMAT_VERSION, check_compatible, current_generation, writer_lock
from qa.analysis import ANALYSERS, commissioning_facts
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
from qa.answer_model import AnswerModel
from qa.backend_retrieve import BackendRetriever, QdrantChoice
from qa.commissioning import CommissioningFact, filter_facts
from qa.errors import IndexCorruptError, InputError
from qa.intent import OPINION, question_intent
from qa.place_fit import asked_places, elsewhere
from qa.retrieve import KIND_FILTERS, RetrievalConfig, Retriever, check_choice, check_k
from qa.speakers import Quote, speaker_of
from qa.threads import QUERY_THREADS, query_threads
from qa.types import Answer, Hit, Passage
from qa.who_answers import matching_facts

MAX_QUESTION_CHARS = 1000
_NOT_TEXT = re.compile("[\ud800-\udfff]")  # lone surrogates: Python allows them in str, no encoder does
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "index" / "default_corpus" / "pulse"


def check_question(question: object) -> str:
    """The question, stripped; InputError if it is not text of 1 to MAX_QUESTION_CHARS characters."""
    if not isinstance(question, str):
        raise InputError(f"a question must be text, got {type(question).__name__}")
    bad = _NOT_TEXT.search(question)
    if bad:
        code, at = ord(bad.group()), bad.start() + 1
        # U+DC80..U+DCFF is how Python carries a byte it could not decode (a command-line argument, a file name).
        what = f"the byte 0x{code - 0xDC00:02X}, which is not UTF-8" if code >= 0xDC80 else \
            f"U+{code:04X}, a lone surrogate that is not a character"
        raise InputError(f"the question holds {what} (character {at}); ask in UTF-8 text")
    stripped = question.strip()
    if not stripped:
        raise InputError(f"the question is empty; ask a question of 1 to {MAX_QUESTION_CHARS:,} characters")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(stripped):,} characters long; "
                         f"the most allowed is {MAX_QUESTION_CHARS:,}")
    return stripped


def cache_root() -> Path:
    """Where built indexes of the default corpus are kept: $QA_CACHE_DIR, else the user cache folder."""
    if os.environ.get("QA_CACHE_DIR"):
        return Path(os.environ["QA_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nhs-commissioning-qa"


class Engine:
    """Search and cited answers over one corpus index. Safe to share between threads."""

    def __init__(self, index: CorpusIndex, embedder: Embedder, *, retrieval: RetrievalConfig = RetrievalConfig(),
                 answer: AnswerConfig = AnswerConfig(), index_dir: str | Path | None = None,
                 answer_model: AnswerModel | None = None, backend=None, threads: int | None = QUERY_THREADS):
        self.embedder = embedder
        self.threads = threads  # BLAS threads a question may use (see qa.threads); None: the libraries' default
        self.backend = backend  # None: FAISS + BM25 in this process; else an index.backends.SearchBackend (Qdrant)
        self.answer_model = answer_model  # None: the shipped model, loaded once per process
        self.retrieval_config = retrieval
        self.answer_config = answer
        self.index_dir = Path(index_dir) if index_dir else None
        self.save_updates = self.index_dir is not None  # whether add() and delete() write the index folder
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT  # seconds an update waits for another writer of the folder
        self._lock = threading.Lock()  # serialises index updates; reads use whichever index is current
        self._use(index)

    def _use(self, index: CorpusIndex) -> None:
        if any(index.analysis.versions.get(a.name) != a.version for a in ANALYSERS):
            # Built without the engine's analysers (by index.build directly): analyse it once, here.
            index = replace(index, analysis=complete(index.analysis, list(index.documents.values()), ANALYSERS),
                            analysers=ANALYSERS)
        self._index = index
        self._retriever = Retriever(index, self.embedder, self.retrieval_config) if self.backend is None else \
            BackendRetriever(index, self.embedder, self.retrieval_config, self.backend)
        self._scorer: SentenceScorer | None = None
        self._facts: list[CommissioningFact] | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def default(cls, *, embedder: Embedder | None = None, cache_dir: str | Path | None = None, **options) -> "Engine":
        """An engine over the shipped default corpus; its index is built on first use and cached."""
        embedder = embedder or SentenceTransformerEmbedder()
        files = sorted(DEFAULT_CORPUS.glob("*.txt"))
        folder = Path(cache_dir or cache_root()) / f"default-{_fingerprint(files, embedder, IndexConfig())}"
        engine = None
        if (folder / "manifest.json").is_file():
            try:
                engine = cls.load(folder, embedder=embedder, **options)
            except IndexCorruptError:
                pass  # a damaged cache is rebuilt, never trusted
        engine = engine or cls.build(files, folder, embedder=embedder, **options)
        engine.save_updates = False  # documents added later stay in memory: the cache holds the shipped corpus
        return engine

    @classmethod
    def build(cls, paths: Iterable[str | Path], index_dir: str | Path | None, *, embedder: Embedder | None = None,
              config: IndexConfig = IndexConfig(), progress: bool | None = None, **options) -> "Engine":
        """Ingest `paths` (pages, JSONL files or folders), index them, and save to `index_dir` if given."""
        documents = load_documents(paths)
        embedder = embedder or SentenceTransformerEmbedder()
        index = build_index(documents, embedder, config, progress=progress, analysers=ANALYSERS)
        if index_dir is not None:
            with writer_lock(index_dir):
                save_index(index, index_dir)
        return cls(index, embedder, index_dir=index_dir, **options)

    @classmethod
    def from_documents(cls, documents: Sequence[Document], *, embedder: Embedder | None = None,
                       config: IndexConfig = IndexConfig(), progress: bool | None = None, **options) -> "Engine":
        """An in-memory engine over documents you already have (nothing is saved)."""
        embedder = embedder or SentenceTransformerEmbedder()
        return cls(build_index(documents, embedder, config, progress=progress, analysers=ANALYSERS), embedder,
                   **options)

    @classmethod
    def load(cls, index_dir: str | Path, *, embedder: Embedder | None = None, qdrant_url: str | None = None,
             qdrant_path: str | Path | None = None, **options) -> "Engine":
        """Open a saved index, checking its files and that it was built with this embedder's model; with
        `qdrant_url` (a server) or `qdrant_path` (local mode), searches run in Qdrant, filled from the index."""
        index = load_index(index_dir, analysers=ANALYSERS)  # a missing or corrupt index fails before any model loads
        embedder = embedder or SentenceTransformerEmbedder()
        check_compatible(index.meta(), {"model": embedder.name, "dimension": embedder.dimension})
        if qdrant_url or qdrant_path:
            options["backend"] = QdrantChoice(url=qdrant_url, path=qdrant_path)
        return cls(index, embedder, index_dir=index_dir, **options)

    def configured(self, *, retrieval: RetrievalConfig | None = None,
                   answer: AnswerConfig | None = None) -> "Engine":
        """Another engine over the same index and model with other retrieval or answer settings (no re-embedding)."""
        engine = Engine(self._index, self.embedder, retrieval=retrieval or self.retrieval_config,
                        answer=answer or self.answer_config, index_dir=self.index_dir,
                        answer_model=self.answer_model, backend=self.backend, threads=self.threads)
        engine.save_updates = self.save_updates
        return engine

    # -- the corpus ---------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        """The indexed documents, in the order they were added."""
        return list(self._index.documents.values())

    def document(self, doc_id: str) -> Document:
        try:
            return self._index.documents[doc_id]
        except KeyError:
            raise InputError(f"no document with id {doc_id!r} in this index") from None

    def passages(self) -> list[Passage]:
        """Every indexed passage, in index order, with its provenance and offsets."""
        return list(self._index.passages)

    def info(self) -> dict:
        """What the index holds and how it was built."""
        return {**self._index.meta(), "index_dir": str(self.index_dir) if self.index_dir else None,
                "retrieval": vars(self.retrieval_config).copy()}

    def add(self, paths: Iterable[str | Path], progress: bool | None = None, *, replace: bool = False) -> list[Document]:
        """Ingest and index more pages or JSONL files without rebuilding: only they are embedded and analysed.
        A document whose id is already indexed is an InputError, unless `replace`: then it replaces that one.
        Saved to index_dir when the engine was built or loaded from one (the default corpus's cache is never
        changed), under the folder's writer lock (see `delete`)."""
        documents = load_documents(paths)
        index = self._index
        # The costly part (embedding, analysis) needs nothing of the index but its settings: done unlocked.
        batch = prepare_batch(documents, self.embedder, index.config, index.analysers, progress)
        self._update(lambda current: merge_batch(current, batch, replace=replace))
        return documents

    def delete(self, doc_ids: Sequence[str]) -> list[str]:
        """Remove documents (with their comments) by id, without re-embedding or re-analysing the others;
        returns the ids removed. An unknown id is an InputError and nothing is removed.

        Saved like `add`: one writer at a time per index folder (an flock on its .lock file). A writer that
        finds the folder saved by another since it was loaded builds on that newer index, so no document
        is lost; one kept waiting more than `lock_timeout` seconds raises IndexBusyError."""
        if isinstance(doc_ids, str):
            doc_ids = [doc_ids]
        doc_ids = list(doc_ids)
        self._update(lambda current: delete_documents(current, doc_ids))
        return doc_ids

    def _update(self, change) -> None:
        """Apply `change` (index -> new index) to the current index, saving it when this engine saves."""
        with self._lock:
            if not self.save_updates:
                self._use(change(self._index))
                return
            with writer_lock(self.index_dir, self.lock_timeout):
                current = self._index
                if current_generation(self.index_dir) != current.generation:
                    current = load_index(self.index_dir, analysers=ANALYSERS)  # another writer saved since we read
                    check_compatible(current.meta(), {"model": self.embedder.name,
                                                      "dimension": self.embedder.dimension})
                updated = change(current)
                save_index(updated, self.index_dir)
            self._use(updated)

    # -- questions ----------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, *, kind: str = "both", doc_ids: Sequence[str] | None = None,
               mode: str | None = None) -> list[Hit]:
        """The k best passages for `query`, best first; kind is "both", "article" or "comment"."""
        with query_threads(self.threads):
            return self._retriever.search(check_question(query), k, kind=kind, doc_ids=doc_ids, mode=mode)

    def ask(self, question: str, *, k: int = 5, kind: str = "both", doc_ids: Sequence[str] | None = None,
            mode: str | None = None) -> Answer:
        """A cited, extractive answer, or an abstention listing the nearest passages.

        The answer model reads the question with each candidate sentence; `Answer.confidence` is the
        calibrated probability that the best one answers it, and below the threshold `ask` abstains.
        """
        with query_threads(self.threads):
            return self._ask(question, k=k, kind=kind, doc_ids=doc_ids, mode=mode)

    def _ask(self, question: str, *, k: int, kind: str, doc_ids: Sequence[str] | None, mode: str | None) -> Answer:
        question = check_question(question)
        check_k(k)
        check_choice("kind", kind, KIND_FILTERS)
        retriever, config = self._retriever, self._answer_settings()
        opinion = question_intent(question) == OPINION
        wanted = prefer = _side_asked(kind, opinion)
        vector = retriever.query_vector(question)
        candidates, facts = self._candidates(question, vector, prefer, kind, doc_ids, mode)
        calibration = self._answer_model().calibration
        candidates, reported_elsewhere = _about_the_asked_place(question, candidates, calibration, config)
        if wanted == COMMENT and opinion:
            candidates = readers_views(candidates)
        strength = {side: calibration.confidence(max((c.score for c in candidates if c.hit.kind == side), default=0.0))
                    for side in ((ARTICLE, COMMENT) if kind == "both" else (kind,))}
        if strength[prefer] < config.min_confidence:
            # The preferred side has no answer: the other may (a comment is still labelled as a
            # reader's view; an opinion quoted in reporting is attributed to its speaker).
            prefer = max(strength, key=strength.get)
        # One side answers: a comment never stands in for reporting, and reporting does not dilute
        # what readers said (the side that did not answer is still in `nearest`).
        chosen = [c for c in choose_sentences(candidates, prefer, config) if c.hit.kind == prefer]
        nearest = rank_passages(retriever.search(question, k, kind=kind, doc_ids=doc_ids, mode=mode, vector=vector),
                                candidates)
        answer = compose(question, chosen, max(strength.values()), nearest, config, self._speaker, wanted=wanted,
                         elsewhere=reported_elsewhere)
        cited = {(c.doc_id, c.sentence_start, c.sentence_end) for c in answer.citations}
        used = tuple(f for f in facts if (f.doc_id, f.sentence_start, f.sentence_end) in cited)
        return replace(answer, facts=used) if used else answer

    def scored_sentences(self, question: str, *, kind: str = "both", doc_ids: Sequence[str] | None = None,
                         mode: str | None = None) -> list[Candidate]:
        """The sentences `ask` chooses from, best first, each with its probability of answering (`score`)
        and the features the answer model computed it from: to see why an answer was given, or to fit the
        calibration (`python -m training.calibrate_answers`)."""
        question = check_question(question)
        check_choice("kind", kind, KIND_FILTERS)
        with query_threads(self.threads):
            vector = self._retriever.query_vector(question)
            side = _side_asked(kind, question_intent(question) == OPINION)
            return self._candidates(question, vector, side, kind, doc_ids, mode)[0]

    def _candidates(self, question: str, vector, prefer: str, kind: str, doc_ids: Sequence[str] | None,
                    mode: str | None) -> tuple[list[Candidate], list[CommissioningFact]]:
        """Sentences from the preferred side's top passages, a few of the other side's, and the sentences
        of matching commissioning facts, scored by the answer model (best first)."""
        retriever, pool = self._retriever, self.answer_config.passages
        hits = retriever.search(question, pool, kind=prefer, doc_ids=doc_ids, mode=mode, vector=vector)
        if kind == "both":
            other = ARTICLE if prefer == COMMENT else COMMENT
            hits += retriever.search(question, max(2, pool // 2), kind=other, doc_ids=doc_ids, mode=mode,
                                     vector=vector)
        facts = matching_facts(question, self._commissioning_facts()) if prefer == ARTICLE else []
        if doc_ids is not None:
            facts = [f for f in facts if f.doc_id in doc_ids]
        hits += [retriever.passage_hit(passage_id) for passage_id in self._fact_passages(facts, hits)]
        listed = [self._with_speaker(c) for c in self._sentence_scorer().candidates(question, vector[0], hits)]
        fact_spans = {(f.doc_id, f.sentence_start, f.sentence_end) for f in facts}
        return rescore(self._answer_model(), question, listed, self.answer_config.rescored, fact_spans), facts

    def commissioning(self, body: str | None = None, place: str | None = None,
                      covers: str | None = None) -> list[CommissioningFact]:
        """Who commissions what: the facts stated in the articles (never comments), each with its sentence."""
        return filter_facts(self._commissioning_facts(), body=body, place=place, covers=covers)

    def chat(self, **options):
        """A conversation whose follow-up questions are resolved against earlier turns."""
        from qa.chat import ChatSession

        return ChatSession(self, **options)

    # -- helpers ------------------------------------------------------------------------------

    def _sentence_scorer(self) -> SentenceScorer:
        if self._scorer is None:
            self._scorer = SentenceScorer(self._index, self._index.analysis.idf())  # counted when indexed
        return self._scorer

    def _answer_model(self) -> AnswerModel:
        return self.answer_model or AnswerModel.shared()

    def _answer_settings(self) -> AnswerConfig:
        """The answer settings with the threshold filled in: the model's calibrated one unless set."""
        if self.answer_config.min_confidence is not None:
            return self.answer_config
        return replace(self.answer_config, min_confidence=self._answer_model().calibration.threshold)

    def _commissioning_facts(self) -> list[CommissioningFact]:
        if self._facts is None:
            self._facts = commissioning_facts(self._index)  # extracted when each document was indexed
        return self._facts

    def _fact_passages(self, facts: Sequence[CommissioningFact], hits: Sequence[Hit]) -> list[str]:
        """Ids of passages holding the facts' sentences that are not among `hits` already."""
        have = {h.passage_id for h in hits}
        wanted = []
        for fact in facts:
            passage = self._index.article_passage(fact.doc_id, fact.sentence_start, fact.sentence_end)
            if passage and passage.id not in have:
                have.add(passage.id)
                wanted.append(passage.id)
        return wanted

    def _with_speaker(self, candidate: Candidate) -> Candidate:
        """A quoted article sentence that does not name its speaker carries the name, so "what did Dr Hughes
        say ..." finds the second sentence of his quote as well as the first."""
        if candidate.hit.kind != ARTICLE:
            return candidate
        quote = self._speaker(candidate.hit.doc_id, candidate.start, candidate.end)
        if quote is None or quote.speaker.split()[-1].lower() in candidate.text.lower():
            return candidate
        return replace(candidate, said_by=quote.speaker)

    def _speaker(self, doc_id: str, start: int, end: int) -> Quote | None:
        """The quote spoken in [start, end) of an article, when the text says who speaks."""
        return speaker_of(self._index.quotes(doc_id), start, end)  # found when the document was indexed


def _side_asked(kind: str, opinion: bool) -> str:
    """"comment" for an opinion question (or when only comments are searched), else "article"."""
    return kind if kind != "both" else (COMMENT if opinion else ARTICLE)


def _about_the_asked_place(question: str, candidates: list[Candidate], calibration, config: AnswerConfig
                           ) -> tuple[list[Candidate], tuple[str, ...]]:
    """The candidates that do not speak of another place than the question asks about, and the places that
    sentences strong enough to answer spoke of instead (so an abstention can say where it is reported)."""
    asked = asked_places(question)
    if not asked:
        return candidates, ()
    kept, instead = [], []
    for candidate in candidates:
        other = elsewhere(candidate.text, asked)
        if not other:
            kept.append(candidate)
        elif calibration.confidence(candidate.score) >= config.min_confidence:
            instead += [place for place in sorted(other) if place not in instead]
    return kept, tuple(instead)


def _fingerprint(files: Sequence[Path], embedder: Embedder, config: IndexConfig) -> str:
    settings = f"{FORMAT_VERSION}|{INDEX_RECIPE}|{embedder.name}|{config}"
    digest = hashlib.sha256(settings.encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
