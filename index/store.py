"""A saved index: a folder of plain files plus manifest.json, written last and atomically.

Each save is a new generation: files go to generation-stamped names ("dense.g0007.faiss") via temp
file -> fsync -> os.replace, then the manifest that names them replaces the old one. A save may also
keep files of earlier generations, named in its manifest as they were (never rewritten, so never
re-hashed). A save killed at any moment therefore leaves the previous manifest and the files it names
untouched; files no manifest names any more and stray temp files are deleted only after the new
manifest is durable.

Readers need no lock (a reader that loses a race with a save reads the new generation). Writers take
`writer_lock`, an exclusive flock on the folder's ".lock" file, so two processes updating one index
never both build on the same generation and drop each other's documents.
"""
from __future__ import annotations

import hashlib
import io
import json
import mmap
import os
import platform
import re
import tempfile
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from index.errors import IndexBusyError, IndexCorruptError, IndexMismatchError, InputError
from index.jsonl import jsonl_rows

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None

# 2: indexing-time analysis (quotes.jsonl, terms.json, analysis.<name>.jsonl) is part of every index.
# 3: an index is segments (index/segments.py): a save writes only what changed and references the rest.
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
LOCK_FILE = ".lock"  # hidden: an index folder's check and its clean-up both leave it alone
DEFAULT_LOCK_TIMEOUT = 120.0
# Files of at least this size are memory-mapped on load and checked by size; smaller ones are read and hashed.
LARGE_FILE = 32 * 2**20
LIBRARIES = ("numpy", "faiss-cpu", "bm25s", "sentence-transformers", "torch")
_TEMP_PREFIX, _TEMP_SUFFIX = ".tmp-", ".part"
_LOGICAL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# A generation-stamped name: stem, ".g" and at least four digits, then the logical name's suffix.
_STAMPED = re.compile(r"(?P<stem>[A-Za-z0-9_][A-Za-z0-9_.-]*?)\.g(?P<gen>\d{4,})(?P<suffix>\.[A-Za-z0-9]+)?")


def _build_hint(folder: Path) -> str:
    """For a folder with no index in it."""
    return f"build one with `qa index PATH --out {folder}`"


def rebuild_hint(folder: Path) -> str:
    """For a folder whose index cannot be used: `qa index` refuses a folder holding an index unless told to
    replace it."""
    return f"rebuild it with `qa index PATH --out {folder} --replace`"


def stored_name(logical: str, generation: int) -> str:
    """The on-disk name of a logical file in a generation: "passages.jsonl", 7 -> "passages.g0007.jsonl"."""
    stem, dot, suffix = logical.rpartition(".")
    if not dot or not stem:
        return f"{logical}.g{generation:04d}"
    return f"{stem}.g{generation:04d}.{suffix}"


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str | None]:
    """Python's version and the installed versions of the packages `names` (None when absent), read from
    package metadata so that nothing heavy is imported; a manifest records them, and so does an eval run."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def encode_jsonl(rows: Iterable[dict]) -> bytes:
    """Rows as UTF-8 JSON Lines, the form every .jsonl file of an index is stored in."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def decode_jsonl(data: bytes | mmap.mmap, name: str = "a .jsonl file of the index") -> list[dict]:
    """The rows of a stored .jsonl file (blank lines skipped); a malformed line raises ValueError naming it,
    which the loaders report as a corrupt index."""
    return [row for _, row in jsonl_rows(str(data, "utf-8"), name, ValueError)]


def encode_npy(array: np.ndarray) -> bytes:
    """An array as the bytes of an .npy file, the form every array of an index is stored in."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def decode_npy(data: bytes | mmap.mmap) -> np.ndarray:
    """A stored .npy file's array (ValueError when it is not one), a copy of what `data` holds."""
    return np.load(io.BytesIO(data), allow_pickle=False)


_NPY_HEADER_MAX = 1 << 16  # an .npy header of format 1.0 or 2.0 for a 2-d array is far shorter


def npy_view(data: bytes) -> np.ndarray:
    """An .npy file's array over `data` itself (bytes, or a memory-mapped file: then only the rows read are read
    from disk), without copying it; np.load's copy for layouts this does not read."""
    stream = io.BytesIO(data[:_NPY_HEADER_MAX])
    version = np.lib.format.read_magic(stream)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        return np.load(io.BytesIO(data), allow_pickle=False)
    shape, fortran_order, dtype = readers[version](stream)
    if fortran_order or dtype.hasobject:
        return np.load(io.BytesIO(data), allow_pickle=False)
    count = int(np.prod(shape, dtype=np.int64))
    return np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell()).reshape(shape)


def _fsync_dir(folder: Path) -> None:
    """Make renames in `folder` durable; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(folder: Path, name: str, data: bytes) -> None:
    """Write `data` to folder/name so that readers see the old file or the whole new one, never a part."""
    fd, temp = tempfile.mkstemp(dir=folder, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, folder / name)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _check_files(files: object) -> None:
    if not isinstance(files, dict) or not files:
        raise InputError("files must be a non-empty dict of logical file name -> bytes")
    for name, data in files.items():
        if not isinstance(name, str) or not _LOGICAL_NAME.fullmatch(name) or name == MANIFEST:
            raise InputError(
                f"file name {name!r} is not allowed: use letters, digits, '_', '-' and '.', "
                f"not starting with '.' or '-', and not {MANIFEST!r}"
            )
        if _STAMPED.fullmatch(name):
            raise InputError(f"file name {name!r} looks generation-stamped (.gNNNN); choose a plain name")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InputError(f"file {name!r} must be bytes, got {type(data).__name__}")


def _check_is_index_folder(folder: Path) -> None:
    """Refuse a folder that holds other things and no index, since saving deletes stale files in it."""
    entries = os.listdir(folder)
    if MANIFEST in entries:
        return
    # Hidden files (.DS_Store and the like) are tolerated; saving never deletes them.
    foreign = [e for e in entries if not (e.startswith(".") or _STAMPED.fullmatch(e))]
    if foreign:
        raise InputError(
            f"{folder} already holds files that are not an index (e.g. {sorted(foreign)[0]!r}); "
            "save the index to a new or empty folder"
        )


def check_destination(folder: str | Path) -> bool:
    """Whether `folder` already holds an index (False: it is missing or empty); InputError when an index
    cannot be saved there (a file, or a folder of other things). Cheap: call it before any embedding."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder; give a new or empty folder for the index")
    if not folder.exists():
        return False
    try:
        _check_is_index_folder(folder)
    except PermissionError:
        raise InputError(f"{folder} cannot be read (permission denied); give a folder you can write to") from None
    return (folder / MANIFEST).exists()


def _next_generation(folder: Path) -> int:
    """One past the highest generation on disk, counting unfinished saves, so no name is reused."""
    highest = 0
    for entry in os.listdir(folder):
        match = _STAMPED.fullmatch(entry)
        if match:
            highest = max(highest, int(match["gen"]))
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        highest = max(highest, int(manifest.get("generation", 0)))
    except (OSError, ValueError, TypeError, AttributeError):
        pass  # no readable manifest: the files on disk decide
    return highest + 1


def _remove_stale(folder: Path, keep: set[str]) -> None:
    """Delete other generations' files and leftover temp files; never touch anything else."""
    for entry in os.listdir(folder):
        stale_temp = entry.startswith(_TEMP_PREFIX) and entry.endswith(_TEMP_SUFFIX)
        if (stale_temp or _STAMPED.fullmatch(entry)) and entry not in keep:
            try:
                os.unlink(folder / entry)
            except FileNotFoundError:
                pass
    _fsync_dir(folder)


@contextmanager
def writer_lock(folder: str | Path, timeout: float = DEFAULT_LOCK_TIMEOUT):
    """Hold the index folder's writer lock (created with the folder if need be) for the `with` block.

    A second writer waits up to `timeout` seconds, then gets IndexBusyError naming the folder. The lock
    is the kernel's (flock), so a writer that dies releases it."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout < float("inf"):
        raise InputError(f"the lock timeout must be a number of seconds >= 0, got {timeout!r}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder; give a new or empty folder for the index")
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"another process is writing the index at {folder} (it holds {folder / LOCK_FILE}); "
                        f"waited {timeout:g} s. Nothing was changed: try again when it has finished, or wait "
                        "longer (--wait SECONDS)") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def current_generation(folder: str | Path) -> int | None:
    """The generation the folder's manifest names now (None: no readable manifest)."""
    try:
        generation = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8")).get("generation")
    except (OSError, ValueError, AttributeError):
        return None
    return generation if isinstance(generation, int) else None


def write_index(folder: Path, files: dict[str, bytes], meta: dict, *, keep: dict[str, dict] | None = None) -> int:
    """Save `files` (logical name -> bytes) and `meta` as a new generation of the index in `folder`;
    returns the generation written. `keep` (logical name -> its entry in the current manifest) names files
    of earlier generations that the new one holds as they are: checked by size, neither read nor hashed."""
    keep = dict(keep or {})
    if files or not keep:
        _check_files(files)
    if not isinstance(meta, dict):
        raise InputError(f"meta must be a dict, got {type(meta).__name__}")
    try:
        meta = json.loads(json.dumps(meta))
    except (TypeError, ValueError) as exc:
        raise InputError(f"meta must be JSON-serialisable (strings, numbers, lists, dicts): {exc}") from exc
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _check_is_index_folder(folder)
    _check_kept(folder, keep, files)
    generation = _next_generation(folder)
    entries = dict(keep)
    for logical, data in files.items():
        name, data = stored_name(logical, generation), bytes(data)
        _write_atomic(folder, name, data)
        entries[logical] = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _fsync_dir(folder)  # the data files' names must be durable before a manifest points at them
    manifest = {
        "format_version": FORMAT_VERSION,
        "generation": generation,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "meta": meta,
        "files": entries,
    }
    _write_atomic(folder, MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
    _fsync_dir(folder)
    _remove_stale(folder, keep={entry["name"] for entry in entries.values()})
    return generation


def _check_kept(folder: Path, keep: dict[str, dict], files: dict[str, bytes]) -> None:
    """Refuse a kept entry that is malformed, also written anew, or whose file is not there as the entry says."""
    for logical, entry in keep.items():
        if logical in files:
            raise InputError(f"file {logical!r} is both kept and written anew; give it once")
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str) and _STAMPED.fullmatch(entry["name"])
                and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str)):
            raise InputError(f"the kept entry for {logical!r} is not a manifest entry: {entry!r}")
        try:
            size = (folder / entry["name"]).stat().st_size
        except FileNotFoundError:
            raise IndexCorruptError(f"index file {logical} ({entry['name']}) is missing from {folder}; "
                                    f"{rebuild_hint(folder)}") from None
        if size != entry["size"]:
            raise IndexCorruptError(f"index file {logical} ({entry['name']}) in {folder} is {size} bytes, the "
                                    f"manifest says {entry['size']}; {rebuild_hint(folder)}")


def read_manifest(folder: Path) -> dict:
    """The parsed manifest of the index in `folder`, checked for format version and structure."""
    folder = Path(folder)
    path = folder / MANIFEST
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise IndexCorruptError(f"no index at {folder}: {MANIFEST} not found; {_build_hint(folder)}") from None
    except OSError as exc:
        raise IndexCorruptError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path} is not valid JSON ({exc}); {rebuild_hint(folder)}") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"{path} should hold a JSON object; {rebuild_hint(folder)}")
    version = manifest.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        advice = ("upgrade this library" if isinstance(version, int) and version > FORMAT_VERSION
                  else rebuild_hint(folder))
        raise IndexCorruptError(
            f"the index at {folder} has format version {version!r}, this library reads format version "
            f"{FORMAT_VERSION}; {advice}"
        )
    _check_manifest_entries(manifest, path)
    return manifest


def _check_manifest_entries(manifest: dict, path: Path) -> None:
    if not isinstance(manifest.get("meta"), dict) or not isinstance(manifest.get("files"), dict):
        raise IndexCorruptError(f"{path} lacks its 'meta' or 'files' section")
    for logical, entry in manifest["files"].items():
        ok = (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            # A plain name in this folder only: a manifest must not point outside it.
            and _STAMPED.fullmatch(entry["name"]) is not None
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
        )
        if not ok:
            raise IndexCorruptError(f"{path} has a malformed entry for {logical!r}: {entry!r}")


def read_index(folder: Path, *, with_generation: bool = False, verify: bool = False):
    """The caller's meta and the files by logical name, each checked against the manifest (see `read_index_manifest`;
    and the generation read, if `with_generation`). A save that replaces the files while they are being read is
    no error: the new generation is read instead."""
    manifest, files = read_index_manifest(folder, verify=verify)
    return (manifest["meta"], files, manifest.get("generation")) if with_generation else (manifest["meta"], files)


def read_index_manifest(folder: Path, *, verify: bool = False) -> tuple[dict, dict[str, bytes | mmap.mmap]]:
    """The manifest read (meta, generation, file entries) and the files it names, each checked for its size.

    Files under LARGE_FILE are read and checked against their sha256 too. Larger ones (an archive's vectors,
    document texts and analysis rows) are memory-mapped, so that only what is used is read: hashing them would
    read them whole on every load (seconds, for an archive). `verify` hashes them too (`qa check`)."""
    folder, attempts = Path(folder), 0
    while True:
        manifest = read_manifest(folder)
        try:
            return manifest, _read_files(folder, manifest, verify)
        except IndexCorruptError:
            attempts += 1
            if attempts == 5 or current_generation(folder) == manifest.get("generation"):
                raise  # the manifest did not move on: the damage is real


def _read_files(folder: Path, manifest: dict, verify: bool) -> dict[str, bytes | mmap.mmap]:
    files = {}
    for logical, entry in manifest["files"].items():
        path = folder / entry["name"]
        described = logical if logical == entry["name"] else f"{logical} ({entry['name']})"
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                large = size == entry["size"] and size >= LARGE_FILE
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if large else handle.read()
        except FileNotFoundError:
            raise IndexCorruptError(
                f"index file {described} is missing from {folder}; {rebuild_hint(folder)}"
            ) from None
        if len(data) != entry["size"]:
            raise IndexCorruptError(
                f"index file {described} in {folder} is {len(data)} bytes, the manifest says {entry['size']}: "
                f"it is truncated or was overwritten; {rebuild_hint(folder)}"
            )
        if (verify or not large) and hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise IndexCorruptError(
                f"index file {described} in {folder} does not match its sha256 in the manifest: "
                f"it is corrupt; {rebuild_hint(folder)}"
            )
        files[logical] = data
    return files


def check_compatible(meta: dict, expected: dict) -> None:
    """Raise IndexMismatchError naming every field of `expected` whose stored value in `meta` differs."""
    if not isinstance(meta, dict) or not isinstance(expected, dict):
        raise InputError("check_compatible takes two dicts: the stored meta and the expected settings")
    # Compare as JSON would store them, so a tuple in `expected` equals the list read back.
    wanted = json.loads(json.dumps(expected))
    missing = object()
    differences = [
        f"{key}: stored {'(not recorded)' if meta.get(key, missing) is missing else repr(meta[key])}, "
        f"expected {value!r}"
        for key, value in wanted.items()
        if meta.get(key, missing) != value
    ]
    if differences:
        raise IndexMismatchError(
            "the index was built with different settings (" + "; ".join(differences)
            + "); rebuild it with the current settings or load it with the settings it was built with"
        )
