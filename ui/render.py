"""HTML for the web chat: the conversation, source cards, the article view and the corpus table.

Every piece of text that reaches the page (titles, authors, passages, comments, questions) goes
through `esc`; the only markup here is the markup written in this module. Elements that open a
source carry `data-open="<ref>"`; the app's click handler maps a ref back to a citation.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from qa.types import COMMENT, Answer, Citation, Document, Hit

FOCUS_ID = "qa-focus"  # the highlighted passage in the article view; scrolled into view on open
CARD_CONTEXT_CHARS = 220  # passage text shown on a card either side of the supporting sentence
_MARKER = re.compile(r"\[(\d+)\]")


def esc(value: object) -> str:
    """`value` as text that cannot become markup (quotes escaped too, so it is safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def citation_ref(turn: int, n: int) -> str:
    return f"{turn}:c:{n}"


def nearest_ref(turn: int, rank: int) -> str:
    return f"{turn}:h:{rank}"


def parse_ref(ref: object) -> tuple[int, str, int] | None:
    """(turn, "c" or "h", number) from a ref made above, or None for anything else (refs come from the browser)."""
    match = re.fullmatch(r"(\d{1,4}):([ch]):(\d{1,3})", ref) if isinstance(ref, str) else None
    return (int(match[1]), match[2], int(match[3])) if match else None


# -- labels --------------------------------------------------------------------------------------

def kind_label(kind: str) -> str:
    return "Reader comment" if kind == COMMENT else "Reporting"


def source_byline(kind: str, author: str | None, speaker: str | None = None, role: str | None = None) -> str:
    """Who wrote the passage and, for reporting, who is quoted in the supporting sentence."""
    if kind == COMMENT:
        parts = [f"by {author}" if author else "anonymous reader"]
    else:
        parts = [f"by {author}"] if author else []
        if speaker:
            parts.append(f"quoting {speaker}" + (f", {role}" if role else ""))
    return " · ".join(parts)


# -- the conversation ----------------------------------------------------------------------------

def conversation_html(turns: Sequence[Answer], pending: str | None = None) -> str:
    """Every asked question and its answer, oldest first; `pending` is a question still being answered."""
    if not turns and not pending:
        return ('<div class="qa-empty"><p><strong>Ask about who commissions what in the NHS.</strong></p>'
                "<p>Answers quote the articles (and, when you ask what readers think, their comments), "
                "with numbered sources you can open.</p></div>")
    parts = [_turn_html(i, answer) for i, answer in enumerate(turns)]
    if pending:
        parts.append(f'<div class="qa-turn"><div class="qa-question">{esc(pending)}</div>'
                     '<div class="qa-answer qa-pending" aria-busy="true">Searching the articles…</div></div>')
    return '<div class="qa-conversation">' + "".join(parts) + "</div>"


def _turn_html(turn: int, answer: Answer) -> str:
    question = f'<div class="qa-question">{esc(answer.question)}</div>'
    resolved = ""
    if answer.resolved_question and answer.resolved_question != answer.question:
        resolved = f'<div class="qa-resolved">Searched for: <q>{esc(answer.resolved_question)}</q></div>'
    if answer.abstained:
        body = (f'<div class="qa-answer qa-nothing" role="status"><strong>Nothing found in these articles.</strong> '
                f"{esc(_without_first_sentence(answer.text))} "
                f"{_nearest_note(turn, answer)}</div>")
    else:
        body = f'<div class="qa-answer">{answer_text_html(turn, answer)}</div>'
    return f'<div class="qa-turn" data-turn="{turn}">{question}{resolved}{body}</div>'


def _without_first_sentence(text: str) -> str:
    """The abstention's explanation after its first sentence, which the heading already says."""
    _, _, rest = text.partition(". ")
    return rest if rest else ""


def _nearest_note(turn: int, answer: Answer) -> str:
    if not answer.nearest:
        return "No passage came close."
    return f'<button type="button" class="qa-link" data-open="{nearest_ref(turn, 1)}">Open the nearest passage</button>'


def answer_text_html(turn: int, answer: Answer) -> str:
    """The answer's sentences, escaped, one per line, with each [n] a button that opens source n."""
    known = {c.n for c in answer.citations}

    def marker(match: re.Match[str]) -> str:
        n = int(match[1])
        if n not in known:
            return match[0]
        return (f'<button type="button" class="qa-cite" data-open="{citation_ref(turn, n)}" '
                f'aria-label="Open source {n}">[{n}]</button>')

    lines = (_MARKER.sub(marker, esc(line)) for line in answer.text.split("\n") if line.strip())
    return "".join(f"<p>{line}</p>" for line in lines)


# -- source cards --------------------------------------------------------------------------------

def sources_html(turn: int | None, answer: Answer | None) -> str:
    """Cards for the answer's citations, or for its nearest passages when it found nothing."""
    if answer is None or turn is None:
        return '<p class="qa-muted">Sources of the latest answer appear here.</p>'
    if answer.citations:
        cards = [_citation_card(turn, c) for c in answer.citations]
        heading = f"Sources ({len(cards)})"
    elif answer.nearest:
        cards = [_hit_card(turn, h) for h in answer.nearest]
        heading = "Nearest passages (none answers the question)"
    else:
        return '<p class="qa-muted">No sources: nothing in the articles came close.</p>'
    return f'<div class="qa-sources"><h3>{esc(heading)}</h3>{"".join(cards)}</div>'


def _citation_card(turn: int, c: Citation) -> str:
    passage = passage_excerpt(c.text, c.sentence_start - c.start, c.sentence_end - c.start)
    byline = source_byline(c.kind, c.author, c.speaker, c.speaker_role)
    return _card(citation_ref(turn, c.n), str(c.n), c.kind, c.title, byline, passage)


def _hit_card(turn: int, hit: Hit) -> str:
    passage = passage_excerpt(hit.text, 0, 0)
    return _card(nearest_ref(turn, hit.rank), str(hit.rank), hit.kind, hit.title,
                 source_byline(hit.kind, hit.author), passage)


def _card(ref: str, number: str, kind: str, title: str, byline: str, passage_html: str) -> str:
    kind_class = "qa-card-comment" if kind == COMMENT else "qa-card-article"
    opens = "Open the comment thread" if kind == COMMENT else "Open the article"
    by = f'<span class="qa-by">{esc(byline)}</span>' if byline else ""
    return (f'<article class="qa-card {kind_class}" data-open="{esc(ref)}" tabindex="0" '
            f'aria-label="Source {esc(number)}">'
            f'<header><span class="qa-num">{esc(number)}</span>'
            f'<span class="qa-kind">{esc(kind_label(kind))}</span>{by}</header>'
            f'<div class="qa-title">{esc(title)}</div>'
            f'<div class="qa-passage-text">{passage_html}</div>'
            f'<button type="button" class="qa-open" data-open="{esc(ref)}">{opens} ›</button></article>')


def passage_excerpt(text: str, sentence_start: int, sentence_end: int, context: int = CARD_CONTEXT_CHARS) -> str:
    """The passage around its supporting sentence (marked), cut to `context` characters either side."""
    start, end = _clamp(sentence_start, sentence_end, len(text))
    before_at = _word_boundary(text, max(0, start - context), forward=True)
    after_at = _word_boundary(text, min(len(text), end + context), forward=False)
    before = ("…" if before_at > 0 else "") + esc(text[before_at:start])
    after = esc(text[end:after_at]) + ("…" if after_at < len(text) else "")
    marked = f"<mark>{esc(text[start:end])}</mark>" if end > start else ""
    return re.sub(r"\n\s*\n", "\n", before + marked + after)  # a card is small: one line break between paragraphs


def _word_boundary(text: str, at: int, forward: bool) -> int:
    """`at`, moved to the nearest whitespace so an excerpt does not cut a word in half."""
    if at <= 0 or at >= len(text):
        return at
    step = 1 if forward else -1
    i = at
    while 0 < i < len(text) and not text[i].isspace() and abs(i - at) < 30:
        i += step
    return i if text[i:i + 1].isspace() or i in (0, len(text)) else at


def _clamp(start: int, end: int, length: int) -> tuple[int, int]:
    start = min(max(start, 0), length)
    return start, min(max(end, start), length)


# -- the article view ----------------------------------------------------------------------------

def document_html(document: Document, *, comment: int | None = None, start: int = 0, end: int = 0,
                  sentence_start: int | None = None, sentence_end: int | None = None) -> str:
    """The whole article, or its comment thread when `comment` is set, with the passage highlighted.

    Offsets point into the stored text: the body, or comment number `comment`. The passage gets
    the id FOCUS_ID so the page can scroll it into view; the supporting sentence is a <mark>.
    """
    head = (f'<header><span class="qa-kind">{esc(kind_label(COMMENT if comment else "article"))}</span>'
            f"<h3>{esc(document.title)}</h3>")
    if document.byline:
        head += f'<div class="qa-by">By {esc(document.byline)}</div>'
    head += "</header>"
    span = (start, end, sentence_start, sentence_end)
    if comment is None:
        body = f'<div class="qa-doc-text">{highlighted(document.text, *span)}</div>'
        return f'<div class="qa-doc">{head}{body}{_thread_note(document)}</div>'
    items = []
    for c in document.comments:
        text = highlighted(c.text, *span) if c.position == comment else esc(c.text)
        focus = " qa-focus-comment" if c.position == comment else ""
        who = esc(c.author) if c.author else "Anonymous"
        items.append(f'<li class="qa-comment{focus}"><div class="qa-by">{who}</div>'
                     f'<div class="qa-doc-text">{text}</div></li>')
    return (f'<div class="qa-doc qa-doc-comment">{head}<h4>Reader comments</h4>'
            f'<ol class="qa-thread">{"".join(items)}</ol></div>')


def _thread_note(document: Document) -> str:
    stored = len(document.comments)
    if not stored:
        return ""
    return f'<p class="qa-muted">{stored} reader comment{"s" if stored != 1 else ""} under this article.</p>'


def highlighted(text: str, start: int, end: int, sentence_start: int | None = None,
                sentence_end: int | None = None) -> str:
    """`text` escaped, with [start, end) wrapped as the focused passage and the sentence inside it marked."""
    start, end = _clamp(start, end, len(text))
    if sentence_start is None or sentence_end is None:
        sentence_start, sentence_end = start, end  # no supporting sentence: the whole passage is marked
    s_start, s_end = _clamp(sentence_start, sentence_end, len(text))
    s_start, s_end = min(max(s_start, start), end), min(max(s_end, start), end)
    return (esc(text[:start]) + f'<span class="qa-passage" id="{FOCUS_ID}">' + esc(text[start:s_start])
            + f"<mark>{esc(text[s_start:s_end])}</mark>" + esc(text[s_end:end]) + "</span>" + esc(text[end:]))


# -- the corpus ----------------------------------------------------------------------------------

def corpus_html(documents: Iterable[Document]) -> str:
    """A table of the indexed articles: title, byline, comments stored (and as the page counted them)."""
    rows = []
    for d in documents:
        stored = len(d.comments)
        counted = f" of {d.comment_count}" if d.comment_count and d.comment_count != stored else ""
        rows.append(f'<tr><td>{esc(d.title)}</td><td>{esc(d.byline or "")}</td>'
                    f'<td class="qa-num-cell">{stored}{esc(counted)}</td><td><code>{esc(d.id)}</code></td></tr>')
    if not rows:
        return '<p class="qa-muted">The index is empty.</p>'
    return ('<table class="qa-table"><thead><tr><th>Article</th><th>By</th><th>Comments</th><th>Id</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def added_html(added: Sequence[dict], listed: int = 10) -> str:
    """What an upload added: the first `listed` new articles' titles and stored comment counts."""
    items = "".join(f"<li>{esc(a['title'])} ({int(a['comments'])} comments)</li>" for a in added[:listed])
    if len(added) > listed:
        items += f"<li>… and {len(added) - listed} more (all in the table below)</li>"
    return (f'<div class="qa-added" role="status"><strong>Added {len(added)} article{"s" if len(added) != 1 else ""};'
            f" searchable now.</strong><ul>{items}</ul></div>")


# -- who commissions what ------------------------------------------------------------------------

STATUS_COLOURS = {"in force": "#1b7f3b", "planned": "#2c5fd9", "proposed": "#8a4fd1", "demanded": "#c27c0e",
                  "opposed": "#c0392b"}
OTHER_STATUS_COLOUR = "#6b7280"


def fact_ref(index: int) -> str:
    return f"f:{index}"


def parse_fact_ref(ref: object) -> int | None:
    match = re.fullmatch(r"f:(\d{1,5})", ref) if isinstance(ref, str) else None
    return int(match[1]) if match else None


def status_colour(status: str | None) -> str:
    return STATUS_COLOURS.get(status or "", OTHER_STATUS_COLOUR)


def facts_table_html(facts: Sequence[dict]) -> str:
    """Commissioning facts as a table; each row's source button opens the sentence in its article."""
    if not facts:
        return '<p class="qa-muted">No commissioning facts match these filters.</p>'
    rows = []
    for i, f in enumerate(facts):
        status = esc(f.get("status"))
        rows.append(
            f"<tr><td>{esc(f.get('body'))}</td><td>{esc(f.get('relation'))}</td>"
            f"<td>{esc(', '.join(f.get('covers') or ()))}</td><td>{esc(f.get('place') or '')}</td>"
            f"<td>{esc(f.get('when') or '')}</td>"
            f'<td><span class="qa-status" style="background:{status_colour(f.get("status"))}">{status}</span></td>'
            f"<td>{esc(f.get('proposer') or '')}</td>"
            f'<td><button type="button" class="qa-link" data-open="{fact_ref(i)}" title="{esc(f.get("sentence"))}">'
            f"{esc(f.get('title'))}</button></td></tr>")
    return ('<div class="qa-facts"><table class="qa-table"><thead><tr><th>Body</th><th>Relation</th>'
            "<th>Commissions</th><th>Place</th><th>When</th><th>Status</th><th>Proposed by</th><th>Source</th>"
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def facts_picture_html(facts: Sequence[dict]) -> str:
    """An SVG of bodies (left) linked to the services the sentences tie them to (right), coloured by status."""
    links: dict[tuple[str, str], list[dict]] = {}
    for f in facts:
        for service in f.get("covers") or ():
            links.setdefault((str(f.get("body")), str(service)), []).append(f)
    unnamed = sum(1 for f in facts if not f.get("covers"))
    if not links:
        return '<p class="qa-muted">No fact in this selection names a service to draw; see the table.</p>'
    bodies, services = _ordered_sides(list(links))
    row, top, width, left, right = 28, 34, 760, 250, 510
    span = row * max(len(bodies), len(services))
    height = top + span + 6
    y_body = {b: top + span * (i + 0.5) / len(bodies) for i, b in enumerate(bodies)}  # both sides fill the height
    y_service = {s: top + span * (i + 0.5) / len(services) for i, s in enumerate(services)}
    middle = (left + right) / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{len(bodies)} bodies linked to {len(services)} services">',
             f'<text x="{left - 8}" y="18" text-anchor="end" font-weight="700" font-size="13">Body</text>',
             f'<text x="{right + 8}" y="18" font-weight="700" font-size="13">What the sentence ties it to</text>']
    for (b, s), group in sorted(links.items()):
        statuses = sorted({str(f.get("status")) for f in group})
        colour = status_colour(statuses[0]) if len(statuses) == 1 else OTHER_STATUS_COLOUR
        tip = f"{b} → {s}: " + "; ".join(f"{f.get('relation')} ({f.get('status')})" for f in group)
        parts.append(f'<path d="M{left},{y_body[b]:.0f} C{middle},{y_body[b]:.0f} {middle},{y_service[s]:.0f} '
                     f'{right},{y_service[s]:.0f}" fill="none" stroke="{colour}" '
                     f'stroke-width="{min(1.5 + len(group), 6)}" stroke-opacity="0.8"><title>{esc(tip)}</title></path>')
    for b, y in y_body.items():
        parts.append(f'<text x="{left - 8}" y="{y + 4:.0f}" text-anchor="end" font-size="12">{esc(_short(b))}'
                     f"<title>{esc(b)}</title></text>")
    for s, y in y_service.items():
        parts.append(f'<text x="{right + 8}" y="{y + 4:.0f}" font-size="12">{esc(_short(s))}'
                     f"<title>{esc(s)}</title></text>")
    parts.append("</svg>")
    legend = "".join(f'<span class="qa-status" style="background:{colour}">{esc(status)}</span> '
                     for status, colour in STATUS_COLOURS.items())
    legend += f'<span class="qa-status" style="background:{OTHER_STATUS_COLOUR}">mixed</span>'
    note = (" 1 fact names no service and is only in the table." if unnamed == 1 else
            f" {unnamed} facts name no service and are only in the table." if unnamed else "")
    return (f'<div class="qa-chart">{"".join(parts)}<p class="qa-muted">Line colour: {legend}. '
            f"Thicker lines: more sentences say so.{esc(note)}</p></div>")


def _ordered_sides(links: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Bodies and services ordered so links cross less: each side sorted by its partners' mean position."""
    bodies = sorted({b for b, _ in links}, key=str.lower)
    services: list[str] = []
    for _ in range(3):
        at = {b: i for i, b in enumerate(bodies)}
        services = sorted({s for _, s in links}, key=lambda s: (_mean(at[b] for b, t in links if t == s), s.lower()))
        at = {s: i for i, s in enumerate(services)}
        bodies = sorted(bodies, key=lambda b: (_mean(at[s] for t, s in links if t == b), b.lower()))
    return bodies, services


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values)


def _short(name: str, limit: int = 34) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"
