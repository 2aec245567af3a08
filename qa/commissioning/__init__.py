"""Who commissions what: cited commissioning facts read from article sentences, and the vocabulary of
NHS bodies, services, places and sums they are written in.

The family's modules: `facts` reads facts from sentences, using `relations` (trigger verbs and the roles
of their bodies), `fact_status` (in force, planned, proposed ...) and `vocabulary` (canonical names);
`pattern_set` runs the vocabulary's and the triggers' many regexes as one. Other modules use only the names below.
"""
from .facts import (
    RELATION_GROUPS,
    RELATIONS,
    STATUSES,
    CommissioningFact,
    compatible,
    extract_all,
    extract_facts,
    extract_from_files,
    filter_facts,
)
from .pattern_set import PatternSet
from .vocabulary import (
    BODIES,
    PLACES,
    SERVICES,
    Mention,
    canonical_body,
    canonical_place,
    canonical_service,
    find_amounts,
    find_bodies,
    find_places,
    find_services,
    longest_first,
)

__all__ = [
    "CommissioningFact", "RELATIONS", "STATUSES", "RELATION_GROUPS", "compatible",
    "extract_facts", "extract_all", "extract_from_files", "filter_facts",
    "Mention", "longest_first", "find_bodies", "find_services", "find_places", "find_amounts",
    "canonical_body", "canonical_service", "canonical_place", "BODIES", "SERVICES", "PLACES", "PatternSet",
]
