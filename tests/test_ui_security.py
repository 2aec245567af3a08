"""The web app against a forged Host header, framing and sniffing, a question that is not text, an upload
that fails, and server-side rendering; over a keyword-embedder engine (no model)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from index.records import Document
from qa.engine import Engine
from tests.fakes import KeywordEmbedder
from tests.ui_fixtures import served

pytest.importorskip("gradio")
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from ui import ServeConfig
from ui.guard import allowed_hosts, host_name

REPO = Path(__file__).resolve().parents[1]


def _engine() -> Engine:
    return Engine.from_documents([Document(id="d1", title="GP deal", text="CCGs will commission GP services "
                                           "in Testshire from April next year.")],
                                 embedder=KeywordEmbedder(["gp", "ccgs", "services", "testshire"]))


@pytest.fixture(scope="module")
def url():
    with served(_engine(), allowed_hosts=("qa.example.org",)) as address:
        yield address


@pytest.mark.parametrize("host", ["evil.example", "evil.example:7860", "127.0.0.1.evil.example", "[::2]:80"])
def test_a_forged_host_is_refused_for_pages_uploads_and_api_calls(url, host):
    forged = {"Host": host, "Origin": f"http://{host}"}
    assert httpx.get(url, headers=forged).status_code == 421
    upload = httpx.post(url + "gradio_api/upload", headers=forged, files={"files": ("x.txt", b"hi", "text/plain")})
    assert upload.status_code == 421 and "--allowed-host" in upload.text
    call = httpx.post(url + "gradio_api/call/search", headers=forged, json={"data": ["GP", 3, "both", []]})
    assert call.status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:7860", "LOCALHOST", "qa.example.org:443"])
def test_loopback_names_and_configured_hosts_are_served(url, host):
    assert httpx.get(url, headers={"Host": host}).status_code == 200


def test_every_response_carries_the_security_headers(url):
    for response in (httpx.get(url), httpx.get(url + "gradio_api/info"), httpx.get(url + "no-such-page"),
                     httpx.get(url, headers={"Host": "evil.example"})):
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp and "object-src 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def _call(url: str, api: str, data: list) -> str:
    """What the queue streams back for one raw API call (as any HTTP client, not gradio_client, would send it)."""
    event = httpx.post(f"{url}gradio_api/call/{api}", content=json.dumps({"data": data}),
                       headers={"Content-Type": "application/json"}).json()["event_id"]
    return httpx.get(f"{url}gradio_api/call/{api}/{event}", timeout=30).text


@pytest.mark.parametrize("question", ["\ud800", "GP \udcff"])
def test_a_question_that_is_not_text_gets_the_librarys_message(url, question):
    for api, data in (("ask", [question, "both", []]), ("search", [question, 5, "both", []])):
        stream = _call(url, api, data)
        assert "event: error" in stream and "UTF-8" in stream and "null" not in stream.split("event: error")[1], stream


def test_a_refused_upload_names_the_file_but_not_where_the_server_keeps_it(url, tmp_path):
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"title": "x"}\n')
    with pytest.raises(AppError) as refused:
        Client(url, verbose=False, analytics_enabled=False).predict([handle_file(str(bad))], api_name="/add")
    message = str(refused.value)
    assert message.startswith("broken.jsonl line 1: field 'text' must be a non-empty string"), message
    assert "/" not in message and "gradio" not in message


def test_server_side_rendering_stays_off_even_when_the_environment_asks_for_it(monkeypatch):
    # Gradio 6.27-6.31 let a forged Host header bypass authentication through run history when SSR is on.
    import gradio as gr

    from ui.app import launch

    monkeypatch.setenv("GRADIO_SSR_MODE", "True")  # what Gradio reads when launch() is not told
    asked = {}
    real_launch = gr.Blocks.launch
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: asked.update(kw) or real_launch(self, **kw))
    demo, _ = launch(_engine(), ServeConfig(), block=False, quiet=True)
    try:
        assert asked["ssr_mode"] is False and demo.ssr_mode is False
        assert asked["share"] is False and asked["run_history"] is False
    finally:
        demo.close()


def test_serve_prints_where_it_listens_and_no_share_hint(capsys):
    from ui.app import launch

    demo, url = launch(_engine(), ServeConfig(), block=False)
    demo.close()
    out = capsys.readouterr().out
    assert f"Serving the web chat at {url}" in out and "share" not in out.lower()


def test_hosts_are_parsed_and_checked():
    assert host_name("[::1]:7860") == "::1" and host_name("Example.ORG:80") == "example.org"
    assert host_name("::1") == "::1" and host_name("") == ""
    assert allowed_hosts("0.0.0.0") == {"127.0.0.1", "localhost", "::1"}
    assert "10.0.0.5" in allowed_hosts("10.0.0.5") and "qa.example.org" in allowed_hosts("::", ["QA.example.org "])
    with pytest.raises(ValueError, match="host names"):
        ServeConfig(allowed_hosts=("evil.example/path",))


@pytest.mark.parametrize("option, env", [(["--allowed-host", "bad host"], ""), ([], "ok.example,evil/path")])
def test_serve_refuses_a_bad_allowed_host_from_the_option_or_the_environment(option, env):
    done = subprocess.run([sys.executable, "-m", "ui", *option], env={**os.environ, "QA_ALLOWED_HOSTS": env},
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 2 and "allowed_hosts must be host names" in done.stderr, done.stderr
