"""Turn magazine pages (browser "save as text") and JSONL archives into `Document`s.

A page keeps only its headline, byline, body and reader comments; site chrome is dropped. JSONL
text is stored verbatim so offsets point into exactly what the user gave.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from index.errors import IngestError
from index.jsonl import jsonl_rows
from index.records import Comment, Document, content_id

PAGE_SUFFIX = ".txt"
ARCHIVE_SUFFIX = ".jsonl"
_SUFFIXES = (PAGE_SUFFIX, ARCHIVE_SUFFIX)
ALLOWED = f"{PAGE_SUFFIX} (a magazine page) or {ARCHIVE_SUFFIX} (one article per line)"

# A paragraph this long can only be body text: headlines and teasers are short.
BODY_MIN_WORDS = 20

_CHROME = re.compile(
    r"^(This site is intended for health professionals only"
    r"|At the heart of general practice since \d{4}"
    r"|Read the latest issue online"
    r"|.*\b\d+x\d+px)$",  # cover-image captions: "pulse june2020 80x101px"
    re.IGNORECASE,
)
# Lines that end the article body: what follows is images, links, comments or promotion.
_BODY_END = re.compile(
    r"^(Related images$|More on(?:\.\.\.|…)?$|Readers['’] comments \(\d+\)$|View results \d+ results per page"
    r"|Have your say\W*$"
    r"|.*\bclick here\.?$|.*\bRegister for a \d+ day free trial\b)",
    re.IGNORECASE,
)
_COMMENTS_HEADER = re.compile(r"^Readers['’] comments \((\d+)\)$", re.IGNORECASE)
_COMMENTS_END = re.compile(r"^(View results \d+ results per page|Have your say\W*$)", re.IGNORECASE)
_COMMENT_TRAILER = re.compile(r"^Unsuitable or offensive\?\s*Report this comment$", re.IGNORECASE)
_COMMENT_START = re.compile(r"^ {0,3}•\s*(.*)$")  # comment bullets sit at the left; inner ones are indented
_BULLET = re.compile(r"^\s*•\s*(.*)$")
_SENTENCE_END = re.compile(r"""\.['"’”)]*$""")
_NAME_WORD = re.compile(r"^[A-Z][A-Za-z0-9'’-]*$")
_BYLINE = re.compile(r"^By\s+(.+)$")
_NAME_SEPARATOR = re.compile(r"\s*(?:,|&|\band\b)\s*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_page(text: str, source: str = "") -> Document:
    """Parse one magazine page into a Document: headline, byline, body paragraphs and comments."""
    lines = [line.rstrip() for line in _LINE_BREAK.split(text.lstrip("\ufeff"))]
    body_start, title_at, byline = _locate_headline(lines, source)
    ends = (i for i in range(body_start, len(lines)) if _BODY_END.match(lines[i].strip()))
    body_end = next(ends, len(lines))
    body = "\n\n".join(_body_blocks(lines[body_start:body_end]))
    title = lines[title_at].strip()
    comments, count = _parse_comments(lines[body_end:])
    return Document(
        id=content_id(title, body),
        title=title,
        text=body,
        byline=byline,
        source=source,
        comments=comments,
        comment_count=count,
    )


def _locate_headline(lines: list[str], source: str) -> tuple[int, int, str | None]:
    """Return (first body line, headline line, byline) or raise IngestError."""
    content = [i for i, line in enumerate(lines) if line.strip() and not _CHROME.match(line.strip())]
    long_at = None
    for k, i in enumerate(content):
        stripped = lines[i].strip()
        if _BODY_END.match(stripped):
            break
        if len(stripped.split()) >= BODY_MIN_WORDS:
            long_at = k
            break
    if long_at is None:
        raise _no_headline(source, "no paragraph of body text before the comments or end of page")
    k = long_at
    # A short opening paragraph still ends like a sentence; headlines and teasers do not.
    while k > 0 and _SENTENCE_END.search(lines[content[k - 1]]) and not _byline(lines[content[k - 1]]):
        k -= 1
    body_start = content[k]
    if k == 0:
        raise _no_headline(source, "no headline line before the first paragraph")
    byline = _byline(lines[content[k - 1]])
    title_k = k - 2 if byline else k - 1
    if title_k < 0:
        raise _no_headline(source, "no headline line before the byline")
    return body_start, content[title_k], byline


def _no_headline(source: str, why: str) -> IngestError:
    name = source or "page"
    return IngestError(
        f"{name}: no headline and body found ({why}); expected a headline line, an optional "
        f"'By ...' byline, then paragraphs of which one has at least {BODY_MIN_WORDS} words"
    )


def _byline(line: str) -> str | None:
    """The names of a 'By A, B and C' line, or None when the line is not a byline."""
    match = _BYLINE.match(line.strip())
    if not match or _SENTENCE_END.search(match.group(1)):
        return None
    names = [n for n in _NAME_SEPARATOR.split(match.group(1)) if n]
    if names and all(1 <= len(n.split()) <= 4 and all(_NAME_WORD.match(w) for w in n.split()) for n in names):
        return match.group(1).strip()
    return None


def _body_blocks(lines: list[str]) -> list[str]:
    """Body paragraphs: one per blank-line-separated block, bullets as '• item' lines."""
    blocks: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        stripped = line.strip()
        if not stripped:
            if current:
                blocks.append("\n".join(current))
                current = []
        elif not _CHROME.match(stripped):
            bullet = _BULLET.match(stripped)
            current.append(f"• {bullet.group(1).strip()}" if bullet else stripped)
    return blocks


def _parse_comments(lines: list[str]) -> tuple[tuple[Comment, ...], int | None]:
    """Comments after 'Readers' comments (N)', and N; ((), None) when the page has no such section."""
    header = next((i for i, line in enumerate(lines) if _COMMENTS_HEADER.match(line.strip())), None)
    if header is None:
        return (), None
    count = int(_COMMENTS_HEADER.match(lines[header].strip()).group(1))
    raw: list[list[str]] = []
    for line in lines[header + 1 :]:
        stripped = line.strip()
        if _COMMENTS_END.match(stripped):
            break
        start = _COMMENT_START.match(line)
        if start:
            raw.append([start.group(1).strip()])
        elif _COMMENT_TRAILER.match(stripped):
            raw.append([])  # closes the comment; anything before the next bullet is dropped below
        elif raw and raw[-1]:
            raw[-1].append(stripped)
    comments = []
    for comment_lines in raw:
        comment = _make_comment(comment_lines, len(comments) + 1)
        if comment:
            comments.append(comment)
    return tuple(comments), count


def _make_comment(lines: list[str], position: int) -> Comment | None:
    lines = _squeeze_blank_lines(lines)
    if not lines:
        return None
    author = None
    # An author is a display name alone in its first block, with text after it.
    if len(lines) > 2 and lines[1] == "" and _is_display_name(lines[0]):
        author = None if lines[0].lower() == "anonymous" else lines[0]
        lines = lines[2:]
    return Comment(position=position, text="\n".join(lines), author=author)


def _squeeze_blank_lines(lines: list[str]) -> list[str]:
    squeezed: list[str] = []
    for line in lines:
        if line or (squeezed and squeezed[-1]):
            squeezed.append(line)
    while squeezed and not squeezed[-1]:
        squeezed.pop()
    return squeezed


def _is_display_name(line: str) -> bool:
    words = line.split()
    return 1 <= len(words) <= 4 and all(_NAME_WORD.match(w) for w in words)


def iter_paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the non-empty blocks of text separated by blank lines, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    block: list[int] = []  # [start, end] of the block being read
    for line in re.finditer(r"[^\n]*(?:\n|$)", text):
        if not line.group().strip():
            if block:
                spans.append((block[0], block[1]))
                block = []
            if line.end() == len(text):
                break
            continue
        content = line.group().rstrip()
        first = line.start() + len(content) - len(content.lstrip())
        block = [block[0] if block else first, line.start() + len(content)]
    if block:
        spans.append((block[0], block[1]))
    return spans


def read_jsonl(path: str | Path) -> list[Document]:
    """Read an archive with one JSON article per line; raise IngestError naming the first bad line."""
    documents: list[Document] = []
    first_line_of: dict[str, int] = {}
    for number, record in jsonl_rows(_read_text(Path(path)), str(path), IngestError):
        where = f"{path} line {number}"
        document = _document_from_record(record, where, source=f"{path}:{number}")
        if document.id in first_line_of:
            raise IngestError(
                f"{where}: duplicate id {document.id!r} (also on line {first_line_of[document.id]}); "
                "each article needs its own id"
            )
        first_line_of[document.id] = number
        documents.append(document)
    return documents


def _document_from_record(record: Any, where: str, source: str) -> Document:
    if not isinstance(record, dict):
        kind = type(record).__name__
        raise IngestError(f"{where}: expected a JSON object with 'title' and 'text', got {kind}")
    field = f"{where}: field"
    title = _required_text(record, "title", field)
    text = _required_text(record, "text", field)
    given_id = _optional_text(record, "id", field)
    comments = record.get("comments")
    if comments is None:
        comments = []
    if not isinstance(comments, list):
        raise IngestError(
            f"{field} 'comments' must be a list of objects with 'text', got {type(comments).__name__}"
        )
    return Document(
        id=given_id or content_id(title, text),
        title=title,
        text=text,
        byline=_optional_text(record, "author", field),
        url=_optional_text(record, "url", field),
        date=_optional_text(record, "date", field),
        source=source,
        comments=tuple(_comment_from_record(c, i, where) for i, c in enumerate(comments, start=1)),
    )


def _comment_from_record(record: Any, position: int, where: str) -> Comment:
    label = f"{where}: comments[{position - 1}]"  # JSON-style 0-based index; `position` is 1-based
    if not isinstance(record, dict):
        raise IngestError(f"{label} must be an object with 'text', got {type(record).__name__}")
    if "text" not in record:
        raise IngestError(f"{label} has no 'text'")
    return Comment(
        position=position,
        text=_required_text(record, "text", f"{label} field"),
        author=_optional_text(record, "author", f"{label} field"),
        date=_optional_text(record, "date", f"{label} field"),
    )


def _required_text(record: dict, key: str, field: str) -> str:
    """record[key] as given; `field` starts the error message ("a.jsonl line 3: field")."""
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        got = _describe(value, key in record)
        raise IngestError(f"{field} {key!r} must be a non-empty string, got {got}")
    return _check_encodable(value, key, field)


def _check_encodable(value: str, key: str, field: str) -> str:
    """`value`, unless JSON escapes put a lone surrogate ("\\ud800") in it: no UTF-8 file could store it."""
    bad = _SURROGATE.search(value)
    if bad:
        raise IngestError(f"{field} {key!r} holds \\u{ord(bad.group()):04x} at character {bad.start() + 1}, half of "
                          "a surrogate pair with no other half; escape characters beyond U+FFFF as a full pair "
                          "or write them as UTF-8")
    return value


def _optional_text(record: dict, key: str, field: str) -> str | None:
    """record[key] as given, or None when it is missing, null or empty."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise IngestError(f"{field} {key!r} must be a string or null, got {_describe(value, True)}")
    return _check_encodable(value, key, field)


def _describe(value: Any, present: bool) -> str:
    if not present:
        return "nothing (the field is missing)"
    if isinstance(value, str):
        return "an empty string" if not value else "only whitespace"
    return type(value).__name__


def load_documents(paths: Iterable[str | Path]) -> list[Document]:
    """Load pages (.txt) and archives (.jsonl) from files or folders; all or nothing."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    documents: list[Document] = []
    for file in _expand(paths):
        if file.suffix.lower() == ARCHIVE_SUFFIX:
            archive = read_jsonl(file)
            if not archive:  # as an empty folder is: an index of nothing is never what was meant
                raise IngestError(f"{file}: no articles in this file (it is empty or holds only blank lines); "
                                  "a JSONL archive holds one JSON article per line")
            documents.extend(archive)
        else:
            documents.append(parse_page(_read_text(file), source=str(file)))
    seen: dict[str, str] = {}
    for document in documents:
        if document.id in seen:
            raise IngestError(
                f"duplicate document id {document.id!r} in {seen[document.id]} and {document.source}; "
                "give each article its own id, or drop the repeated copy"
            )
        seen[document.id] = document.source
    return documents


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    """The files to read, in order: each file as given, each folder's pages and archives sorted."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)
            if not found:
                raise IngestError(f"{path}: folder holds no {ALLOWED} files")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in _SUFFIXES:
                kind = f"'{path.suffix}' files" if path.suffix else "files without an extension"
                raise IngestError(f"{path}: cannot ingest {kind}; allowed: {ALLOWED}")
            files.append(path)
        elif path.exists():
            raise IngestError(f"{path}: not a file or folder; allowed: {ALLOWED}, or a folder of them")
        else:
            raise IngestError(f"{path}: no such file or folder")
    unique: dict[Path, Path] = {}
    for file in files:  # the same file reached twice (a folder and a file in it) is read once
        unique.setdefault(file.resolve(), file)
    return list(unique.values())


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise IngestError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise IngestError(
            f"{path} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "save it as UTF-8 and try again"
        ) from None
