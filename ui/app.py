"""The web chat: a Gradio Blocks app over one `qa.Engine`.

Layout and wiring only. Each event handler calls the public `qa` API (Engine, ChatSession) and
hands the result to `ui.render`; the conversation state lives per browser session in gr.State as
plain data (`ChatSession.to_dict()`), so nothing is shared between sessions but the engine.
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read by gradio at import time

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from qa import MAX_QUESTION_CHARS, Engine, QAError
from qa.types import Answer
from ui import ServeConfig, render

CSS_PATH = Path(__file__).resolve().parent / "static" / "app.css"
TITLE = "Who commissions what in the NHS"
EXAMPLES = (
    "Who will commission GP services in Greater Manchester?",
    "How many CCGs will take control of commissioning GP services?",
    "What do local authorities want from primary care commissioning?",
    "What did readers say about the Greater Manchester devolution deal?",
    "What do readers say about conflicts of interest?",
)
ARTICLE_HINT = '<p class="qa-muted">Open a source to read the whole article here.</p>'
KIND_CHOICES = [("Articles and comments", "both"), ("Articles only", "article"), ("Reader comments only", "comment")]
UPLOAD_TYPES = [".txt", ".jsonl"]
# Steps that only redraw the page: hidden from the API, and outside the queue so a queue full of questions
# never leaves the page half-drawn (only the steps that run the model or index can be refused as busy).
UI_ONLY = {"api_visibility": "private", "queue": False}

# gr.HTML runs this once per panel: a click on anything carrying data-open asks the server to open that source.
OPEN_ON_CLICK = """
element.addEventListener('click', (event) => {
  const opener = event.target.closest('[data-open]');
  if (opener && element.contains(opener)) trigger('click', {ref: opener.dataset.open});
});
element.addEventListener('keydown', (event) => {
  const opener = event.target.closest('article[data-open]');
  if (opener && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    trigger('click', {ref: opener.dataset.open});
  }
});
"""
# The article view brings its highlighted passage into sight whenever the server sends a new article:
# inside the panel's own scroll box, just under the sticky title; then the panel's top onto the page.
# A comment's passage can be taller than the panel, so when the marked sentence would fall below it, the
# sentence itself goes to the top. Its tab may still be hidden when the value arrives, so it waits (briefly)
# until the panel has a size.
SCROLL_TO_FOCUS = f"""
const reveal = (tries) => {{
  const focus = element.querySelector('#{render.FOCUS_ID}');
  if (!focus) return;
  if (!element.offsetParent) {{ if (tries > 0) setTimeout(() => reveal(tries - 1), 50); return; }}
  let box = element.parentElement;
  while (box && box !== document.body && getComputedStyle(box).overflowY !== 'auto') box = box.parentElement;
  const panel = box && box !== document.body ? box : null;
  const title = element.querySelector('.qa-doc header');
  const room = (title ? title.offsetHeight : 0) + 24;
  const mark = focus.querySelector('mark') || focus;
  const height = panel ? panel.clientHeight : window.innerHeight;
  const tall = mark.getBoundingClientRect().bottom - focus.getBoundingClientRect().top > height - room - 24;
  const target = tall ? mark : focus;
  if (!panel) {{ window.scrollBy({{top: target.getBoundingClientRect().top - room}}); return; }}
  panel.scrollTop += target.getBoundingClientRect().top - panel.getBoundingClientRect().top - room;
  const top = panel.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight - 240) window.scrollBy({{top: top - 60}});
}};
// The view mounts only when its tab first opens, already holding that first article, and watch() reports
// only later changes: without this call the first source opened never scrolls.
reveal(40);
watch('value', () => reveal(40));
"""


def theme() -> gr.themes.Base:
    """Gradio's default look with system fonts, so the page fetches nothing from font servers."""
    return gr.themes.Default(primary_hue="blue", font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                             font_mono=["ui-monospace", "Consolas", "monospace"])


class Handlers:
    """The app's event handlers: each calls the engine or a ChatSession and returns what to show."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- chat ---------------------------------------------------------------------------------

    def pending(self, question: str, turns: list[Answer]) -> str:
        question = (question or "").strip()
        return render.conversation_html(turns, pending=question or None)

    def ask(self, question: str, kind: str, doc_ids: list[str] | None, chat_state: dict | None,
            turns: list[Answer]) -> tuple[dict, dict, list[Answer]]:
        """Answer within this browser session's conversation; returns (answer JSON, new state, turns)."""
        from qa import ChatSession

        with _user_errors():
            session = ChatSession.from_dict(self.engine, chat_state) if chat_state else self.engine.chat()
            answer = session.ask(question, kind=kind or "both", doc_ids=list(doc_ids) if doc_ids else None)
        return answer.to_dict(), session.to_dict(), [*turns, answer]

    def show_latest(self, turns: list[Answer], question: str | None = None) -> tuple:
        """Conversation, the latest answer's sources (their tab shown), an emptied article view, the question
        box (emptied once its question is answered) and the examples (shown only before the first question)."""
        latest = len(turns) - 1 if turns else None
        answered = bool(turns) and (question or "").strip() == turns[-1].question
        return (render.conversation_html(turns), render.sources_html(latest, turns[-1] if turns else None),
                ARTICLE_HINT, "" if answered else gr.update(), gr.update(visible=not turns),
                gr.Tabs(selected="sources"))

    def example(self, index: int) -> str:
        return EXAMPLES[index] if isinstance(index, int) and 0 <= index < len(EXAMPLES) else ""

    def reset(self) -> tuple[None, list]:
        """Forget this session's conversation (the next question starts a new one)."""
        return None, []

    def open_source(self, turns: list[Answer], event: gr.EventData) -> tuple[Any, Any]:
        """The whole article or comment thread behind a clicked citation or nearest passage, and its tab."""
        parsed = render.parse_ref(_event_value(event, "ref"))
        answer = turns[parsed[0]] if parsed and parsed[0] < len(turns) else None
        if answer is None:
            return gr.update(), gr.update()
        _, what, number = parsed
        if what == "c":
            source = next((c for c in answer.citations if c.n == number), None)
            sentence = (source.sentence_start, source.sentence_end) if source else (None, None)
        else:
            source = next((h for h in answer.nearest if h.rank == number), None)
            sentence = (None, None)
        if source is None:
            return gr.update(), gr.update()
        view = render.document_html(self.engine.document(source.doc_id), comment=source.comment, start=source.start,
                                    end=source.end, sentence_start=sentence[0], sentence_end=sentence[1])
        return view, gr.Tabs(selected="article")

    # -- who commissions what -----------------------------------------------------------------

    def commissioning(self, body: str | None = None, place: str | None = None,
                      covers: str | None = None) -> list[dict]:
        """Commissioning facts (who commissions what, where, when), each with its source sentence."""
        with _user_errors():
            facts = self.engine.commissioning(body=body or None, place=place or None, covers=covers or None)
        return [fact.to_dict() for fact in facts]

    def fact_choices(self, field: str) -> list[str]:
        """The distinct bodies, places or services ("covers") among all facts, for the filters."""
        values: set[str] = set()
        for fact in self.commissioning():
            value = fact.get(field)
            values.update(value if isinstance(value, list) else [value] if value else [])
        return sorted(values, key=str.lower)

    def show_facts(self, body: str | None, place: str | None, covers: str | None) -> tuple[list[dict], str, str]:
        facts = self.commissioning(body, place, covers)
        return facts, render.facts_picture_html(facts), render.facts_table_html(facts)

    def open_fact(self, facts: list[dict], event: gr.EventData) -> Any:
        index = render.parse_fact_ref(_event_value(event, "ref"))
        if index is None or index >= len(facts):
            return gr.update()
        fact = facts[index]
        return render.document_html(self.engine.document(fact["doc_id"]), start=fact["sentence_start"],
                                    end=fact["sentence_end"], sentence_start=fact["sentence_start"],
                                    sentence_end=fact["sentence_end"])

    # -- the corpus ---------------------------------------------------------------------------

    def document_choices(self) -> list[tuple[str, str]]:
        return [(d.title, d.id) for d in self.engine.documents()]

    def documents(self) -> list[dict]:
        """Every indexed article: id, title, byline, and how many comments are stored (and were counted)."""
        return [{"id": d.id, "title": d.title, "byline": d.byline, "comments": len(d.comments),
                 "comment_count": d.comment_count} for d in self.engine.documents()]

    def document(self, doc_id: str) -> dict:
        """One article in full, with its comments."""
        with _user_errors():
            return dataclasses.asdict(self.engine.document(doc_id))

    def search(self, query: str, k: int = 10, kind: str = "both", doc_ids: list[str] | None = None) -> list[dict]:
        """The k passages that best match the query, best first (no answer composed)."""
        with _user_errors():
            return [hit.to_dict() for hit in self.engine.search(query, int(k), kind=kind, doc_ids=doc_ids or None)]

    def add(self, files: Sequence[str] | None, progress=gr.Progress(track_tqdm=True)) -> list[dict]:
        """Ingest and index uploaded pages (.txt) or archives (.jsonl); returns the added articles."""
        paths = [str(f) for f in files or []]
        if not paths:
            raise gr.Error("Choose one or more .txt or .jsonl files first.")
        wrong = [Path(p).name for p in paths if Path(p).suffix.lower() not in UPLOAD_TYPES]
        if wrong:
            raise gr.Error(f"Cannot add {', '.join(wrong)}: only {' and '.join(UPLOAD_TYPES)} files are allowed.")
        progress(0, desc="Reading, then embedding the new passages")
        try:
            added = self.engine.add(paths, progress=True)  # its tqdm bar is what gr.Progress tracks
        except QAError as error:
            raise gr.Error(_without_paths(str(error), paths), print_exception=False) from error
        return [{"id": d.id, "title": d.title, "comments": len(d.comments)} for d in added]

    def after_add(self, added: list[dict]) -> tuple:
        """What the page shows once files are indexed: what was added, and every list of articles refreshed."""
        return (render.added_html(added or []), render.corpus_html(self.engine.documents()),
                gr.update(choices=self.document_choices()), None,
                *(gr.update(choices=self.fact_choices(f)) for f in ("body", "place", "covers")))

    def on_load(self) -> tuple[str, Any]:
        return render.corpus_html(self.engine.documents()), gr.update(choices=self.document_choices())


class _user_errors:
    """Turns the library's input errors into messages for the person using the page."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, QAError):
            raise gr.Error(str(error), print_exception=False) from error
        return False


def _without_paths(message: str, paths: Sequence[str]) -> str:
    """`message` with each uploaded file's server-side path replaced by the name it was uploaded as: the
    person needs to know which file was wrong, not where the server keeps it."""
    for path in sorted(paths, key=len, reverse=True):
        message = message.replace(path, Path(path).name)
        message = message.replace(str(Path(path).resolve()), Path(path).name)
    return message


def _event_value(event: gr.EventData | None, name: str) -> Any:
    data = getattr(event, "_data", None)
    return data.get(name) if isinstance(data, dict) else None


def build_app(engine: Engine, config: ServeConfig = ServeConfig()) -> gr.Blocks:
    """The Blocks app: Chat, Who commissions what, and Corpus tabs, plus the named API endpoints."""
    h = Handlers(engine)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        chat_state = gr.State(None)  # ChatSession.to_dict(), one per browser session
        turns = gr.State([])  # the session's Answers, oldest first
        facts_shown = gr.State([])  # the commissioning facts in the table, for opening their sources
        gr.Markdown(f"## {TITLE}\nCited answers from news articles about NHS commissioning and their "
                    "reader comments. Reporting and readers' views are labelled apart.")
        with gr.Tab("Chat", id="chat"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=330):
                    conversation = gr.HTML(render.conversation_html([]), js_on_load=OPEN_ON_CLICK,
                                           elem_id="qa-conversation", elem_classes=["qa-panel"], autoscroll=True,
                                           min_height=120, max_height=560)
                    question = gr.Textbox(label="Your question", placeholder="e.g. Who commissions GP services?",
                                          max_length=MAX_QUESTION_CHARS, elem_id="qa-question", autofocus=True)
                    with gr.Row():
                        ask_button = gr.Button("Ask", variant="primary", elem_id="qa-ask", min_width=100)
                        new_button = gr.Button("New conversation", elem_id="qa-new", min_width=100)
                    examples = gr.Dataset(components=[question], samples=[[q] for q in EXAMPLES], type="index",
                                          label="Try one of these", elem_id="qa-examples")
                    with gr.Accordion("Filters: where to look", open=False, elem_id="qa-filters"):
                        kind = gr.Radio(KIND_CHOICES, value="both", label="Search in", elem_id="qa-kind")
                        doc_ids = gr.Dropdown(h.document_choices(), value=[], multiselect=True, allow_custom_value=True,
                                              label="Only these articles (none chosen: all)", elem_id="qa-docs")
                with gr.Column(scale=2, min_width=300), gr.Tabs(selected="sources", elem_id="qa-side") as side:
                    with gr.Tab("Sources", id="sources"):
                        sources = gr.HTML(render.sources_html(None, None), js_on_load=OPEN_ON_CLICK,
                                          elem_id="qa-sources", elem_classes=["qa-panel"], max_height=640)
                    with gr.Tab("Article", id="article"):
                        article = gr.HTML(ARTICLE_HINT, js_on_load=SCROLL_TO_FOCUS, elem_id="qa-article",
                                          elem_classes=["qa-panel"], max_height=640)
        with gr.Tab("Who commissions what", id="who"):
            with gr.Row():
                body = gr.Dropdown(h.fact_choices("body"), value=None, label="Body", allow_custom_value=True)
                place = gr.Dropdown(h.fact_choices("place"), value=None, label="Place", allow_custom_value=True)
                covers = gr.Dropdown(h.fact_choices("covers"), value=None, label="Commissions", allow_custom_value=True)
            picture = gr.HTML(elem_id="qa-facts-picture", elem_classes=["qa-panel", "qa-chart"])
            facts_table = gr.HTML(js_on_load=OPEN_ON_CLICK, elem_id="qa-facts", elem_classes=["qa-panel"],
                                  max_height=460)
            fact_source = gr.HTML(js_on_load=SCROLL_TO_FOCUS, elem_id="qa-fact-source",
                                  elem_classes=["qa-panel"], max_height=420)
        with gr.Tab("Corpus", id="corpus"):
            gr.Markdown("Add a saved magazine page (.txt) or an archive with one JSON article per line (.jsonl). "
                        f"Files up to {config.max_upload_mb} MB; they become searchable at once.")
            files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="Pages or archives",
                            elem_id="qa-upload")
            add_button = gr.Button("Add to the index", variant="primary", elem_id="qa-add")
            add_status = gr.HTML(elem_id="qa-add-status")
            corpus = gr.HTML(render.corpus_html(engine.documents()), elem_id="qa-corpus", elem_classes=["qa-panel"])
        answer_json = gr.JSON(visible=False)
        added_json = gr.JSON(visible=False)

        # Ask: show the question at once, answer it (the public "ask" endpoint), then draw the result. A refused
        # or failed ask redraws too, so the "Searching…" line never outlives the request.
        shown = [conversation, sources, article, question, examples, side]

        def answer_then_show(event, api_name: str | None):
            asked = event.then(h.ask, [question, kind, doc_ids, chat_state, turns], [answer_json, chat_state, turns],
                               api_name=api_name, api_visibility="public" if api_name else "private",
                               show_progress="minimal", show_progress_on=[conversation])
            asked.success(h.show_latest, [turns, question], shown, **UI_ONLY)
            asked.failure(h.show_latest, [turns, question], shown, **UI_ONLY)

        pending = dict(fn=h.pending, inputs=[question, turns], outputs=[conversation], **UI_ONLY)
        answer_then_show(ask_button.click(**pending), "ask")
        answer_then_show(question.submit(**pending), None)
        answer_then_show(examples.click(h.example, [examples], [question], **UI_ONLY)
                         .then(**pending), None)
        new_button.click(h.reset, None, [chat_state, turns], api_name="reset").then(
            h.show_latest, [turns], shown, **UI_ONLY)
        for panel in (conversation, sources):
            panel.click(h.open_source, [turns], [article, side], **UI_ONLY)

        filters = [body, place, covers]
        for dropdown in filters:
            dropdown.change(h.show_facts, filters, [facts_shown, picture, facts_table], **UI_ONLY)
        facts_table.click(h.open_fact, [facts_shown], [fact_source], **UI_ONLY)

        add_button.click(lambda: '<p class="qa-muted">Reading and indexing…</p>', None, [add_status],
                         **UI_ONLY).then(
            h.add, [files], [added_json], api_name="add", show_progress_on=[add_status]).success(
            h.after_add, [added_json], [add_status, corpus, doc_ids, files, body, place, covers],
            **UI_ONLY)
        # Another session may have added articles since the app was built: refresh what lists them.
        demo.load(h.on_load, None, [corpus, doc_ids], **UI_ONLY).then(
            h.show_facts, filters, [facts_shown, picture, facts_table], **UI_ONLY)

        gr.api(h.search, api_name="search")
        gr.api(h.documents, api_name="documents")
        gr.api(h.document, api_name="document")
        gr.api(h.commissioning, api_name="commissioning")
    demo.queue(default_concurrency_limit=config.concurrency, max_size=config.max_queue)
    return demo


def launch(engine: Engine, config: ServeConfig = ServeConfig(), *, block: bool = True, quiet: bool = False):
    """Serve the app; returns (demo, local URL). Nothing is shared publicly and no file is served by path."""
    from starlette.middleware import Middleware

    from ui.guard import Guard, allowed_hosts

    demo = build_app(engine, config)
    guard = Middleware(Guard, hosts=allowed_hosts(config.host, config.allowed_hosts))
    # quiet: Gradio's banner suggests share=True, which this app never offers; it says where it listens itself.
    _, url, _ = demo.launch(
        server_name=config.host, server_port=config.port, share=False, inbrowser=False,
        prevent_thread_lock=True, quiet=True, show_error=False, app_kwargs={"middleware": [guard]},
        allowed_paths=[], blocked_paths=_private_folders(engine),
        max_file_size=f"{config.max_upload_mb}mb", enable_monitoring=False, run_history=False,
        ssr_mode=False, mcp_server=False, pwa=False, strict_cors=True,
        theme=theme(), css_paths=[CSS_PATH], footer_links=["api", "settings"],
    )
    if not quiet:
        print(f"Serving the web chat at {url} (Ctrl+C to stop)", flush=True)
    if block:
        demo.block_thread()
    return demo, url


def _private_folders(engine: Engine) -> list[str]:
    """The index folder and the folders the corpus was read from: never served, even if a default changes."""
    folders = {Path(engine.index_dir).resolve()} if engine.index_dir else set()
    for document in engine.documents():
        if document.source:  # "folder/page.txt", or "folder/archive.jsonl:12"
            folders.add(Path(document.source).resolve().parent)
    return sorted(str(f) for f in folders if f.is_dir() and f != Path(f.anchor))
