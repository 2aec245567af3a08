"""Who said it: attribute quoted and reported speech in news text to the speaker the text names.

Works from the text alone: quote marks, speech verbs, capitalisation, personal titles and role
words find speakers; he/she, it, they and bare surnames resolve to earlier mentions. No list of
people is used, so any article works. Quote marks are found by `quote_marks`, the people and
documents a text names by `mentions`; here are the speech cues that tie a quote to one of them.
"""
from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from index.errors import InputError
from index.records import DOCUMENT, GROUP, ORGANISATION, PERSON, Document
from index.sentences import split_sentences

from .mentions import (
    DOCUMENT_NOUNS,
    FUNCTION_WORDS,
    NAME_PATTERN,
    ORGANISATION_WORDS,
    ROLE_WORD_SET,
    SPEECH_VERB,
    NamedMention,
    document_mentions,
    is_nameish,
    people_mentions,
    word_tokens,
)
from .quote_marks import MASK_CHAR, mask_quotes, quote_regions

__all__ = ["Quote", "find_quotes", "speaker_of", "sentence_speakers", "quotes_in_files"]

_GROUP_NOUNS = {
    "leaders", "managers", "trusts", "officials", "doctors", "gps", "councils", "practices", "commissioners",
    "campaigners", "experts", "critics", "sources", "ministers", "researchers", "members", "respondents",
    "unions", "patients", "nurses", "colleagues", "partners", "representatives", "authorities", "ccgs",
    "boards", "insiders", "analysts", "organisations", "hospitals", "negotiators", "lmcs", "chiefs",
    "councillors", "politicians", "mps", "clinicians", "pharmacists", "consultants", "academics",
    "commentators", "observers", "bosses", "groups", "executives", "directors", "governments", "charities",
}
_PREPOSITIONS = {"of", "in", "to", "from", "for", "at", "by", "with", "throughout", "across", "within",
                 "around", "on", "into", "among", "about", "over", "under", "between", "than"}

_AUXILIARY = re.compile(
    r"(?:\s+(?:has|have|had|also|already|now|previously|recently|repeatedly|publicly|privately|since|"
    r"today|yesterday|then|further|later|earlier|will|would|could|may|might|should|can|did|does|do|not|"
    r"never|both|all)|[’']s)\s*$"
)
# "some trusts, including NHS Richmond, said": the aside is not the subject.
_ASIDE = re.compile(r",\s*(?:including|such as|like|among them|for example)\b[^,░]*,$")
_ACCORDING = re.compile(r"\b[Aa]ccording to\s+")
_PASSIVE = re.compile(r"\b(?:was|were|is|are|been|being|be)\s*$")
_CONJUNCTION = re.compile(r"^(?:(?:But|And|Yet|So|However|Meanwhile|Elsewhere)\b,?\s*)+")
_FRONTED = re.compile(r"^(?:In|At|On|Under|After|Following|Of|For|With|During|Despite|Since|Across|"
                      r"Throughout|Within|From|By|Before|Speaking)\b[^,]*,\s*")


@dataclass(frozen=True)
class Quote:
    """A quoted or reported span of text and who said it; offsets point into the text given."""

    start: int  # the quoted span, including continuation paragraphs
    end: int
    speaker: str  # full name as first introduced, or an organisation, group or document
    role: str | None  # as the text gives it ("chief executive of Manchester LMC"); None if it gives none
    speaker_start: int  # where the speaker is named (the antecedent, for he/she/it), for citing
    speaker_end: int
    kind: str = PERSON  # PERSON, ORGANISATION, GROUP or DOCUMENT
    cue_start: int = -1  # the words that attribute it ("Dr Vell added:", "..., he said"); -1 if none
    cue_end: int = -1

    @property
    def attributed_span(self) -> tuple[int, int]:
        """The quote together with its attributing words: what a sentence "said by" this speaker overlaps."""
        if self.cue_start < 0:
            return self.start, self.end
        return min(self.start, self.cue_start), max(self.end, self.cue_end)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_quotes(text: str) -> list[Quote]:
    """Every quoted or reported-speech span in text whose speaker the text makes clear, in order."""
    if not isinstance(text, str):
        raise InputError(f"text must be a string, got {type(text).__name__}")
    regions = quote_regions(text)
    masked = mask_quotes(text, regions)
    page = _Page(text, masked, people_mentions(text, masked), document_mentions(text, masked))
    blocks = sorted(r for r in regions if r[2])
    block_starts = [r[0] for r in blocks]
    block_reach = list(itertools.accumulate((r[1] for r in blocks), max))  # furthest end of blocks so far
    sentences = split_sentences(text)
    quotes: list[Quote] = []
    claimed: set[tuple[int, int, bool]] = set()
    for s, e in sentences:
        last = bisect.bisect_right(block_starts, s) - 1  # blocks starting at or before the sentence
        if last >= 0 and block_reach[last] >= e:
            continue  # inside a quotation: its speaker comes from the cue that opened it
        near = blocks[bisect.bisect_left(block_starts, s):bisect.bisect_left(block_starts, e)]  # opening in it
        quote = _quote_in_sentence(page, s, e, quotes, near, claimed)
        if quote:
            quotes.append(quote)
    quotes.sort(key=lambda q: q.start)
    return _continue_quotes(quotes, sentences, [r for r in regions if r not in claimed])


def speaker_of(quotes: Sequence[Quote], start: int, end: int) -> Quote | None:
    """The quote (with its attributing words) that covers most of [start, end); None if none covers half."""
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end):
        raise InputError(f"start and end must be offsets with 0 <= start <= end, got {start!r} and {end!r}")
    best, best_overlap = None, 0
    for quote in quotes:
        q_start, q_end = quote.attributed_span
        overlap = min(end, q_end) - max(start, q_start)
        if overlap > best_overlap:
            best, best_overlap = quote, overlap
    return best if best_overlap * 2 >= max(end - start, 1) else None


class QuoteSpans:
    """One text's quotes found by the span they overlap, reading only those near it: a long article has
    thousands of quotes, and indexing and answering ask about every passage or sentence. With `attributed`,
    a quote's span includes its attributing words (`Quote.attributed_span`, what `speaker_of` compares)."""

    def __init__(self, quotes: Sequence[Quote], attributed: bool = False):
        self._quotes = tuple(quotes)
        # (start, end, position in `quotes`) of each span, by start; the furthest end reached so far.
        self._spans = sorted((*(q.attributed_span if attributed else (q.start, q.end)), position)
                             for position, q in enumerate(self._quotes))
        self._starts = [span[0] for span in self._spans]
        self._reach = list(itertools.accumulate((span[1] for span in self._spans), max))

    def overlapping(self, start: int, end: int) -> list[Quote]:
        """The quotes whose span overlaps [start, end), in the order they were given."""
        found = []
        at = bisect.bisect_left(self._starts, end) - 1  # the last span starting before [start, end) ends
        while at >= 0 and self._reach[at] > start:  # earlier spans all end at or before `start`
            if self._spans[at][1] > start:
                found.append(self._spans[at][2])
            at -= 1
        return [self._quotes[position] for position in sorted(found)]


class Speakers(QuoteSpans):
    """`speaker_of` over one text's quotes, reading only those whose attributed span overlaps the one asked
    about. Gives what `speaker_of(quotes, start, end)` gives, ties included."""

    def __init__(self, quotes: Sequence[Quote]):
        super().__init__(quotes, attributed=True)

    def speaker_of(self, start: int, end: int) -> Quote | None:
        return speaker_of(self.overlapping(start, end), start, end)


def sentence_speakers(text: str, quotes: list[Quote] | None = None) -> list[tuple[int, int, Quote | None]]:
    """Each sentence span of text with the quote that speaks it (None for the writer's own words)."""
    speakers = Speakers(find_quotes(text) if quotes is None else quotes)
    return [(s, e, speakers.speaker_of(s, e)) for s, e in split_sentences(text)]


def quotes_in_files(paths: Iterable[str | Path]) -> list[tuple[Document, list[Quote]]]:
    """Load magazine pages or JSONL archives and find the quotes in each article body."""
    from index.ingest import load_documents  # imported late: only file users need the parser

    return [(document, find_quotes(document.text)) for document in load_documents(paths)]


# --- speech cues ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Page:
    """A text, the same text with quotations blanked, and the people and documents it names."""

    text: str
    masked: str
    people: list[NamedMention]
    docs: list[NamedMention]
    # Lookups by position and surname, so that each cue costs the same however long the text is.
    _people_starts: list[int] = field(init=False, repr=False)
    _people_ends: list[int] | None = field(init=False, repr=False)  # None: ends not in order (then scanned)
    _people_at: dict = field(init=False, repr=False)  # an end or tail offset -> indexes of people there
    _by_surname: dict = field(init=False, repr=False)  # surname -> (starts, people) in order
    _docs_at: dict = field(init=False, repr=False)  # start offset -> documents named there

    def __post_init__(self) -> None:
        at, surnames, docs = defaultdict(list), defaultdict(lambda: ([], [])), defaultdict(list)
        for i, person in enumerate(self.people):
            for offset in {person.end, person.tail, person.end + 1}:
                at[offset].append(i)
            starts, people = surnames[person.canonical.split()[-1]]
            starts.append(person.start)
            people.append(person)
        for document in self.docs:
            docs[document.start].append(document)
        ends = [m.end for m in self.people]
        set_ = object.__setattr__
        set_(self, "_people_starts", [m.start for m in self.people])
        set_(self, "_people_ends", ends if all(a <= b for a, b in itertools.pairwise(ends)) else None)
        set_(self, "_people_at", dict(at))
        set_(self, "_by_surname", dict(surnames))
        set_(self, "_docs_at", dict(docs))

    def docs_starting(self, start: int) -> list[NamedMention]:
        return self._docs_at.get(start, [])

    def last_person_ending_by(self, at: int) -> NamedMention | None:
        """The last person mention (in text order) that ends at or before `at`."""
        if self._people_ends is None:
            before = [m for m in self.people if m.end <= at]
            return before[-1] if before else None
        i = bisect.bisect_right(self._people_ends, at)
        return self.people[i - 1] if i else None

    def people_near(self, p: int) -> list[NamedMention]:
        """People whose mention ends at `p`, one character before it, or whose tail ends there; last first."""
        return [self.people[i] for i in sorted(self._people_at.get(p, ()), reverse=True)]

    def people_starting_in(self, start: int, end: int) -> list[NamedMention]:
        """People whose mention starts in [start, end), in text order."""
        return self.people[bisect.bisect_left(self._people_starts, start):bisect.bisect_left(self._people_starts, end)]

    def last_with_surname_before(self, surname: str, start: int) -> NamedMention | None:
        starts, people = self._by_surname.get(surname, ((), ()))
        i = bisect.bisect_left(starts, start)
        return people[i - 1] if i else None


@dataclass(frozen=True)
class _Speaker:
    name: str
    role: str | None
    kind: str
    start: int
    end: int


def _quote_in_sentence(page: _Page, s: int, e: int, quotes: list[Quote], blocks: list[tuple[int, int, bool]],
                       claimed: set[tuple[int, int, bool]]) -> Quote | None:
    """The quote a speech cue in sentence [s, e) introduces, or None when it has no clear speaker."""
    masked = page.masked
    according = _ACCORDING.search(masked, s, e)
    if according:
        named = page.docs_starting(according.end())
        who = _Speaker(named[0].canonical, None, DOCUMENT, named[0].start, named[0].end) if named \
            else _forward_speaker(page, according.end(), e)
        if who:  # "According to X, ..." or "..., according to X."
            comma = masked.find(",", who.end, e)
            if according.start() == s and comma > 0:
                return _quote(comma + 1, e, who, s, comma)
            return _quote(s, according.start(), who, according.start(), e)
    for verb in SPEECH_VERB.finditer(masked, s, e):
        left = masked[s : verb.start()].rstrip()
        passive = _PASSIVE.search(left)
        after_by = re.match(r"\s+by\s+", masked[verb.end() : e])
        if passive or after_by:
            if not (passive and after_by):
                continue  # "announced by X" as a modifier, or "it was said" with no one saying it
            who = _forward_speaker(page, verb.end() + after_by.end(), e)
            if who:
                return _quote(s, e, who, s, e)
            continue
        who = _subject(page, s, e, verb, quotes)
        if who is None:
            continue
        for region in (r for r in blocks if r not in claimed):
            between = masked[verb.end() : region[0]]
            opens_after = verb.end() <= region[0] < e and len(between) <= 30 and "." not in between
            if opens_after and (":" in between or not between.strip()):
                claimed.add(region)
                return _quote(region[0], region[1], who, s, region[0])
            trailing = masked[region[1] : verb.start()]
            if s <= region[0] and region[1] <= verb.start() and len(trailing) <= 80 and "." not in trailing:
                claimed.add(region)  # "'...,' he said", "'...,' said Dr Smith"
                return _quote(region[0], region[1], who, region[1], e)
        start = _content_start(masked, verb, e)
        return _quote(start, e, who, s, start) if start < e else None
    return None


def _content_start(masked: str, verb: re.Match, e: int) -> int:
    """Where reported content begins: past "told Pulse", "reported in July that", "said that"."""
    lead = re.match(r"\s+((?:[A-Z][\w’'-]*|me|us|him|her|them|in|on|at|last|this|next|week|month|year|today|"
                    r"yesterday|recently)\s+){0,4}?that\b\s*", masked[verb.end() : e])
    if lead:
        return verb.end() + lead.end()
    hearer = re.match(r"\s+(?:(?:[A-Z][\w’'-]*\s+)+|(?:me|us|him|her|them)\s+)", masked[verb.end() : e])
    skip = hearer.end() if hearer and verb.group().startswith(("told", "tell")) else 0
    return verb.end() + skip + len(masked[verb.end() + skip : e]) - len(masked[verb.end() + skip : e].lstrip())


def _quote(start: int, end: int, who: _Speaker, cue_start: int, cue_end: int) -> Quote:
    return Quote(start, end, who.name, who.role, who.start, who.end, who.kind, cue_start, cue_end)


def _subject(page: _Page, s: int, e: int, verb: re.Match, quotes: list[Quote]) -> _Speaker | None:
    """Who performs the speech verb: a pronoun, a named person, a document, an organisation or a group."""
    masked = page.masked
    left = masked[s : verb.start()].rstrip()
    while (stripped := _AUXILIARY.sub("", _ASIDE.sub("", left)).rstrip()) != left:
        left = stripped
    p = s + len(left)
    clause = s + _CONJUNCTION.match(masked[s:p]).end() if _CONJUNCTION.match(masked[s:p]) else s
    if clause >= p:  # "And explains that: ..." continues the previous speaker
        return _as_speaker(quotes[-1]) if quotes else None
    if left.endswith((MASK_CHAR, MASK_CHAR + ",")):  # "'...,' said Dr Smith": the speaker follows the verb
        after = verb.end() + len(masked[verb.end() : e]) - len(masked[verb.end() : e].lstrip())
        return _forward_speaker(page, after, e)
    pronoun = re.search(r"\b(he|she|it|they)$", left, re.IGNORECASE)
    if pronoun:
        return _resolve_pronoun(page, pronoun.group(1).lower(), s + pronoun.start(), quotes)
    for person in page.people_near(p):
        if p in (person.tail, person.end) or masked[person.end : p] == ",":
            return _Speaker(person.canonical, person.role, PERSON, person.start, person.end)
    document = _document_subject(page, clause, p)
    if document:
        return document
    spokesperson = re.fullmatch(r"(?i:an?|the|its)\s+(spokes(?:person|man|woman))", masked[clause:p])
    if spokesperson:  # "A spokesperson added": for the organisation last quoted
        speaking = [q for q in quotes if q.kind == ORGANISATION]
        return replace(_as_speaker(speaking[-1]), role=spokesperson.group(1)) if speaking else None
    if verb.group().endswith("ing"):  # "GP leaders rejected the plans, saying ...": the clause's subject
        return _forward_speaker(page, _skip_fronted(masked, clause, p), p)
    return _backward_speaker(page, clause, p)


def _resolve_pronoun(page: _Page, pronoun: str, at: int, quotes: list[Quote]) -> _Speaker | None:
    """he/she: the last person named; it: the last document or organisation; they: the last group or
    organisation quoted."""
    if pronoun in ("he", "she"):
        last = page.last_person_ending_by(at)
        return _Speaker(last.canonical, last.role, PERSON, last.start, last.end) if last else None
    kinds = (DOCUMENT, ORGANISATION) if pronoun == "it" else (GROUP, ORGANISATION)
    candidates = [_as_speaker(q) for q in quotes if q.kind in kinds and q.speaker_end <= at]
    if pronoun == "it":
        candidates += [_Speaker(d.canonical, None, DOCUMENT, d.start, d.end) for d in page.docs if d.end <= at]
    return max(candidates, key=lambda c: c.start, default=None)


def _as_speaker(quote: Quote) -> _Speaker:
    return _Speaker(quote.speaker, quote.role, quote.kind, quote.speaker_start, quote.speaker_end)


def _document_subject(page: _Page, clause: int, p: int) -> _Speaker | None:
    """A document as subject: "The letter states", "The document announcing the changes said"."""
    match = re.match(rf"(?i:the|a|an|this|its|their)\s+(?:░+\s+)?(?:[\w-]+\s+){{0,3}}?({DOCUMENT_NOUNS})\b",
                     page.masked[clause:p])
    if not match:
        return None
    named = [d for d in page.docs_starting(clause) if d.end <= p]
    if named and (named[0].head != named[0].canonical or clause + match.end() == p):
        return _Speaker(named[0].canonical, None, DOCUMENT, named[0].start, named[0].end)
    name = page.text[clause:p].split(",")[0]  # "The letter, from X, states": the aside is not the name
    return _Speaker(name[0].lower() + name[1:], None, DOCUMENT, clause, clause + len(name))


def _skip_fronted(masked: str, clause: int, p: int) -> int:
    """Past a fronted phrase ("At the annual LMCs conference in York, ") to the clause's subject."""
    fronted = _FRONTED.match(masked[clause:p])
    return clause + fronted.end() if fronted else clause


def _backward_speaker(page: _Page, clause: int, p: int) -> _Speaker | None:
    """The noun phrase right before the verb: "BMA", "NHS England", "local leaders", "23" (of 29 trusts)."""
    tokens = word_tokens(page.masked, clause, p)
    run: list[re.Match] = []
    for i in range(len(tokens) - 1, -1, -1):
        word = tokens[i].group()
        head_is_group = bool(run) and run[-1].group().lower() in _GROUP_NOUNS
        if is_nameish(word) or word.lower() in ROLE_WORD_SET or (not run and word.lower() in _GROUP_NOUNS):
            run.insert(0, tokens[i])
        elif not run and word in ORGANISATION_WORDS and i and is_nameish(tokens[i - 1].group()):
            run.insert(0, tokens[i])  # "the Scottish GP committee said"
        elif head_is_group and word.islower() and word not in FUNCTION_WORDS and len(run) < 3:
            run.insert(0, tokens[i])  # "local leaders", "some trusts"
        elif word in ("of", "and") and run and i and is_nameish(tokens[i - 1].group()):
            run.insert(0, tokens[i])
        elif not run and word.isdigit():
            share = re.match(r"Of\s+(?:the\s+)?((?:\d+\s+)?[\w-]+)", page.masked[clause:p])
            return _Speaker(f"{word} of {share.group(1)}", None, GROUP, tokens[i].start(), tokens[i].end()) \
                if share else None
        else:
            if run and word in ("for", "at", "of") and i and tokens[i - 1].group().lower() in ROLE_WORD_SET:
                who = _interpret(page, run)  # "a spokesperson for NHS England"
                return replace(who, role=tokens[i - 1].group()) if who and who.kind == ORGANISATION else who
            if run and word.lower() in _PREPOSITIONS:  # "Councils throughout London have written"
                return _forward_speaker(page, _skip_fronted(page.masked, clause, p), p)
            break
    return _interpret(page, run)


def _forward_speaker(page: _Page, start: int, end: int) -> _Speaker | None:
    """The noun phrase that starts at `start`: a clause's subject or the agent after "by"."""
    masked = page.masked
    run: list[re.Match] = []
    tokens = word_tokens(masked, start, end)
    if tokens and tokens[0].group().lower() == "the":
        tokens = tokens[1:]
    lead = re.match(r"[^,.;:░]*", masked[start:end]).end() + start
    for person in page.people_starting_in(start, lead):
        if start <= person.start < lead and all(is_nameish(t.group()) or t.group().lower() in ROLE_WORD_SET
                                                 for t in word_tokens(masked, start, person.start)):
            return _Speaker(person.canonical, person.role, PERSON, person.start, person.end)
    for i, token in enumerate(tokens):
        word = token.group()
        if word.lower() in _GROUP_NOUNS or (run and word in ORGANISATION_WORDS):  # "the Scottish GP committee"
            run.append(token)
            break
        if is_nameish(word) or word.lower() in ROLE_WORD_SET:
            run.append(token)
        elif (word.islower() or i == 0) and word not in FUNCTION_WORDS and i + 1 < len(tokens) and len(run) < 3 \
                and tokens[i + 1].group().lower() in _GROUP_NOUNS:  # "local leaders"; "Local" opening a sentence
            run.append(token)
        else:
            break
    return _interpret(page, run)


def _interpret(page: _Page, run: list[re.Match]) -> _Speaker | None:
    """Decide what a noun phrase names: a group, a person known by surname, a person, or an organisation."""
    if not run:
        return None
    text = page.text
    words = [t.group() for t in run]
    start, end = run[0].start(), run[-1].end()
    if words[-1].lower() in _GROUP_NOUNS:
        return _Speaker(text[start:end], None, GROUP, start, end)
    if words[-1] in ORGANISATION_WORDS and len(words) > 1 and all(is_nameish(w) for w in words[:-1]):
        return _Speaker(text[start:end], None, ORGANISATION, start, end)
    trailing_roles = next((i for i, w in enumerate(reversed(words)) if w.lower() not in ROLE_WORD_SET), len(words))
    first_role = len(words) - trailing_roles
    if 0 < first_role < len(words) and words[-1].lower() not in ("gp", "mp"):  # "an NHS England spokesperson"
        org = _interpret(page, run[:first_role])
        if org and org.kind == ORGANISATION:
            return replace(org, role=text[run[first_role].start() : end])
    if not all(is_nameish(w) for w in (words[0], words[-1])) \
            or not all(is_nameish(w) or w in ("of", "and", "&") for w in words):
        return None  # "Department of Health and Social Care" is a name; "plans for change" is not
    known = page.last_with_surname_before(words[-1], start)
    if known:
        return _Speaker(known.canonical, known.role, PERSON, start, end)
    if 2 <= len(words) <= 3 and all(re.fullmatch(NAME_PATTERN, w) and w.lower() not in ORGANISATION_WORDS
                                    for w in words):
        return _Speaker(text[start:end], None, PERSON, start, end)
    return _Speaker(text[start:end], None, ORGANISATION, start, end)


def _continue_quotes(quotes: list[Quote], sentences: list[tuple[int, int]],
                     regions: list[tuple[int, int, bool]]) -> list[Quote]:
    """A sentence that opens with a quote mark and names no one continues the quote just before it,
    in the same paragraph or a new one."""
    starts = {s: i for i, (s, _) in enumerate(sentences)}
    for start, end, _ in sorted(regions):
        i = starts.get(start)
        if not i:
            continue
        previous_end = sentences[i - 1][1]
        for k in range(len(quotes) - 1, -1, -1):
            if previous_end - 2 <= quotes[k].attributed_span[1] <= start:
                quotes[k] = replace(quotes[k], end=max(quotes[k].end, end))
                break
    return quotes
