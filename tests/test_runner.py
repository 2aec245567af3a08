"""The eval runner and `qa eval`: mechanics on the keyword embedder, a smoke eval with the real model."""
from __future__ import annotations

import argparse
import json

import pytest

from eval.cli import add_arguments
from eval.cli import run as run_cli
from eval.runner import evaluate, open_set
from eval.sets import EvalItem, load_jsonl, normalise
from qa import Engine
from qa.cli import main as qa_main
from qa.errors import InputError
from qa.types import Comment, Document
from tests.fakes import KeywordEmbedder

VOCABULARY = ["council", "commission", "care", "trust", "merger", "hospital", "budget", "pharmacy", "readers"]
DOCUMENTS = [
    Document(id="care", title="Councils to commission home care",
             text="The county council will commission home care services from April. "
                  "Its care budget rises by four million pounds next year."),
    Document(id="merger", title="Hospital trust merger approved",
             text="The trust board approved the merger of the two hospital sites. "
                  "Staff will move to the larger hospital over the summer.",
             comments=(Comment(position=1, author="A reader", text="Readers here think the merger is a mistake."),)),
    Document(id="pharmacy", title="Pharmacy contract talks",
             text="Pharmacy leaders met the commissioners about the contract. No budget was agreed."),
]
ITEMS = [
    EvalItem(id="f1", question="Who will commission home care?", evidence=("will commission home care services",),
             answers=("county council",)),
    EvalItem(id="f2", question="Which hospital sites will merge?", evidence=("merger of the two hospital sites",)),
    EvalItem(id="c1", question="What do readers think of the merger?", evidence=("the merger is a mistake",),
             kind="comment"),
    EvalItem(id="u1", question="What is the tariff for dentistry?", answerable=False, kind="unanswerable"),
]
MODES = ("lexical", "dense", "hybrid")


@pytest.fixture
def fake_engine():
    return Engine.from_documents(DOCUMENTS, embedder=KeywordEmbedder(VOCABULARY), progress=False)


def _cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qa eval")
    add_arguments(parser)
    return parser.parse_args(argv)


def test_modes_run_side_by_side_over_one_engine(fake_engine, monkeypatch):
    def no_new_engine(*args, **kwargs):
        raise AssertionError("evaluate must reuse the engine it is given, not build or load another")

    for name in ("build", "load", "default", "from_documents"):
        monkeypatch.setattr(Engine, name, no_new_engine)
    result = evaluate(fake_engine, ITEMS, MODES, progress=False)
    assert [(r["id"], r["mode"]) for r in result.rows] == [(i.id, m) for i in ITEMS for m in MODES]
    assert list(result.summary["modes"]) == list(MODES)
    for row in result.rows:  # each mode's ranking is what that mode of the engine returns
        expected = fake_engine.search(row["searched"], k=10, mode=row["mode"])
        assert [h["passage_id"] for h in row["retrieved"]] == [h.passage_id for h in expected[:5]]


def test_rows_score_relevance_answers_and_abstention(fake_engine):
    result = evaluate(fake_engine, ITEMS, ("hybrid",), ks=(1, 3), progress=False)
    rows = {r["id"]: r for r in result.rows}
    care = rows["f1"]
    ranked = fake_engine.search(ITEMS[0].question, k=10, mode="hybrid")
    first = next(h.rank for h in ranked if "will commission home care services" in h.text)
    assert care["first_relevant"] == first
    assert care["hit@3"] == (1.0 if first <= 3 else 0.0)
    assert care["mrr@10"] == pytest.approx(1.0 / first)
    assert care["doc_hit@1"] is None  # evidence items have no gold documents
    assert care["answered"] is not None and care["search_ms"] >= 0 and care["ask_ms"] > 0
    assert rows["f2"]["answer_contains"] is None  # no expected answers given
    unanswerable = rows["u1"]
    assert unanswerable["hit@1"] is None and unanswerable["answered"] is None
    assert unanswerable["citation_precision"] is None
    overall = result.summary["modes"]["hybrid"]["overall"]
    assert overall["unanswerable"] == 1
    abstained = [r["abstained"] for r in result.rows]
    assert overall["abstained"] == pytest.approx(sum(abstained) / len(abstained))
    shares = [r for r in result.rows if r["comment_share"] is not None]
    assert all(r["comment_share"] + r["reporting_share"] == pytest.approx(1.0) for r in shares)


def test_followup_is_asked_in_a_chat_and_searched_as_resolved(fake_engine):
    item = EvalItem(id="fu", question="When will it start?", history=("Who will commission home care?",),
                    evidence=("from April",), kind="followup")
    row = evaluate(fake_engine, [item], ("lexical",), progress=False).rows[0]
    session = fake_engine.chat()
    session.ask(item.history[0])
    answer = session.ask(item.question)
    assert answer.resolved_question  # the fixture's follow-up does get rewritten
    assert row["searched"] == answer.resolved_question
    assert row["answer"] == answer.text
    expected = fake_engine.search(row["searched"], k=10, mode="lexical")
    assert [h["passage_id"] for h in row["retrieved"]] == [h.passage_id for h in expected[:5]]


def test_evaluate_rejects_bad_modes_ks_and_empty_sets(fake_engine):
    with pytest.raises(InputError, match="modes must be some of"):
        evaluate(fake_engine, ITEMS, ("semantic",))
    with pytest.raises(InputError, match="between 1 and 10"):
        evaluate(fake_engine, ITEMS, ks=(0, 5))
    with pytest.raises(InputError, match="no questions"):
        evaluate(fake_engine, [], ("hybrid",))


def test_squad_set_reports_article_and_passage_hits(tmp_path, capsys):
    long_context = " ".join(f"Sentence {n} of the ward report says little of note." for n in range(60))
    squad = {"data": [
        {"title": "wards", "paragraphs": [{"context": long_context + " The new ward opens in May.", "qas": [
            {"id": "q1", "question": "When does the new ward open?",
             "answers": [{"text": "May", "answer_start": len(long_context) + 23}]}]}]},
        {"title": "pharmacy", "paragraphs": [{"context": DOCUMENTS[2].text, "qas": [
            {"id": "q2", "question": "Who met the commissioners?",
             "answers": [{"text": "Pharmacy leaders", "answer_start": 0}]},
            {"id": "q3", "question": "What is the tariff for dentistry?", "answers": [], "is_impossible": True}]}]},
    ]}
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    code = run_cli(_cli_args(str(path), "--mode", "lexical", "--mode", "hybrid", "--json"),
                   embedder=KeywordEmbedder([*VOCABULARY, "ward", "opens", "may"]))
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["config"]["format"] == "squad" and summary["questions"] == 3
    assert summary["config"]["index"]["passages"] > 2  # the long context was split
    for mode in ("lexical", "hybrid"):
        overall = summary["modes"][mode]["overall"]
        for k in (1, 3, 5, 10):  # the gold passage is in the gold article, never the other way round
            assert overall[f"doc_hit@{k}"] >= overall[f"hit@{k}"]
        assert overall["unanswerable"] == 1


def test_bad_set_file_exits_2_naming_the_line(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "question": "Who?", "evidence": ["x"]}\n{"id": "b", "question": \n', encoding="utf-8")
    assert qa_main(["eval", str(path)]) == 2
    assert "bad.jsonl line 2: not valid JSON" in capsys.readouterr().err


def test_bad_set_suffix_and_options_exit_2(tmp_path, capsys):
    path = tmp_path / "questions.csv"
    path.write_text("id,question\n", encoding="utf-8")
    assert qa_main(["eval", str(path)]) == 2
    assert "must be a .jsonl question set or a .json SQuAD file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        qa_main(["eval", str(path), "--k", "1,x"])
    assert exit_.value.code == 2
    with pytest.raises(InputError, match="--index applies to JSONL"):
        open_set(tmp_path / "set.json", index_dir=tmp_path)


# --- the real model over the default corpus -------------------------------------------------

# General questions about the shipped pages, each with a snippet of the passage that answers it.
SMOKE_SET = [
    {"id": "s1", "question": "Which bodies will commission GP services in Greater Manchester?",
     "evidence": ["GP services will be commissioned by local authorities working alongside CCGs"],
     "answers": ["local authorities"]},
    {"id": "s2", "question": "By what date must CCGs retender their co-commissioning bids?",
     "evidence": ["retender co-commissioning bids by 6 January"], "answers": ["6 January"]},
    {"id": "s3", "question": "Who chairs London Councils?",
     "evidence": ["the chair of London Councils mayor Jules Pipe"], "answers": ["Jules Pipe"]},
    {"id": "s4", "question": "When will the national voluntary contract begin?",
     "evidence": ["the national voluntary contract will begin in April 2017"], "answers": ["April 2017"]},
    {"id": "s5", "question": "By when are PCTs to be scrapped?",
     "evidence": ["PCTs are to be scrapped by April 2013"], "answers": ["April 2013"]},
    {"id": "s6", "question": "What is the boiling point of mercury in kelvin?", "answerable": False,
     "kind": "unanswerable"},
]


@pytest.mark.model
def test_smoke_eval_with_the_real_model_finds_the_evidence(default_engine, real_embedder, tmp_path, capsys):
    corpus = " ".join(normalise(d.text) + " " + " ".join(normalise(c.text) for c in d.comments)
                      for d in default_engine.documents())
    path = tmp_path / "smoke.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in SMOKE_SET) + "\n", encoding="utf-8")
    for item in load_jsonl(path):  # the set itself is right: every snippet is in the shipped pages
        assert all(normalise(snippet) in corpus for snippet in item.evidence), item.id

    args = _cli_args(str(path), "--index", str(default_engine.index_dir), "--mode", "lexical", "--mode", "dense",
                     "--mode", "hybrid", "--report", str(tmp_path / "report"))
    assert run_cli(args, embedder=real_embedder) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Summary") and "hybrid" in printed.splitlines()[1]

    results = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    for mode in ("lexical", "dense", "hybrid"):
        overall = results["modes"][mode]["overall"]
        assert overall["hit@5"] >= 0.8, (mode, overall["hit@5"])  # at most one of five missed
        assert overall["n"] == len(SMOKE_SET)
    assert results["modes"]["hybrid"]["overall"]["hit@1"] >= 0.6
    assert len(results["rows"]) == 3 * len(SMOKE_SET)
    assert results["versions"]["torch"] and results["config"]["index"]["passages"] > 0
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "| metric | lexical | dense | hybrid |" in report and "| kind | mode | n |" in report
    assert {p.name for p in (tmp_path / "report").glob("*.png")} == {"hit_at_k.png", "latency.png"}
