"""`qa who BODY_OR_SERVICE [--place ...] [--json]`: the cited commissioning map from the command line."""
from __future__ import annotations

import argparse
import json

from qa.cli import EXIT_NOTHING_FOUND, EXIT_OK, open_engine
from qa.vocabulary import find_bodies, find_services


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Who commissions what: facts stated in the articles, each with its source sentence."
    parser.add_argument("subject", metavar="BODY_OR_SERVICE",
                        help='a body ("CCGs", "councils") or a service ("GP services", "QOF"); "all" for everything')
    parser.add_argument("--place", help='only facts about this place ("Greater Manchester", "London")')
    parser.add_argument("--index", metavar="DIR", help="index folder (default: the shipped corpus)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    engine = open_engine(args.index)
    facts = facts_about(engine, args.subject, args.place)
    if args.json:
        print(json.dumps([f.to_dict() for f in facts], ensure_ascii=False, indent=2))
    elif not facts:
        print(f"No commissioning facts about {args.subject!r}" + (f" in {args.place}" if args.place else "") +
              " in these articles.")
    else:
        for n, fact in enumerate(facts, start=1):
            print(format_fact(n, fact))
    return EXIT_OK if facts else EXIT_NOTHING_FOUND


def facts_about(engine, subject: str, place: str | None):
    """Facts whose body is `subject`, or which cover it when it names a service."""
    if subject.strip().lower() == "all":
        return engine.commissioning(place=place)
    by_body = engine.commissioning(body=subject, place=place) if find_bodies(subject) or not find_services(subject) \
        else []
    by_service = engine.commissioning(covers=subject, place=place) if find_services(subject) else []
    seen, facts = set(), []
    for fact in by_body + by_service:
        key = (fact.doc_id, fact.sentence_start, fact.body, fact.relation)
        if key not in seen:
            seen.add(key)
            facts.append(fact)
    return facts


def format_fact(n: int, fact) -> str:
    covers = ", ".join(fact.covers) or "—"
    extras = [x for x in (fact.place, fact.when, fact.budget and f"budget {fact.budget}",
                          fact.proposer and f"proposed by {fact.proposer}") if x]
    # "delegated to" reads object first: "QOF delegated to CCGs".
    claim = f"{covers} {fact.relation} {fact.body}" if fact.relation.endswith(" to") else \
        f"{fact.body} {fact.relation} {covers}"
    head = f"{n:>2}. {claim} [{fact.status}]"
    return "\n".join([head + (f" ({'; '.join(extras)})" if extras else ""),
                      f"    “{fact.sentence}”", f"    — {fact.title}"])
