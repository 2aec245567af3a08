"""Save and load a corpus index as segments (index/segments.py) in an index folder (index/store.py).

A save after an add writes the added documents as one new segment (merged with the newest small ones
when they pile up), a save after a delete writes the tombstones; every other file of the folder is kept
as it is. A save writes the whole index as one base segment when it has no saved state to build on
(a new build, another writer saved since, other settings) or when the segments ask for a compaction.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from index.analysis import Analyser, complete
from index.chunk import ChunkConfig
from index.corpus_index import CorpusIndex, IndexConfig, delete_documents, documents_data, joined
from index.embed import Embedder
from index.errors import IndexCorruptError
from index.options import EXACT
from index.segments import (
    BASE,
    DELETED_SHARE,
    TOMBSTONES,
    Segment,
    SegmentData,
    Stored,
    merge_run,
    read_segment,
    read_tombstones,
    segment_files,
    segments_of,
    settings_of,
    tombstones_file,
)
from index.store import (
    check_compatible,
    current_generation,
    read_index_manifest,
    read_manifest,
    rebuild_hint,
    write_index,
)

_DELTA = re.compile(r"seg(\d+)")


def save_index(index: CorpusIndex, folder: str | Path) -> int:
    """Write the index to `folder` as a new generation (the manifest last, atomically), writing only what
    changed since the generation it was read from or last written as; returns the generation written, also
    set on `index`. Concurrent writers must hold `index.store.writer_lock` (the Engine does)."""
    folder = Path(folder)
    stored, meta = index.stored, index.meta()
    if stored is None or not _can_build_on(stored, index, folder, meta):
        return _save_whole(index, folder, meta)
    new_ids = [doc_id for doc_id in index.documents if not stored.is_live(doc_id)]
    live = sum(s.documents for s in stored.segments) - stored.tombstones()
    if live + len(new_ids) != len(index.documents):  # changed some way this module does not follow
        return _save_whole(index, folder, meta)
    added = documents_data(index, set(new_ids)) if new_ids else None
    if _compaction_due(stored, len(added.passages) if added else 0):
        return _save_whole(index, folder, meta)
    return _save_changes(index, folder, meta, stored, added)


def _can_build_on(stored: Stored, index: CorpusIndex, folder: Path, meta: dict) -> bool:
    # An hnsw graph is saved whole: a delta's vectors would be inserted into it again on every load.
    return (index.config.dense_kind == EXACT and stored.settings == settings_of(meta)
            and stored.folder == str(folder.resolve()) and current_generation(folder) == stored.generation)


def _compaction_due(stored: Stored, added_passages: int) -> bool:
    """Whether the deltas, with the passages added, would outgrow the base, or tombstones are a large share."""
    base, deltas = stored.segments[0], stored.segments[1:]
    return (stored.tombstones() > DELETED_SHARE * sum(s.documents for s in stored.segments)
            or sum(s.passages for s in deltas) + added_passages > base.passages)


def _save_whole(index: CorpusIndex, folder: Path, meta: dict) -> int:
    base = Segment(BASE, len(index.documents), len(index.passages))
    generation = write_index(folder, segment_files(base, index.segment_data()), {**meta, "segments": [vars(base)]})
    _remember(index, folder, generation, dict.fromkeys(index.documents, BASE), {})
    return generation


def _save_changes(index: CorpusIndex, folder: Path, meta: dict, stored: Stored, added: SegmentData | None) -> int:
    """Write `added` (the documents added, if any) as a new segment, merged with the newest deltas when
    `merge_run` says so, and the tombstones if they changed; keep every other file."""
    segments, deleted, files = list(stored.segments), dict(stored.deleted), {}
    if added is not None:
        deltas = segments[1:]
        take = merge_run([s.passages for s in deltas] + [len(added.passages)])
        if take > 1:  # the newest deltas are written again as part of the new segment, less their tombstones
            merged = {s.name for s in deltas[len(deltas) - (take - 1):]}
            ids = {d for d, name in stored.owner.items() if name in merged and stored.is_live(d)}
            added = documents_data(index, ids | set(added.documents))
            segments = [s for s in segments if s.name not in merged]
            deleted = {name: gone for name, gone in deleted.items() if name not in merged}
    # A delta whose documents are all deleted is dropped, not kept with a tombstone for each.
    emptied = {s.name for s in segments[1:] if len(deleted.get(s.name, ())) >= s.documents}
    segments = [s for s in segments if s.name not in emptied]
    deleted = {name: gone for name, gone in deleted.items() if name not in emptied}
    kept = {s.name for s in segments}
    keep = {logical: entry for logical, entry in stored.entries.items()
            if logical != TOMBSTONES and _segment_of(logical, kept) is not None}
    if added is not None:
        # Numbered past every stored segment, so no logical name of the new one is also kept.
        number = 1 + max((int(m[1]) for s in stored.segments if (m := _DELTA.fullmatch(s.name))), default=0)
        segments.append(Segment(f"seg{number}", len(added.documents), len(added.passages)))
        files.update(segment_files(segments[-1], added))
    if any(deleted.values()):
        tombstones = tombstones_file(deleted)
        if stored.entries.get(TOMBSTONES, {}).get("sha256") == hashlib.sha256(tombstones).hexdigest():
            keep[TOMBSTONES] = stored.entries[TOMBSTONES]  # no delete since
        else:
            files[TOMBSTONES] = tombstones
    generation = write_index(folder, files, {**meta, "segments": [vars(s) for s in segments]}, keep=keep)
    owner = {doc_id: name for doc_id, name in stored.owner.items() if name in kept}
    if added is not None:
        owner.update(dict.fromkeys(added.documents, segments[-1].name))
    _remember(index, folder, generation, owner, deleted)
    return generation


def _segment_of(logical: str, names: set[str]) -> str | None:
    """The segment of `names` a file belongs to, by its prefix ("seg3." or none: the base)."""
    head, dot, _ = logical.partition(".")
    if dot and _DELTA.fullmatch(head):
        return head if head in names else None
    return BASE if BASE in names else None


def _remember(index: CorpusIndex, folder: Path, generation: int, owner: dict[str, str],
              deleted: dict[str, frozenset[str]]) -> None:
    """Record on `index` the generation written and what it holds, for its next save to build on."""
    manifest = read_manifest(folder)
    index.generation = generation
    index.stored = None if manifest.get("generation") != generation else Stored(
        str(folder.resolve()), generation, segments_of(manifest["meta"]), manifest["files"], owner,
        {name: gone for name, gone in deleted.items() if gone}, settings_of(manifest["meta"]))


def load_index(folder: str | Path, embedder: Embedder | None = None,
               analysers: Sequence[Analyser] = (), *, verify: bool = False) -> CorpusIndex:
    """Read and check an index folder; with an embedder, also check it is the model the index was built with.
    Large files are checked by size, and by their sha256 too when `verify` (index.store.read_index_manifest).

    `analysers` run on documents added later; any whose rows the folder lacks (or holds from another
    version) runs now over every document, in memory (saved with the next update)."""
    manifest, files = read_index_manifest(Path(folder), verify=verify)
    meta, generation = manifest["meta"], manifest.get("generation")
    if embedder is not None:
        check_compatible(meta, {"model": embedder.name, "dimension": embedder.dimension})
    try:
        config = IndexConfig(ChunkConfig(**meta["chunk"]), meta["dense_kind"], meta.get("sentence_vectors", "separate"))
        segments = segments_of(meta)
        if segments[0].name != BASE:
            raise ValueError(f"the first segment is {segments[0].name!r}, not the base")
        deleted = read_tombstones(files, segments)
        parts, owner = [], {}
        for segment in segments:
            data = read_segment(files, segment, meta)
            owner.update(dict.fromkeys(data.documents, segment.name))
            part = CorpusIndex(data.documents, data.passages, data.window_passage, data.dense, data.lexical,
                               meta["model"], config, data.sentence_vectors, meta.get("model_path"),
                               analysis=data.analysis)
            parts.append(delete_documents(part, sorted(deleted[segment.name])) if deleted.get(segment.name)
                         else part)
        del files  # each segment's arrays hold what they need of it
        index = joined(parts)
    except (KeyError, ValueError, TypeError) as error:
        raise IndexCorruptError(f"index at {folder} is inconsistent ({error}); {rebuild_hint(folder)}") from error
    if not isinstance(index.model_path, str):
        index.model_path = None
    index.analysis = complete(index.analysis, index.documents, analysers)
    index.analysers = tuple(analysers)
    index.generation = generation
    index.stored = Stored(str(Path(folder).resolve()), generation, segments, manifest["files"], owner, deleted,
                          settings_of(meta))
    return index
