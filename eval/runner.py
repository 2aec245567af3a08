"""The eval runner: every question of a set, in each retrieval mode, through `Engine.search` and `Engine.ask`.

One engine holds the index; each mode is a `configured` view of it, so modes run side by side without
re-embedding. Each question and mode gives one row: ranking metrics of the top 10 passages, the answer's
containment, citation precision and citation kinds, whether it abstained, and the latency of both calls.
"""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval import metrics
from eval.sets import EvalItem, is_relevant, load_jsonl, load_squad
from qa import MODES, ChunkConfig, Engine, IndexConfig, InputError, library_versions
from qa.types import COMMENT, Hit

DEFAULT_KS = (1, 3, 5, 10)
DEPTH = 10  # passages ranked per question; MRR and nDCG are @10
RANKED_KEPT = 5  # retrieved passages kept in each row, to show what came back instead
# SQuAD contexts are indexed as ~200-word passages scored by ~80-word windows, as in fusion_benchmark.
# ~200-word passages, the size public baselines are quoted at; pooled sentence vectors index long
# articles ~1.8x faster (see IndexConfig).
SQUAD_INDEX = IndexConfig(chunk=ChunkConfig(passage_words=200, window_words=80, overlap_sentences=1),
                          sentence_vectors="pooled")
VERSIONED = ("nhs-commissioning-qa", "numpy", "faiss-cpu", "torch", "sentence-transformers", "bm25s")


@dataclass(frozen=True)
class Run:
    """The rows of one evaluation (one per question and mode), their summary, and what it ran with."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]  # {"questions": n, "modes": {mode: {"overall": {...}, "by_kind": {...}}}}
    config: dict[str, Any]
    versions: dict[str, str | None]


def open_set(path: str | Path, *, index_dir: str | Path | None = None, embedder=None,
             progress: bool | None = None) -> tuple[Engine, list[EvalItem], str]:
    """The engine to evaluate, the items and the set's format ("jsonl" or "squad").

    A `.jsonl` question set runs against `index_dir`, else the default corpus; a `.json` SQuAD file
    is indexed in memory from its own contexts. The set is read before any model loads, so a bad
    file fails fast with its line number.
    """
    path = Path(path)
    if path.suffix == ".jsonl":
        items = load_jsonl(path)
        if index_dir is not None:
            return Engine.load(index_dir, embedder=embedder), items, "jsonl"
        return Engine.default(embedder=embedder), items, "jsonl"
    if path.suffix == ".json":
        if index_dir is not None:
            raise InputError("--index applies to JSONL question sets; a SQuAD set is indexed from its own contexts")
        documents, items = load_squad(path)
        engine = Engine.from_documents(documents, embedder=embedder, config=SQUAD_INDEX, progress=progress)
        return engine, items, "squad"
    raise InputError(f"the set must be a .jsonl question set or a .json SQuAD file, got {path.name!r}")


def evaluate(engine: Engine, items: Sequence[EvalItem], modes: Sequence[str] = ("hybrid",),
             ks: Sequence[int] = DEFAULT_KS, *, progress: bool | None = None,
             about: dict[str, Any] | None = None) -> Run:
    """Run every item in every mode over one engine and summarise the rows per mode, overall and per kind.

    `about` (the set's path, format, ...) is recorded in the run's config beside the index info.
    """
    ks = check_ks(ks)
    modes = check_modes(modes)
    if not items:
        raise InputError("the question set has no questions")
    views = {mode: engine.configured(retrieval=dataclasses.replace(engine.retrieval_config, mode=mode))
             for mode in modes}
    from tqdm import tqdm

    progress = sys.stderr.isatty() if progress is None else progress
    rows = []
    with tqdm(total=len(items) * len(modes), desc="evaluating", unit="q", file=sys.stderr,
              disable=not progress) as bar:
        for item in items:
            for mode, view in views.items():  # modes side by side, so load drifts hit them alike
                rows.append(evaluate_item(view, item, mode, ks))
                bar.update()
    config = {**(about or {}), "modes": list(modes), "ks": list(ks), "depth": DEPTH, "index": engine.info()}
    return Run(rows, summarise(rows, modes, ks), config, versions())


def evaluate_item(engine: Engine, item: EvalItem, mode: str, ks: Sequence[int]) -> dict[str, Any]:
    """One row: `item` asked of `engine` (already configured for `mode`), follow-ups through a chat session."""
    if item.history:
        session = engine.chat()
        for earlier in item.history:
            session.ask(earlier)
        started = time.perf_counter()
        answer = session.ask(item.question)
        ask_ms = _ms_since(started)
        searched = answer.resolved_question or item.question  # retrieval sees what chat resolved
        started = time.perf_counter()
        hits = engine.search(searched, k=DEPTH)
        search_ms = _ms_since(started)
    else:
        searched = item.question
        started = time.perf_counter()
        hits = engine.search(searched, k=DEPTH)
        search_ms = _ms_since(started)
        started = time.perf_counter()
        answer = engine.ask(item.question)
        ask_ms = _ms_since(started)
    relevance = [is_relevant(item, h.text, h.doc_id, h.start, h.end) for h in hits]
    cited = [is_relevant(item, c.text, c.doc_id, c.start, c.end) for c in answer.citations]
    row: dict[str, Any] = {
        "id": item.id, "mode": mode, "kind": item.kind, "question": item.question,
        "history": list(item.history), "searched": searched, "answerable": item.answerable,
    }
    row.update(_ranking(item, relevance, hits, ks))
    row.update(_answer_metrics(item, answer, cited))
    row.update({"search_ms": search_ms, "ask_ms": ask_ms})
    row["answer"] = answer.text
    row["citations"] = [{"n": c.n, "kind": c.kind, "title": c.title, "passage_id": c.passage_id,
                         "relevant": flag} for c, flag in zip(answer.citations, cited)]
    row["retrieved"] = [_brief(h, flag) for h, flag in zip(hits[:RANKED_KEPT], relevance)]
    return row


def _ranking(item: EvalItem, relevance: list[bool], hits: list[Hit], ks: Sequence[int]) -> dict[str, Any]:
    """hit@k, MRR@10, nDCG@10 and (gold-span items) document-level hit@k; None for unanswerable items."""
    scored = item.answerable
    row: dict[str, Any] = {f"hit@{k}": metrics.hit_at_k(relevance, k) if scored else None for k in ks}
    row["mrr@10"] = metrics.reciprocal_rank(relevance, DEPTH) if scored else None
    # The collection's relevant passages are not enumerable through the public API, so nDCG counts the
    # relevant passages ranked: it rewards putting them first, not finding all of them.
    row["ndcg@10"] = metrics.ndcg_at_k(relevance, DEPTH) if scored else None
    gold_docs = {g.doc_id for g in item.gold}
    for k in ks:
        row[f"doc_hit@{k}"] = (metrics.hit_at_k([h.doc_id in gold_docs for h in hits], k)
                               if scored and gold_docs else None)
    row["first_relevant"] = next((rank for rank, flag in enumerate(relevance, start=1) if flag), None)
    return row


def _answer_metrics(item: EvalItem, answer, cited: list[bool]) -> dict[str, Any]:
    comments = sum(1 for c in answer.citations if c.kind == COMMENT)
    n_cited = len(answer.citations)
    contains = None
    if item.answers:  # an abstention's text lists nearest passages, which must not count as answering
        contains = not answer.abstained and metrics.containment(answer.text, item.answers)
    return {
        "answer_contains": contains,
        "citation_precision": metrics.citation_precision(cited) if item.answerable else None,
        "abstained": answer.abstained,
        "answered": (not answer.abstained) if item.answerable else None,
        "comment_share": comments / n_cited if n_cited else None,
        "reporting_share": (n_cited - comments) / n_cited if n_cited else None,
    }


def _brief(hit: Hit, relevant: bool) -> dict[str, Any]:
    return {"rank": hit.rank, "title": hit.title, "kind": hit.kind, "doc_id": hit.doc_id,
            "passage_id": hit.passage_id, "relevant": relevant, "start": " ".join(hit.text.split()[:25])}


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


# --- summaries ----------------------------------------------------------------------------


def metric_names(ks: Sequence[int]) -> list[str]:
    """The numeric per-question fields that are averaged, in display order."""
    return ([f"hit@{k}" for k in ks] + ["mrr@10", "ndcg@10"] + [f"doc_hit@{k}" for k in ks]
            + ["answer_contains", "citation_precision", "answered", "abstained",
               "comment_share", "reporting_share", "search_ms", "ask_ms"])


def summarise(rows: Sequence[dict[str, Any]], modes: Sequence[str], ks: Sequence[int]) -> dict[str, Any]:
    """Per mode: means overall and per kind, abstention precision/recall, and latency p50/p95."""
    names = metric_names(ks)
    summary: dict[str, Any] = {"questions": len({r["id"] for r in rows}), "modes": {}}
    for mode in modes:
        mine = [r for r in rows if r["mode"] == mode]
        table = metrics.summarise({"kind": r["kind"], **{n: r[n] for n in names}} for r in mine)
        quality = metrics.abstention([r["abstained"] for r in mine], [r["answerable"] for r in mine])
        table["overall"].update({"abstention_precision": quality.precision, "abstention_recall": quality.recall,
                                 "answerable": len(mine) - quality.unanswerable,
                                 "unanswerable": quality.unanswerable})
        for call in ("search_ms", "ask_ms"):
            times = [r[call] for r in mine]
            table["overall"][f"{call}_p50"] = metrics.percentile(times, 50)
            table["overall"][f"{call}_p95"] = metrics.percentile(times, 95)
        summary["modes"][mode] = table
    return summary


def check_ks(ks: Sequence[int]) -> tuple[int, ...]:
    """The cut-offs, sorted and unique; InputError unless each is a whole number from 1 to DEPTH."""
    if not ks or not all(isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= DEPTH for k in ks):
        raise InputError(f"each k must be a whole number between 1 and {DEPTH}, got {list(ks)}")
    return tuple(sorted(set(ks)))


def check_modes(modes: Sequence[str]) -> tuple[str, ...]:
    """The modes in the order given, without repeats; InputError for an unknown one."""
    allowed = sorted(MODES)  # alphabetical, as the messages have always listed them
    unknown = [m for m in modes if m not in allowed]
    if not modes or unknown:
        raise InputError(f"modes must be some of {', '.join(allowed)}, got {list(modes)}")
    return tuple(dict.fromkeys(modes))


def versions() -> dict[str, str | None]:
    """Python, the installed versions of the packages the figures depend on (None when absent), and the commit."""
    found = library_versions(VERSIONED)
    found["commit"] = _commit()
    return found


def _commit() -> str | None:
    """The checkout's commit ("-dirty" with uncommitted changes), None outside a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")
