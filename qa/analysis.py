"""The analysers the engine has the index run on every document it adds: commissioning facts, read once
when a document is indexed and kept with the index (`index.analysis`), never on a question.

The index holds a generic hook (an `index.analysis.Analyser` is a name, a version and a function from a
document to JSON rows) rather than importing this: `index` stays below `qa`, and the extractor, which
needs the vocabulary and relation patterns of `qa`, stays where it is.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from index.build import CorpusIndex
from index.lazy_rows import LazyRows
from index.records import Document
from qa.commissioning import CommissioningFact, extract_facts

# Fields a stored row leaves out: the document gives them back (its id, title and source, the sentence's text).
_FROM_DOCUMENT = ("doc_id", "title", "sentence", "source")


class CommissioningAnalyser:
    """Commissioning facts of an article's text, one row per fact."""

    name = "commissioning"
    version = 1  # bump when the extractor's output changes: saved indexes are then re-analysed on load

    def analyse(self, document: Document) -> list[dict]:
        rows = []
        for fact in extract_facts(document):
            row = fact.to_dict()
            for key in _FROM_DOCUMENT:
                del row[key]
            rows.append(row)
        return rows


ANALYSERS = (CommissioningAnalyser(),)


def commissioning_facts(index: CorpusIndex) -> list[CommissioningFact]:
    """The stored facts of every document, in document order (as `extract_all` would give them)."""
    stored = index.analysis.rows_of(CommissioningAnalyser.name)
    return [_fact(doc_id, document, row)
            for doc_id, document in index.documents.items() for row in stored.get(doc_id, ())]


def stored_facts_where(index: CorpusIndex, test: Callable[[Sequence[str], str | None, str], bool],
                       limit: int, doc_ids: Sequence[str] | None = None) -> list[CommissioningFact]:
    """The first `limit` stored facts (document order) of `doc_ids` (None: every document) whose (covers,
    place, body) pass `test`. The rows are tested as stored and only those kept become CommissioningFacts:
    a question over a large archive does not build an object for every fact in it."""
    stored = index.analysis.rows_of(CommissioningAnalyser.name)
    wanted = None if doc_ids is None else set(doc_ids)
    groups = getattr(test, "groups", None)  # a FactTest: only rows holding a name of each group can pass
    if groups is not None and isinstance(stored, LazyRows):
        candidates = stored.holding(groups())  # loaded rows, looked up by key in document order, none decoded
    else:
        candidates = iter(index.documents)
    found = []
    for doc_id in candidates:  # read (decoded, in a loaded archive) only until `limit` facts are kept
        if wanted is not None and doc_id not in wanted:
            continue
        for row in stored.get(doc_id, ()):
            if test(row["covers"], row["place"], row["body"]):
                found.append(_fact(doc_id, index.documents[doc_id], row))
                if len(found) == limit:
                    return found
    return found


def _fact(doc_id: str, document: Document, row: dict) -> CommissioningFact:
    return CommissioningFact(**{**row, "covers": tuple(row["covers"]), "covers_text": tuple(row["covers_text"])},
                             doc_id=doc_id, title=document.title, source=document.source,
                             sentence=document.text[row["sentence_start"]:row["sentence_end"]])
