"""An index folder as segments, so that a save writes what changed and nothing else.

The base segment (what `qa index` or a compaction writes) has the plain file names ("passages.jsonl",
"dense.npy", ...); each later add writes a delta segment, the same files under a prefix
("seg3.passages.jsonl"); a delete writes only "deleted.json", the documents each segment no longer serves
(tombstones). The manifest's meta lists the segments, oldest first; files of earlier generations are
kept by reference (index/store.py), never rewritten or hashed again. Loading reads each segment, drops its
tombstoned documents and joins them in order (index/saved.py), so rows are as one index built in that
order would have them.

Deltas merge as a size-tiered log: FANOUT segments of one size class are written as one of the next, so
there are a few segments per size class and a passage is rewritten a few times in all. Everything is
compacted into one base when the deltas outgrow the base or a quarter of the stored documents are
tombstones, which costs one full save per doubling of the archive.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from index import analysis as analysis_files
from index import quantised
from index.analysis import Analysis
from index.dense import FILES as DENSE_FILES
from index.dense import DenseIndex
from index.errors import IndexCorruptError
from index.lazy_rows import LazyRows, encode_rows, line_index
from index.lexical import FILES as LEXICAL_FILES
from index.lexical import LexicalIndex
from index.passage_table import FILES as PASSAGE_FILES
from index.passage_table import PassageTable
from index.records import Comment, Document, Passage
from index.row_chunks import RowChunks
from index.store import decode_jsonl, decode_npy, encode_npy, npy_view

BASE = "base"
PASSAGES_JSONL = "passages.jsonl"  # how segments written before PassageTable held their passages
TOMBSTONES = "deleted.json"
FANOUT = 8  # segments of one size class merged into one of the next
DELETED_SHARE = 0.25  # tombstones of this share of the stored documents: compact
# Sentence vectors are kept as int8 rows with a scale each (index/quantised.py), on disk and in memory;
# float16 and float32 files of older indexes still load (quantised then).


@dataclass(frozen=True)
class Segment:
    """One segment as the manifest lists it: its name and what it held when written (tombstones aside)."""

    name: str
    documents: int
    passages: int

    @property
    def prefix(self) -> str:
        """What its files' logical names start with ("" for the base)."""
        return "" if self.name == BASE else f"{self.name}."

    @classmethod
    def from_meta(cls, row: object) -> Segment:
        ok = (isinstance(row, dict) and isinstance(row.get("name"), str) and row["name"].isidentifier()
              and all(type(row.get(key)) is int and row[key] >= 0 for key in ("documents", "passages")))
        if not ok:
            raise IndexCorruptError(f"the manifest lists a malformed segment: {row!r}")
        return cls(row["name"], row["documents"], row["passages"])


@dataclass(frozen=True)
class Stored:
    """The saved generation an index in memory was read from or written as: what its next save may keep.

    `deleting` keeps it in step with deletes in memory; documents added since are those not `is_live`."""

    folder: str  # resolved: a save to another folder is written whole
    generation: int
    segments: tuple[Segment, ...]
    entries: dict[str, dict]  # the manifest entries of the segments' files, by logical name
    owner: dict[str, str]  # document id -> the segment that stored it (shared, never changed)
    deleted: dict[str, frozenset[str]]  # segment name -> its tombstoned document ids
    settings: dict  # what a delta must be written with to join these segments (`settings_of`)

    def is_live(self, doc_id: str) -> bool:
        """Whether the document of that id in memory is the one a segment stored (not deleted since)."""
        segment = self.owner.get(doc_id)
        return segment is not None and doc_id not in self.deleted.get(segment, ())

    def deleting(self, doc_ids: Iterable[str]) -> Stored:
        """This state with tombstones for those of `doc_ids` that are stored and live (the others were added
        since and are simply gone)."""
        deleted = {name: set(ids) for name, ids in self.deleted.items()}
        for doc_id in doc_ids:
            if self.is_live(doc_id):
                deleted.setdefault(self.owner[doc_id], set()).add(doc_id)
        return Stored(self.folder, self.generation, self.segments, self.entries, self.owner,
                      {name: frozenset(ids) for name, ids in deleted.items()}, self.settings)

    def tombstones(self) -> int:
        return sum(len(ids) for ids in self.deleted.values())


def settings_of(meta: dict) -> dict:
    """The parts of an index's meta that every segment shares (counts and the segment list aside)."""
    return {key: value for key, value in meta.items()
            if key not in ("documents", "passages", "vectors", "segments")}


def segments_of(meta: dict) -> tuple[Segment, ...]:
    """The manifest meta's segments, oldest first (the base, if any, first)."""
    rows = meta.get("segments")
    if not isinstance(rows, list) or not rows:
        raise IndexCorruptError(f"the manifest lists no segments ({rows!r}); rebuild the index with `qa index`")
    segments = tuple(map(Segment.from_meta, rows))
    if len({s.name for s in segments}) != len(segments):
        raise IndexCorruptError(f"the manifest lists a segment twice: {[s.name for s in segments]}")
    return segments


def tombstones_file(deleted: dict[str, frozenset[str]]) -> bytes:
    return json.dumps({name: sorted(ids) for name, ids in sorted(deleted.items()) if ids},
                      ensure_ascii=False).encode("utf-8")


def read_tombstones(files: dict[str, bytes], segments: Sequence[Segment]) -> dict[str, frozenset[str]]:
    """Each segment's tombstoned ids ({} when the index has no tombstones file)."""
    if TOMBSTONES not in files:
        return {}
    try:
        rows = json.loads(str(files[TOMBSTONES], "utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{TOMBSTONES} is not valid JSON ({exc})") from exc
    names = {s.name for s in segments}
    if not isinstance(rows, dict) or not all(
            name in names and isinstance(ids, list) and all(isinstance(i, str) for i in ids)
            for name, ids in rows.items()):
        raise IndexCorruptError(f"{TOMBSTONES} should map the index's segments to lists of document ids")
    return {name: frozenset(ids) for name, ids in rows.items()}


def merge_run(sizes: Sequence[int]) -> int:
    """How many of the newest segments to write as one, `sizes` being the deltas' passages, oldest first,
    the one about to be written last: while FANOUT of one size class (a power of FANOUT) end the list,
    they are merged, and the merged one is counted in its class in turn."""
    take, size = 1, sizes[-1]
    while True:
        level = _size_class(size)
        run = 0
        while take + run < len(sizes) and _size_class(sizes[-1 - take - run]) == level:
            run += 1
        if run + 1 < FANOUT:
            return take
        size += sum(sizes[len(sizes) - take - run:len(sizes) - take])
        take += run


def _size_class(passages: int) -> int:
    return int(math.log(max(passages, 1), FANOUT))


class SegmentData(NamedTuple):
    """What one segment holds, rows counted from its own first passage."""

    documents: dict[str, Document]
    passages: PassageTable
    window_passage: np.ndarray  # int64, one entry per dense vector
    dense: DenseIndex
    lexical: LexicalIndex
    sentence_vectors: np.ndarray | RowChunks  # quantised rows (index/quantised.py)
    analysis: Analysis


def segment_files(segment: Segment, data: SegmentData) -> dict[str, bytes]:
    """The segment's files for `index.store.write_index`, by logical name."""
    prefix = segment.prefix
    files = {
        "documents.jsonl": encode_rows(data.documents, lambda _, document: _document_dict(document)),
        **data.passages.to_files(list(data.documents)),
        "windows.npy": encode_npy(data.window_passage),
        "sentence_vectors.npy": encode_npy(np.asarray(data.sentence_vectors)),
        **data.dense.to_files(),
        **data.lexical.to_files(),
    }
    files["documents.lines.json"] = line_index(files["documents.jsonl"], key="id")
    files = {prefix + name: content for name, content in files.items()}
    files.update(analysis_files.to_files(data.analysis, prefix))
    return files


def read_segment(files: dict[str, bytes], segment: Segment, meta: dict) -> SegmentData:
    """A segment read back from its files; KeyError, ValueError or TypeError when they are not consistent."""
    prefix = segment.prefix

    def mine(names: Iterable[str]) -> dict[str, bytes]:  # its files under the names the readers expect
        return {name: files[prefix + name] for name in names if prefix + name in files}

    # Each document is decoded when first read: an archive's texts are most of its index.
    documents = LazyRows.from_jsonl(files[prefix + "documents.jsonl"], prefix + "documents.jsonl", _document_from,
                                    key="id", lines=files.get(prefix + "documents.lines.json"))
    if prefix + PASSAGES_JSONL in files:  # written before passages were stored as arrays
        rows = decode_jsonl(files[prefix + PASSAGES_JSONL])
        passages = PassageTable.of([_passage_from(row, documents) for row in rows], documents)
    else:
        passages = PassageTable.from_files(mine(PASSAGE_FILES), documents)
    window_passage = decode_npy(files[prefix + "windows.npy"]).astype(np.int64)
    # Deltas are exact (flat) in every index: their vectors join the base's as stored.
    kind = meta["dense_kind"] if segment.name == BASE else "exact"
    dense = DenseIndex.from_files(mine(DENSE_FILES), meta["dimension"], kind, rows=len(window_passage))
    lexical = LexicalIndex.from_files(mine(LEXICAL_FILES.values()))
    sentence_vectors = _sentence_vectors(files[prefix + "sentence_vectors.npy"], meta["dimension"])
    analysis = analysis_files.from_files(files, meta["analysis"], documents.keys(), len(passages), prefix)
    sentences = int(passages.sentence_start[-1])
    if (len(documents), len(passages)) != (segment.documents, segment.passages) or len(lexical) != len(passages) \
            or len(sentence_vectors) != sentences:
        raise ValueError(
            f"segment {segment.name!r} holds {len(documents)} documents and {len(passages)} passages (the manifest "
            f"says {segment.documents} and {segment.passages}), {len(lexical)} lexical rows, and sentence vectors "
            f"for {len(sentence_vectors)} sentences where its passages have {sentences}")
    return SegmentData(documents, passages, window_passage, dense, lexical, sentence_vectors, analysis)


# Field names read once: a shallow dict of a record is several times faster than dataclasses.asdict, which
# deep-copies every value.
_DOCUMENT_FIELDS = tuple(f.name for f in fields(Document))
_COMMENT_FIELDS = tuple(f.name for f in fields(Comment))


def _document_dict(document: Document) -> dict:
    row = {name: getattr(document, name) for name in _DOCUMENT_FIELDS}
    row["comments"] = [{name: getattr(c, name) for name in _COMMENT_FIELDS} for c in document.comments]
    return row


def _document_from(row: dict) -> Document:
    comments = tuple(Comment(**c) for c in row.pop("comments"))
    return Document(**row, comments=comments)


def _passage_from(row: dict, documents: dict[str, Document]) -> Passage:
    document = documents[row["doc_id"]]
    text = document.source_text(row["comment"])[row["start"]:row["end"]]
    windows = tuple(tuple(w) for w in row.pop("windows"))
    sentences = tuple(tuple(s) for s in row.pop("sentences"))
    return Passage(**row, title=document.title, text=text, windows=windows, sentences=sentences)


def _sentence_vectors(data: bytes, dimension: int) -> np.ndarray:
    """The stored sentence vectors, quantised: a read-only view of the file's bytes (memory-mapped when large, so
    only the rows a question scores are read), or an older index's float16 / float32 vectors quantised."""
    array = npy_view(data)
    if quantised.is_quantised(array) and array.ndim == 1 and quantised.dimension(array) == dimension:
        return array
    if array.dtype in (np.float16, np.float32) and array.ndim == 2 and array.shape[1] == dimension:
        return quantised.quantised(array)
    raise ValueError(f"sentence vectors of dtype {array.dtype} and shape {array.shape}, expected int8 rows of "
                     f"{dimension} components with a scale each (or float16 / float32 ones, older indexes)")
