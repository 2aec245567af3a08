"""Tests for index/ingest.py: magazine pages, JSONL archives, file and folder loading."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.ingest import iter_paragraph_spans, load_documents, parse_page, read_jsonl
from index.records import content_id
from qa.errors import IngestError, QAError

CORPUS = Path(__file__).resolve().parents[1] / "index" / "default_corpus" / "pulse"
PAGES = sorted(CORPUS.glob("*.txt"))

TITLES = [
    "'Groundbreaking' deal to see local authorities commissioning GP services alongside CCGs",
    "CCGs to take over majority of GP budget, under NHS England proposals",
    "Local authorities demand role in commissioning primary care",
    "First GP practices to ditch national contract will sign local deal next year",
    "New dawn for commissioning as GPs start taking hold of budgets",
]
COUNTS = [14, 14, 10, 44, None]
CHROME = [
    "This site is intended for health professionals only",
    "At the heart of general practice since 1960",
    "80x101px",
    "Read the latest issue online",
    "Independents' Day",
    "The waiting game",
    "A faulty production line",
    "Related images",
    "Simon Stevens - online",
    "Manchester - online",
    "Readers' comments",
    "Unsuitable or offensive",
    "More on...",
    "View results",
    "Have your say",
    "click here",
    "free trial",
]
LONG = "This opening paragraph easily runs to more than twenty words so that the parser can be sure it is body text and not a headline."


@pytest.fixture(scope="module")
def pages():
    return [parse_page(path.read_text(encoding="utf-8"), source=str(path)) for path in PAGES]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*records: object) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


# --- magazine pages --------------------------------------------------------------------------


def test_default_corpus_titles_counts_and_comments(pages):
    assert len(PAGES) == 5
    assert [p.title for p in pages] == TITLES
    assert [p.comment_count for p in pages] == COUNTS
    assert [len(p.comments) for p in pages] == [10, 10, 10, 10, 0]
    for page in pages:
        assert [c.position for c in page.comments] == list(range(1, len(page.comments) + 1))
        assert page.id == content_id(page.title, page.text)
        assert page.source.endswith(".txt")


def test_byline_only_on_the_new_dawn_page(pages):
    assert [p.byline for p in pages] == [None, None, None, None, "Ian Quinn, Gareth Iacobucci"]
    assert not pages[4].text.startswith("By ")


def test_body_starts_with_first_paragraph_and_drops_chrome(pages):
    assert pages[0].text.startswith("GP services will be commissioned by local authorities")
    assert pages[3].text.startswith("Exclusive GPs in Manchester are the first")
    assert pages[4].text.startswith("Exclusive: Practices across England")
    assert pages[4].text.endswith("Do not be deterred from your mission.'")
    for page in pages:
        assert page.title not in page.text
        for chrome in CHROME:
            assert chrome not in page.text, (page.source, chrome)
            assert all(chrome not in c.text for c in page.comments), (page.source, chrome)


def test_paragraphs_and_bullets(pages):
    text = pages[3].text
    assert "\n\n\n" not in text and "  " not in text
    bullets = [line for line in text.split("\n") if line.startswith("• ")]
    assert len(bullets) == 5
    assert bullets[0].startswith("• GPs taking on responsibility for managing")
    assert bullets[-1] == "• Joined-up electronic health records for their populations."
    assert "Proposals currently under discussion include:\n\n• GPs taking" in text
    assert "populations.\n\nPractices will look" in text
    assert all(not line.endswith(" ") for line in text.split("\n"))


def test_comment_authors(pages):
    assert pages[0].comments[0].author == "Vinci Ho"
    assert pages[0].comments[0].text.startswith("Osbourne's punch line")
    assert pages[1].comments[1].author == "Vinci Ho"
    retired = pages[2].comments[4]
    assert retired.author == "Took Early Retirement"
    assert retired.text.startswith("From what I have seen") and "Took Early" not in retired.text
    authors = {c.author for p in pages for c in p.comments}
    assert authors == {None, "Vinci Ho", "Took Early Retirement"}


def test_reply_by_name_and_lowercase_start_stay_anonymous_text(pages):
    john = pages[2].comments[5]
    assert john.author is None
    assert john.text.startswith("John,\n\nI think that's exactly their thoughts")
    bins = pages[2].comments[3]
    assert bins.author is None
    assert bins.text == "Bin collection\nFlu injection\nWhat next?"


def test_comment_inner_line_breaks_kept(pages):
    last = pages[0].comments[9]
    assert last.text.splitlines() == [
        "What was the catchphrase??",
        "2 leaky buckets don't make a water tight solution!",
        "Temporary, moving deckchairs and Titanic spring to mind",
        "The whole of the sustainability of health and social care needs radical solutions:",
        "Either substantive tax increase or privatisation",
    ]
    assert pages[0].comments[1].text == "This Manchester GP is more than concerned.\n\nNational contracts are very important imo."


def test_ids_stable_across_parses(pages):
    again = [parse_page(path.read_text(encoding="utf-8"), source="elsewhere") for path in PAGES]
    assert [p.id for p in again] == [p.id for p in pages]
    assert len({p.id for p in pages}) == 5


def test_teasers_before_headline_are_dropped_generally():
    page = "\n\n".join(["This site is intended for health professionals only", "Some other story", "Another teaser",
                        "The real headline here", "By Ann Smith and Bob Jones", LONG, "Second paragraph."])
    doc = parse_page(page, "x.txt")
    assert (doc.title, doc.byline) == ("The real headline here", "Ann Smith and Bob Jones")
    assert doc.text == LONG + "\n\nSecond paragraph."
    assert doc.comment_count is None and doc.comments == ()


def test_short_opening_paragraph_is_body_not_headline():
    page = "\n\n".join(["A teaser", "Headline of the story", "GPs get a new contract.", LONG])
    doc = parse_page(page)
    assert doc.title == "Headline of the story"
    assert doc.text.startswith("GPs get a new contract.\n\n")


def test_sentence_starting_with_by_is_not_a_byline():
    page = "\n\n".join(["Headline", "By 2020, all CCGs will hold budgets", LONG])
    assert parse_page(page).byline is None


def test_comment_edge_cases():
    page = "\r\n".join([
        "Headline", "", LONG, "", "Readers' comments (3)", "",
        "  • Anonymous", "", "    Posted without a name.", "", "    Unsuitable or offensive? Report this comment", "",
        "  • Just Me", "", "    Unsuitable or offensive? Report this comment", "",
        "  • Third one", "", "Have your say",
    ])
    doc = parse_page(page)
    assert doc.comment_count == 3
    assert [(c.author, c.text) for c in doc.comments] == [
        (None, "Posted without a name."), (None, "Just Me"), (None, "Third one")]


@pytest.mark.parametrize("text", ["", "Just a headline\n\nand a short line", "\n".join(["Headline"] * 3)])
def test_page_without_headline_and_body_raises(text):
    with pytest.raises(IngestError, match=r"odd\.txt: no headline and body found .*expected a headline"):
        parse_page(text, source="odd.txt")


def test_page_whose_first_line_is_the_body_has_no_headline():
    with pytest.raises(IngestError, match="no headline line"):
        parse_page(LONG + "\n\n" + LONG, source="p.txt")


# --- JSONL archives --------------------------------------------------------------------------


def test_read_jsonl_good_file(tmp_path):
    path = write(tmp_path, "archive.jsonl", jsonl(
        {"title": "One", "text": "  Leading spaces kept.\n\nSecond para.  ", "id": "a1", "url": "http://x",
         "date": "2015-02-25", "author": "Ann Smith",
         "comments": [{"text": "First!"}, {"text": " Agree.", "author": "Vinci Ho", "date": "2015-02-26"}]},
        "",
        "   ",
        {"title": "Two", "text": "Body two.", "extra": 1},
    ))
    one, two = read_jsonl(path)
    assert one.id == "a1" and one.text == "  Leading spaces kept.\n\nSecond para.  "
    assert (one.url, one.date, one.byline, one.source) == ("http://x", "2015-02-25", "Ann Smith", f"{path}:1")
    assert [(c.position, c.text, c.author, c.date) for c in one.comments] == [
        (1, "First!", None, None), (2, " Agree.", "Vinci Ho", "2015-02-26")]
    assert two.id == content_id("Two", "Body two.") and two.source == f"{path}:4"
    assert two.byline is None and two.comments == () and two.comment_count is None


def test_jsonl_offsets_point_into_verbatim_text(tmp_path):
    text = "   Indented start.\n\n  Second block here.\n"
    (doc,) = read_jsonl(write(tmp_path, "a.jsonl", jsonl({"title": "T", "text": text})))
    spans = iter_paragraph_spans(doc.text)
    assert [doc.text[s:e] for s, e in spans] == ["Indented start.", "Second block here."]
    assert spans[0] == (3, 18)


@pytest.mark.parametrize("bad_line, message", [
    ('{"title": "T" "text": "x"}', r"line 2: not valid JSON \(Expecting ',' delimiter\)"),
    ('["title", "text"]', r"line 2: expected a JSON object"),
    ('{"text": "x"}', r"line 2: field 'title' must be a non-empty string"),
    ('{"title": "T"}', r"line 2: field 'text' must be a non-empty string"),
    ('{"title": "T", "text": "   "}', r"line 2: field 'text' must be a non-empty string"),
    ('{"title": "T", "text": 5}', r"line 2: field 'text' must be a non-empty string, got int"),
    ('{"title": "T", "text": "x", "url": 3}', r"line 2: field 'url' must be a string or null"),
    ('{"title": "T", "text": "x", "comments": "hi"}', r"line 2: field 'comments' must be a list"),
    ('{"title": "T", "text": "x", "comments": [{"text": "a"}, {"text": "b"}, {"author": "Z"}]}',
     r"line 2: comments\[2\] has no 'text'"),
    ('{"title": "T", "text": "x", "comments": ["a"]}', r"line 2: comments\[0\] must be an object"),
    ('{"title": "T", "text": "x", "comments": [{"text": ""}]}', r"line 2: comments\[0\] field 'text' must be a non-empty"),
])
def test_jsonl_bad_lines(tmp_path, bad_line, message):
    path = write(tmp_path, "archive.jsonl", jsonl({"title": "Good", "text": "Fine."}, bad_line))
    with pytest.raises(IngestError, match=rf"archive\.jsonl {message}"):
        read_jsonl(path)


def test_jsonl_duplicate_ids_name_both_lines(tmp_path):
    path = write(tmp_path, "d.jsonl", jsonl({"id": "x", "title": "A", "text": "a"}, {"title": "B", "text": "b"},
                                             {"id": "x", "title": "C", "text": "c"}))
    with pytest.raises(IngestError, match=r"d\.jsonl line 3: duplicate id 'x' \(also on line 1\)"):
        read_jsonl(path)


# --- files and folders -----------------------------------------------------------------------


def test_load_folder_sorted_recursive_and_ignores_other_files(tmp_path):
    page = PAGES[4].read_text(encoding="utf-8")
    write(tmp_path, "b/page.txt", page)
    write(tmp_path, "a.jsonl", jsonl({"title": "A", "text": "Alpha."}))
    write(tmp_path, "notes.md", "not ingested")
    docs = load_documents([tmp_path])
    assert [d.title for d in docs] == ["A", TITLES[4]]
    assert docs[1].source == str(tmp_path / "b" / "page.txt")


def test_load_default_corpus_folder():
    docs = load_documents([CORPUS.parent])
    assert [d.title for d in docs] == TITLES


def test_load_accepts_a_single_path_and_reads_a_file_once(tmp_path):
    path = write(tmp_path, "a.jsonl", jsonl({"title": "A", "text": "Alpha."}))
    assert len(load_documents(str(path))) == 1
    assert len(load_documents([tmp_path, path])) == 1


def test_unknown_extension_lists_what_is_allowed(tmp_path):
    path = write(tmp_path, "notes.md", "hello")
    with pytest.raises(IngestError, match=r"notes\.md: cannot ingest '\.md' files; allowed: \.txt .* or \.jsonl"):
        load_documents([path])


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(IngestError, match=r"nope\.txt: no such file or folder"):
        load_documents([tmp_path / "nope.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match=r"empty: folder holds no"):
        load_documents([tmp_path / "empty"])


@pytest.mark.parametrize("name", ["bad.txt", "bad.jsonl"])
def test_non_utf8_file_names_byte_and_offset(tmp_path, name):
    path = write(tmp_path, name, b'{"title": "\xff')
    with pytest.raises(IngestError, match=rf"{name} is not UTF-8 text \(byte 0xff at offset 11\)"):
        load_documents([path])


def test_duplicate_ids_across_files_name_both_sources(tmp_path):
    page = PAGES[0].read_text(encoding="utf-8")
    first = write(tmp_path, "one.txt", page)
    second = write(tmp_path, "two.txt", page)
    with pytest.raises(IngestError, match=rf"duplicate document id .* in {first} and {second}"):
        load_documents([tmp_path])


def test_bad_file_fails_whole_load(tmp_path):
    write(tmp_path, "a.jsonl", jsonl({"title": "A", "text": "Alpha."}))
    write(tmp_path, "b.jsonl", "{not json}\n")
    with pytest.raises(QAError, match=r"b\.jsonl line 1: not valid JSON"):
        load_documents([tmp_path])


def test_utf8_bom_is_tolerated(tmp_path):
    path = write(tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + jsonl({"title": "A", "text": "Alpha."}).encode())
    assert read_jsonl(path)[0].title == "A"


# --- paragraph spans -------------------------------------------------------------------------


def test_iter_paragraph_spans():
    text = "  First line\nsame block  \n\n \t\nSecond\n\n\nThird"
    spans = iter_paragraph_spans(text)
    assert [text[s:e] for s, e in spans] == ["First line\nsame block", "Second", "Third"]
    assert iter_paragraph_spans("") == [] and iter_paragraph_spans(" \n\n ") == []


def test_paragraph_spans_match_page_paragraphs(pages):
    for page in pages:
        spans = iter_paragraph_spans(page.text)
        assert [page.text[s:e] for s, e in spans] == page.text.split("\n\n")


def test_the_default_corpus_is_found_as_package_data():
    from index.corpus import DEFAULT_CORPUS

    assert sorted(p.name for p in DEFAULT_CORPUS.glob("*.txt")) == sorted(p.name for p in CORPUS.glob("*.txt"))
