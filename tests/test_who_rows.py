"""`qa who` rows read as claims a person would accept; a fact that makes none is not a row."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import qa.cli
from qa.cli import main
from qa.who import claim, format_fact


def fact(body, relation, covers=(), status="in force", budget=None, **more):
    values = dict(body=body, relation=relation, covers=list(covers), status=status, budget=budget, place=None,
                  when=None, proposer=None, sentence="The sentence.", title="A title", doc_id="d",
                  sentence_start=0, sentence_end=13)
    values.update(more)
    return SimpleNamespace(**values, to_dict=lambda: dict(values))


@pytest.mark.parametrize("row, expected", [
    (fact("CCGs", "holds budget for", ["budget"]), "CCGs hold the budget"),
    (fact("GP consortia", "holds budget for", ["budget"], budget="£850m"), "GP consortia hold the £850m budget"),
    (fact("CCGs", "holds budget for", ["budget", "primary care"]), "CCGs hold the budget for primary care"),
    (fact("PCTs", "scrapped", status="in force"), "PCTs are scrapped"),
    (fact("PCTs", "scrapped", status="planned"), "PCTs are to be scrapped"),
    (fact("local authorities", "commissions", ["GP services"]), "local authorities commission GP services"),
    (fact("NHS England", "devolves", ["budget"], budget="£6bn"), "NHS England devolves the £6bn budget"),
    (fact("CCGs", "has role in", ["conflicts of interest"]), "CCGs have a role in conflicts of interest"),
    (fact("CCGs", "delegated to", ["QOF", "premises"]), "QOF and premises delegated to CCGs"),
    (fact("GP consortia", "responsible for", ["secondary care"]), "GP consortia are responsible for secondary care"),
])
def test_a_fact_reads_as_a_sentence(row, expected):
    assert claim(row) == expected
    assert format_fact(3, row).startswith(f" 3. {expected} [{row.status}]")


@pytest.mark.parametrize("row", [fact("CCGs", "develops"), fact("NHS England area teams", "has no role in"),
                                 fact("GPs", "delegated to"), fact("local authorities", "must approve")])
def test_a_relation_with_nothing_to_relate_to_is_not_a_row(row):
    assert claim(row) is None and format_fact(1, row) is None


class _Engine:
    def __init__(self, facts):
        self.facts = facts

    def commissioning(self, body=None, place=None, covers=None):
        return self.facts


def test_qa_who_prints_and_counts_only_rows_that_make_claims(monkeypatch, capsys):
    facts = [fact("CCGs", "develops", place="Greater Manchester"), fact("CCGs", "commissions", ["GP services"]),
             fact("PCTs", "scrapped")]
    monkeypatch.setattr(qa.cli, "open_engine", lambda index_dir, model=None: _Engine(facts))
    monkeypatch.setattr("qa.who.open_engine", lambda index_dir, model=None: _Engine(facts))
    assert main(["who", "all"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    assert rows == [" 1. CCGs commission GP services [in force]", " 2. PCTs are scrapped [in force]"]
    assert main(["who", "all", "--json"]) == 0
    assert [f["claim"] for f in json.loads(capsys.readouterr().out)] == ["CCGs commission GP services",
                                                                        "PCTs are scrapped"]
    monkeypatch.setattr("qa.who.open_engine", lambda index_dir, model=None: _Engine(facts[:1]))
    assert main(["who", "CCGs"]) == 1
