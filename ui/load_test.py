"""Load test of the web chat: many gradio_client sessions at once, each with its own conversation.

    python -m ui.load_test                          # serves the default corpus in this process
    python -m ui.load_test --index DIR --clients 20
    python -m ui.load_test --url http://127.0.0.1:7860/   # an app already running (no queue check)

Every client asks a different first question, then the same follow-up ("And in London?"). Each
follow-up must be resolved against its own session's first question and no other (no crossed
sessions), and no request may fail. Then a one-slot queue is flooded to check that the refused
requests say the queue is full. Prints p50/p95 seconds per answer; exits 1 if a check fails.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

# (first question, words its follow-up must carry once resolved); the words differ between conversations.
CONVERSATIONS = (
    ("Who will commission GP services in Greater Manchester?", "commission GP services"),
    ("How many CCGs will take control of commissioning GP services?", "How many CCGs"),
    ("Which practices will ditch the national contract?", "practices"),
    ("What do local authorities want from primary care commissioning?", "local authorities"),
    ("What did the BMA say about social care funding?", "BMA"),
    ("What will NHS England do with the primary care budget?", "NHS England"),
    ("What did Simon Stevens say about devolution?", "Simon Stevens"),
    ("Why are PCTs being scrapped?", "PCTs"),
    ("What role will health and wellbeing boards have?", "wellbeing boards"),
    ("Who will hold the budget in Guernsey?", "Guernsey"),
)
FOLLOW_UP = "And in London?"


@dataclass
class LoadReport:
    """What the clients saw: seconds per answer, failures, and follow-ups resolved against another session."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    crossed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.latencies) and not self.errors and not self.crossed

    def summary(self) -> str:
        p50, p95 = percentile(self.latencies, 50), percentile(self.latencies, 95)
        return (f"{len(self.latencies)} answers: p50 {p50:.2f}s, p95 {p95:.2f}s, max {max(self.latencies):.2f}s; "
                f"{len(self.errors)} errors, {len(self.crossed)} crossed sessions")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    return float(np.percentile(values, q, method="inverted_cdf"))


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def run_conversations(url: str, clients: int = 20) -> LoadReport:
    """`clients` sessions at once, each asking its first question and then FOLLOW_UP."""
    report, lock = LoadReport(), threading.Lock()
    sessions = [_client(url) for _ in range(clients)]
    start = threading.Barrier(clients)

    def converse(i: int) -> None:
        first, own = CONVERSATIONS[i % len(CONVERSATIONS)]
        others = {words for _, words in CONVERSATIONS if words != own}
        start.wait()
        try:
            for question in (first, FOLLOW_UP):
                began = time.perf_counter()
                answer = sessions[i].predict(question, "both", [], api_name="/ask")
                with lock:
                    report.latencies.append(time.perf_counter() - began)
            resolved = answer["resolved_question"] or ""
            if own not in resolved or any(words in resolved for words in others):
                with lock:
                    report.crossed.append(f"client {i}: {first!r} then {FOLLOW_UP!r} resolved to {resolved!r}")
        except Exception as error:
            with lock:
                report.errors.append(f"client {i}: {type(error).__name__}: {error}")

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(converse, range(clients)))
    return report


def flood_queue(url: str, requests: int = 6) -> tuple[int, list[str]]:
    """Sends `requests` questions at once; returns (how many were answered, messages of those refused)."""
    sessions = [_client(url) for _ in range(requests)]
    jobs = [s.submit(f"{CONVERSATIONS[0][0]} ({i})", "both", [], api_name="/ask") for i, s in enumerate(sessions)]
    answered, refused = 0, []
    for job in jobs:
        try:
            job.result(timeout=300)
            answered += 1
        except Exception as error:
            refused.append(str(error))
    return answered, refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.load_test", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an app already running; default: serve one in this process")
    parser.add_argument("--index", metavar="DIR", help="index folder to serve (default: the shipped corpus)")
    parser.add_argument("--clients", type=int, default=20, help="sessions at once (default 20)")
    args = parser.parse_args(argv)
    if args.url:
        return _report(run_conversations(args.url, args.clients), None)

    from qa import Engine
    from ui import ServeConfig
    from ui.app import launch

    engine = Engine.load(args.index) if args.index else Engine.default()
    demo, url = launch(engine, ServeConfig(max_queue=max(32, args.clients)), block=False, quiet=True)
    try:
        report = run_conversations(url, args.clients)
    finally:
        demo.close()
    small, small_url = launch(engine, ServeConfig(max_queue=1, concurrency=1), block=False, quiet=True)
    try:
        flooded = flood_queue(small_url)
    finally:
        small.close()
    return _report(report, flooded)


def _report(report: LoadReport, flooded: tuple[int, list[str]] | None) -> int:
    print(report.summary() if report.latencies else "no answers")
    for line in report.errors + report.crossed:
        print("  " + line)
    ok = report.ok
    if flooded is not None:
        answered, refused = flooded
        clear = bool(refused) and all("queue is full" in message.lower() for message in refused)
        said = f" with {refused[0]!r}" if refused else ""
        print(f"full queue: {answered} answered, {len(refused)} refused{said}"
              + ("" if clear else "  <- expected a 'queue is full' refusal"))
        ok = ok and clear and answered > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
