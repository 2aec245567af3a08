"""The `qa` command: index, ask, search (and eval, serve, who, which import their code only when chosen).

Exit codes: 0 answered, 1 nothing found (the answer abstained, or search found nothing),
2 bad input (question, path, option or file), 3 the index is missing, corrupt or mismatched,
4 another process kept the index folder locked for longer than --wait (nothing was changed),
141 the reader of the output closed it early (`| head`), silently, as other tools do.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from index.options import DENSE_KINDS, KIND_FILTERS, MODES
from qa.terminal import json_text, one_line, plain

EXIT_OK, EXIT_NOTHING_FOUND, EXIT_BAD_INPUT, EXIT_BAD_INDEX, EXIT_INDEX_BUSY = 0, 1, 2, 3, 4
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool whose reader closed the pipe


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
    from qa.errors import IndexBusyError, IndexCorruptError, IngestError, InputError, MissingDependencyError, QAError

    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in Python's own flush at exit
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except (InputError, IngestError, MissingDependencyError) as error:
        print(f"qa: error: {one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except IndexCorruptError as error:  # includes IndexMismatchError
        print(f"qa: index error: {one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INDEX
    except IndexBusyError as error:
        print(f"qa: index busy: {one_line(error)}", file=sys.stderr)
        return EXIT_INDEX_BUSY
    except QAError as error:
        print(f"qa: error: {one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def _reader_went_away() -> int:
    """The reader of our output stopped reading (`qa ... | head -1`): stop quietly, as other tools do."""
    try:  # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # stdout is not a file descriptor (a test's capture): nothing will flush it to a pipe
    return EXIT_BROKEN_PIPE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Cited answers about who commissions what in the NHS.")
    commands = parser.add_subparsers(metavar="COMMAND")

    index = commands.add_parser("index", help="build an index from pages (.txt), JSONL archives or folders")
    index.add_argument("paths", nargs="+", metavar="PATH")
    index.add_argument("--out", required=True, metavar="DIR", help="index folder to write")
    existing = index.add_mutually_exclusive_group()
    existing.add_argument("--replace", action="store_true", help="replace the index already in DIR")
    existing.add_argument("--append", action="store_true",
                          help="add these documents to the index in DIR (made if there is none)")
    index.add_argument("--model", metavar="PATH", help="sentence-transformers model folder (default: MiniLM)")
    index.add_argument("--dense", choices=DENSE_KINDS, default="exact",
                       help="exact search, or approximate HNSW for large corpora")
    index.add_argument("--int8", action="store_true", help="embed through ONNX Runtime with int8 weights: about "
                       "1.4x faster, hybrid search as good, dense-only a little worse (needs the int8 extra)")
    index.add_argument("--json", action="store_true", help="print the index summary as JSON")
    index.set_defaults(run=_run_index)

    for name, helptext in (("ask", "answer a question with cited passages"),
                           ("search", "list the passages that best match a query")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("question", metavar="QUESTION" if name == "ask" else "QUERY")
        sub.add_argument("--index", metavar="DIR", help="index folder (default: the shipped corpus)")
        sub.add_argument("--kind", choices=KIND_FILTERS, default="both", help="articles, reader comments, or both")
        sub.add_argument("--doc", action="append", metavar="DOC_ID", help="only this document (repeatable)")
        sub.add_argument("--k", type=int, default=5 if name == "ask" else 10, help="passages to return")
        sub.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default: hybrid)")
        sub.add_argument("--since", metavar="YYYY-MM-DD", help="only documents dated on or after this day")
        sub.add_argument("--until", metavar="YYYY-MM-DD", help="only documents dated on or before this day")
        add_model_argument(sub)
        add_qdrant_arguments(sub)
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(run=_run_ask if name == "ask" else _run_search)

    add = commands.add_parser("add", help="add pages or JSONL archives to an index (only they are embedded)")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--index", required=True, metavar="DIR", help="index folder to update")
    add.add_argument("--replace", action="store_true", help="replace indexed documents that have the same ids")
    delete = commands.add_parser("delete", help="remove documents (and their comments) from an index by id")
    delete.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="ids as `qa docs --index DIR` lists them")
    delete.add_argument("--index", required=True, metavar="DIR", help="index folder to update")
    for sub, run in ((add, _run_add), (delete, _run_delete)):
        sub.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                         help="how long to wait for another process writing the index (default: 120)")
        add_model_argument(sub)
        add_qdrant_arguments(sub)
        sub.add_argument("--json", action="store_true", help="print the change and the index summary as JSON")
        sub.set_defaults(run=run)

    docs = commands.add_parser("docs", help="list the indexed articles: id (for --doc), title, date, comments")
    docs.add_argument("--index", metavar="DIR", help="index folder (default: the shipped corpus)")
    add_model_argument(docs)
    docs.add_argument("--json", action="store_true", help="print JSON")
    docs.set_defaults(run=_run_docs)

    check = commands.add_parser("check", help="read every file of an index in full and check it against its "
                                "sha256 (a load checks large files by size only)")
    check.add_argument("--index", required=True, metavar="DIR", help="index folder to check")
    check.add_argument("--json", action="store_true", help="print what was checked as JSON")
    check.set_defaults(run=_run_check)

    load = commands.add_parser("qdrant-load", help="copy an index folder into Qdrant (vectors copied, not embedded)")
    load.add_argument("index", metavar="INDEX_DIR", help="index folder to copy")
    add_qdrant_arguments(load)
    load.add_argument("--json", action="store_true", help="print what was copied as JSON")
    load.set_defaults(run=_run_qdrant_load)

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


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The --model option, the same for every command that opens an index."""
    parser.add_argument("--model", metavar="PATH",
                        help="sentence-transformers model folder the index was built with (default: MiniLM)")


def add_qdrant_arguments(parser: argparse.ArgumentParser) -> None:
    """--qdrant-url / --qdrant-path / --qdrant-collection: search in Qdrant instead of in this process."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--qdrant-url", metavar="URL", help="search in this Qdrant server or cluster "
                       "(filled from the index folder where it lacks passages)")
    where.add_argument("--qdrant-path", metavar="DIR", help="search in Qdrant's local mode, kept in DIR")
    parser.add_argument("--qdrant-collection", metavar="NAME", help="Qdrant collection (default: qa_passages)")


def open_engine(index_dir: str | None, model: str | None = None, args=None):
    """The engine over `index_dir`, or over the shipped corpus when none is given (for subcommands), with
    the model in folder `model` (default: the shipped MiniLM); searching in Qdrant when `args` name it."""
    from index.embed import SentenceTransformerEmbedder
    from qa.engine import Engine, cache_root
    from qa.errors import IndexMismatchError

    embedder = SentenceTransformerEmbedder(model) if model else None
    if not index_dir:
        if not any(cache_root().glob("default-*/manifest.json")):
            print(f"qa: building the index of the shipped corpus on first use (about 15 s on 2 CPU cores; "
                  f"kept in {cache_root()})", file=sys.stderr)
        return Engine.default(embedder=embedder, **_qdrant_options(args))
    try:
        return Engine.load(index_dir, embedder=embedder, **_qdrant_options(args))
    except IndexMismatchError as error:
        raise IndexMismatchError(f"{error}{_model_hint(index_dir)}") from None


def _qdrant_options(args) -> dict:
    """The Engine option choosing Qdrant, when the command line asks for it."""
    url, path = getattr(args, "qdrant_url", None), getattr(args, "qdrant_path", None)
    if not (url or path):
        if getattr(args, "qdrant_collection", None):
            from qa.errors import InputError

            raise InputError("--qdrant-collection needs --qdrant-url or --qdrant-path")
        return {}
    from qa.backend_retrieve import QdrantChoice

    return {"backend": QdrantChoice(url=url, path=path, collection=args.qdrant_collection)}


def _run_qdrant_load(args) -> int:
    import time

    from index.backends import sync
    from index.build import load_index

    started = time.perf_counter()
    index = load_index(args.index)  # no model needed: the stored vectors are copied
    backend = _qdrant_options(args).get("backend")
    if backend is None:
        from qa.errors import InputError

        raise InputError("give the Qdrant to load into: --qdrant-url URL or --qdrant-path DIR")
    added, removed = sync(backend.open(index), index)
    backend.close()
    summary = {"index": args.index, "qdrant": args.qdrant_url or args.qdrant_path, "passages": len(index.passages),
               "added": added, "removed": removed, "seconds": round(time.perf_counter() - started, 2)}
    return _summarised(args, summary, f"{summary['qdrant']} now holds the {summary['passages']} passages of "
                       f"{args.index} ({added} added, {removed} removed, {summary['seconds']} s; nothing was embedded)")


def _summarised(args, summary: dict, line: str) -> int:
    """Print what a command did: `summary` as JSON with --json, else `line`."""
    print(json_text(summary) if args.json else plain(line))
    return EXIT_OK


def _model_hint(index_dir: str) -> str:
    """How to open an index built with another model: the folder its manifest records."""
    from index.store import read_manifest

    try:
        meta = read_manifest(Path(index_dir))["meta"]
    except Exception:  # the hint is a courtesy; the error it decorates is the answer
        return ""
    path = meta.get("model_path")
    return f"; it was built with the model in {path}: add --model {path}" if path else ""


def _run_index(args) -> int:
    from index.build import IndexConfig
    from index.embed import SentenceTransformerEmbedder
    from index.store import check_destination
    from qa.engine import Engine
    from qa.errors import InputError

    # Before any reading or embedding: a wrong destination fails now, not after minutes of work.
    has_index = check_destination(args.out)
    if has_index and not (args.replace or args.append):
        raise InputError(f"{args.out} already holds an index; add --replace to replace it, or --append to add "
                         "these documents to it (nothing was changed)")
    if args.int8:
        from index.onnx_embed import OnnxEmbedder
        from qa.engine import cache_root

        embedder = OnnxEmbedder(args.model, cache_dir=cache_root() / "onnx")
    else:
        embedder = SentenceTransformerEmbedder(args.model) if args.model else None
    if args.append and has_index:
        engine = Engine.load(args.out, embedder=embedder)
        added = engine.add(args.paths)
    else:
        engine = Engine.build(args.paths, args.out, embedder=embedder, config=IndexConfig(dense_kind=args.dense))
        added = engine.documents()
    info = engine.info()
    if args.json:
        print(json_text({**info, "added": len(added)}))
    else:
        print(plain(f"indexed {len(added)} documents; {args.out} now holds {info['documents']} documents as "
                    f"{info['passages']} passages ({info['vectors']} vectors, model {info['model']})"))
    return EXIT_OK


def _run_add(args) -> int:
    engine = _open_for_update(args)
    added = engine.add(args.paths, replace=args.replace)
    return _print_update(args, engine, "added", [d.id for d in added])


def _run_delete(args) -> int:
    engine = _open_for_update(args)
    removed = engine.delete(args.doc_ids)
    return _print_update(args, engine, "deleted", removed)


def _open_for_update(args):
    from index.store import check_destination
    from qa.errors import InputError

    if not check_destination(args.index):  # refuses a file or a folder of other things, before any work
        raise InputError(f"{args.index} holds no index; build one with `qa index PATH --out {args.index}`")
    if not 0 <= args.wait < float("inf"):
        raise InputError(f"--wait must be a number of seconds >= 0, got {args.wait}")
    engine = open_engine(args.index, args.model, args)
    engine.lock_timeout = args.wait
    return engine


def _print_update(args, engine, verb: str, doc_ids: list[str]) -> int:
    info = engine.info()
    if args.json:
        print(json_text({**info, verb: doc_ids}))
    else:
        print(plain(f"{verb} {len(doc_ids)} documents; {args.index} now holds {info['documents']} documents as "
                    f"{info['passages']} passages"))
    return EXIT_OK


def _run_docs(args) -> int:
    if args.index and not args.model:
        from index.build import load_index

        documents = list(load_index(args.index).documents.values())  # listing needs no model
    else:
        documents = open_engine(args.index, args.model).documents()
    rows = [{"id": d.id, "title": d.title, "date": d.date, "byline": d.byline, "comments": len(d.comments),
             "comment_count": d.comment_count} for d in documents]
    if args.json:
        print(json_text(rows))
        return EXIT_OK
    for row in rows:
        print(plain(f"{row['id']}  {row['date'] or '(no date)'}  {row['comments']:>3} comments  {row['title']}"))
    if not rows:
        print("(the index holds no documents)")
    return EXIT_OK


def _run_check(args) -> int:
    import time

    from index.build import load_index

    started = time.perf_counter()
    index = load_index(args.index, verify=True)  # a damaged file raises IndexCorruptError: exit 3, named
    summary = {"index": args.index, "ok": True, "documents": len(index.documents), "passages": len(index.passages),
               "generation": index.generation, "seconds": round(time.perf_counter() - started, 2)}
    return _summarised(args, summary, f"{args.index}: every file matches its sha256; {summary['documents']} documents, "
                       f"{summary['passages']} passages (generation {summary['generation']}, {summary['seconds']} s)")


def _run_ask(args) -> int:
    from qa.question import check_question

    check_question(args.question)  # fail fast, before loading a model
    answer = open_engine(args.index, args.model, args).ask(args.question, k=args.k, kind=args.kind, doc_ids=args.doc,
                                                     mode=args.mode, since=args.since, until=args.until)
    if args.json:
        print(json_text(answer.to_dict()))
    else:
        print(plain(format_answer(answer)))
    return EXIT_NOTHING_FOUND if answer.abstained else EXIT_OK


def _run_search(args) -> int:
    from qa.question import check_question

    check_question(args.question)
    hits = open_engine(args.index, args.model, args).search(args.question, k=args.k, kind=args.kind, doc_ids=args.doc,
                                                      mode=args.mode, since=args.since, until=args.until)
    if args.json:
        print(json_text([h.to_dict() for h in hits]))
    else:
        for hit in hits:
            print(plain(f"{hit.rank:>2}. [{_kind_label(hit.kind, hit.author)}] {hit.title}  (score {hit.score:.3f})"))
            print(plain(_indent(hit.text)))
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
