"""Render an eval run: aligned console tables, a Markdown report with plots, and a JSON file of every row.

Question and passage text comes from the set and from reader comments, so it is escaped wherever
it is put into Markdown.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.runner import Run
from qa.errors import MissingDependencyError

NONE = "–"
_NUMERIC = re.compile(r"[0-9.]+|–|not in top 10")
WORST_SHOWN = 8  # per mode
WORDS_SHOWN = 15  # of each passage retrieved instead
Table = list[list[str]]  # header row first, every cell already text


def summary_json(run: Run) -> dict[str, Any]:
    """The summary with what it ran with: what `--json` prints."""
    return {**run.summary, "config": run.config, "versions": run.versions}


def console_text(run: Run) -> str:
    """The summary, per-kind and follow-up tables as aligned plain text."""
    parts = [("Summary (retrieval metrics over answerable questions)", summary_table(run)),
             ("Per kind", kind_table(run))]
    followups = followup_table(run)
    if followups:
        parts.append(("Follow-ups vs the same questions asked standalone", followups))
    return "\n\n".join(f"{title}\n{aligned(table)}" for title, table in parts)


def write_report(run: Run, folder: str | Path) -> list[Path]:
    """Write report.md, results.json and the PNG plots into `folder`; returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plots = [plot_hits(run, folder / "hit_at_k.png"), plot_latency(run, folder / "latency.png")]
    results = folder / "results.json"
    results.write_text(json.dumps({**summary_json(run), "rows": run.rows}, ensure_ascii=False, indent=1),
                       encoding="utf-8")
    report = folder / "report.md"
    report.write_text(markdown(run, [p.name for p in plots]), encoding="utf-8")
    return [report, results, *plots]


# --- tables -------------------------------------------------------------------------------


def summary_table(run: Run) -> Table:
    """One row per metric, one column per mode; rows undefined in every mode are left out."""
    ks = run.config["ks"]
    modes = list(run.summary["modes"])
    overall = {mode: run.summary["modes"][mode]["overall"] for mode in modes}
    specs = ([("questions", "n", "count"), ("answerable", "answerable", "count")]
             + [(f"hit@{k}", f"hit@{k}", "rate") for k in ks]
             + [("MRR@10", "mrr@10", "rate"), ("nDCG@10", "ndcg@10", "rate")]
             + [(f"article hit@{k}", f"doc_hit@{k}", "rate") for k in ks]
             + [("answer contains gold", "answer_contains", "rate"),
                ("citation precision", "citation_precision", "rate"),
                ("answered (answerable)", "answered", "rate"), ("abstained (all)", "abstained", "rate"),
                ("abstention precision", "abstention_precision", "rate"),
                ("abstention recall", "abstention_recall", "rate"),
                ("citations: comments", "comment_share", "rate"),
                ("citations: reporting", "reporting_share", "rate"),
                ("search ms p50", "search_ms_p50", "ms"), ("search ms p95", "search_ms_p95", "ms"),
                ("ask ms p50", "ask_ms_p50", "ms"), ("ask ms p95", "ask_ms_p95", "ms")])
    table = [["metric", *modes]]
    for label, key, style in specs:
        values = [overall[mode].get(key) for mode in modes]
        if any(v is not None for v in values):
            table.append([label, *(_number(v, style) for v in values)])
    return table


def kind_table(run: Run) -> Table:
    """One row per kind and mode: ranking, answering and what kind of text the answers cite."""
    ks = run.config["ks"]
    columns = ([("n", "n", "count")] + [(f"hit@{k}", f"hit@{k}", "rate") for k in ks]
               + [("MRR@10", "mrr@10", "rate"), ("contains", "answer_contains", "rate"),
                  ("answered", "answered", "rate"), ("abstained", "abstained", "rate"),
                  ("cites comments", "comment_share", "rate"), ("cites reporting", "reporting_share", "rate")])
    table = [["kind", "mode", *(label for label, _, _ in columns)]]
    modes = run.summary["modes"]
    kinds = sorted({kind for mode in modes.values() for kind in mode["by_kind"]})
    for kind in kinds:
        for mode, summary in modes.items():
            values = summary["by_kind"].get(kind)
            if values:
                table.append([kind, mode, *(_number(values.get(key), style) for _, key, style in columns)])
    return table


def followup_table(run: Run) -> Table:
    """Follow-up hit@k beside the standalone wording of the same questions, per mode; empty without both kinds."""
    ks = run.config["ks"]
    table = [["mode", *(f"follow-up hit@{k}" for k in ks), *(f"standalone hit@{k}" for k in ks)]]
    for mode, summary in run.summary["modes"].items():
        followup, standalone = summary["by_kind"].get("followup"), summary["by_kind"].get("followup_standalone")
        if not (followup and standalone):
            return []
        table.append([mode, *(_number(followup.get(f"hit@{k}"), "rate") for k in ks),
                      *(_number(standalone.get(f"hit@{k}"), "rate") for k in ks)])
    return table


def worst_rows(run: Run, mode: str, limit: int = WORST_SHOWN) -> list[dict[str, Any]]:
    """The answerable questions whose first relevant passage came latest (or never), worst first."""
    rows = [r for r in run.rows if r["mode"] == mode and r["answerable"] and r["first_relevant"] != 1]
    rows.sort(key=lambda r: (r["mrr@10"] or 0.0, r["ndcg@10"] or 0.0, r["id"]))
    return rows[:limit]


def aligned(table: Table) -> str:
    """A table as plain text: first column left-aligned, the rest right-aligned."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for row in table:
        cells = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def markdown_table(table: Table) -> str:
    """A table as Markdown, numeric columns right-aligned; cells must already be escaped."""
    header, *body = table
    numeric = [i > 0 and all(_NUMERIC.fullmatch(row[i]) for row in body) for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


# --- markdown -----------------------------------------------------------------------------


def markdown(run: Run, plots: Sequence[str] = ()) -> str:
    """The whole report as Markdown: tables, worst questions per mode, plots, and what it ran with."""
    config, index = run.config, run.config.get("index", {})
    lines = [f"# Evaluation: {escape(str(config.get('set', 'question set')))}", "",
             f"{run.summary['questions']} questions, modes {', '.join(run.summary['modes'])}; "
             f"index of {index.get('documents', '?')} documents, {index.get('passages', '?')} passages "
             f"(model {escape(str(index.get('model', '?')))}). Retrieval metrics count answerable questions only; "
             "a passage is relevant when it holds the question's evidence (or covers a gold answer's start).", "",
             "## Summary", "", markdown_table(summary_table(run)), "",
             "## Per kind", "", markdown_table(kind_table(run))]
    followups = followup_table(run)
    if followups:
        lines += ["", "## Follow-ups", "", "The same questions asked as follow-ups in a chat, and standalone.", "",
                  markdown_table(followups)]
    lines += ["", "## Worst questions", ""]
    for mode in run.summary["modes"]:
        lines += [f"### {mode}", "", *_worst_section(run, mode), ""]
    if plots:
        lines += ["## Plots", "", *(f"![{name}]({name})" for name in plots), ""]
    lines += ["## Ran with", "", "```json", json.dumps({"config": config, "versions": run.versions}, indent=2,
                                                        ensure_ascii=False).replace("```", "'''"), "```", ""]
    return "\n".join(lines)


def _worst_section(run: Run, mode: str) -> list[str]:
    rows = worst_rows(run, mode)
    if not rows:
        return ["Every answerable question ranked a relevant passage first."]
    table = [["question", "kind", "first relevant", "retrieved instead"]]
    for row in rows:
        question = escape(row["question"])
        if row["history"]:
            question += f"<br>(follow-up; searched: {escape(row['searched'])})"
        retrieved = "<br>".join(f"{h['rank']}. {'✓ ' if h['relevant'] else ''}*{escape(h['title'])}* "
                                f"[{escape(h['kind'])}]: {escape(_first_words(h['start']))}…"
                                for h in row["retrieved"][:3])
        first = str(row["first_relevant"]) if row["first_relevant"] else "not in top 10"
        table.append([question, escape(row["kind"]), first, retrieved or NONE])
    return [markdown_table(table)]


def escape(text: str) -> str:
    """Text safe inside a Markdown table cell: HTML escaped, emphasis, links, code and pipes backslashed, one line."""
    text = html.escape(" ".join(text.split()), quote=False)
    return re.sub(r"([\\`*_\[\]|])", r"\\\1", text)


def _first_words(text: str) -> str:
    return " ".join(text.split()[:WORDS_SHOWN])


def _number(value: Any, style: str) -> str:
    if value is None:
        return NONE
    if style == "count":
        return str(int(value))
    if style == "ms":
        return f"{value:.1f}"
    return f"{value:.3f}"


# --- plots --------------------------------------------------------------------------------


def plot_hits(run: Run, path: Path) -> Path:
    """hit@k against k, one line per mode (dashed: article-level, when the set has gold documents)."""
    plt = _pyplot()
    ks = run.config["ks"]
    figure, axes = plt.subplots(figsize=(6, 4))
    for mode, summary in run.summary["modes"].items():
        overall = summary["overall"]
        line = axes.plot(ks, [overall.get(f"hit@{k}") or 0.0 for k in ks], marker="o", label=mode)[0]
        if overall.get(f"doc_hit@{ks[0]}") is not None:
            axes.plot(ks, [overall[f"doc_hit@{k}"] or 0.0 for k in ks], linestyle="--", color=line.get_color(),
                      label=f"{mode} (article)")
    axes.set(xlabel="k (passages)", ylabel="hit@k (answerable)", ylim=(0, 1.02), xticks=ks, title="hit@k per mode")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_latency(run: Run, path: Path) -> Path:
    """Histograms of search and ask latency, one colour per mode."""
    plt = _pyplot()
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    figure, panes = plt.subplots(1, 2, figsize=(10, 4))
    for pane, call in zip(panes, ("search_ms", "ask_ms")):
        times = [max(r[call], 0.01) for r in run.rows]
        # Log-spaced bins shared by every mode: lexical search takes well under a millisecond, dense hundreds.
        bins = np.geomspace(min(times), max(times) * 1.001, 30) if max(times) > min(times) else 10
        for mode in run.summary["modes"]:
            pane.hist([max(r[call], 0.01) for r in run.rows if r["mode"] == mode], bins=bins, alpha=0.5, label=mode)
        pane.set(xscale="log", xlabel=f"{call.split('_')[0]} latency (ms, log scale)", ylabel="questions")
        pane.yaxis.set_major_locator(MaxNLocator(integer=True))
        pane.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _pyplot():
    try:
        import matplotlib
    except ModuleNotFoundError as exc:
        raise MissingDependencyError("the report's plots need matplotlib: pip install -e '.[eval]'") from exc
    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    return plt
