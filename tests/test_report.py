"""Report rendering from synthetic rows: tables, escaping, worst questions, files written (no model)."""
from __future__ import annotations

import json

import pytest

from eval.report import (
    aligned,
    console_text,
    escape,
    followup_table,
    kind_table,
    markdown,
    summary_table,
    worst_rows,
    write_report,
)
from eval.runner import Run, summarise

KS = (1, 3, 5, 10)


def _row(qid, mode, kind, first, *, answerable=True, abstained=False, comments=0, cited=1, question=None,
         history=(), title="Some article"):
    """A per-question row as the runner makes it, with its first relevant passage at rank `first` (or none)."""
    flags = [rank == first for rank in range(1, 11)]
    scored = answerable
    row = {"id": qid, "mode": mode, "kind": kind, "question": question or f"question {qid}?",
           "history": list(history), "searched": question or f"question {qid}?", "answerable": answerable,
           "first_relevant": first if answerable else None}
    row.update({f"hit@{k}": (1.0 if any(flags[:k]) else 0.0) if scored else None for k in KS})
    row["mrr@10"] = (1.0 / first if first else 0.0) if scored else None
    row["ndcg@10"] = row["mrr@10"]
    row.update({f"doc_hit@{k}": None for k in KS})
    row.update({"answer_contains": (not abstained) if answerable else None,
                "citation_precision": 1.0 if answerable and cited else None, "abstained": abstained,
                "answered": (not abstained) if answerable else None,
                "comment_share": comments / cited if cited else None,
                "reporting_share": (cited - comments) / cited if cited else None,
                "search_ms": 2.0 + len(qid), "ask_ms": 40.0 + len(qid), "answer": "an answer [1]",
                "citations": [],
                "retrieved": [{"rank": r, "title": title, "kind": "article", "doc_id": "d", "passage_id": f"p{r}",
                               "relevant": r == first, "start": f"passage number {r} begins with these words"}
                              for r in range(1, 4)]})
    return row


def _run(rows, modes=("lexical", "hybrid")):
    config = {"set": "tiny.jsonl", "modes": list(modes), "ks": list(KS), "depth": 10,
              "index": {"documents": 2, "passages": 9, "model": "fake"}}
    return Run(rows, summarise(rows, modes, KS), config, {"python": "3.11"})


@pytest.fixture
def run():
    rows = []
    for mode, late in (("lexical", None), ("hybrid", 2)):
        rows += [_row("f1", mode, "fact", 1), _row("f2", mode, "fact", late),
                 _row("c1", mode, "comment", 1, comments=1),
                 _row("u1", mode, "unanswerable", None, answerable=False, abstained=True, cited=0),
                 _row("fu1", mode, "followup", late, history=["Who runs it?"]),
                 _row("fu1-standalone", mode, "followup_standalone", 1)]
    return _run(rows)


def test_summary_table_puts_modes_side_by_side_and_drops_undefined_rows(run):
    table = summary_table(run)
    assert table[0] == ["metric", "lexical", "hybrid"]
    by_metric = {row[0]: row[1:] for row in table[1:]}
    # answerable: f1, f2, c1, fu1, fu1-standalone; lexical misses f2 and fu1 in the top 10
    assert by_metric["hit@1"] == ["0.600", "0.600"]
    assert by_metric["hit@3"] == ["0.600", "1.000"]
    assert by_metric["abstention recall"] == ["1.000", "1.000"]
    assert by_metric["questions"] == ["6", "6"] and by_metric["answerable"] == ["5", "5"]
    assert "article hit@1" not in by_metric  # no gold documents in a JSONL set


def test_kind_table_and_followup_table(run):
    kinds = {(row[0], row[1]): row for row in kind_table(run)[1:]}
    header = kind_table(run)[0]
    assert kinds[("comment", "hybrid")][header.index("cites comments")] == "1.000"
    assert kinds[("fact", "hybrid")][header.index("cites reporting")] == "1.000"
    assert kinds[("unanswerable", "lexical")][header.index("hit@5")] == "–"
    followups = followup_table(run)
    assert followups[0][:2] == ["mode", "follow-up hit@1"]
    assert followups[1] == ["lexical", "0.000", "0.000", "0.000", "0.000", "1.000", "1.000", "1.000", "1.000"]
    assert followups[2] == ["hybrid", "0.000", "1.000", "1.000", "1.000", "1.000", "1.000", "1.000", "1.000"]


def test_followup_table_is_empty_without_both_kinds():
    rows = [_row("f1", "hybrid", "fact", 1), _row("fu1", "hybrid", "followup", 1, history=["Who?"])]
    assert followup_table(_run(rows, ("hybrid",))) == []


def test_aligned_text_lines_up_columns(run):
    lines = aligned(summary_table(run)).splitlines()
    ends = {len(line) for line in lines}
    assert len(ends) == 1  # right-aligned numbers end in the same column on every line
    assert lines[0].startswith("metric")
    assert "Per kind" in console_text(run) and "Follow-ups" in console_text(run)


def test_worst_rows_are_misses_first_and_skip_perfect_ones(run):
    worst = worst_rows(run, "lexical")
    assert [r["id"] for r in worst] == ["f2", "fu1"]
    assert [r["id"] for r in worst_rows(run, "hybrid")] == ["f2", "fu1"]  # rank 2, both
    assert all(r["first_relevant"] != 1 for r in worst)


def test_markdown_holds_tables_worst_questions_and_config(run):
    text = markdown(run, ["hit_at_k.png"])
    assert "| metric | lexical | hybrid |" in text
    assert "| kind | mode | n |" in text
    assert "## Follow-ups" in text
    assert "question f2?" in text and "not in top 10" in text
    assert "(follow-up; searched:" in text
    assert "passage number 1 begins with" in text
    assert "![hit_at_k.png](hit_at_k.png)" in text
    assert '"python": "3.11"' in text


def test_untrusted_text_is_escaped_in_markdown():
    hostile = "<script>alert(1)</script> | *bold* [link](x)"
    rows = [_row("f1", "hybrid", "fact", None, question=hostile, title="<img src=x onerror=y>")]
    text = markdown(_run(rows, ("hybrid",)))
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert escape("a | b") == "a \\| b"
    assert escape("line\nbreak") == "line break"
    # every table line keeps its column count: the pipe in the question did not open a new cell
    worst = next(line for line in text.splitlines() if "alert" in line)
    assert worst.replace("\\|", "").count("|") == 5


def test_write_report_writes_markdown_json_and_plots(run, tmp_path):
    written = write_report(run, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == ["hit_at_k.png", "latency.png", "report.md", "results.json"]
    for name in ("hit_at_k.png", "latency.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert len(results["rows"]) == len(run.rows)
    assert results["versions"] == {"python": "3.11"}
    assert results["config"]["index"]["passages"] == 9
    assert results["modes"]["hybrid"]["overall"]["hit@3"] == pytest.approx(1.0)
    assert "## Summary" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
