"""The machine failing around a build: killed at any moment, a write that fails, readers while it
writes, a file too big to hold. Every build that can be killed runs in a real subprocess."""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from tests.conftest import REPO, RUST, SAMPLE, need, write
from weeknotes_analysis import Corpus, OutputError, load_corpus, output, schema
from weeknotes_analysis.cli import main

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
EDIT = "\n\n# Later that week\n\nKubernetes patched a vulnerability; Docker and AWS followed.\n"


def build_command(archive: Path, out: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "weeknotes_analysis.cli",
        "build",
        str(archive),
        "--out",
        str(out),
        "--model",
        "none",
        "--quiet",
        "--jobs",
        "2",
        *options,
    ]


def edited_copy(source: Path, target: Path) -> Path:
    """``source`` with every fifth post given a new section, its first post removed and a
    post added: the version a rebuild has to move to."""
    shutil.copytree(source, target)
    posts = sorted(path for path in target.rglob("*") if path.suffix in (".md", ".markdown"))
    for path in posts[::5]:
        path.write_bytes(path.read_bytes() + EDIT.encode())
    posts[0].unlink()
    write(target, "2099-01-05-added.md", "---\ntitle: Added\ndate: 2099-01-05\n---\n" + EDIT)
    return target


def switch_archive(archive: Path, version: Path) -> None:
    """Make ``archive`` hold the files of ``version`` (the build is not running)."""
    shutil.rmtree(archive, ignore_errors=True)
    shutil.copytree(version, archive)


def digest(frame: pd.DataFrame) -> str:
    return hashlib.blake2b(frame.to_csv(index=False).encode(), digest_size=16).hexdigest()


def api_digests(out: Path) -> tuple[str, ...]:
    """Every table as ``Corpus.read_parquet`` reads it, one digest each."""
    return tuple(digest(frame) for frame in Corpus.read_parquet(out).tables().values())


def plain_digests(out: Path) -> tuple[str, ...]:
    """Every table as plain pandas reads ``FOLDER/<table>.parquet``."""
    return tuple(digest(plain_read(out / f"{name}.parquet")) for name in schema.TABLES)


def plain_read(path: Path, attempts: int = 5) -> pd.DataFrame:
    """``pd.read_parquet(path)``, again when a build switched the table between the listing
    of its part files and their reading: the part files' names carry their content hash, so
    such a read fails (a changed part is not there under its old name) and never mixes two
    versions; the next read sees the new one."""
    for attempt in range(attempts):
        try:
            return pd.read_parquet(path)
        except FileNotFoundError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def straddled_digests(table: Path, scratch: Path) -> list[str]:
    """A plain read of every proper subset of the table's part files (the empty one too),
    one digest each: what ``pd.read_parquet`` returns when it skips the other parts."""
    files = sorted(table.glob("*.parquet"))
    found = []
    for size in range(len(files)):
        for index, subset in enumerate(itertools.combinations(files, size)):
            folder = scratch / f"{size}-{index}"
            folder.mkdir(parents=True)
            for file in subset:
                (folder / file.name).symlink_to(file.resolve())
            found.append(digest(pd.read_parquet(folder)))
    return found


class Versions:
    """The tables of clean builds of two versions of an archive, to tell which one a folder
    holds; with ``straddles``, also what a plain read that straddles a switch may return (a
    read of every subset of each table's parts: for archives of a few years)."""

    def __init__(self, tmp: Path, old: Path, new: Path, *, straddles: bool = False) -> None:
        self.paths = {"old": old, "new": new}
        self.api: dict[tuple[str, ...], str] = {}
        self.plain: list[dict[str, str]] = [{} for _ in schema.TABLES]
        self.straddled: list[dict[str, str]] = [{} for _ in schema.TABLES]
        for name, archive in self.paths.items():
            out = tmp / f"clean-{name}"
            load_corpus(archive, model="none", out=out)
            self.api[api_digests(out)] = name
            for index, table in enumerate(plain_digests(out)):
                self.plain[index][table] = name
            for index, table in enumerate(schema.TABLES if straddles else ()):
                scratch = tmp / "straddled" / name / table
                for found in straddled_digests(out / f"{table}.parquet", scratch):
                    self.straddled[index].setdefault(found, name)

    def of(self, out: Path) -> str:
        """Which version ``out`` holds; fails when it is a mix or does not read back."""
        found = api_digests(out)
        assert found in self.api, "the tables read back are neither version: a mix or a loss"
        for index, table in enumerate(plain_digests(out)):
            assert table in self.plain[index], f"{list(schema.TABLES)[index]}.parquet is broken"
        return self.api[found]

    def during(self, out: Path) -> tuple[str, int]:
        """Which version ``out`` holds, read while builds switch versions, and how many of
        its tables a plain read found with whole parts of one version missing.

        Through the API every read is one whole version. A plain ``pd.read_parquet`` is one
        whole version too, except when it lists a table's parts at the instant of a switch:
        pyarrow then skips the listed parts whose files are gone from the new version (it
        looks at each listed name again, through the switched link), and the read is the
        other parts of the listed version. Fails on anything else: rows of two versions in
        one read, a part read half, an error."""
        found = api_digests(out)
        assert found in self.api, "the tables read back are neither version: a mix or a loss"
        straddled = 0
        for index, table in enumerate(plain_digests(out)):
            if table not in self.plain[index]:
                name = list(schema.TABLES)[index]
                assert table in self.straddled[index], f"{name}.parquet is broken"
                straddled += 1
        return self.api[found], straddled


def kill_rebuilds_at_random(
    tmp: Path, source: Path, *, trials: int, seed: int, engine: tuple[str, ...] = ()
) -> dict[str, int]:
    """SIGKILL rebuilds (moving the output between two versions of ``source``) at random
    moments; after each, the output must read back as one version; then a last build must
    end as a clean build does. Returns how many kills left the old and the new version.
    ``engine``: options of the rebuilds that choose their engine."""
    versions = Versions(tmp, source, edited_copy(source, tmp / "edited"))
    archive, out = tmp / "archive", tmp / "out"
    switch_archive(archive, versions.paths["old"])
    load_corpus(archive, model="none", out=out)
    # How long a rebuild takes, cached (the changed posts only) and not: kills fall within it.
    took = {}
    for options, version in ((("--no-cache",), "new"), ((), "old")):
        switch_archive(archive, versions.paths[version])
        started = time.monotonic()
        subprocess.run(build_command(archive, out, *options, *engine), env=ENV, check=True)
        took[options] = time.monotonic() - started
    rng = random.Random(seed)
    outcomes = {"old": 0, "new": 0}
    for trial in range(trials):
        before = versions.of(out)
        after = "old" if before == "new" else "new"
        switch_archive(archive, versions.paths[after])
        options = ("--no-cache",) if trial % 3 == 0 else ()
        build = subprocess.Popen(build_command(archive, out, *options, *engine), env=ENV)
        time.sleep(rng.uniform(0.2, took[options]))
        workers = psutil.Process(build.pid).children(recursive=True)
        build.send_signal(signal.SIGKILL)
        build.wait()
        _, alive = psutil.wait_procs(workers, timeout=5)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], "orphan workers"
        found = versions.of(out)
        assert found in (before, after)
        outcomes["new" if found == after else "old"] += 1
    # The next build repairs whatever was left, without being told, and ends as a clean one.
    subprocess.run(build_command(archive, out), env=ENV, check=True)
    assert versions.of(out) == after
    assert not list(out.glob(".*.partial"))
    assert_versions_do_not_pile_up(out)
    return outcomes


def assert_versions_do_not_pile_up(out: Path) -> None:
    """On disk: the current version, the one before, and older ones only while their
    readers' grace lasts (the manifest says since when)."""
    manifest = json.loads((out / "manifest.json").read_text())
    retired = manifest.get("retired", {})
    now = time.time()
    assert all(now - when < output.KEEP_RETIRED_SECONDS for when in retired.values())
    kept = {manifest["version"], manifest["previous"], *retired}
    on_disk = {path.name for path in (out / ".versions").iterdir()}
    assert on_disk <= kept, f"old versions pile up: {sorted(on_disk - kept)}"


# Slow: it kills builds of This Week in Rust again and again (about 45 s); `make test` runs it.
@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_one_whole_version(tmp_path):
    outcomes = kill_rebuilds_at_random(tmp_path, SAMPLE, trials=20, seed=17)
    print(f"20 SIGKILLs: {outcomes}")


@pytest.mark.slow
@pytest.mark.corpora
def test_sigkill_at_random_moments_of_a_rust_rebuild(tmp_path):
    # Ten here to keep the suite's time in bounds (about 4 minutes on 2 cores); twenty were
    # run when the layout was written (benchmarks/RESULTS.md).
    outcomes = kill_rebuilds_at_random(tmp_path, need(RUST), trials=10, seed=20)
    print(f"10 SIGKILLs of This Week in Rust: {outcomes}")


@pytest.mark.slow
def test_sigkill_at_random_moments_of_a_dask_rebuild(tmp_path):
    # The Dask engine's workers write the parts of a rebuild without cache (every third
    # trial) into the new version: a kill before the manifest's rename leaves the old one.
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    engine = ("--engine", "dask", "--workers", "2")
    outcomes = kill_rebuilds_at_random(tmp_path, SAMPLE, trials=6, seed=5, engine=engine)
    print(f"6 SIGKILLs of Dask rebuilds: {outcomes}")


def bigger_archive(folder: Path, copies: int) -> Path:
    """``copies`` copies of the sample archive, each post under a new name."""
    for copy in range(copies):
        for path in sorted(SAMPLE.glob("*.md")):
            write(folder, f"copy{copy}/{path.name}", path.read_bytes())
    return folder


def ctrl_c_as_from_a_terminal() -> None:
    """In the child, before it runs: Ctrl-C back to its default. A shell without job control
    starts a background command (``pytest &``) with SIGINT ignored, its children inherit that,
    and Python then never turns SIGINT into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_stops_build_and_workers_within_seconds(tmp_path, sig, code):
    archive, out = bigger_archive(tmp_path / "archive", 8), tmp_path / "out"
    load_corpus(SAMPLE, model="none", out=out)
    before = api_digests(out)
    build = subprocess.Popen(
        build_command(archive, out, "--no-cache"),
        env=ENV,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_from_a_terminal,
    )
    parent = psutil.Process(build.pid)
    deadline = time.monotonic() + 60
    while len(parent.children()) < 2 and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = parent.children(recursive=True)
    assert len(workers) == 2, "the build did not start its two workers"
    time.sleep(0.5)
    sent = time.monotonic()
    build.send_signal(sig)
    _, stderr = build.communicate(timeout=30)
    took = time.monotonic() - sent
    _, alive = psutil.wait_procs(workers, timeout=2)
    print(f"{signal.Signals(sig).name}: stopped in {took:.2f} s")
    assert build.returncode == code
    assert took < 3, f"took {took:.1f} s to stop"
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], "workers outlived it"
    assert f"stopped ({signal.Signals(sig).name})" in stderr
    assert "Traceback" not in stderr
    assert api_digests(out) == before


def limit_file_size(limit: int) -> None:
    """In the child: writes past ``limit`` bytes fail with EFBIG (not a fatal SIGXFSZ)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_rebuild_under_a_file_size_limit_fails_clearly_and_keeps_previous(tmp_path):
    versions = Versions(tmp_path, SAMPLE, edited_copy(SAMPLE, tmp_path / "edited"))
    archive, out = tmp_path / "archive", tmp_path / "out"
    switch_archive(archive, versions.paths["old"])
    load_corpus(archive, model="none", out=out)
    switch_archive(archive, versions.paths["new"])
    # Larger than the lock and the manifest, smaller than the sections table.
    limit = 30_000
    sections = out / "sections.parquet"  # a file or a dataset folder
    files = [sections] if sections.is_file() else list(sections.rglob("*.parquet"))
    assert max(path.stat().st_size for path in files) > limit
    done = subprocess.run(
        build_command(archive, out),
        env=ENV,
        capture_output=True,
        text=True,
        preexec_fn=lambda: limit_file_size(limit),
    )
    print(done.stderr)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, "one line"
    assert done.stderr.startswith(f"weeknotes: cannot write the tables to {out}: ")
    assert "file-size limit" in done.stderr and "left as they were" in done.stderr
    assert versions.of(out) == "old"
    assert not list(out.glob(".*.partial"))
    subprocess.run(build_command(archive, out), env=ENV, check=True)
    assert versions.of(out) == "new"


def test_disk_full_names_the_folder_and_keeps_previous(tmp_path, monkeypatch, capsys):
    archive, out = tmp_path / "archive", tmp_path / "out"
    switch_archive(archive, SAMPLE)
    load_corpus(archive, model="none", out=out)
    before = api_digests(out)
    write(archive, "2099-01-05-added.md", "---\ntitle: Added\ndate: 2099-01-05\n---\n" + EDIT)
    real = pd.DataFrame.to_parquet
    written = []

    def full_disk(frame, path, *args, **kwargs):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(path)
        return real(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(OutputError, match="disk is full") as raised:
        load_corpus(archive, model="none", out=out)
    assert str(out) in str(raised.value)
    written.clear()
    assert main(["build", str(archive), "--out", str(out), "--model", "none", "--quiet"]) == 1
    message = capsys.readouterr().err
    assert message.startswith(f"weeknotes: cannot write the tables to {out}: the disk is full")
    assert api_digests(out) == before
    current = json.loads((out / "manifest.json").read_text())["version"]
    assert [path.name for path in (out / ".versions").iterdir()] == [current], "not cleaned"


def test_a_reader_on_an_old_version_can_finish_while_rebuilds_follow(tmp_path, monkeypatch):
    """A plain reader resolved ``posts.parquet`` to a version folder, then stalled while two
    rebuilds went by: the folder must still be whole when it lists it (a folder removed
    while listed reads as a part of the table), and must go once the grace is over."""
    versions = Versions(tmp_path, SAMPLE, edited_copy(SAMPLE, tmp_path / "edited"))
    archive, out = tmp_path / "archive", tmp_path / "out"
    switch_archive(archive, versions.paths["old"])
    first = load_corpus(archive, model="none", out=out)
    resolved = (out / "posts.parquet").resolve()
    for name in ("new", "old", "new"):
        switch_archive(archive, versions.paths[name])
        load_corpus(archive, model="none", out=out)
    assert versions.of(out) == "new"
    pd.testing.assert_frame_equal(
        output.read_table(resolved, "posts"), first.posts, check_dtype=False
    )
    assert_versions_do_not_pile_up(out)
    later = time.time() + output.KEEP_RETIRED_SECONDS + 1
    monkeypatch.setattr(output, "_now", lambda: later)
    switch_archive(archive, versions.paths["old"])
    load_corpus(archive, model="none", out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert not resolved.exists()
    # Left: the new version, the one before, and the one this write retired (its grace begins).
    assert len(manifest["retired"]) == 1
    on_disk = {path.name for path in (out / ".versions").iterdir()}
    assert on_disk == {manifest["version"], manifest["previous"], *manifest["retired"]}


READER_SCRIPT = """
import shutil, sys
from pathlib import Path
from weeknotes_analysis import load_corpus
archive, out, old, new, rounds = sys.argv[1:6]
for round in range(int(rounds)):
    shutil.rmtree(archive)
    shutil.copytree(new if round % 2 == 0 else old, archive)
    load_corpus(archive, model="none", out=out, jobs=1, cache=round % 3 != 2)
"""


def test_readers_during_rebuilds_see_one_version_never_a_mix(tmp_path):
    edited = edited_copy(SAMPLE, tmp_path / "edited")
    versions = Versions(tmp_path, SAMPLE, edited, straddles=True)
    archive, out = tmp_path / "archive", tmp_path / "out"
    switch_archive(archive, versions.paths["old"])
    load_corpus(archive, model="none", out=out)
    paths = [str(path) for path in (archive, out, versions.paths["old"], versions.paths["new"])]
    rebuilds = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, *paths, "8"], env=ENV, stderr=subprocess.PIPE
    )
    seen = {"old": 0, "new": 0}
    straddled = 0
    while rebuilds.poll() is None:
        version, partial = versions.during(out)
        seen[version] += 1
        straddled += partial
    assert rebuilds.returncode == 0, rebuilds.stderr.read() if rebuilds.stderr else ""
    print(f"reads during 8 rebuilds: {seen}; plain reads that straddled a switch: {straddled}")
    assert seen["old"] and seen["new"], "the reads did not overlap the rebuilds"
    assert versions.of(out) == "old"


PEAK_SCRIPT = """
import resource, sys
from weeknotes_analysis import load_corpus
corpus = load_corpus(sys.argv[1], model="none", out=sys.argv[2], jobs=2)
problems = corpus.problems[corpus.problems["code"] == "file-too-large"]
# VmHWM, not RUSAGE_SELF: Linux carries the forking process's peak across exec, so a test
# run from a big pytest process would measure pytest. The workers forked here are children.
with open("/proc/self/status") as status:
    own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(len(corpus.posts), peak // 1024)
print(problems.iloc[0]["path"], problems.iloc[0]["severity"], problems.iloc[0]["message"])
"""


def test_a_300_mb_post_is_named_in_problems_unread(tmp_path, sample_corpus):
    archive = tmp_path / "archive"
    switch_archive(archive, SAMPLE)
    with (archive / "2023-50-huge.md").open("wb") as huge:
        huge.truncate(300_000_000)  # sparse: no disk used, but 300 MB to whoever reads it
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(archive), str(tmp_path / "out")],
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    counts, problem = done.stdout.splitlines()
    posts, peak_mib = map(int, counts.split())
    print(f"300 MB post: peak {peak_mib} MiB; {problem}")
    assert posts == len(sample_corpus.posts)
    assert problem.startswith("2023-50-huge.md error 300 MB, over the limit of 20 MB")
    assert "--max-file-size" in problem
    assert peak_mib < 1024


def test_max_file_size_is_a_setting_and_changing_it_rebuilds_the_file(tmp_path, capsys):
    archive, out = tmp_path / "archive", tmp_path / "out"
    switch_archive(archive, SAMPLE)
    size = (archive / "2023-36.md").stat().st_size
    small = load_corpus(archive, model="none", out=out, max_file_size=size - 1)
    skipped = small.problems[small.problems["code"] == "file-too-large"]
    assert skipped["path"].tolist() == ["2023-36.md"]
    assert "2023-36" not in set(small.posts["post_id"])
    again = load_corpus(archive, model="none", out=out, max_file_size=size - 1)
    assert again.problems["code"].tolist() == small.problems["code"].tolist()
    raised = load_corpus(archive, model="none", out=out)
    assert "2023-36" in set(raised.posts["post_id"])
    assert "file-too-large" not in set(raised.problems["code"])
    assert main(["check", str(archive), "--max-file-size", f"{size - 1}"]) == 1
    assert "file-too-large" in capsys.readouterr().out
    assert main(["check", str(archive), "--max-file-size", "1MB"]) == 0


def test_a_half_written_version_and_stale_partials_are_cleaned_by_the_next_build(tmp_path):
    archive, out = tmp_path / "archive", tmp_path / "out"
    switch_archive(archive, SAMPLE)
    first = load_corpus(archive, model="none", out=out)
    # What a build killed while writing leaves: a version not yet named, partial files.
    leftover = out / ".versions" / "20000101T000000-1-deadbeef"
    leftover.mkdir()
    (leftover / "posts.parquet").write_bytes(b"PAR1 half")
    (out / ".manifest.json.99.partial").write_text("{")
    (out / ".sections.parquet.99.partial").write_bytes(b"PAR1")
    pd.testing.assert_frame_equal(Corpus.read_parquet(out).posts, first.posts)
    load_corpus(archive, model="none", out=out)
    assert not leftover.exists()
    assert not list(out.glob(".*.partial"))


# Slow: it kills builds of This Week in Rust again and again (about 45 s); `make test` runs it.
@pytest.mark.slow
def test_sigkill_at_every_step_of_the_write_leaves_one_whole_version(tmp_path):
    """Random moments mostly fall before the write; this kills the build at each of its
    file-system steps in turn (a table written, the manifest renamed, a link switched, an old
    version removed), in a forked copy of this process."""
    versions = Versions(tmp_path, SAMPLE, edited_copy(SAMPLE, tmp_path / "edited"))
    archive, out = tmp_path / "archive", tmp_path / "out"
    switch_archive(archive, versions.paths["old"])
    load_corpus(archive, model="none", out=out)
    outcomes = []
    for step in range(1, 200):
        before = versions.of(out)
        after = "old" if before == "new" else "new"
        switch_archive(archive, versions.paths[after])
        child = os.fork()
        if child == 0:  # pragma: no cover - the child never returns
            try:
                kill_at_step(step)
                load_corpus(archive, model="none", out=out, jobs=1)
            finally:
                os._exit(0)
        _, status = os.waitpid(child, 0)
        found = versions.of(out)
        if not os.WIFSIGNALED(status):
            assert found == after
            break
        outcomes.append(found == after)
    print(f"killed at each of {len(outcomes)} steps: {sum(outcomes)} left the new version")
    assert len(outcomes) > 2 * len(schema.TABLES), "fewer steps than tables and links"
    assert any(outcomes) and not all(outcomes)
    load_corpus(archive, model="none", out=out)
    assert not list(out.glob(".*.partial"))


def kill_at_step(step: int) -> None:
    """Make this process SIGKILL itself at the ``step``-th table part written, part file
    linked from the previous version, file renamed or folder removed once the build begins
    to write its output."""
    count = [0]
    writing = [False]

    def counted(real):
        def call(*args, **kwargs):
            count[0] += writing[0]
            if count[0] == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        return call

    def write_parts(*args, **kwargs):
        writing[0] = True
        return real_write(*args, **kwargs)

    real_write = output.write_parts
    output.write_parts = write_parts
    pd.DataFrame.to_parquet = counted(pd.DataFrame.to_parquet)
    os.link = counted(os.link)
    os.replace = counted(os.replace)
    shutil.rmtree = counted(shutil.rmtree)
