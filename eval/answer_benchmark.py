"""Does `ask` answer what it can and abstain on near misses, on articles it was never tuned on?

    python -m eval.answer_benchmark [--set squad-dev --set covid-report] [--questions 300] [--report DIR]

Sets (each a corpus of whole articles, some edited, and questions over it):
- `squad-dev`: SQuAD v1 articles of the `dev` split (never trained or calibrated on);
- `squad-calibration`, `covid-calibration`: the `calibration` split and half of COVID-QA's articles, where
  `python -m training.calibrate_answers` fits the maps (never trained on, never reported);
- `covid-report`: the other half of COVID-QA;
- `plain`, `pulse`: the question sets about the default corpus (`eval/data/plain_questions.jsonl`, written
  before any tuning, and the shipped set); neither is tuned or calibrated on;
- `news-dev`: development questions about the default corpus (`eval/data/news_dev.jsonl`), the one news set
  that may be tuned on; its figures say how well tuning went, not how well it carries over.
Near misses are made as SQuAD 2.0's writers did: the answering sentence removed from the article
("sentence removed"), or the question changed so the article no longer answers it (a swapped name or number,
an opposite, a negation; `eval.near_misses`). An answer is *supported* when its first citation's sentence
holds the gold answer.

Prints, per set: AUROC of `Answer.confidence` (answerable vs near miss, and per kind of near miss); at the
shipped threshold, the share of answerable questions answered and of near misses abstained; the share
answered with the right sentence; search hit@5 / MRR@10; a reliability table and its calibration error.
Uses only the public `qa` API, so the same script measures any version of the library side by side.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from eval.metrics import auroc, containment, hit_at_k, percentile, reciprocal_rank, reliability
from eval.near_misses import names, near_miss
from eval.sets import DATA_DIR, PULSE_QUESTIONS, is_relevant, load_jsonl, locate_answer
from eval.squad_splits import heldout_articles
from qa import Engine, IndexCorruptError, split_sentences

COVID_QA = Path(__file__).resolve().parent / "data" / "covid-qa" / "covid-qa.json"
SETS = ("squad-dev", "covid-report", "plain", "pulse", "news-dev", "squad-calibration", "covid-calibration")
CORPUS_SETS = {"plain": DATA_DIR / "plain_questions.jsonl", "pulse": PULSE_QUESTIONS,  # about the default corpus
               "news-dev": DATA_DIR / "news_dev.jsonl"}
CACHE = Path(tempfile.gettempdir()) / "qa-answer-benchmark"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    doc_id: str
    gold: tuple[int, int] | None  # answer span in the document's text; None: a near miss
    kind: str  # "answerable", "sentence removed", "swap", "opposite", "negate"


def build_set(name: str, questions: int, seed: int = 7) -> tuple[list[dict], list[Question]]:
    """The corpus (JSONL records) and questions of one set."""
    rng = random.Random(f"{name}-{seed}")
    if name.startswith("squad"):
        articles = heldout_articles(name.split("-", 1)[1])
        rng.shuffle(articles)
        articles = articles[:16]
        sources = [(a["title"], a["title"], [(p["context"], p["qas"]) for p in a["paragraphs"]]) for a in articles]
    else:
        data = json.loads(COVID_QA.read_text(encoding="utf-8"))["data"]
        half = "calibration" if name.endswith("calibration") else "report"
        sources = []
        for article in data:
            for paragraph in article["paragraphs"]:
                doc_id = str(paragraph["document_id"])
                in_calibration = int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 2 == 0
                if in_calibration == (half == "calibration"):
                    title = next((line.strip() for line in paragraph["context"].splitlines() if line.strip()), doc_id)
                    sources.append((doc_id, title[:200], [(paragraph["context"], paragraph["qas"])]))
        rng.shuffle(sources)
        sources = sources[:40]  # about a million characters: enough questions, minutes to index on 2 cores
    return _corpus_and_questions(sources, questions, rng)


def _corpus_and_questions(sources, questions: int, rng: random.Random) -> tuple[list[dict], list[Question]]:
    records, units = [], []
    for doc_id, title, paragraphs in sources:
        for number, (context, qas) in enumerate(paragraphs):
            for qa in qas:
                answer = qa["answers"][0]
                span = locate_answer(context, answer["text"], answer["answer_start"])
                if span is not None:
                    units.append((doc_id, number, qa["question"].strip(), *span))
    rng.shuffle(units)
    # Half the questions stay answerable, a quarter lose their sentence, a quarter become near misses.
    questions = min(questions, len(units) // 2)
    plan = units[:questions + questions // 2 + questions // 2]
    removed: dict[tuple[str, int], tuple[int, int]] = {}  # (doc, paragraph) -> the sentence taken out
    for doc_id, number, _, start, end in plan[questions:questions + questions // 2]:
        if (doc_id, number) not in removed:
            context = dict((d, p) for d, _, p in sources)[doc_id][number][0]
            sentence = next(((s, e) for s, e in split_sentences(context) if s <= start and end <= e), None)
            if sentence:
                removed[(doc_id, number)] = sentence
    items: list[Question] = []
    for doc_id, title, paragraphs in sources:
        pool = sorted({n for context, _ in paragraphs for n in names(context)})
        text, offsets = "", []
        for number, (context, _) in enumerate(paragraphs):
            cut = removed.get((doc_id, number))
            kept = context if not cut else context[:cut[0]] + context[cut[1]:]
            offsets.append((len(text) + (0 if not text else 2), cut))
            text += ("\n\n" if text else "") + kept
        records.append({"id": _slug(doc_id), "title": title, "text": text})
        for position, (d, number, question, start, end) in enumerate(plan):
            if d != doc_id:
                continue
            base, cut = offsets[number]
            qid = f"{_slug(doc_id)}-{position}"
            if cut and cut[0] <= start and end <= cut[1]:
                if questions <= position < questions + questions // 2:
                    items.append(Question(qid, question, _slug(doc_id), None, "sentence removed"))
                continue  # its answer went with the sentence
            shift = cut[1] - cut[0] if cut and cut[1] <= start else 0
            span = (base + start - shift, base + end - shift)
            if position < questions:
                items.append(Question(qid, question, _slug(doc_id), span, "answerable"))
            elif position >= questions + questions // 2:
                changed = near_miss(question, pool, text, rng)
                if changed:
                    items.append(Question(qid, changed[0], _slug(doc_id), None, changed[1]))
    return records, items


def _slug(doc_id: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in doc_id)[:80]


def open_engine(name: str, records: list[dict]) -> Engine:
    """An engine over the set's corpus, built once and cached by the corpus's content."""
    payload = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    key = f"{name}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"
    for generation in range(1, 10):  # another version of the library may have cached it in a format this one refuses
        folder = CACHE / (key if generation == 1 else f"{key}-{generation}")
        if not (folder / "manifest.json").is_file():
            break
        try:
            return Engine.load(folder)
        except IndexCorruptError:
            continue
    folder.parent.mkdir(parents=True, exist_ok=True)
    source = CACHE / f"{key}.jsonl"
    source.write_text(payload + "\n", encoding="utf-8")
    return Engine.build([source], folder, progress=False)


def run_set(engine: Engine, items: list[Question]) -> list[dict]:
    rows = []
    for item in items:
        started = time.perf_counter()
        answer = engine.ask(item.question)
        ask_ms = (time.perf_counter() - started) * 1000
        first = answer.citations[0] if answer.citations else None
        supported = bool(item.gold and first and first.doc_id == item.doc_id
                         and first.sentence_start <= item.gold[0] < first.sentence_end)
        row = {"id": item.id, "kind": item.kind, "question": item.question, "confidence": answer.confidence,
               "abstained": answer.abstained, "supported": supported, "ask_ms": ask_ms}
        if item.gold:
            hits = engine.search(item.question, k=10)
            relevance = [h.doc_id == item.doc_id and h.start <= item.gold[0] < h.end for h in hits]
            row.update({"hit@5": hit_at_k(relevance, 5), "mrr@10": reciprocal_rank(relevance, 10)})
        rows.append(row)
    return rows


def summary(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["kind"] == "answerable"]
    misses = [r for r in rows if r["kind"] != "answerable"]
    result = {"answerable": len(answerable), "near misses": len(misses),
              "AUROC all near misses": auroc([r["confidence"] for r in rows], [r["kind"] == "answerable" for r in rows])}
    for kind in sorted({r["kind"] for r in misses}):
        keep = answerable + [r for r in misses if r["kind"] == kind]
        result[f"AUROC {kind} ({len(keep) - len(answerable)})"] = auroc(
            [r["confidence"] for r in keep], [r["kind"] == "answerable" for r in keep])
    result["answerable answered"] = statistics.mean(not r["abstained"] for r in answerable)
    result["near misses abstained"] = statistics.mean(r["abstained"] for r in misses)
    result["answered with the right sentence"] = statistics.mean(r["supported"] and not r["abstained"]
                                                                for r in answerable)
    result["search hit@5"] = statistics.mean(r["hit@5"] for r in answerable)
    result["search MRR@10"] = statistics.mean(r["mrr@10"] for r in answerable)
    table, ece = reliability([r["confidence"] for r in rows], [r["supported"] for r in rows])
    result["calibration error (ECE)"] = ece
    result["reliability"] = table
    result["ask p50 / p95 ms"] = (percentile([r["ask_ms"] for r in rows], 50), percentile([r["ask_ms"] for r in rows], 95))
    return result


def run_corpus_set(engine: Engine, path: Path) -> dict:
    """A question set about the default corpus: answerable questions answered with a relevant passage cited
    in the top 3, unanswerable ones abstained; follow-ups asked in a conversation."""
    items = load_jsonl(path)
    rows = []
    for item in items:
        chat = engine.chat()
        for earlier in item.history:
            chat.ask(earlier)
        started = time.perf_counter()
        answer = chat.ask(item.question)
        ask_ms = (time.perf_counter() - started) * 1000
        cited = [is_relevant(item, c.text, c.doc_id, c.start, c.end) for c in answer.citations]
        rows.append({"id": item.id, "kind": item.kind, "answerable": item.answerable, "abstained": answer.abstained,
                     "cited top 3": (not answer.abstained) and any(cited[:3]),
                     "citation precision": sum(cited) / len(cited) if cited else None,
                     "contains": (not answer.abstained) and containment(answer.text, item.answers)
                     if item.answers else None, "confidence": answer.confidence, "ask_ms": ask_ms})
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    result = {"answerable": len(answerable), "unanswerable": len(unanswerable),
              "relevant passage cited in the top 3": statistics.mean(r["cited top 3"] for r in answerable),
              "answer contains the expected answer": statistics.mean(r["contains"] for r in answerable
                                                                     if r["contains"] is not None),
              "citation precision (answered)": statistics.mean(r["citation precision"] for r in answerable
                                                               if r["citation precision"] is not None),
              "answerable answered": statistics.mean(not r["abstained"] for r in answerable)}
    if unanswerable:
        result["unanswerable abstained"] = statistics.mean(r["abstained"] for r in unanswerable)
        result["AUROC answerable vs unanswerable"] = auroc([r["confidence"] for r in rows],
                                                           [r["answerable"] for r in rows])
    for kind in sorted({r["kind"] for r in answerable}):
        of_kind = [r for r in answerable if r["kind"] == kind]
        result[f"{kind}: cited in the top 3 ({len(of_kind)})"] = statistics.mean(r["cited top 3"] for r in of_kind)
    result["ask p50 / p95 ms"] = (percentile([r["ask_ms"] for r in rows], 50), percentile([r["ask_ms"] for r in rows], 95))
    return {"summary": result, "rows": rows}


def _print(name: str, result: dict) -> None:
    misses = result.get("near misses", result.get("unanswerable", 0))
    print(f"\n== {name}: {result['answerable']} answerable, {misses} near misses or unanswerable")
    for key, value in result.items():
        if key in ("answerable", "near misses", "unanswerable", "reliability"):
            continue
        shown = " / ".join(f"{v:.1f}" for v in value) if isinstance(value, tuple) else f"{value:.3f}"
        print(f"  {key:<40} {shown}")
    if "reliability" not in result:
        return
    print("  reliability: bin, count, predicted, observed")
    for row in result["reliability"]:
        print(f"    {row['bin']}  {row['count']:4d}  {row['predicted']:.3f}  {row['observed']:.3f}")


def _save(folder: str | None, name: str, outcome: dict) -> None:
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.json").write_text(json.dumps(outcome, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", choices=SETS, help="sets to run (default: squad-dev, covid-report, plain, pulse)")
    parser.add_argument("--questions", type=int, default=300, help="answerable questions per set (near misses: as many)")
    parser.add_argument("--report", metavar="DIR", help="write every row and summary as JSON here")
    args = parser.parse_args(argv)
    names_ = args.set or ["squad-dev", "covid-report", "plain", "pulse"]
    results = {}
    for name in names_:
        if name in CORPUS_SETS:
            outcome = run_corpus_set(Engine.default(), CORPUS_SETS[name])
            results[name] = outcome["summary"]
            _print(name, results[name])
            _save(args.report, name, outcome)
            continue
        records, items = build_set(name, args.questions)
        rows = run_set(open_engine(name, records), items)
        results[name] = summary(rows)
        _print(name, results[name])
        _save(args.report, name, {"summary": results[name], "rows": rows})


if __name__ == "__main__":
    main()
