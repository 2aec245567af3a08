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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Protocol

from index import lazy_rows
from index.errors import IndexCorruptError, InputError
from index.lexical import tokenize
from index.records import Document, Passage
from index.speakers import Quote, find_quotes

QUOTES_FILE = "quotes.jsonl"
TERMS_FILE = "terms.json"
# Read once: a list of a quote's fields is many times faster than dataclasses.astuple, which deep-copies each.
_QUOTE_FIELDS = tuple(f.name for f in fields(Quote))


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
    """Per-document results of indexing-time analysis. Treated as immutable: updates return a new one.

    A loaded index's quotes and rows are `lazy_rows.LazyRows`, each document's decoded when first read;
    `analyse` makes plain dicts. Either is read as a Mapping."""

    quotes: Mapping[str, tuple[Quote, ...]] = field(default_factory=dict)  # doc_id -> quotes in the article text
    document_frequency: Counter = field(default_factory=Counter)  # term -> passages whose text holds it
    passages: int = 0  # passages counted in document_frequency
    rows: dict[str, Mapping[str, list[dict]]] = field(default_factory=dict)  # analyser -> doc_id -> rows
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

    def rows_of(self, name: str) -> Mapping[str, list[dict]]:
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
    return merge_all([old, new])


def merge_all(analyses: Sequence[Analysis]) -> Analysis:
    """The analyses of disjoint sets of documents as one, in one pass (`merge` of each pair would copy the
    term counts once per pair). An analyser not run, or run in another version, by every one is dropped.
    No document's quotes or rows are decoded."""
    first = analyses[0]
    names = [name for name, version in first.versions.items() if all(a.versions.get(name) == version
                                                                    for a in analyses)]
    frequency = first.document_frequency.copy()  # a dict copy: C speed, unlike Counter's `+`
    for analysis in analyses[1:]:
        frequency.update(analysis.document_frequency)
    quotes = lazy_rows.merged([a.quotes for a in analyses])
    rows = {name: lazy_rows.merged([a.rows[name] for a in analyses]) for name in names}
    return Analysis(quotes, frequency, sum(a.passages for a in analyses), rows,
                    {name: first.versions[name] for name in names})


def without(analysis: Analysis, doc_ids: Iterable[str], removed: Sequence[Passage]) -> Analysis:
    """`analysis` less the documents `doc_ids`, whose passages are `removed`."""
    gone = set(doc_ids)
    frequency = analysis.document_frequency.copy()
    counted = Counter(term for passage in removed for term in set(tokenize(passage.text)))
    frequency.subtract(counted)
    for term in counted:  # only the terms counted down can have reached 0
        if frequency[term] <= 0:
            del frequency[term]
    return Analysis(lazy_rows.without(analysis.quotes, gone), frequency, analysis.passages - len(removed),
                    {name: lazy_rows.without(rows, gone) for name, rows in analysis.rows.items()},
                    dict(analysis.versions))


def part(analysis: Analysis, doc_ids: Sequence[str], passages: Sequence[Passage]) -> Analysis:
    """The analysis of the documents `doc_ids` alone, whose passages are `passages` (their term counts are
    counted again: only the whole index's are kept)."""
    frequency: Counter = Counter()
    for passage in passages:
        frequency.update(set(tokenize(passage.text)))
    return Analysis(lazy_rows.subset(analysis.quotes, doc_ids), frequency, len(passages),
                    {name: lazy_rows.subset(rows, [d for d in doc_ids if d in rows])
                     for name, rows in analysis.rows.items()},
                    dict(analysis.versions))


def complete(analysis: Analysis, documents: Mapping[str, Document], analysers: Sequence[Analyser]) -> Analysis:
    """`analysis` with every analyser in `analysers` run over all `documents` (by id) if its rows are missing
    or were made by another version (an index built without it, or before it changed); the documents are read
    only then."""
    _check_analysers(analysers)
    missing = [a for a in analysers if analysis.versions.get(a.name) != a.version]
    if not missing:
        return analysis
    rows, versions = dict(analysis.rows), dict(analysis.versions)
    for analyser in missing:
        rows[analyser.name] = {d.id: found for d in documents.values() if (found := analyser.analyse(d))}
        versions[analyser.name] = analyser.version
    return Analysis(analysis.quotes, analysis.document_frequency, analysis.passages, rows, versions)


def file_name(analyser: str, prefix: str = "") -> str:
    return f"{prefix}analysis.{analyser}.jsonl"


def keys_file_name(analyser: str, prefix: str = "") -> str:
    """The keys file of an analyser's rows (lazy_rows.string_keys): indexes saved before it have none."""
    return f"{prefix}analysis.{analyser}.keys.json"


def to_files(analysis: Analysis, prefix: str = "") -> dict[str, bytes]:
    """The analysis as JSON files for `index.store.write_index` (its versions go in the manifest's meta), each
    name after `prefix` (a segment's; index/segments.py)."""
    files = {prefix + QUOTES_FILE: lazy_rows.encode_rows(analysis.quotes, _quotes_row),
             prefix + TERMS_FILE: json.dumps({"passages": analysis.passages, "df": analysis.document_frequency},
                                             ensure_ascii=False).encode("utf-8")}
    for name, rows in analysis.rows.items():
        files[file_name(name, prefix)] = lazy_rows.encode_rows(rows, _analyser_row)
        files[keys_file_name(name, prefix)] = lazy_rows.string_keys(files[file_name(name, prefix)])
    for table in (prefix + QUOTES_FILE, *(file_name(name, prefix) for name in analysis.rows)):
        files[lazy_rows.lines_file_name(table)] = lazy_rows.line_index(files[table])
    return files


def _quotes_row(doc_id: str, quotes: Sequence[Quote]) -> dict:
    return {"doc_id": doc_id, "quotes": [[getattr(q, name) for name in _QUOTE_FIELDS] for q in quotes]}


def _analyser_row(doc_id: str, found: list[dict]) -> dict:
    return {"doc_id": doc_id, "rows": found}


def _quotes_of(row: dict) -> tuple[Quote, ...]:
    return tuple(Quote(*q) for q in row["quotes"])


def _rows_of(row: dict) -> list[dict]:
    return row["rows"]


def from_files(files: dict[str, bytes], versions: object, doc_ids: set[str], passages: int,
               prefix: str = "") -> Analysis:
    """Read `to_files` output back, checking it covers exactly `doc_ids` and counts `passages` passages. Only
    the document ids of quotes and rows are read now: each document's are decoded when first read (a malformed
    one raises IndexCorruptError then)."""
    if not isinstance(versions, dict) or not all(isinstance(v, int) for v in versions.values()):
        raise IndexCorruptError(f"the manifest's analysis versions should map names to integers, got {versions!r}")
    quotes_file, terms_file = prefix + QUOTES_FILE, prefix + TERMS_FILE
    missing = [n for n in (quotes_file, terms_file, *(file_name(v, prefix) for v in versions)) if n not in files]
    if missing:
        raise IndexCorruptError(f"the index is missing its analysis file(s) {', '.join(missing)}")
    try:
        quotes = lazy_rows.LazyRows.from_jsonl(files[quotes_file], quotes_file, _quotes_of,
                                               lines=files.get(lazy_rows.lines_file_name(quotes_file)))
        terms = json.loads(str(files[terms_file], "utf-8"))
        frequency, counted = Counter(terms["df"]), terms["passages"]
        rows = {name: lazy_rows.LazyRows.from_jsonl(files[table], table, _rows_of,
                                                    keys=files.get(keys_file_name(name, prefix)),
                                                    lines=files.get(lazy_rows.lines_file_name(table)))
                for name in versions for table in (file_name(name, prefix),)}
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
        raise IndexCorruptError(f"the index's analysis files are malformed ({error})") from error
    if quotes.keys() != doc_ids or counted != passages or any(rows[n].keys() - doc_ids for n in rows):
        raise IndexCorruptError(f"the index's analysis covers {len(quotes)} documents and {counted} passages, "
                                f"the index holds {len(doc_ids)} and {passages}")
    return Analysis(quotes, frequency, counted, rows, dict(versions))
