"""`qa who BODY_OR_SERVICE [--place ...] [--json]`: the cited commissioning map from the command line."""
from __future__ import annotations

import argparse

from qa.cli import EXIT_NOTHING_FOUND, EXIT_OK, add_model_argument, open_engine
from qa.commissioning import find_bodies, find_services
from qa.terminal import json_text, plain


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Who commissions what: facts stated in the articles, each with its source sentence."
    parser.add_argument("subject", metavar="BODY_OR_SERVICE",
                        help='a body ("CCGs", "councils") or a service ("GP services", "QOF"); "all" for everything')
    parser.add_argument("--place", help='only facts about this place ("Greater Manchester", "London")')
    parser.add_argument("--index", metavar="DIR", help="index folder (default: the shipped corpus)")
    add_model_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    engine = open_engine(args.index, args.model)
    facts = [f for f in facts_about(engine, args.subject, args.place) if claim(f) is not None]
    if args.json:
        print(json_text([{**f.to_dict(), "claim": claim(f)} for f in facts]))
    elif not facts:
        print(plain(f"No commissioning facts about {args.subject!r}" + (f" in {args.place}" if args.place else "")
                    + " in these articles."))
    else:
        for n, fact in enumerate(facts, start=1):
            print(plain(format_fact(n, fact)))
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


# Relations that make a claim with no object ("PCTs scrapped"); every other relation needs what it is about.
NO_OBJECT = ("scrapped",)
# Relations that name the budget themselves, so a cover that is just "budget" would say it twice.
ABOUT_BUDGET = ("holds budget for",)
IRREGULAR_PLURAL = {"has": "have", "is": "are"}
ARTICLE_ADDED = {"has role in": "has a role in"}


def claim(fact) -> str | None:
    """The fact as a sentence a person would accept ("CCGs commission GP services"), or None when it does not
    make one (a relation with nothing to relate to: "CCGs develops —")."""
    plural = _plural(fact.body)
    budget = f"the {fact.budget} budget" if fact.budget else "the budget"
    covers = [budget if c.lower() == "budget" else c for c in fact.covers]
    relation = ARTICLE_ADDED.get(fact.relation, fact.relation)
    if relation in ABOUT_BUDGET:
        rest = [c for c in covers if c != budget]
        return f"{fact.body} {_verb('holds', plural)} {budget}" + (f" for {_join(rest)}" if rest else "")
    if relation in NO_OBJECT:
        pending = fact.status in ("planned", "proposed", "demanded", "opposed")
        return f"{fact.body} {'are' if plural else 'is'} {'to be ' if pending else ''}{relation}"
    if not covers:
        return None
    if relation.endswith(" to"):  # "delegated to" reads object first: "QOF delegated to CCGs"
        return f"{_join(covers)} {relation} {fact.body}"
    if relation.startswith("responsible"):
        return f"{fact.body} {'are' if plural else 'is'} {relation} {_join(covers)}"
    first, _, rest = relation.partition(" ")
    return f"{fact.body} {_verb(first, plural)}{' ' + rest if rest else ''} {_join(covers)}"


def format_fact(n: int, fact) -> str | None:
    """A numbered row for the terminal, or None when the fact does not read as a claim."""
    sentence = claim(fact)
    if sentence is None:
        return None
    extras = [x for x in (fact.place, fact.when, fact.proposer and f"proposed by {fact.proposer}") if x]
    head = f"{n:>2}. {sentence} [{fact.status}]"
    return "\n".join([head + (f" ({'; '.join(extras)})" if extras else ""),
                      f"    “{fact.sentence}”", f"    — {fact.title}"])


def _plural(body: str) -> bool:
    last = body.split()[-1] if body.split() else body
    return last.endswith(("s", "ia")) and last not in ("NHS",)


def _verb(verb: str, plural: bool) -> str:
    """A verb in the third person singular ("commissions") agreeing with a plural subject ("commission")."""
    if not plural or not verb.endswith("s"):
        return verb
    return IRREGULAR_PLURAL.get(verb, verb[:-1])


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
