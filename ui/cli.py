"""Options of `qa serve` (and `python -m ui`): which index to open and how to serve it safely."""
from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from ui import ServeConfig

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the serve options to `parser` and set `run` to the function that serves the app."""
    defaults = ServeConfig()
    parser.add_argument("--index", metavar="DIR", help="index folder (default: the shipped corpus, built on first use)")
    parser.add_argument("--host", default=defaults.host,
                        help=f"address to listen on (default {defaults.host}: this machine only)")
    parser.add_argument("--port", type=int, default=defaults.port, help="port (default: 7860 or the next free one)")
    parser.add_argument("--max-queue", type=int, default=defaults.max_queue, metavar="N",
                        help=f"requests that may wait; more are refused as busy (default {defaults.max_queue})")
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency, metavar="N",
                        help=f"questions answered at the same time (default {defaults.concurrency})")
    parser.add_argument("--max-upload-mb", type=int, default=defaults.max_upload_mb, metavar="MB",
                        help=f"largest file that may be uploaded to the Corpus tab (default {defaults.max_upload_mb})")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a host name browsers may use to reach the server besides 127.0.0.1, localhost and "
                             "the --host address (repeatable; also QA_ALLOWED_HOSTS=name,name); requests for "
                             "any other name are refused, which stops DNS-rebinding pages")
    parser.add_argument("--model", metavar="PATH",
                        help="sentence-transformers model folder the index was built with (default: MiniLM)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the options, open the engine, serve until interrupted; returns the exit code."""
    from qa.cli import EXIT_BAD_INDEX, EXIT_BAD_INPUT, EXIT_OK
    from qa.errors import IndexCorruptError, QAError
    from ui.app import launch

    try:
        extra = [*args.allowed_host, *os.environ.get("QA_ALLOWED_HOSTS", "").split(",")]
        config = ServeConfig(host=args.host, port=args.port, max_queue=args.max_queue,
                             concurrency=args.concurrency, max_upload_mb=args.max_upload_mb,
                             allowed_hosts=tuple(h.strip() for h in extra if h.strip()))
    except ValueError as error:
        print(f"qa serve: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if config.host not in LOCAL_HOSTS:
        print(f"qa serve: warning: listening on {config.host}; anyone who can reach it can ask questions and "
              "add documents (there is no login); only requests for 127.0.0.1, localhost"
              + "".join(f", {h}" for h in config.allowed_hosts)
              + " are answered: add --allowed-host NAME for each name clients use", file=sys.stderr)
    try:
        engine = _open_engine(args.index, args.model)
    except IndexCorruptError as error:
        print(f"qa serve: index error: {error}", file=sys.stderr)
        return EXIT_BAD_INDEX
    except QAError as error:
        print(f"qa serve: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # A plain `kill` should also stop cleanly (closing the server and removing any private index copy).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(EXIT_OK))
    try:
        launch(engine, config, block=True)
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _open_engine(index_dir: str | None, model: str | None = None):
    """The engine to serve. Pages added in the browser are saved into --index DIR; without it they go to a
    private copy of the shipped corpus's index that lasts as long as the server, so the shared cache that
    `qa ask` reads is never changed by an upload."""
    from qa import Engine
    from qa.cli import open_engine

    if index_dir:
        return open_engine(index_dir, model)
    shipped = open_engine(None, model)
    copy = Path(tempfile.mkdtemp(prefix="qa-serve-")) / "index"
    atexit.register(shutil.rmtree, copy.parent, ignore_errors=True)
    shutil.copytree(shipped.index_dir, copy)
    print("qa serve: serving the shipped corpus; pages added in the browser last until the server stops "
          "(serve an index folder with --index DIR to keep them)", file=sys.stderr)
    return Engine.load(copy, embedder=shipped.embedder)
