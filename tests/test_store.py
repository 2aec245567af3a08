"""Fault tests for index/store.py: every kind of damage is named, and a killed save loses nothing."""
from __future__ import annotations

import json
import mmap
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index import store
from index.store import (
    FORMAT_VERSION,
    MANIFEST,
    check_compatible,
    decode_jsonl,
    encode_jsonl,
    read_index,
    read_manifest,
    write_index,
)
from qa.errors import IndexCorruptError, IndexMismatchError, InputError

REPO = Path(__file__).resolve().parents[1]
FILES = {"passages.jsonl": b'{"id": "p1"}\n', "dense.faiss": b"\x00\x01" * 50, "lexical.vocab.json": b'["nhs"]'}
META = {"model": "all-MiniLM-L6-v2", "dimension": 384, "chunk": {"max_tokens": 200, "overlap": 40}}


def _stored_path(folder: Path, logical: str) -> Path:
    return folder / read_manifest(folder)["files"][logical]["name"]


def test_round_trip_returns_meta_and_files_by_logical_name(tmp_path):
    write_index(tmp_path, FILES, META)
    meta, files = read_index(tmp_path)
    assert meta == META and files == FILES
    manifest = read_manifest(tmp_path)
    assert manifest["format_version"] == FORMAT_VERSION and manifest["generation"] == 1
    assert manifest["files"]["passages.jsonl"]["name"] == "passages.g0001.jsonl"
    assert manifest["files"]["lexical.vocab.json"]["name"] == "lexical.vocab.g0001.json"
    assert {"numpy", "faiss-cpu", "bm25s", "sentence-transformers", "torch"} <= set(manifest["libraries"])
    assert manifest["libraries"]["numpy"]  # installed, so a version string was recorded


def test_a_new_save_replaces_the_old_generation(tmp_path):
    write_index(tmp_path, FILES, META)
    write_index(tmp_path, {"passages.jsonl": b"new"}, {**META, "dimension": 8})
    assert read_index(tmp_path) == ({**META, "dimension": 8}, {"passages.jsonl": b"new"})
    assert sorted(os.listdir(tmp_path)) == [MANIFEST, "passages.g0002.jsonl"]


def test_truncated_file_is_named(tmp_path):
    write_index(tmp_path, FILES, META)
    path = _stored_path(tmp_path, "dense.faiss")
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(IndexCorruptError, match=r"dense.faiss \(dense.g0001.faiss\).* 93 bytes, the manifest says 100"):
        read_index(tmp_path)


def test_a_large_file_is_mapped_and_checked_by_size_and_hashed_when_verifying(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "LARGE_FILE", 64)  # dense.faiss (100 bytes) is large, the others small
    write_index(tmp_path, FILES, META)
    _, files = read_index(tmp_path)
    assert isinstance(files["dense.faiss"], mmap.mmap) and files["dense.faiss"][:] == FILES["dense.faiss"]
    assert isinstance(files["passages.jsonl"], bytes)
    path = _stored_path(tmp_path, "dense.faiss")
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    assert read_index(tmp_path)[1]["dense.faiss"][:] == bytes(data)  # same size: not read whole on a load
    with pytest.raises(IndexCorruptError, match=r"dense.faiss .* does not match its sha256"):
        read_index(tmp_path, verify=True)
    path.write_bytes(bytes(data[:-1]))
    with pytest.raises(IndexCorruptError, match=r"dense.faiss .* 99 bytes, the manifest says 100"):
        read_index(tmp_path)


def test_flipped_byte_is_named(tmp_path):
    write_index(tmp_path, FILES, META)
    path = _stored_path(tmp_path, "passages.jsonl")
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=r"passages.jsonl .* does not match its sha256"):
        read_index(tmp_path)


def test_missing_file_is_named(tmp_path):
    write_index(tmp_path, FILES, META)
    _stored_path(tmp_path, "lexical.vocab.json").unlink()
    with pytest.raises(IndexCorruptError, match=r"lexical.vocab.json .* is missing"):
        read_index(tmp_path)


def test_missing_manifest_or_folder_says_how_to_build_one(tmp_path):
    for folder in (tmp_path / "nowhere", tmp_path):
        expected = f"no index at {folder}: manifest.json not found; build one with `qa index PATH --out {folder}`"
        with pytest.raises(IndexCorruptError, match=expected):
            read_index(folder)


def test_manifest_that_is_not_json(tmp_path):
    write_index(tmp_path, FILES, META)
    (tmp_path / MANIFEST).write_text('{"format_version": 1,', encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"manifest.json is not valid JSON"):
        read_index(tmp_path)


@pytest.mark.parametrize("version, advice", [(FORMAT_VERSION + 1, "upgrade this library"), (0, "rebuild it")])
def test_other_format_versions_name_both_versions(tmp_path, version, advice):
    write_index(tmp_path, FILES, META)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps({**manifest, "format_version": version}))
    expected = f"format version {version}, this library reads format version {FORMAT_VERSION}; {advice}"
    with pytest.raises(IndexCorruptError, match=expected):
        read_index(tmp_path)


def test_manifest_may_not_point_outside_the_folder(tmp_path):
    write_index(tmp_path, FILES, META)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["files"]["passages.jsonl"]["name"] = "../secret.g0001.txt"
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match=r"malformed entry for 'passages.jsonl'"):
        read_index(tmp_path)


def test_check_compatible_names_every_differing_field():
    check_compatible(META, {"model": "all-MiniLM-L6-v2", "chunk": {"overlap": 40, "max_tokens": 200}})
    check_compatible({"window": [1, 2]}, {"window": (1, 2)})  # a tuple matches the list JSON gives back
    with pytest.raises(IndexMismatchError) as caught:
        check_compatible(META, {"model": "other-model", "dimension": 768, "chunk": META["chunk"], "kind": "hnsw"})
    message = str(caught.value)
    assert "model: stored 'all-MiniLM-L6-v2', expected 'other-model'" in message
    assert "dimension: stored 384, expected 768" in message
    assert "kind: stored (not recorded), expected 'hnsw'" in message
    assert "chunk" not in message


def test_bad_arguments_to_write_index(tmp_path):
    with pytest.raises(InputError, match="not allowed"):
        write_index(tmp_path, {"../escape": b""}, META)
    with pytest.raises(InputError, match="not allowed"):
        write_index(tmp_path, {MANIFEST: b"{}"}, META)
    with pytest.raises(InputError, match="must be bytes, got str"):
        write_index(tmp_path, {"a.txt": "text"}, META)
    with pytest.raises(InputError, match="JSON-serialisable"):
        write_index(tmp_path, FILES, {"when": object()})
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds files that are not an index"):
        write_index(tmp_path, FILES, META)
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_hidden_files_are_tolerated_and_kept(tmp_path):
    (tmp_path / ".DS_Store").write_bytes(b"left by a file manager")
    write_index(tmp_path, FILES, META)
    write_index(tmp_path, FILES, META)
    assert sorted(os.listdir(tmp_path))[:2] == [".DS_Store", "dense.g0002.faiss"]


# The child saves a second, large generation and SIGKILLs itself at the point STORE_TEST_KILL_AT
# names ("replace:N": right after the Nth os.replace lands; "fsync:N": inside the Nth fsync, so a
# temp file is left half-written). The library has no hook for this; the test child patches os.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from index.store import write_index

    point, _, count = os.environ["STORE_TEST_KILL_AT"].partition(":")
    calls = {"n": 0}
    original = getattr(os, point)

    def dying(*args):
        if point == "replace":
            original(*args)
        calls["n"] += 1
        if calls["n"] == int(count):
            os.kill(os.getpid(), signal.SIGKILL)
        if point == "fsync":
            original(*args)

    setattr(os, point, dying)
    big = {name: bytes([i]) * 1_000_000 for i, name in enumerate(["passages.jsonl", "dense.faiss", "extra.npy"])}
    write_index(Path(sys.argv[1]), big, {"model": "second"})
    """
)


def _save_killed_at(folder, child_code: str, kill_at: str) -> None:
    """Save generation one, then run `child_code` (a second save) in a process SIGKILLed at `kill_at`."""
    write_index(folder, FILES, {"model": "first"})
    env = {**os.environ, "STORE_TEST_KILL_AT": kill_at, "PYTHONPATH": str(REPO)}
    child = subprocess.run([sys.executable, "-c", child_code, str(folder)], env=env, cwd=REPO,
                           capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()


@pytest.mark.parametrize(
    "kill_at, survivor",
    [
        ("fsync:1", "first"),  # while the first data file is a temp file
        ("replace:1", "first"),  # the first data file has landed
        ("replace:3", "first"),  # every data file has landed, the manifest has not
        ("replace:4", "second"),  # the manifest has landed, old files not yet deleted
    ],
)
def test_save_killed_midway_leaves_a_loadable_index(tmp_path, kill_at, survivor):
    _save_killed_at(tmp_path, CHILD, kill_at)
    meta, files = read_index(tmp_path)
    assert meta == {"model": survivor}
    if survivor == "first":
        assert files == FILES
    else:
        assert set(files) == {"passages.jsonl", "dense.faiss", "extra.npy"} and len(files["extra.npy"]) == 1_000_000
    leftovers = [e for e in os.listdir(tmp_path) if e != MANIFEST and e not in
                 {entry["name"] for entry in read_manifest(tmp_path)["files"].values()}]
    assert leftovers, "the kill should have left stale files for the next save to clean up"

    write_index(tmp_path, {"passages.jsonl": b"third"}, {"model": "third"})
    assert read_index(tmp_path) == ({"model": "third"}, {"passages.jsonl": b"third"})
    generation = read_manifest(tmp_path)["generation"]
    assert sorted(os.listdir(tmp_path)) == [MANIFEST, f"passages.g{generation:04d}.jsonl"]


def test_stored_jsonl_keeps_line_breaks_json_holds_raw_and_names_a_bad_line():
    # encode_jsonl writes U+2028 and other breaks raw (ensure_ascii=False); only "\n" ends a row.
    rows = [{"text": "one\u2028two\x0cthree\x85four\r"}, {"text": "next"}]
    assert decode_jsonl(encode_jsonl(rows)) == rows
    with pytest.raises(ValueError, match=r"passages\.jsonl line 2: not valid JSON"):
        decode_jsonl(b'{"a": 1}\n{"a": \n', "passages.jsonl")


def test_kept_files_stay_as_they_were_and_others_of_their_generation_go(tmp_path):
    write_index(tmp_path, FILES, META)
    kept = {"dense.faiss": read_manifest(tmp_path)["files"]["dense.faiss"]}
    write_index(tmp_path, {"passages.jsonl": b"new"}, META, keep=kept)
    assert read_manifest(tmp_path)["files"]["dense.faiss"] == kept["dense.faiss"]
    assert read_index(tmp_path) == (META, {"dense.faiss": FILES["dense.faiss"], "passages.jsonl": b"new"})
    assert sorted(os.listdir(tmp_path)) == ["dense.g0001.faiss", MANIFEST, "passages.g0002.jsonl"]


def test_a_kept_file_that_is_missing_changed_or_also_written_is_refused_and_nothing_is_saved(tmp_path):
    write_index(tmp_path, FILES, META)
    entries = read_manifest(tmp_path)["files"]
    with pytest.raises(InputError, match=r"'dense.faiss' is both kept and written anew"):
        write_index(tmp_path, {"dense.faiss": b"x"}, META, keep={"dense.faiss": entries["dense.faiss"]})
    _stored_path(tmp_path, "lexical.vocab.json").write_bytes(b'["nhs", "gp"]')
    with pytest.raises(IndexCorruptError, match=r"lexical.vocab.json \(lexical.vocab.g0001.json\) .* 13 bytes, "
                                                r"the manifest says 7"):
        write_index(tmp_path, {"passages.jsonl": b"new"}, META, keep={"lexical.vocab.json": entries["lexical.vocab.json"]})
    _stored_path(tmp_path, "dense.faiss").unlink()
    with pytest.raises(IndexCorruptError, match=r"dense.faiss \(dense.g0001.faiss\) is missing"):
        write_index(tmp_path, {"passages.jsonl": b"new"}, META, keep={"dense.faiss": entries["dense.faiss"]})
    assert read_manifest(tmp_path)["generation"] == 1


# The same child, keeping the first generation's dense.faiss: two data files and the manifest land.
KEEPING_CHILD = CHILD.replace('write_index(Path(sys.argv[1]), big, {"model": "second"})', textwrap.dedent('''
    from index.store import read_manifest
    kept = {"dense.faiss": read_manifest(Path(sys.argv[1]))["files"]["dense.faiss"]}
    del big["dense.faiss"]
    write_index(Path(sys.argv[1]), big, {"model": "second"}, keep=kept)'''))


@pytest.mark.parametrize("kill_at, survivor", [("replace:1", "first"), ("replace:2", "first"), ("replace:3", "second")])
def test_a_save_that_keeps_files_killed_midway_leaves_a_loadable_index(tmp_path, kill_at, survivor):
    _save_killed_at(tmp_path, KEEPING_CHILD, kill_at)
    meta, files = read_index(tmp_path)
    assert meta == {"model": survivor} and files["dense.faiss"] == FILES["dense.faiss"]
    assert (files == FILES) if survivor == "first" else set(files) == {"passages.jsonl", "dense.faiss", "extra.npy"}
