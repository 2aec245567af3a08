"""The web chat in a real headless Chromium, used the way a person would: ask, read, open, add a page.

Screenshots of the main states go to artifacts/screenshots/ (at 1280x800 and 390 px wide).
"""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from tests.ui_fixtures import XSS_FLAGS, XSS_QUESTION, served, ui_engine, write_xss_page  # noqa: F401

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.model]

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ANSWER_TIMEOUT = 60_000  # ms; the first question also warms the model up


@pytest.fixture(scope="module")
def app_url(ui_engine):
    with served(ui_engine) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if not executable:
        pytest.skip("Debian's chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def open_page(browser, app_url):
    """Opens the app in a fresh context; records dialogs, page errors and requests that leave the host."""
    contexts = []

    def _open(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.dialogs, page.errors, page.outside = [], [], []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("request", lambda request: None if request.url.startswith(app_url)
                or request.url.startswith(("data:", "blob:")) else page.outside.append(request.url))
        page.goto(app_url)
        page.wait_for_selector("#qa-question textarea", timeout=30_000)
        return page

    yield _open
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def ask(page, question: str) -> None:
    turns = page.locator("#qa-conversation .qa-turn").count()
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    page.wait_for_function(
        f"document.querySelectorAll('#qa-conversation .qa-turn').length > {turns}"
        " && !document.querySelector('#qa-conversation .qa-pending')", timeout=ANSWER_TIMEOUT)


def in_view(page, selector: str) -> bool:
    """True when the element's first line is inside the window and inside its scrolling panel."""
    return page.evaluate("""(selector) => {
        const el = document.querySelector(selector);
        if (!el) return false;
        const r = el.getClientRects()[0];
        let box = el.parentElement;
        while (box && box !== document.body && getComputedStyle(box).overflowY !== 'auto') box = box.parentElement;
        const b = box && box !== document.body ? box.getBoundingClientRect() : {top: 0, bottom: innerHeight};
        return r.top >= Math.max(0, b.top) && r.bottom <= Math.min(innerHeight, b.bottom);
    }""", selector)


def test_ask_read_sources_open_one_and_follow_up(open_page):
    page = open_page()
    # Gradio draws the examples a frame after the question box, later still on a cold server.
    page.wait_for_selector("#qa-examples", state="visible", timeout=10_000)
    shot(page, "desktop-1-first-visit")

    ask(page, "Who will commission GP services in Greater Manchester?")
    answer = page.locator("#qa-conversation .qa-answer").last
    assert answer.locator("button.qa-cite").count() >= 1
    cards = page.locator("#qa-sources article.qa-card")
    assert cards.count() == answer.locator("button.qa-cite").count()
    assert cards.first.locator("mark").inner_text().strip()
    page.wait_for_selector("#qa-examples", state="hidden", timeout=10_000)  # examples are for the first visit
    shot(page, "desktop-2-answer-with-sources")

    last = cards.nth(cards.count() - 1)
    supporting = last.locator("mark").inner_text().strip()
    last.locator("button.qa-open").click()
    page.wait_for_selector("#qa-article #qa-focus mark", timeout=30_000)
    # the same words; a citation read with the sentence before it may span a paragraph break, which the
    # article shows as one and the card's one-line mark does not
    assert " ".join(page.locator("#qa-article #qa-focus mark").inner_text().split()) == " ".join(supporting.split())
    page.wait_for_timeout(300)
    assert in_view(page, "#qa-article #qa-focus mark")
    shot(page, "desktop-3-source-opened")

    ask(page, "And in London?")
    resolved = page.locator("#qa-conversation .qa-resolved").last
    assert "London" in resolved.inner_text() and "commission GP services" in resolved.inner_text()
    page.locator("#qa-conversation button.qa-cite").first.click()  # a marker in the answer opens its source
    page.wait_for_selector("#qa-article #qa-focus", timeout=30_000)
    shot(page, "desktop-4-follow-up")

    page.click("#qa-new")
    page.wait_for_selector("#qa-conversation .qa-empty", timeout=30_000)
    page.wait_for_selector("#qa-examples", state="visible", timeout=10_000)  # drawn in the same update, a frame later
    page.locator("#qa-examples button").first.click()  # an example question asks itself
    page.wait_for_selector("#qa-conversation .qa-answer:not(.qa-pending)", timeout=ANSWER_TIMEOUT)
    assert page.locator("#qa-conversation .qa-turn").count() == 1
    assert not page.dialogs and not page.errors and not page.outside, (page.dialogs, page.errors, page.outside)


def test_nothing_found_shows_the_nearest_passages(open_page):
    page = open_page()
    ask(page, "What is the recipe for a good sourdough loaf with rye flour?")
    nothing = page.locator("#qa-conversation .qa-nothing")
    assert "Nothing found in these articles" in nothing.inner_text()
    assert page.locator("#qa-sources article.qa-card").count() >= 1
    nothing.locator("button.qa-link").click()
    page.wait_for_selector("#qa-article #qa-focus", timeout=30_000)
    shot(page, "desktop-5-nothing-found")


def test_hostile_page_added_in_the_corpus_tab_runs_nothing(open_page, tmp_path):
    page = open_page()
    page.add_init_script("window.__probe = 1")  # proves the page's own scripts run while payloads do not
    page.reload()
    page.wait_for_selector("#qa-question textarea", timeout=30_000)
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(write_xss_page(tmp_path)))
    page.wait_for_timeout(500)
    page.click("#qa-add")
    page.wait_for_selector("#qa-add-status .qa-added", timeout=ANSWER_TIMEOUT)
    assert "Added 1 article" in page.locator("#qa-add-status").inner_text()
    assert 'onerror="window.__xss_title=1"' in page.locator("#qa-corpus").inner_text()  # shown, as text
    shot(page, "desktop-6-corpus-added")

    page.get_by_role("tab", name="Chat").click()
    ask(page, XSS_QUESTION)
    shot(page, "desktop-7-hostile-answer")
    card = page.locator("#qa-sources article.qa-card-comment", has_text="Testshire").first
    card.locator("button.qa-open").click()
    page.wait_for_selector("#qa-article .qa-thread", timeout=30_000)
    thread = page.locator("#qa-article").inner_text()
    assert "<script>window.__xss=1</script>" in thread and "javascript:window.__xss=3" in thread
    shot(page, "desktop-8-hostile-comment-as-text")

    assert page.evaluate("window.__probe") == 1
    for flag in XSS_FLAGS:
        assert page.evaluate(f"window.{flag}") is None, flag
    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    assert page.locator("a[href^='javascript:'], iframe, #qa-article img, #qa-article svg").count() == 0
    assert not page.dialogs and not page.errors and not page.outside, (page.dialogs, page.errors, page.outside)


def test_who_commissions_what_table_opens_its_sources(open_page):
    page = open_page()
    page.get_by_role("tab", name="Who commissions what").click()
    page.wait_for_selector("#qa-facts table", timeout=30_000)
    assert page.locator("#qa-facts-picture svg path").count() > 0
    rows = page.locator("#qa-facts tbody tr").count()
    page.locator("#qa-facts button[data-open]").nth(2).click()
    page.wait_for_selector("#qa-fact-source #qa-focus mark", timeout=30_000)
    shot(page, "desktop-9-who-commissions-what")
    page.locator("#qa-facts-picture").scroll_into_view_if_needed()
    page.get_by_label("Body").first.fill("CCGs")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#qa-facts tbody tr').length < {rows}", timeout=30_000)
    bodies = page.locator("#qa-facts tbody tr td:first-child").all_inner_texts()
    assert bodies and set(bodies) == {"CCGs"}


def _open_a_comment_source_at_phone_width(open_page):
    page = open_page(PHONE)
    shot(page, "phone-1-first-visit")
    ask(page, "What do readers think about CCGs taking over the GP budget?")
    assert page.locator("#qa-sources article.qa-card").count() >= 1
    shot(page, "phone-2-answer")
    page.locator("#qa-sources article.qa-card button.qa-open").first.click()
    page.wait_for_selector("#qa-article #qa-focus", timeout=30_000)
    page.wait_for_timeout(300)
    shot(page, "phone-3-source-opened")
    return page


def test_phone_width_reads_without_sideways_scrolling(open_page):
    page = _open_a_comment_source_at_phone_width(open_page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_phone_width_scrolls_the_cited_sentence_into_view(open_page):
    page = _open_a_comment_source_at_phone_width(open_page)
    assert in_view(page, "#qa-article #qa-focus mark")


@pytest.mark.slow
def test_a_full_queue_says_busy_and_leaves_no_half_drawn_answer(browser, ui_engine):
    from gradio_client import Client

    with served(ui_engine, max_queue=1, concurrency=1) as url:
        stop = threading.Event()

        def keep_busy():  # three sessions asking over and over keep the one queue slot full
            sessions = [Client(url, verbose=False, analytics_enabled=False) for _ in range(3)]
            while not stop.is_set():
                for job in [s.submit("Who commissions GP services?", "both", [], api_name="/ask") for s in sessions]:
                    try:
                        job.result(timeout=60)
                    except Exception:
                        pass

        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#qa-question textarea", timeout=30_000)
        floods = [threading.Thread(target=keep_busy) for _ in range(2)]
        for flood in floods:
            flood.start()
        try:
            for attempt in range(15):
                page.fill("#qa-question textarea", f"Who commissions primary care? ({attempt})")
                page.click("#qa-ask")
                try:
                    page.wait_for_selector("text=currently busy", timeout=3_000)
                    break
                except sync_api.TimeoutError:
                    continue
            else:
                pytest.fail("the queue never refused a question")
            shot(page, "desktop-10-busy")
        finally:
            stop.set()
            for flood in floods:
                flood.join()
        page.wait_for_function("!document.querySelector('#qa-conversation .qa-pending')", timeout=30_000)
        assert page.input_value("#qa-question textarea").startswith("Who commissions primary care?")  # kept to retry
        context.close()
