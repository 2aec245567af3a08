"""The `qa` command: index, ask, search (and eval, serve, who, which import their code only when chosen).

Exit codes: 0 answered, 1 nothing found (the answer abstained, or search found nothing),
2 bad input (question, path, option or file), 3 the index is missing, corrupt or mismatched.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

EXIT_OK, EXIT_NOTHING_FOUND, EXIT_BAD_INPUT, EXIT_BAD_INDEX = 0, 1, 2, 3
KINDS = ("both", "article", "comment")
MODES = ("hybrid", "lexical", "dense")


LAZY_COMMANDS = {  # name: (help, module with add_arguments); imported only when the command runs
    "eval": ("run an evaluation set (JSONL or SQuAD)", "eval.cli"),
    "serve": ("start the web chat", "ui.cli"),
    "who": ("who commissions what: the cited commissioning map", "qa.who"),
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if argv and argv[0] in LAZY_COMMANDS:
        # Their options are parsed by their own module (argparse.REMAINDER would drop leading options).
        args = argparse.Namespace(run=lambda _: _run_lazy(argv[0], LAZY_COMMANDS[argv[0]][1], argv[1:]))
    else:
        args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    from qa.errors import IndexCorruptError, InputError, IngestError, MissingDependencyError, QAError

    try:
        return args.run(args)
    except (InputError, IngestError, MissingDependencyError) as error:
        print(f"qa: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except IndexCorruptError as error:  # includes IndexMismatchError
        print(f"qa: index error: {error}", file=sys.stderr)
        return EXIT_BAD_INDEX
    except QAError as error:
        print(f"qa: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Cited answers about who commissions what in the NHS.")
    commands = parser.add_subparsers(metavar="COMMAND")

    index = commands.add_parser("index", help="build an index from pages (.txt), JSONL archives or folders")
    index.add_argument("paths", nargs="+", metavar="PATH")
    index.add_argument("--out", required=True, metavar="DIR", help="index folder to write")
    index.add_argument("--model", metavar="PATH", help="sentence-transformers model folder (default: MiniLM)")
    index.add_argument("--dense", choices=("exact", "hnsw"), default="exact",
                       help="exact search, or approximate HNSW for large corpora")
    index.add_argument("--json", action="store_true", help="print the index summary as JSON")
    index.set_defaults(run=_run_index)

    for name, helptext in (("ask", "answer a question with cited passages"),
                           ("search", "list the passages that best match a query")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("question", metavar="QUESTION" if name == "ask" else "QUERY")
        sub.add_argument("--index", metavar="DIR", help="index folder (default: the shipped corpus)")
        sub.add_argument("--kind", choices=KINDS, default="both", help="articles, reader comments, or both")
        sub.add_argument("--doc", action="append", metavar="DOC_ID", help="only this document (repeatable)")
        sub.add_argument("--k", type=int, default=5 if name == "ask" else 10, help="passages to return")
        sub.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default: hybrid)")
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(run=_run_ask if name == "ask" else _run_search)

    for name, (helptext, _) in LAZY_COMMANDS.items():
        commands.add_parser(name, help=helptext, add_help=False)  # listed in --help; run by main()
    return parser


def _run_lazy(name: str, module: str, rest: list[str]) -> int:
    import importlib

    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as error:
        print(f"qa: error: `qa {name}` needs {error.name}; install the project with its extras: "
              f"pip install -e '.[ui,eval]'", file=sys.stderr)
        return EXIT_BAD_INPUT
    parser = argparse.ArgumentParser(prog=f"qa {name}")
    loaded.add_arguments(parser)
    args = parser.parse_args(rest)
    return args.run(args)


def open_engine(index_dir: str | None):
    """The engine over `index_dir`, or over the shipped corpus when none is given (for subcommands)."""
    from qa.engine import Engine

    return Engine.load(index_dir) if index_dir else Engine.default()


def _run_index(args) -> int:
    from index.build import IndexConfig
    from index.embed import SentenceTransformerEmbedder
    from qa.engine import Engine

    embedder = SentenceTransformerEmbedder(args.model) if args.model else None
    engine = Engine.build(args.paths, args.out, embedder=embedder, config=IndexConfig(dense_kind=args.dense))
    info = engine.info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"indexed {info['documents']} documents as {info['passages']} passages "
              f"({info['vectors']} vectors, model {info['model']}) into {args.out}")
    return EXIT_OK


def _run_ask(args) -> int:
    from qa.engine import check_question

    check_question(args.question)  # fail fast, before loading a model
    answer = open_engine(args.index).ask(args.question, k=args.k, kind=args.kind, doc_ids=args.doc, mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return EXIT_NOTHING_FOUND if answer.abstained else EXIT_OK


def _run_search(args) -> int:
    from qa.engine import check_question

    check_question(args.question)
    hits = open_engine(args.index).search(args.question, k=args.k, kind=args.kind, doc_ids=args.doc, mode=args.mode)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
    else:
        for hit in hits:
            print(f"{hit.rank:>2}. [{_kind_label(hit.kind, hit.author)}] {hit.title}  (score {hit.score:.3f})")
            print(_indent(hit.text))
    return EXIT_OK if hits else EXIT_NOTHING_FOUND


def format_answer(answer) -> str:
    """An answer as terminal text: the resolved question, the answer, then its numbered sources."""
    lines = []
    if answer.resolved_question:
        lines.append(f"(searched for: {answer.resolved_question})")
    lines += [answer.text, ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            speaker = f", quoting {c.speaker}" if c.speaker else ""
            lines.append(f"[{c.n}] {c.title} ({_kind_label(c.kind, c.author)}{speaker})")
            lines.append(_indent(c.sentence))
    elif answer.nearest:
        lines.append("Nearest passages:")
        for hit in answer.nearest:
            lines.append(f"- {hit.title} ({_kind_label(hit.kind, hit.author)})")
            lines.append(_indent(hit.text[:300] + ("…" if len(hit.text) > 300 else "")))
    return "\n".join(lines).rstrip()


def _kind_label(kind: str, author: str | None) -> str:
    if kind == "comment":
        return f"reader comment by {author}" if author else "anonymous reader comment"
    return f"reporting, by {author}" if author else "reporting"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
