"""Answering "who commissions what" questions from the extracted commissioning facts.

A question of that shape ("who commissions GP services in London?", "which body holds the budget?")
is matched against the facts by the services, places and bodies it names; the facts' sentences
then join the sentences the answer model reads, so a fact that answers is cited.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.commissioning import find_bodies, find_places, find_services

# "who/which body ... commission / is responsible / holds the budget / approves ..."
_WHO = re.compile(r"\b(?:who|which\s+(?:body|bodies|organisations?|organizations?)|whose)\b", re.I)
_ROLE = re.compile(
    r"\b(?:commission\w*|responsib\w*|in charge|control\w*|budget\w*|hold\w*|run\w*|approv\w*|sign\w* off|"
    r"liab\w*|delegat\w*|devolv\w*|take\w* over|taking over|fund\w*|pay\w*|manag\w*)\b", re.I)
MAX_FACTS = 4


def is_who_question(question: str) -> bool:
    """Whether the question asks which body commissions, holds or approves something."""
    return bool(_WHO.search(question) and _ROLE.search(question))


def fact_test(question: str) -> Callable[[Sequence[str], str | None, str], bool] | None:
    """For a who-commissions question, a test of a fact's (covers, place, body): does it hold what the
    question names (services, places, bodies other than the asker's subject)? None for any other question."""
    if not is_who_question(question):
        return None
    services = {m.canonical for m in find_services(question)}
    places = {m.canonical for m in find_places(question)}
    bodies = {m.canonical for m in find_bodies(question)}

    def matches(covers: Sequence[str], place: str | None, body: str) -> bool:
        return ((not services or bool(services & set(covers))) and (not places or place in places)
                and bool(services or places or body in bodies))

    return matches
