"""The output folder: each write makes a new version of every table and switches to it at once.

::

    FOLDER/manifest.json            the current version: its tables (and a build's cache state)
    FOLDER/<table>.parquet          for plain pandas: a link to the current version's dataset
    FOLDER/.versions/<id>/<table>/part-0.parquet
    FOLDER/.weeknotes.lock

A write puts every table into a fresh ``.versions/<id>`` folder, then renames a new
``manifest.json`` over the old one: that one rename is the commit, so a write killed at any
moment leaves the previous version whole, and readers that go by the manifest see one version
of every table, never a mix. The links are switched after the commit, and the next write
repairs them (and removes what a killed write left) before anything else. The version before
the current one is kept, and every older one for ``KEEP_RETIRED_SECONDS`` after it stopped being
the one before (the manifest's ``retired`` records when), so that a reader that resolved a link or
listed a folder before a switch can finish even when the next writes follow at once: a folder
removed while a reader lists it would read as a part of the table.

Each table is a parquet *dataset* (a folder) rather than a file because pyarrow opens a single
file twice, keeping the footer of the first open: a link switched between the two opens would
mix two files and fail. A folder is listed, and each file in it then opened once. What a
plain reader of ``FOLDER/<table>.parquet`` cannot be spared: pyarrow looks at each listed file
again by name (through the link) and skips the ones that are gone, so a listing at the instant
of a switch reads the parts the two versions share without those that changed. Readers that
go by the manifest (:func:`read_version`) read a version's own folder, which never changes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from . import schema

MANIFEST = "manifest.json"
VERSIONS = ".versions"
PART_NAME = "part-0"
PART = f"{PART_NAME}.parquet"
HASH_CHARS = 12
# 2: several part files per table, each with its content hash in the manifest.
LAYOUT = 2
LOCK = ".weeknotes.lock"
# A reader retries when a write replaced the version it was reading (twice in a row is rare).
READ_ATTEMPTS = 5
# How long a version that is no longer current (nor the one before) stays for its readers.
KEEP_RETIRED_SECONDS = 120.0
_now = time.time  # the clock of the grace above

__all__ = [
    "BuildLockedError",
    "OutputError",
    "lock",
    "read_version",
    "repair",
    "write_part",
    "write_parts",
    "write_version",
    "write_with",
]


class BuildLockedError(RuntimeError):
    """Another build holds the output folder's lock."""


class OutputError(OSError):
    """The output folder cannot be written (full, read-only, no permission, a size limit);
    the message names the folder and what to do, and the previous tables are left whole."""


_CAUSES = {
    errno.ENOSPC: "the disk is full: free some space or build into another --out",
    errno.EDQUOT: "the disk quota is used up: free some space or build into another --out",
    errno.EFBIG: "a file grew past the largest the file system or a file-size limit (ulimit -f) "
    "allows: raise the limit or build into another --out",
    errno.EROFS: "the file system is read-only: build into another --out",
    errno.EACCES: "no permission to write there: change its permissions or build into another "
    "--out",
    errno.EPERM: "the operation is not permitted there: change its permissions or build into "
    "another --out",
}


def write_failure(folder: str | os.PathLike[str], error: OSError) -> OutputError:
    """An :class:`OutputError` naming ``folder`` and the cause of ``error`` in one line."""
    cause = _CAUSES.get(error.errno or 0)
    if cause is None:
        cause = error.strerror or str(error) or type(error).__name__
    return OutputError(
        f"cannot write the tables to {os.fspath(folder)}: {cause}; "
        "the previous tables there are left as they were"
    )


def lock(folder: str | os.PathLike[str]) -> FileLock:
    """The output folder's lock; a second build into it fails at once with a clear message.

    The lock is an OS file lock (``flock``): it dies with the process that held it, so a build
    killed with SIGKILL leaves no stale lock behind."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    return FileLock(str(target / LOCK), timeout=0)


def acquire(guard: FileLock, folder: str | os.PathLike[str]) -> None:
    """Take ``guard`` or raise :class:`BuildLockedError` naming ``folder``."""
    try:
        guard.acquire()
    except Timeout:
        raise BuildLockedError(
            f"{os.fspath(folder)}: another weeknotes build is writing here; wait for it or use "
            "another --out"
        ) from None


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when there is none or it cannot be read."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def read_version(
    folder: str | os.PathLike[str], names: Iterable[str] = tuple(schema.TABLES)
) -> tuple[dict[str, Any] | None, dict[str, pd.DataFrame]]:
    """The manifest and the tables ``names`` of the folder's current version, all of one
    version even while a write switches to the next one.

    A folder written before versions (no ``tables`` in its manifest, or no manifest) is read
    from its ``<table>.parquet`` files. Raises FileNotFoundError when a table is missing."""
    source = Path(folder)
    for attempt in range(READ_ATTEMPTS):
        manifest = read_manifest(source)
        files = manifest.get("tables") if manifest else None
        if isinstance(files, dict):
            paths = {name: source / files.get(name, f"{name}.parquet") for name in names}
        else:
            paths = {name: source / f"{name}.parquet" for name in names}
        try:
            return manifest, {name: read_table(path, name) for name, path in paths.items()}
        except FileNotFoundError:
            current = read_manifest(source) or {}
            replaced = current.get("version") != (manifest or {}).get("version")
            if replaced and attempt < READ_ATTEMPTS - 1:
                continue  # a write replaced the version while we read it: read the new one
            missing = next((path for path in paths.values() if not path.exists()), source)
            raise FileNotFoundError(
                f"{missing}: missing; run `weeknotes build` into {source}"
            ) from None
    raise AssertionError("unreachable")


def read_table(path: Path, table: str, *, filters: Any = None) -> pd.DataFrame:
    """Read one table's parquet file (its rows that pass pyarrow's ``filters``) and restore
    the contract's dtypes."""
    frame = pd.read_parquet(path, filters=filters)
    for column in schema.TABLES.get(table, ()):
        if column.dtype == schema.OBJECT and column.name in frame:
            frame[column.name] = [_as_list(value) for value in frame[column.name]]
    return schema.conform(frame, table) if table in schema.TABLES else frame


def _as_list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return list(value)


Parts = Mapping[str, pd.DataFrame]


def write_version(
    tables: Mapping[str, pd.DataFrame],
    folder: str | os.PathLike[str],
    *,
    state: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``tables`` as the folder's new version (one part file per table) and switch to
    it with one rename; see :func:`write_parts`."""
    return write_parts(
        {name: {PART_NAME: frame} for name, frame in tables.items()}, folder, state=state
    )


def write_parts(
    tables: Mapping[str, Parts],
    folder: str | os.PathLike[str],
    *,
    state: Mapping[str, Any] | None = None,
    reuse: Mapping[str, set[str]] | None = None,
) -> Path:
    """Write every table's parts (``{table: {part name: rows}}``, the parts in row order by
    name) as the folder's new version and switch to it with one rename.

    The parts named in ``reuse`` (``{table: {part name}}``) are not written: the previous
    version's file is linked into the new version (a hard link: no copy, and removing the
    old version later leaves it whole). ``state`` (a build's cache: fingerprints, hashes) is
    kept in the manifest, with each part's content hash and rows. The caller holds the
    folder's :func:`lock`. A failed write raises :class:`OutputError` and leaves the
    previous version current."""
    target = Path(folder)

    def fill(home: Path, previous: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            name: _write_table(
                home / name,
                table_parts,
                _reusable(target, previous, name, (reuse or {}).get(name, set())),
            )
            for name, table_parts in tables.items()
        }

    return write_with(fill, target, state=state)


Fill = Callable[[Path, Mapping[str, Any]], dict[str, dict[str, Any]]]


def write_with(
    fill: Fill, folder: str | os.PathLike[str], *, state: Mapping[str, Any] | None
) -> Path:
    """Make a new version folder, let ``fill(version folder, previous manifest)`` write the
    tables into it (``<table>/<files>``, see :func:`write_part`; it returns each table's
    part entries) and switch to it with one rename; see :func:`write_parts`."""
    target = Path(folder)
    home: Path | None = None
    partial = target / f".{MANIFEST}.{os.getpid()}.partial"
    try:
        target.mkdir(parents=True, exist_ok=True)
        previous = read_manifest(target) or {}
        version = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}"
        home = target / VERSIONS / version
        home.mkdir(parents=True)
        manifest = {**(state or {}), **_version_entries(home, previous, fill(home, previous))}
        partial.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        os.replace(partial, target / MANIFEST)
    except OSError as exc:
        _discard(target, home, partial)
        raise write_failure(target, exc) from exc
    except BaseException:
        _discard(target, home, partial)  # interrupted: the next build would remove it anyway
        raise
    try:
        repair(target)
    except OSError as exc:
        raise OutputError(
            f"{target}: the new tables are written and current (manifest.json names them) but "
            f"{target}/<table>.parquet could not be switched to them: "
            f"{exc.strerror or exc}; the next build repairs it"
        ) from exc
    return target


def _version_entries(
    home: Path, previous: Mapping[str, Any], parts: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The manifest entries naming the tables written into the version folder ``home``."""
    return {
        "layout": LAYOUT,
        "version": home.name,
        "previous": previous.get("version"),
        "retired": _retired(previous),
        "tables": {name: f"{VERSIONS}/{home.name}/{name}" for name in parts},
        "parts": parts,
        "rows": {
            name: sum(entry["rows"] for entry in entries.values())
            for name, entries in parts.items()
        },
    }


def _retired(previous: Mapping[str, Any]) -> dict[str, float]:
    """When each version older than the one before the new one stopped being kept as the
    one before (unix time), for those that stopped less than ``KEEP_RETIRED_SECONDS`` ago."""
    kept = _in_grace(previous)
    if previous.get("previous"):
        kept[str(previous["previous"])] = _now()  # it was the one before until now
    return kept


def _in_grace(manifest: Mapping[str, Any]) -> dict[str, float]:
    """The manifest's retired versions whose ``KEEP_RETIRED_SECONDS`` are not over."""
    now = _now()
    retired = manifest.get("retired")
    return {
        str(name): float(when)
        for name, when in (retired.items() if isinstance(retired, dict) else ())
        if isinstance(when, (int, float)) and now - when < KEEP_RETIRED_SECONDS
    }


def _reusable(
    target: Path, previous: Mapping[str, Any], table: str, names: set[str]
) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The previous version's files (and manifest entries) of the parts ``names`` of
    ``table`` that can be linked into the new version."""
    folder = (previous.get("tables") or {}).get(table)
    entries = ((previous.get("parts") or {}).get(table)) or {}
    if not folder or previous.get("layout") != LAYOUT:
        return {}
    kept = {}
    for name in names:
        entry = entries.get(name)
        if isinstance(entry, dict) and (target / folder / entry.get("file", "")).is_file():
            kept[name] = (target / folder / entry["file"], entry)
    return kept


def _write_table(
    folder: Path, parts: Parts, kept: Mapping[str, tuple[Path, dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Write (or link) a table's part files into ``folder``, all with one arrow schema;
    returns each part's manifest entry (content hash and rows)."""
    folder.mkdir()
    fresh = {name: frame for name, frame in parts.items() if name not in kept}
    schemas = [pa.Schema.from_pandas(frame, preserve_index=False) for frame in fresh.values()]
    one = one_schema(schemas, [path for path, _ in kept.values()])
    entries = {}
    for name, (path, entry) in kept.items():
        if _as_stored(pq.read_schema(path)).equals(_as_stored(one)):
            os.link(path, folder / path.name)
            entries[name] = entry
        else:  # a column's type changed (values where there were none): write it again
            fresh[name] = pd.read_parquet(path)
    for name in sorted(fresh):
        entries[name] = write_part(folder, name, fresh[name], one)
    return entries


def write_part(folder: Path, name: str, frame: pd.DataFrame, schema: pa.Schema) -> dict[str, Any]:
    """Write the part ``name`` of a table into its folder with the table's one arrow
    ``schema``; the part's manifest entry (file, content hash, rows)."""
    # The file's name carries its content hash: a plain reader that listed the folder
    # before a switch finds the same bytes under that name, or no file (and fails
    # rather than reading a mix of two versions).
    staged = folder / f".{name}.partial"
    frame.to_parquet(staged, index=False, schema=schema)
    digest = _file_hash(staged)
    file = f"{name}-{digest[:HASH_CHARS]}.parquet"
    os.replace(staged, folder / file)
    return {"file": file, "hash": digest, "rows": len(frame)}


def one_schema(schemas: list[pa.Schema], kept: list[Path]) -> pa.Schema:
    """One schema for every part of a table (readers of a dataset take the first file's): a
    column empty in one part takes the type it has in the others."""
    schemas = [*schemas, *(pq.read_schema(path) for path in kept[:1])]
    if not schemas:
        raise ValueError("a table needs at least one part")
    unified = pa.unify_schemas(
        [schema.remove_metadata() for schema in schemas], promote_options="permissive"
    )
    return unified


def _as_stored(schema: pa.Schema) -> pa.Schema:
    """``schema`` as parquet stores it: a dictionary's large strings read back as strings."""
    fields = []
    for field in schema.remove_metadata():
        kind = field.type
        if pa.types.is_dictionary(kind) and pa.types.is_large_string(kind.value_type):
            kind = pa.dictionary(kind.index_type, pa.string(), kind.ordered)
        fields.append(field.with_type(kind))
    return pa.schema(fields)


def _file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _discard(target: Path, home: Path | None, partial: Path) -> None:
    """Remove a version that did not become current (Ctrl-C can land just after the rename
    that made it current: then it stays)."""
    partial.unlink(missing_ok=True)
    current = (read_manifest(target) or {}).get("version")
    if home is not None and home.name != current:
        shutil.rmtree(home, ignore_errors=True)


def repair(folder: str | os.PathLike[str]) -> None:
    """Make the folder as a finished write leaves it: the ``<table>.parquet`` links name the
    current version's files, and what a killed write left (half-written versions, partial
    files) is removed, as are versions older than the previous one retired more than
    ``KEEP_RETIRED_SECONDS`` ago. The caller holds the folder's :func:`lock`."""
    target = Path(folder)
    manifest = read_manifest(target) or {}
    files = manifest.get("tables")
    if isinstance(files, dict):
        for name, file in files.items():
            _publish(target, f"{name}.parquet", file)
    keep = {manifest.get("version"), manifest.get("previous"), *_in_grace(manifest)}
    versions = target / VERSIONS
    if versions.is_dir() and isinstance(files, dict):
        for entry in versions.iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)
    for leftover in target.glob(".*.partial"):
        _remove(leftover)


def _publish(target: Path, name: str, file: str) -> None:
    """Point ``target/name`` at ``file`` (relative to ``target``), switching it atomically."""
    link = target / name
    try:
        if os.readlink(link) == file:
            return
    except OSError:
        pass  # not a link yet (a first build, or a folder written before versions)
    staged = target / f".{name}.{os.getpid()}.partial"
    _remove(staged)
    try:
        os.symlink(file, staged)
    except OSError:
        # A file system without symbolic links: a copy, renamed into place.
        shutil.copytree(target / file, staged)
    if link.is_dir() and not link.is_symlink():
        # A copy from an earlier build: a folder cannot be renamed over; set it aside first.
        aside = target / f".{name}.{os.getpid()}.old.partial"
        os.replace(link, aside)
        os.replace(staged, link)
        _remove(aside)
    else:
        os.replace(staged, link)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
