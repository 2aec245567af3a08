"""ui.render: every rendered field is escaped, markers and highlights land where the offsets say."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from qa.types import Answer, Citation, Comment, Document, Hit
from ui import render

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    '<a href="javascript:window.__xss=3">click</a>',
    "<style>body{display:none}</style>",
    '"><svg onload=window.__xss=4>',
    "'><iframe srcdoc='<script>parent.__xss=5</script>'>",
    "${window.__xss=6}",
    '{{constructor.constructor("window.__xss=7")()}}',
)
EVIL = " ".join(PAYLOADS)
ALLOWED_TAGS = {"div", "p", "strong", "q", "button", "article", "header", "span", "blockquote", "mark", "h3", "h4",
                "ol", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "code", "svg", "path", "text", "title"}
ALLOWED_STYLE = re.compile(r"background:#[0-9a-f]{6}")


class _Markup(HTMLParser):
    """Collects the tags and attributes a browser would build from a string, and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def markup(fragment: str) -> _Markup:
    parser = _Markup()
    parser.feed(fragment)
    parser.close()
    return parser


def assert_inert(fragment: str) -> None:
    """Only this module's own tags; no event handlers, links, sources or styles a payload could bring."""
    for tag, attrs in markup(fragment).tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in {fragment[:200]}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert name not in {"href", "src", "srcdoc", "action", "formaction", "xlink:href"}, name
            if name not in {"title", "aria-label"}:  # text a browser shows, never follows or runs
                assert "javascript:" not in (value or "").lower()
            if name == "style":
                assert ALLOWED_STYLE.fullmatch(value or ""), value


def evil_document() -> Document:
    body = f"First paragraph about CCGs. The council said {EVIL} today.\n\nSecond paragraph."
    comments = (Comment(1, f"Reader one: {EVIL}", author=f"Dr {PAYLOADS[1]}"), Comment(2, "A plain comment."),
                Comment(3, f"Anonymous {PAYLOADS[0]}", author=None))
    return Document(id="doc1", title=f"Title {PAYLOADS[0]}", text=body, byline=f"By {PAYLOADS[2]}",
                    comments=comments, comment_count=5)


def citation(n: int, document: Document, kind: str = "article", comment: int | None = None) -> Citation:
    text = document.source_text(comment)
    sentence_end = text.index("today.") + len("today.") if "today." in text else len(text)
    return Citation(n=n, text=text, doc_id=document.id, title=document.title, kind=kind,
                    author=document.comments[comment - 1].author if comment else document.byline,
                    start=0, end=len(text), score=0.9, sentence_start=text.index("The council") if kind == "article"
                    else 0, sentence_end=sentence_end, comment=comment,
                    speaker=f"Jo {PAYLOADS[4]}" if kind == "article" else None, speaker_role=PAYLOADS[3])


def evil_answer(document: Document) -> Answer:
    cites = (citation(1, document), citation(2, document, "comment", comment=1))
    return Answer(question=f"Who? {PAYLOADS[0]}", text=f"Sentence {EVIL} [1]\nA reader said {PAYLOADS[1]} [2]",
                  abstained=False, citations=cites, resolved_question=f"Who really? {PAYLOADS[2]}")


def hit(rank: int, document: Document, comment: int | None = None) -> Hit:
    text = document.source_text(comment)
    return Hit(rank=rank, score=0.1, passage_id=f"p{rank}", doc_id=document.id, title=document.title,
               kind="comment" if comment else "article", author=PAYLOADS[1], start=0, end=len(text), text=text,
               comment=comment)


def test_every_rendered_field_is_escaped_and_inert():
    document = evil_document()
    answer = evil_answer(document)
    abstained = Answer(question=PAYLOADS[5], text="I found nothing. " + EVIL, abstained=True,
                       nearest=(hit(1, document), hit(2, document, comment=1)))
    facts = [{"body": PAYLOADS[0], "relation": PAYLOADS[1], "covers": [PAYLOADS[2], "GP services"],
              "place": PAYLOADS[3], "when": PAYLOADS[4], "status": PAYLOADS[5], "proposer": PAYLOADS[6],
              "title": PAYLOADS[7], "sentence": EVIL, "doc_id": "doc1", "sentence_start": 0, "sentence_end": 5}]
    fragments = [
        render.conversation_html([answer, abstained], pending=EVIL),
        render.sources_html(0, answer), render.sources_html(1, abstained),
        render.document_html(document, start=0, end=40, sentence_start=10, sentence_end=30),
        render.document_html(document, comment=1, start=0, end=12, sentence_start=0, sentence_end=12),
        render.corpus_html([document]), render.added_html([{"title": EVIL, "comments": 3}]),
        render.facts_table_html(facts), render.facts_picture_html(facts),
    ]
    for fragment in fragments:
        assert_inert(fragment)
        assert "<script" not in fragment and "<img" not in fragment and "<style" not in fragment
    # The payloads are still there for the reader, as text.
    assert html.unescape("".join(markup(fragments[3]).text)).count(PAYLOADS[0]) >= 1
    assert "&lt;script&gt;" in fragments[0]


def test_answer_markers_open_only_known_citations():
    document = evil_document()
    answer = Answer(question="q", text="One [1]\nTwo [2] and [9]", abstained=False,
                    citations=(citation(1, document), citation(2, document)))
    parsed = markup(render.answer_text_html(3, answer))
    opens = [attrs["data-open"] for tag, attrs in parsed.tags if tag == "button"]
    assert opens == ["3:c:1", "3:c:2"]
    assert "[9]" in "".join(parsed.text)


def test_resolved_question_shown_only_when_rewritten():
    plain = Answer(question="Who pays?", text="They do. [1]", abstained=False)
    rewritten = Answer(question="And in London?", text="x", abstained=False,
                       resolved_question="Who pays in London?")
    assert "Searched for" not in render.conversation_html([plain])
    assert "Searched for: <q>Who pays in London?</q>" in render.conversation_html([rewritten])


def test_nothing_found_state_still_offers_the_nearest_passages():
    document = evil_document()
    answer = Answer(question="Mars?", text="I found nothing in these articles that answers this question. "
                    "The nearest passages are listed as sources.", abstained=True, nearest=(hit(1, document),))
    conversation = render.conversation_html([answer])
    assert "Nothing found in these articles." in conversation
    assert 'data-open="0:h:1"' in conversation
    sources = render.sources_html(0, answer)
    assert "Nearest passages" in sources and sources.count('class="qa-card') == 1
    empty = Answer(question="Mars?", text="I found nothing.", abstained=True)
    assert "No passage came close" in render.conversation_html([empty])
    assert "nothing in the articles came close" in render.sources_html(0, empty)


def test_cards_tell_reporting_from_reader_comments():
    document = evil_document()
    cards = render.sources_html(0, evil_answer(document))
    assert cards.count("qa-card-article") == 1 and cards.count("qa-card-comment") == 1
    assert "Reporting" in cards and "Reader comment" in cards and "Open the comment thread" in cards


def test_article_view_highlights_passage_and_marks_sentence():
    text = "Intro sentence. The passage starts here. It holds the key sentence. More after.\n\nTail."
    document = Document(id="d", title="T", text=text)
    start, end = text.index("The passage"), text.index(" More after")
    s_start, s_end = text.index("It holds"), text.index(" More after")
    fragment = render.document_html(document, start=start, end=end, sentence_start=s_start, sentence_end=s_end)
    passage = re.search(r'<span class="qa-passage" id="qa-focus">(.*?)</span>', fragment, re.S)[1]
    assert html.unescape(re.sub(r"</?mark>", "", passage)) == text[start:end]
    assert html.unescape(re.search(r"<mark>(.*?)</mark>", fragment, re.S)[1]) == text[s_start:s_end]
    assert text in html.unescape("".join(markup(fragment).text))  # the whole article, unchanged
    assert fragment.count('id="qa-focus"') == 1


def test_comment_view_shows_the_thread_with_only_the_cited_comment_highlighted():
    document = evil_document()
    fragment = render.document_html(document, comment=2, start=2, end=7, sentence_start=2, sentence_end=7)
    assert fragment.count('id="qa-focus"') == 1 and fragment.count("qa-focus-comment") == 1
    assert "<mark>plain</mark>" in fragment
    assert fragment.count('class="qa-comment') == len(document.comments)
    assert "Anonymous" in fragment


@pytest.mark.parametrize("start,end,s_start,s_end", [(-5, 10_000, 3, 2), (50, 10, None, None), (0, 0, 0, 0)])
def test_offsets_outside_the_text_are_clamped(start, end, s_start, s_end):
    text = "Short text."
    fragment = render.highlighted(text, start, end, s_start, s_end)
    assert html.unescape(re.sub(r"<[^>]+>", "", fragment)) == text


def test_card_excerpt_cuts_around_the_sentence_at_word_boundaries():
    text = ("word " * 100) + "The key sentence is here." + (" tail" * 100)
    s_start = text.index("The key")
    excerpt = render.passage_excerpt(text, s_start, s_start + len("The key sentence is here."), context=40)
    assert excerpt.startswith("…") and excerpt.endswith("…")
    assert "<mark>The key sentence is here.</mark>" in excerpt
    inner = excerpt.strip("…")
    assert inner.split("<mark>")[0].strip().split(" ")[0] == "word"  # no half words at the cut
    assert len(inner) < 40 * 2 + 25 + len("<mark></mark>") + 2


@pytest.mark.parametrize("ref", [None, 3, "", "0:c", "0:x:1", "a:c:1", "0:c:1 ", "99999:c:1", "0:c:1;drop", ["0:c:1"]])
def test_refs_from_the_browser_are_parsed_strictly(ref):
    assert render.parse_ref(ref) is None


def test_refs_round_trip():
    assert render.parse_ref(render.citation_ref(2, 3)) == (2, "c", 3)
    assert render.parse_ref(render.nearest_ref(0, 1)) == (0, "h", 1)
    assert render.parse_fact_ref(render.fact_ref(12)) == 12
    assert render.parse_fact_ref("f:") is None and render.parse_fact_ref("0:c:1") is None


def test_corpus_table_gives_stored_and_stated_comment_counts():
    document = evil_document()
    table = render.corpus_html([document, Document(id="e", title="Quiet", text="x")])
    assert "3 of 5" in table and "<td class=\"qa-num-cell\">0</td>" in table
    assert "The index is empty" in render.corpus_html([])


def test_fact_picture_links_bodies_to_services_coloured_by_status():
    facts = [
        {"body": "CCGs", "relation": "commissions", "covers": ["GP services"], "status": "planned"},
        {"body": "CCGs", "relation": "holds budget for", "covers": ["GP services", "budget"], "status": "planned"},
        {"body": "councils", "relation": "opposes", "covers": ["GP services"], "status": "opposed"},
        {"body": "councils", "relation": "has role in", "covers": [], "status": "in force"},
    ]
    picture = render.facts_picture_html(facts)
    paths = [attrs for tag, attrs in markup(picture).tags if tag == "path"]
    assert len(paths) == 3  # CCGs->GP services (two sentences, one line), CCGs->budget, councils->GP services
    assert sorted(p["stroke"] for p in paths) == sorted([render.STATUS_COLOURS["planned"]] * 2
                                                        + [render.STATUS_COLOURS["opposed"]])
    assert "1 fact names no service and is only in the table." in picture
    assert "No fact in this selection" in render.facts_picture_html(facts[3:])
    table = render.facts_table_html(facts)
    assert table.count('data-open="f:') == 4


def test_upload_summary_lists_a_few_titles_and_counts_the_rest():
    added = [{"title": f"Article {i}", "comments": i} for i in range(13)]
    summary = render.added_html(added)
    assert "Added 13 articles" in summary and "Article 9 (9 comments)" in summary
    assert "Article 10" not in summary and "and 3 more" in summary
    assert "Added 1 article;" in render.added_html(added[:1])
