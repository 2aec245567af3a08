"""`qa eval SET`: run a question set (JSONL) or a SQuAD file in one or more retrieval modes and report.

Exit codes: 0 done, 2 bad input (a bad set file names its line; raised as qa.errors.InputError and
turned into the exit code by `qa.cli`).
"""
from __future__ import annotations

import argparse
import json
import sys

from eval.runner import DEFAULT_KS, DEPTH
from qa import MODES

EXIT_OK = 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `qa eval`; the parsed arguments' `run` evaluates and returns the exit code."""
    parser.description = "Evaluate retrieval and cited answers on a question set, modes side by side."
    parser.add_argument("set", metavar="SET", help="a .jsonl question set or a .json SQuAD file")
    parser.add_argument("--index", metavar="DIR", help="index folder for a JSONL set (default: the shipped corpus)")
    parser.add_argument("--mode", action="append", choices=sorted(MODES),
                        help="retrieval mode; repeat to run several side by side (default: hybrid)")
    parser.add_argument("--k", type=_ks, default=DEFAULT_KS, metavar="K,K,...",
                        help=f"cut-offs for hit@k, each 1 to {DEPTH} (default: {','.join(map(str, DEFAULT_KS))})")
    parser.add_argument("--limit", type=_positive, metavar="N", help="only the first N questions")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")
    parser.add_argument("--report", metavar="DIR", help="write report.md, results.json and plots into DIR")
    parser.add_argument("--model", metavar="PATH",
                        help="sentence-transformers model folder the index was built with (default: MiniLM)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, embedder=None) -> int:
    """Evaluate as `args` say; `embedder` lets a caller that already loaded the model share it."""
    from eval.report import console_text, summary_json, write_report
    from eval.runner import evaluate, open_set

    if embedder is None and getattr(args, "model", None):
        from qa import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(args.model)
    engine, items, form = open_set(args.set, index_dir=args.index, embedder=embedder)
    if args.limit:
        items = items[: args.limit]
    about = {"set": args.set, "format": form, "limit": args.limit}
    result = evaluate(engine, items, args.mode or ("hybrid",), args.k, about=about)
    if args.json:
        print(json.dumps(summary_json(result), indent=2, ensure_ascii=False))
    else:
        print(console_text(result))
    if args.report:
        written = write_report(result, args.report)
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return EXIT_OK


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(part) for part in text.split(","))
    except ValueError:
        ks = ()
    if not ks or not all(1 <= k <= DEPTH for k in ks):
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers from 1 to {DEPTH}, got {text!r}")
    return tuple(sorted(set(ks)))


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)
