"""ChatSession: resolves follow-ups, asks the engine, records turns, saves and restores."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from qa.chat import ChatSession
from qa.errors import InputError
from qa.types import Answer


@dataclass
class RecordingEngine:
    """A test double for `Engine.ask`: records each call and answers with the question it got."""

    calls: list[dict] = field(default_factory=list)
    fail: bool = False
    replies: dict[str, str] = field(default_factory=dict)  # question -> answer text; absent: abstain

    def ask(self, question, *, k=5, kind="both", doc_ids=None):
        if self.fail:
            raise InputError("engine refused")
        self.calls.append({"question": question, "k": k, "kind": kind, "doc_ids": doc_ids})
        text = self.replies.get(question, "I found nothing that answers this question.")
        return Answer(question=question, text=text, abstained=question not in self.replies)


FIRST = "Who commissions GP services in Greater Manchester?"


def test_follow_up_is_resolved_before_the_engine_sees_it():
    engine = RecordingEngine()
    session = ChatSession(engine)
    first = session.ask(FIRST)
    follow_up = session.ask("and in London?")
    assert engine.calls[1]["question"] == "Who commissions GP services in London?"
    assert (follow_up.question, follow_up.resolved_question) == (
        "and in London?", "Who commissions GP services in London?")
    assert first.resolved_question is None  # not rewritten, so not set
    assert [t.question for t in session.history] == [FIRST, "and in London?"]
    assert session.history[1].entities == ("GP services", "London")


def test_the_answer_lead_is_recorded_for_pronouns_to_point_into():
    replies = {FIRST: "Local authorities will commission them with 12 CCGs. [1] Others disagree. [2]"}
    engine = RecordingEngine(replies=replies)
    session = ChatSession(engine)
    session.ask(FIRST)
    assert session.history[0].answer == "Local authorities will commission them with 12 CCGs."
    session.ask("How many of them agreed?")
    assert engine.calls[1]["question"].startswith("How many of the local authorities agreed (")
    assert session.history[1].answer == ""  # an abstention gives nothing to point into


def test_settings_and_kind_filter_pass_through():
    engine = RecordingEngine()
    session = ChatSession(engine, k=3, kind="comment", doc_ids=["a1", "b2"])
    session.ask(FIRST)
    session.ask("What did readers think?", kind="article", doc_ids=["c3"])
    first = engine.calls[0]
    assert (first["k"], first["kind"], first["doc_ids"]) == (3, "comment", ["a1", "b2"])
    assert (engine.calls[1]["kind"], engine.calls[1]["doc_ids"]) == ("article", ["c3"])
    assert session.kind == "comment"  # an override lasts one question


@pytest.mark.parametrize("kind", ["comments", "", "all", None])
def test_bad_kind_is_refused_with_the_allowed_values(kind):
    with pytest.raises(InputError, match="both, article, comment"):
        ChatSession(RecordingEngine(), kind=kind)


def test_bad_kind_on_ask_is_refused_before_anything_happens():
    engine = RecordingEngine()
    session = ChatSession(engine)
    with pytest.raises(InputError, match="kind must be one of"):
        session.ask(FIRST, kind="replies")
    assert engine.calls == [] and session.history == ()


@pytest.mark.parametrize(
    "options", [{"k": 0}, {"k": "5"}, {"doc_ids": "a1"}, {"doc_ids": [1]}, {"max_turns": 0}]
)
def test_bad_settings_are_refused(options):
    with pytest.raises(InputError):
        ChatSession(RecordingEngine(), **options)


def test_engine_without_ask_is_refused():
    with pytest.raises(InputError, match="ask"):
        ChatSession(object())


def test_failed_question_records_no_turn():
    engine = RecordingEngine(fail=True)
    session = ChatSession(engine)
    with pytest.raises(InputError):
        session.ask(FIRST)
    assert session.history == ()


def test_reset_forgets_the_conversation():
    engine = RecordingEngine()
    session = ChatSession(engine)
    session.ask(FIRST)
    session.reset()
    assert session.history == ()
    answer = session.ask("and in London?")
    assert answer.resolved_question is None and engine.calls[-1]["question"] == "and in London?"


def test_save_and_restore_round_trip_through_json():
    session = ChatSession(RecordingEngine(), k=4, kind="article", doc_ids=["a1"])
    session.ask(FIRST)
    session.ask("and in London?")
    data = json.loads(json.dumps(session.to_dict()))
    restored = ChatSession.from_dict(RecordingEngine(), data)
    assert restored.history == session.history
    assert (restored.k, restored.kind, restored.doc_ids) == (4, "article", ("a1",))
    assert restored.to_dict() == session.to_dict()
    # The restored session carries the conversation on exactly as the original would.
    assert restored.preview("What about NHS England?") == session.preview("What about NHS England?")
    restored_answer, original_answer = restored.ask("Who pays for it?"), session.ask("Who pays for it?")
    assert restored_answer.resolved_question == original_answer.resolved_question


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "format"),
        ({"format": "chat-session", "version": 99}, "version 99"),
        ({"format": "chat-session", "version": 1, "turns": {}}, "turns must be a list"),
        ({"format": "chat-session", "version": 1, "turns": [{"question": "q"}]}, r"turns\[0\]"),
        ({"format": "chat-session", "version": 1, "kind": "everything"}, "kind"),
    ],
)
def test_malformed_saved_data_is_refused(data, message):
    with pytest.raises(InputError, match=message):
        ChatSession.from_dict(RecordingEngine(), data)


def test_history_keeps_only_the_latest_turns():
    session = ChatSession(RecordingEngine(), max_turns=2)
    for place in ("Leeds", "York", "Derby"):
        session.ask(f"Who commissions GP services in {place}?")
    assert [t.question for t in session.history] == [
        "Who commissions GP services in York?", "Who commissions GP services in Derby?"]
