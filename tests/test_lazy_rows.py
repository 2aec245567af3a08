"""Tests for index/lazy_rows.py: a loaded index's quotes and analysers' rows are decoded per document on first
read, load only reads their document ids, and merging, deleting, picking and saving decode nothing."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from index import analysis, lazy_rows
from index.build import build_index, load_index, save_index
from index.corpus import DEFAULT_CORPUS
from index.errors import IndexCorruptError
from index.ingest import load_documents
from index.lazy_rows import LazyRows
from index.records import Passage
from index.speakers import Quote
from index.store import encode_jsonl
from qa.analysis import ANALYSERS
from tests.fakes import KeywordEmbedder

# Ids JSON writes raw, with escapes, and too long for the quick read of a line's start.
IDS = ["plain", "café – Ω", 'say "hi"\\there', "line\u2028sep", "tab\there", "x" * 600]


def _analysis(ids=IDS) -> analysis.Analysis:
    quotes = {d: (Quote(0, 5, f"Dr {d}\u2028", None, 1, 2), Quote(7, 9, "NHS England", "body", 3, 4, "organisation"))
              for d in ids}
    rows = {"facts": {d: [{"body": f"{d} \u2028 CCG", "covers": ["GP"], "n": 1.5}] for d in ids if IDS.index(d) % 2 == 0}}
    return analysis.Analysis(quotes, Counter({"gp": 3}), 3, rows, {"facts": 2})


def _load(files: dict[str, bytes], ids=IDS) -> analysis.Analysis:
    return analysis.from_files(files, {"facts": 2}, set(ids), 3)


def _before_line_indexes(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files as an index saved before tables had line indexes holds them: its tables' lines are found by
    reading them."""
    return {name: data for name, data in files.items() if not name.endswith(".lines.json")}


def test_a_round_trip_gives_equal_values_and_the_same_bytes():
    made = _analysis()
    files = analysis.to_files(made)
    loaded = _load(files)
    assert isinstance(loaded.quotes, LazyRows) and loaded.quotes.decoded() == 0
    assert loaded.quotes.keys() == made.quotes.keys() and list(loaded.rows["facts"]) == list(made.rows["facts"])
    assert analysis.to_files(loaded) == files  # lines not decoded are copied through
    assert loaded.quotes == made.quotes and loaded.rows == made.rows and loaded == made
    assert loaded.quotes.decoded() == len(IDS)
    assert analysis.to_files(loaded) == files  # and decoded ones encode as they were written


def test_a_memoryview_buffer_reads_like_bytes():
    files = {name: memoryview(data) for name, data in analysis.to_files(_analysis()).items()}
    files["terms.json"] = bytes(files["terms.json"])
    assert _load(files).quotes == _analysis().quotes


def test_a_malformed_row_raises_only_when_its_document_is_read():
    files = analysis.to_files(_analysis())
    broken = files["analysis.facts.jsonl"].replace(b'"n": 1.5}', b'"n": 1.5', 1)  # the first row: "plain"
    broken_quotes = files["quotes.jsonl"].replace(b'"quotes": [[0, 5,', b'"quotes": [[0, 5, 0, 0, 0, 0, 0, 0, 0,', 1)  # too many fields
    loaded = _load(_before_line_indexes({**files, "analysis.facts.jsonl": broken, "quotes.jsonl": broken_quotes}))
    facts = loaded.rows_of("facts")
    assert facts[IDS[2]] == _analysis().rows["facts"][IDS[2]]  # its neighbours read as ever
    with pytest.raises(IndexCorruptError, match=r"analysis\.facts\.jsonl: the row of document 'plain' is malformed"):
        facts.get("plain")
    with pytest.raises(IndexCorruptError, match=r"quotes\.jsonl: the row of document 'plain' is malformed"):
        loaded.quotes["plain"]
    assert loaded.quotes[IDS[1]] == _analysis().quotes[IDS[1]]


@pytest.mark.parametrize("line", [b'{"rows": [], "doc_id": "plain"}', b'{"doc_id":"plain", "rows": []}',
                                  b'{"doc_id": "unterminated', b'{"doc_id": 7, "rows": []}', b"not json"])
def test_a_line_not_starting_with_its_document_id_is_refused_at_load(line):
    files = analysis.to_files(_analysis())
    stored = files["analysis.facts.jsonl"].split(b"\n")
    stored[1] = line
    with pytest.raises(IndexCorruptError, match=r"analysis\.facts\.jsonl line 2: a row should start"):
        _load(_before_line_indexes({**files, "analysis.facts.jsonl": b"\n".join(stored)}))


def test_blank_lines_are_skipped_and_a_load_checks_the_documents():
    files = analysis.to_files(_analysis())
    padded = {**files, "quotes.jsonl": b"\n  \n" + files["quotes.jsonl"].replace(b"\n", b"\n\n") + b" \n"}
    assert _load(_before_line_indexes(padded)).quotes == _analysis().quotes
    with pytest.raises(IndexCorruptError, match="covers 6 documents"):
        _load(files, IDS[1:])


def test_merging_deleting_and_picking_decode_nothing():
    made = {d: _analysis([d]) for d in IDS}
    loaded = {d: _load(analysis.to_files(one), [d]) for d, one in made.items()}
    passage = Passage(id="p", doc_id="plain", kind="article", title="T", author=None,
                      start=0, end=11, text="gp services")
    loaded["plain"].quotes["plain"]  # one document read before: its value travels decoded
    whole = analysis.merge_all(list(loaded.values()))
    less = analysis.without(whole, ["plain", "line\u2028sep"], [passage])
    picked = analysis.part(less, ["café – Ω", "tab\there"], [passage])
    for result in (whole, less, picked):
        assert isinstance(result.quotes, LazyRows) and result.quotes.decoded() == (result is whole)
        assert all(rows.decoded() == 0 for rows in result.rows.values())
    assert list(less.quotes) == [d for d in IDS if d not in ("plain", "line\u2028sep")]
    assert list(picked.quotes) == ["café – Ω", "tab\there"] and list(picked.rows["facts"]) == ["tab\there"]
    assert picked.quotes == {d: made[d].quotes[d] for d in picked.quotes}
    assert whole == analysis.merge_all(list(made.values()))  # as plain dicts merge
    with pytest.raises(KeyError):
        analysis.part(less, ["plain"], [])


def test_plain_dicts_stay_plain_dicts():
    rows = {"a": 1, "b": 2}
    assert lazy_rows.merged([rows, {"c": 3}]) == {"a": 1, "b": 2, "c": 3}
    assert type(lazy_rows.without(rows, {"a"})) is dict and lazy_rows.subset(rows, ["b"]) == {"b": 2}
    mixed = lazy_rows.merged([rows, _load(analysis.to_files(_analysis())).rows["facts"]])
    assert isinstance(mixed, LazyRows) and mixed.decoded() == 2 and mixed["a"] == 1 and len(mixed) == 2 + 3


def test_a_loaded_index_reads_no_row_until_asked(tmp_path):
    documents = load_documents(sorted(DEFAULT_CORPUS.glob("*.txt")))[:3]
    built = build_index(documents, KeywordEmbedder(["gp", "nhs"]), analysers=ANALYSERS)
    save_index(built, tmp_path)
    loaded = load_index(tmp_path, analysers=ANALYSERS)
    assert loaded.analysis.quotes.decoded() == 0 and loaded.analysis.rows_of("commissioning").decoded() == 0
    assert loaded.quotes(documents[1].id) == built.quotes(documents[1].id)
    assert loaded.analysis.quotes.decoded() == 1
    assert loaded.analysis == built.analysis


def test_a_loaded_engine_reads_no_document_until_a_question_needs_one(tmp_path):
    from qa.engine import Engine

    documents = load_documents(sorted(DEFAULT_CORPUS.glob("*.txt")))
    embedder = KeywordEmbedder(["gp", "nhs", "ccgs", "commission", "manchester"])
    save_index(build_index(documents, embedder, analysers=ANALYSERS), tmp_path)
    engine = Engine.load(tmp_path, embedder=embedder)
    stored = engine._index.documents
    assert isinstance(stored, LazyRows) and stored.decoded() == 0 and len(stored) == len(documents)
    answer = engine.ask("Who will commission GP services in Manchester?")
    assert answer.citations and 0 < stored.decoded() <= len(documents)
    assert {d.id: d for d in engine.documents()} == {d.id: d for d in documents}


def _fact_rows(count: int = 9) -> bytes:
    return encode_jsonl({"doc_id": f"d{n}", "rows": [
        {"covers": ["GP services" if n % 3 == 0 else "dental services"], "place": "Leeds" if n % 2 else "Kent",
         "note": "GP services\u2028in a note" if n == 4 else ""}]} for n in range(count))


@pytest.mark.parametrize("keyed", [True, False], ids=["keys file", "older table without one"])
def test_holding_finds_the_rows_naming_a_string_of_each_group_in_order_without_decoding_any(keyed):
    data = _fact_rows()
    lazy = LazyRows.from_jsonl(data, "analysis.commissioning.jsonl", lambda row: row["rows"],
                               keys=lazy_rows.string_keys(data) if keyed else None)
    assert list(lazy.holding([{"GP services"}])) == ["d0", "d3", "d6"]  # a longer string holding the name is not it
    assert list(lazy.holding([{"Leeds", "GP services"}])) == ["d0", "d1", "d3", "d5", "d6", "d7"]
    assert list(lazy.holding([{"GP services"}, {"Leeds"}])) == ["d3"]  # one of each group
    assert list(lazy.holding([{"nowhere"}])) == [] and lazy.decoded() == 0
    lazy["d3"]  # decoding a row changes nothing of what holds it
    assert list(lazy.holding([{"GP services"}])) == ["d0", "d3", "d6"] and lazy.decoded() == 1


def test_holding_skips_deleted_rows_and_counts_in_rows_held_in_memory():
    data = _fact_rows()
    lazy = LazyRows.from_jsonl(data, "analysis.commissioning.jsonl", lambda row: row["rows"],
                               keys=lazy_rows.string_keys(data))
    changed = lazy_rows.merged([lazy_rows.without(lazy, {"d3"}), {"d3": [{"covers": ["urgent care"]}]}])
    # d3's stored row is gone; the row that replaced it is in memory only, so it may hold anything: its caller tests it
    assert list(changed.holding([{"GP services"}])) == ["d0", "d6", "d3"]


def test_string_keys_lists_the_short_string_values_of_each_line_not_its_object_keys():
    keys = json.loads(lazy_rows.string_keys(encode_jsonl([
        {"doc_id": "a", "rows": [{"place": "Kent", "quote": "say \"hi\"", "n": 2}]},
        {"doc_id": "b", "rows": [{"place": "Kent", "long": "x" * (lazy_rows.KEY_BYTES + 1)}]}])))
    assert keys == {"a": [0], "b": [1], "Kent": [0, 1], 'say "hi"': [0]}


def test_a_line_index_gives_the_rows_without_reading_the_tables_lines(monkeypatch):
    files = analysis.to_files(_analysis())
    assert {"quotes.lines.json", "analysis.facts.lines.json"} <= set(files)
    scanned = _load(_before_line_indexes(files))
    monkeypatch.setattr(lazy_rows, "_doc_id", lambda *args: pytest.fail("a line's start was read"))
    indexed = _load(files)
    assert list(indexed.quotes) == list(scanned.quotes) and list(indexed.rows["facts"]) == list(scanned.rows["facts"])
    assert indexed == _analysis()
    monkeypatch.undo()  # a save writes the line index from the lines it writes
    assert analysis.to_files(indexed) == files


@pytest.mark.parametrize("damage", [
    lambda index: {**index, "ends": index["ends"][:-1]},  # a line missing
    lambda index: {**index, "ends": [end + 1 for end in index["ends"]]},  # offsets that are not newlines
    lambda index: {**index, "ids": index["ids"][::-1][:1] * len(index["ids"])},  # one id for every line
    lambda index: {"ids": index["ids"]},
])
def test_a_line_index_that_does_not_match_its_table_is_refused_by_name(damage):
    files = analysis.to_files(_analysis())
    index = json.loads(files["quotes.lines.json"])
    with pytest.raises(IndexCorruptError, match=r"line index of quotes\.jsonl"):
        _load({**files, "quotes.lines.json": json.dumps(damage(index)).encode()})
