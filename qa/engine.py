"""The public entry point: an Engine over one index answers `search`, `ask`, `chat` and `commissioning`."""
from __future__ import annotations

import hashlib
import os
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
from index.corpus import DEFAULT_CORPUS
from index.embed import Embedder, SentenceTransformerEmbedder
from index.ingest import load_documents
from index.records import Document
from index.store import DEFAULT_LOCK_TIMEOUT, FORMAT_VERSION, check_compatible, current_generation, writer_lock
from qa.analysis import ANALYSERS
from qa.answer import AnswerConfig, Candidate
from qa.answer_model import AnswerModel
from qa.backend_retrieve import BackendRetriever, QdrantChoice
from qa.commissioning import CommissioningFact, filter_facts
from qa.date_range import DocumentDates
from qa.errors import IndexCorruptError, InputError
from qa.pipeline import AnswerPipeline, side_asked
from qa.question import analyse, check_question
from qa.retrieve import KIND_FILTERS, RetrievalConfig, Retriever, check_choice, check_k
from qa.threads import QUERY_THREADS, query_threads
from qa.types import Answer, Hit, Passage


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
                 answer_model: AnswerModel | None = None, backend=None, threads: int | None = QUERY_THREADS,
                 save_updates: bool | None = None):
        self.embedder = embedder
        self.threads = threads  # BLAS threads a question may use (see qa.threads); None: the libraries' default
        self.backend = backend  # None: FAISS + BM25 in this process; else an index.backends.SearchBackend (Qdrant)
        self.answer_model = answer_model  # None: the shipped model, loaded once per process
        self.retrieval_config = retrieval
        self.answer_config = answer
        self.index_dir = Path(index_dir) if index_dir else None
        # Whether add() and delete() write the index folder (by default: when there is one).
        self.save_updates = self.index_dir is not None if save_updates is None else save_updates
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT  # seconds an update waits for another writer of the folder
        self._lock = threading.Lock()  # serialises index updates; reads use whichever index is current
        self._use(index)

    def _use(self, index: CorpusIndex) -> None:
        if any(index.analysis.versions.get(a.name) != a.version for a in ANALYSERS):
            # Built without the engine's analysers (by index.build directly): analyse it once, here.
            index = replace(index, analysis=complete(index.analysis, index.documents, ANALYSERS),
                            analysers=ANALYSERS)
        self._index = index
        self._retriever = Retriever(index, self.embedder, self.retrieval_config) if self.backend is None else \
            BackendRetriever(index, self.embedder, self.retrieval_config, self.backend)
        self._pipeline = AnswerPipeline(index, self._retriever, self.answer_config, self.answer_model)
        self._dates = DocumentDates(index.documents)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def default(cls, *, embedder: Embedder | None = None, cache_dir: str | Path | None = None, **options) -> "Engine":
        """An engine over the shipped default corpus; its index is built on first use and cached."""
        embedder = embedder or SentenceTransformerEmbedder()
        options["save_updates"] = False  # documents added later stay in memory: the cache holds the shipped corpus
        files = sorted(DEFAULT_CORPUS.glob("*.txt"))
        folder = Path(cache_dir or cache_root()) / f"default-{_fingerprint(files, embedder, IndexConfig())}"
        engine = None
        if (folder / "manifest.json").is_file():
            try:
                engine = cls.load(folder, embedder=embedder, **options)
            except IndexCorruptError:
                pass  # a damaged cache is rebuilt, never trusted
        return engine or cls.build(files, folder, embedder=embedder, **options)

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
        return Engine(self._index, self.embedder, retrieval=retrieval or self.retrieval_config,
                      answer=answer or self.answer_config, index_dir=self.index_dir, answer_model=self.answer_model,
                      backend=self.backend, threads=self.threads, save_updates=self.save_updates)

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
               mode: str | None = None, since: str | None = None, until: str | None = None) -> list[Hit]:
        """The k best passages for `query`, best first; kind is "both", "article" or "comment"; `since` and
        `until` (YYYY-MM-DD, inclusive) keep documents dated in that range, with their comments."""
        query = check_question(query)
        doc_ids = self._dates.scope(doc_ids, since, until)
        with query_threads(self.threads):
            return self._retriever.search(query, k, kind=kind, doc_ids=doc_ids, mode=mode)

    def ask(self, question: str, *, k: int = 5, kind: str = "both", doc_ids: Sequence[str] | None = None,
            mode: str | None = None, since: str | None = None, until: str | None = None) -> Answer:
        """A cited, extractive answer, or an abstention listing the nearest passages.

        The answer model reads the question with each candidate sentence; `Answer.confidence` is the
        calibrated probability that the best one answers it, and below the threshold `ask` abstains.
        Filters as for `search`.
        """
        asked = analyse(question)
        check_k(k)
        check_choice("kind", kind, KIND_FILTERS)
        doc_ids = self._dates.scope(doc_ids, since, until)
        with query_threads(self.threads):
            return self._pipeline.ask(asked, k, kind, doc_ids, mode)

    def scored_sentences(self, question: str, *, kind: str = "both", doc_ids: Sequence[str] | None = None,
                         mode: str | None = None, since: str | None = None,
                         until: str | None = None) -> list[Candidate]:
        """The sentences `ask` chooses from, best first, each with its probability of answering (`score`)
        and the features the answer model computed it from: to see why an answer was given, or to fit the
        calibration (`python -m training.calibrate_answers`)."""
        asked = analyse(question)
        check_choice("kind", kind, KIND_FILTERS)
        doc_ids = self._dates.scope(doc_ids, since, until)
        with query_threads(self.threads):
            vector = self._retriever.query_vector(asked.text)
            return self._pipeline.candidates(asked, vector, side_asked(kind, asked.opinion), kind, doc_ids, mode)[0]

    def commissioning(self, body: str | None = None, place: str | None = None,
                      covers: str | None = None) -> list[CommissioningFact]:
        """Who commissions what: the facts stated in the articles (never comments), each with its sentence."""
        return filter_facts(self._pipeline.facts(), body=body, place=place, covers=covers)

    def chat(self, **options):
        """A conversation whose follow-up questions are resolved against earlier turns."""
        from qa.chat import ChatSession

        return ChatSession(self, **options)


def _fingerprint(files: Sequence[Path], embedder: Embedder, config: IndexConfig) -> str:
    settings = f"{FORMAT_VERSION}|{INDEX_RECIPE}|{embedder.name}|{config}"
    digest = hashlib.sha256(settings.encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
