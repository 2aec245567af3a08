"""Answering "who commissions what" questions from the extracted commissioning facts.

A question of that shape ("who commissions GP services in London?", "which body holds the budget?")
is matched against the facts by the services, places and bodies it names; the facts' sentences
then join the sentences the answer model reads, so a fact that answers is cited.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class FactTest:
    """Does a fact's (covers, place, body) hold what a who-question names: its services, its places, and when
    it names neither, the bodies (other than the asker's subject) it asks about?"""

    services: frozenset[str]
    places: frozenset[str]
    bodies: frozenset[str]

    def __call__(self, covers: Sequence[str], place: str | None, body: str) -> bool:
        return ((not self.services or bool(self.services & set(covers)))
                and (not self.places or place in self.places)
                and bool(self.services or self.places or body in self.bodies))

    def groups(self) -> list[frozenset[str]]:
        """Names a fact passing the test holds, one of each group at least: the services and the places asked
        about, else the bodies (so stored rows can be looked up by them before any is read)."""
        return [names for names in (self.services, self.places) if names] or [self.bodies]


def fact_test(question: str) -> FactTest | None:
    """For a who-commissions question, the test its facts must pass; None for any other question."""
    if not is_who_question(question):
        return None
    return FactTest(frozenset(m.canonical for m in find_services(question)),
                    frozenset(m.canonical for m in find_places(question)),
                    frozenset(m.canonical for m in find_bodies(question)))
