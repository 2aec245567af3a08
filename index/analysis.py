"""What indexing reads out of each document and keeps with the index, so that no question works it out:
quoted speech and its speakers, how many passages hold each term (the answer's idf weights), and the
rows of any analysers the caller adds (the `qa` layer adds commissioning facts, in `qa/analysis.py`).

Everything is kept per document, so adding analyses only what is added and deleting drops only what is
deleted. Analysers are a protocol the caller passes in, not an import, so `index` never imports `qa`.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, field
from typing import Protocol

from index.errors import IndexCorruptError, InputError
from index.lexical import tokenize
from index.records import Document, Passage
from index.speakers import Quote, find_quotes
from index.store import decode_jsonl, encode_jsonl

QUOTES_FILE = "quotes.jsonl"
TERMS_FILE = "terms.json"


class Analyser(Protocol):
    """Reads one document into JSON-serialisable rows, kept with the index under `name`."""

    name: str  # letters, digits and "_": the rows are saved as analysis.<name>.jsonl
    version: int  # bump when the rows change: an index analysed by another version is re-analysed on load

    def analyse(self, document: Document) -> list[dict]: ...


def _check_analysers(analysers: Sequence[Analyser]) -> None:
    names = [getattr(a, "name", None) for a in analysers]
    for analyser, name in zip(analysers, names):
        version = getattr(analyser, "version", None)
        if not isinstance(name, str) or not name.isidentifier() or not isinstance(version, int):
            raise InputError(f"an analyser needs a name of letters, digits and '_' and an integer version, "
                             f"got name {name!r} in {type(analyser).__name__}")
    if len(set(names)) != len(names):
        raise InputError(f"analyser names must differ, got {names}")


@dataclass
class Analysis:
    """Per-document results of indexing-time analysis. Treated as immutable: updates return a new one."""

    quotes: dict[str, tuple[Quote, ...]] = field(default_factory=dict)  # doc_id -> quotes in the article text
    document_frequency: Counter = field(default_factory=Counter)  # term -> passages whose text holds it
    passages: int = 0  # passages counted in document_frequency
    rows: dict[str, dict[str, list[dict]]] = field(default_factory=dict)  # analyser -> doc_id -> rows
    versions: dict[str, int] = field(default_factory=dict)  # analyser -> the version that made its rows
    # idf() on first call; declared so the dataclass shows all it holds (no attribute is added later).
    _idf: dict[str, float] | None = field(default=None, init=False, repr=False, compare=False)

    def idf(self) -> dict[str, float]:
        """Each term's inverse document frequency over passage texts (BM25's form), computed once."""
        if self._idf is None:
            count = self.passages
            self._idf = {term: math.log(1 + (count - df + 0.5) / (df + 0.5))
                         for term, df in self.document_frequency.items()}
        return self._idf

    def rows_of(self, name: str) -> dict[str, list[dict]]:
        """An analyser's rows by document id (documents with no rows are absent)."""
        return self.rows.get(name, {})


def analyse(documents: Sequence[Document], passages: Sequence[Passage], analysers: Sequence[Analyser]) -> Analysis:
    """The analysis of `documents`, whose passages are `passages` (and no others')."""
    _check_analysers(analysers)
    frequency: Counter = Counter()
    for passage in passages:
        frequency.update(set(tokenize(passage.text)))
    rows: dict[str, dict[str, list[dict]]] = {a.name: {} for a in analysers}
    for analyser in analysers:
        for document in documents:
            found = analyser.analyse(document)
            if found:
                rows[analyser.name][document.id] = found
    return Analysis({d.id: tuple(find_quotes(d.text)) for d in documents}, frequency, len(passages), rows,
                    {a.name: a.version for a in analysers})


def merge(old: Analysis, new: Analysis) -> Analysis:
    """`old` with `new` added (their documents differ). An analyser only one of them ran is dropped:
    its rows would be missing for the other's documents (`complete` runs it again)."""
    names = [name for name, version in old.versions.items() if new.versions.get(name) == version]
    return Analysis({**old.quotes, **new.quotes}, old.document_frequency + new.document_frequency,
                    old.passages + new.passages, {name: {**old.rows[name], **new.rows[name]} for name in names},
                    {name: old.versions[name] for name in names})


def without(analysis: Analysis, doc_ids: Iterable[str], removed: Sequence[Passage]) -> Analysis:
    """`analysis` less the documents `doc_ids`, whose passages are `removed`."""
    gone = set(doc_ids)
    frequency = analysis.document_frequency.copy()
    frequency.subtract(term for passage in removed for term in set(tokenize(passage.text)))
    frequency = Counter({term: df for term, df in frequency.items() if df > 0})
    return Analysis({d: q for d, q in analysis.quotes.items() if d not in gone}, frequency,
                    analysis.passages - len(removed),
                    {name: {d: r for d, r in rows.items() if d not in gone} for name, rows in analysis.rows.items()},
                    dict(analysis.versions))


def complete(analysis: Analysis, documents: Sequence[Document], analysers: Sequence[Analyser]) -> Analysis:
    """`analysis` with every analyser in `analysers` run over all `documents` if its rows are missing or
    were made by another version (an index built without it, or before it changed)."""
    _check_analysers(analysers)
    missing = [a for a in analysers if analysis.versions.get(a.name) != a.version]
    if not missing:
        return analysis
    rows, versions = dict(analysis.rows), dict(analysis.versions)
    for analyser in missing:
        rows[analyser.name] = {d.id: found for d in documents if (found := analyser.analyse(d))}
        versions[analyser.name] = analyser.version
    return Analysis(analysis.quotes, analysis.document_frequency, analysis.passages, rows, versions)


def file_name(analyser: str) -> str:
    return f"analysis.{analyser}.jsonl"


def to_files(analysis: Analysis) -> dict[str, bytes]:
    """The analysis as JSON files for `index.store.write_index` (its versions go in the manifest's meta)."""
    files = {QUOTES_FILE: encode_jsonl({"doc_id": doc_id, "quotes": [list(astuple(q)) for q in quotes]}
                                 for doc_id, quotes in analysis.quotes.items()),
             TERMS_FILE: json.dumps({"passages": analysis.passages, "df": analysis.document_frequency},
                                    ensure_ascii=False).encode("utf-8")}
    for name, rows in analysis.rows.items():
        files[file_name(name)] = encode_jsonl({"doc_id": doc_id, "rows": found} for doc_id, found in rows.items())
    return files


def from_files(files: dict[str, bytes], versions: object, doc_ids: set[str], passages: int) -> Analysis:
    """Read `to_files` output back, checking it covers exactly `doc_ids` and counts `passages` passages."""
    if not isinstance(versions, dict) or not all(isinstance(v, int) for v in versions.values()):
        raise IndexCorruptError(f"the manifest's analysis versions should map names to integers, got {versions!r}")
    missing = [n for n in (QUOTES_FILE, TERMS_FILE, *map(file_name, versions)) if n not in files]
    if missing:
        raise IndexCorruptError(f"the index is missing its analysis file(s) {', '.join(missing)}")
    try:
        quotes = {row["doc_id"]: tuple(Quote(*q) for q in row["quotes"]) for row in decode_jsonl(files[QUOTES_FILE])}
        terms = json.loads(files[TERMS_FILE].decode("utf-8"))
        frequency, counted = Counter(terms["df"]), terms["passages"]
        rows = {name: {row["doc_id"]: row["rows"] for row in decode_jsonl(files[file_name(name)])} for name in versions}
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
        raise IndexCorruptError(f"the index's analysis files are malformed ({error})") from error
    if quotes.keys() != doc_ids or counted != passages or any(rows[n].keys() - doc_ids for n in rows):
        raise IndexCorruptError(f"the index's analysis covers {len(quotes)} documents and {counted} passages, "
                                f"the index holds {len(doc_ids)} and {passages}")
    return Analysis(quotes, frequency, counted, rows, dict(versions))


