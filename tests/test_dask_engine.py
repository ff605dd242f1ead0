"""The Dask engine: the same tables as the local engine, one cache for both, clear failures."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys

import pandas as pd
import pytest

from weeknotes_analysis import Corpus, StrictError, load_corpus
from weeknotes_analysis import process as process_module
from weeknotes_analysis.build import DASK_SCRATCH as SCRATCH
from weeknotes_analysis.cli import main

from .conftest import RUST, need, write

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
from weeknotes_analysis import dask_engine  # noqa: E402  (an import error here must fail, not skip)

DaskEngine = dask_engine.DaskEngine
DaskEngineError = dask_engine.DaskEngineError

POST = "---\ntitle: Week {n}\ndate: 2020-01-{day:02d}\n---\n\n# Cloud\n\nAWS and AWS Lambda news.\n"


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, shared by the module; a task whose worker dies
    fails at once (no retries), so the dying-worker test stays short."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        local = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    client = distributed.Client(local, set_as_default=False)
    yield client
    client.close()
    local.close()


@pytest.fixture
def archive(tmp_path):
    folder = tmp_path / "archive"
    for n, day in ((1, 1), (2, 8), (3, 15)):
        write(folder, f"2020-0{n}.md", POST.format(n=n, day=day))
    return folder


def assert_same_tables(left: Corpus, right: Corpus) -> None:
    for name, frame in left.tables().items():
        pd.testing.assert_frame_equal(right.tables()[name], frame, obj=name)


def dask_engine_for(cluster, out, **options):
    """A DaskEngine on the module's cluster, its scratch where ``engine="dask"`` puts it."""
    return DaskEngine(cluster.scheduler.address, scratch=out / SCRATCH, **options)


def files_sent(engine) -> list[str]:
    return [rel for part in engine.stats.partitions for rel in part.relatives]


@pytest.mark.slow
@pytest.mark.corpora
def test_dask_build_of_this_week_in_rust_equals_the_local_build(cluster, rust_corpus, tmp_path):
    need(RUST)
    out = tmp_path / "out"
    engine = dask_engine_for(cluster, out, partition_bytes=500_000)
    corpus = load_corpus(RUST, model="none", out=out, engine=engine)
    assert len(engine.stats.partitions) >= 20
    assert_same_tables(rust_corpus, corpus)
    assert_same_tables(rust_corpus, Corpus.read_parquet(out))
    assert not (out / SCRATCH).exists(), "the partitions' files were left behind"
    stats = engine.stats
    assert stats.pipeline_loads <= len(stats.worker_pids) == 2, "a pipeline load per task"


def test_cli_dask_engine_starts_a_local_cluster_and_prints_the_dashboard(archive, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["build", str(archive), "--out", str(out), "--model", "none"]
    assert main([*args, "--engine", "dask", "--workers", "2"]) == 0
    captured = capsys.readouterr()
    assert "3 files in 3 partitions on 2 workers; dashboard: http" in captured.err
    assert captured.out.startswith("3 posts, 3 sections")
    assert_same_tables(load_corpus(archive, model="none"), Corpus.read_parquet(out))
    assert main([*args, "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "need --engine dask" in capsys.readouterr().err


@pytest.mark.slow
def test_the_cache_works_across_engines(cluster, archive, tmp_path, monkeypatch):
    out = tmp_path / "out"
    engine = dask_engine_for(cluster, out)
    load_corpus(archive, model="none", out=out)
    load_corpus(archive, model="none", out=out, engine=engine)
    assert files_sent(engine) == [], "the dask build redid what the local build had cached"
    edit = POST.format(n=2, day=8).replace("AWS and AWS Lambda", "Azure, Azure")
    write(archive, "2020-02.md", edit)
    edited = load_corpus(archive, model="none", out=out, engine=engine)
    assert files_sent(engine) == ["2020-02.md"]
    changed = edited.topics[edited.topics["post_id"] == "2020-02"]
    assert changed.loc[changed["role"] == "about", "topic"].tolist() == ["azure"]
    assert_same_tables(load_corpus(archive, model="none", out=tmp_path / "cold"), edited)
    seen = []
    real = process_module.parse_file
    monkeypatch.setattr(
        process_module,
        "parse_file",
        lambda root, rel, **options: seen.append(rel) or real(root, rel, **options),
    )
    load_corpus(archive, model="none", out=out)
    assert seen == [], "the local build redid what the dask build had cached"


@pytest.mark.slow
def test_bad_files_and_strict_mode(cluster, archive, tmp_path):
    write(archive, "2020-02.md", "---\ntitle: [oops\ndate: 2020-01-08\n---\n\nx\n")
    write(archive, "2020-03.md", b"\xff\xfe bad bytes")
    engine = dask_engine_for(cluster, tmp_path / "out")
    with pytest.raises(StrictError, match=r"2020-02.md:2: error yaml-invalid"):
        load_corpus(archive, model="none", out=tmp_path / "out", engine=engine, strict=True)
    corpus = load_corpus(archive, model="none", out=tmp_path / "out", engine=engine)
    assert sorted(corpus.problems["path"]) == ["2020-02.md", "2020-03.md"]
    assert_same_tables(load_corpus(archive, model="none", out=tmp_path / "local"), corpus)


def test_unreachable_scheduler_is_a_clear_error_and_keeps_the_output(archive, tmp_path):
    out = tmp_path / "out"
    before = load_corpus(archive, model="none", out=out)
    write(archive, "2020-04.md", POST.format(n=4, day=22))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    engine = DaskEngine(address, connect_timeout=2)
    with pytest.raises(DaskEngineError, match=f"cannot reach the Dask scheduler at {address}"):
        load_corpus(archive, model="none", out=out, engine=engine)
    assert_same_tables(before, Corpus.read_parquet(out))
    assert (out / "manifest.json").exists()


def _break_parsing(relative: str) -> None:
    """On a worker: make parsing ``relative`` raise, as a bug in the parser would."""
    module = sys.modules["weeknotes_analysis.process"]
    real = module.__dict__.setdefault("_real_parse_file", module.parse_file)

    def broken(root: str, item: str, **options):
        if item == relative:
            raise RuntimeError(f"cannot parse {relative}")
        return real(root, item, **options)

    module.parse_file = broken


def _mend_parsing() -> None:
    module = sys.modules["weeknotes_analysis.process"]
    module.parse_file = module.__dict__.pop("_real_parse_file", module.parse_file)


@pytest.mark.slow
def test_failing_partition_names_it_and_keeps_the_previous_output(cluster, archive, tmp_path):
    out = tmp_path / "out"
    before = load_corpus(archive, model="none", out=out)
    for n in (2, 3):
        write(archive, f"2020-0{n}.md", POST.format(n=n, day=7 * n) + "\n# More\n\nGCP.\n")
    engine = dask_engine_for(cluster, out)
    cluster.run(_break_parsing, "2020-03.md")
    try:
        with pytest.raises(DaskEngineError) as failure:
            load_corpus(archive, model="none", out=out, engine=engine)
    finally:
        cluster.run(_mend_parsing)
    assert "partition 1 (1 file, 2020-03.md) failed on the cluster" in str(failure.value)
    assert "RuntimeError: cannot parse 2020-03.md" in str(failure.value)
    assert_same_tables(before, Corpus.read_parquet(out))
    assert (out / "manifest.json").exists()
    assert not (out / SCRATCH).exists()
    after = load_corpus(archive, model="none", out=out, engine=engine)
    assert files_sent(engine) == ["2020-02.md", "2020-03.md"]
    assert "google-cloud" in set(after.topics["topic"])


class _DieOn(distributed.WorkerPlugin):
    """Every worker, restarted ones too, dies when it parses one file (as when out of memory)."""

    name = "weeknotes-die-on"

    def __init__(self, relative: str) -> None:
        self.relative = relative

    def setup(self, worker) -> None:
        module = sys.modules.get("weeknotes_analysis.process")
        if module is None:
            import weeknotes_analysis.process as module
        real = module.__dict__.setdefault("_real_parse_file", module.parse_file)
        relative = self.relative

        def dying(root: str, item: str, **options):
            if item == relative:
                os._exit(1)
            return real(root, item, **options)

        module.parse_file = dying

    def teardown(self, worker) -> None:
        _mend_parsing()


@pytest.mark.slow
def test_dying_worker_fails_the_build_naming_the_partition(cluster, archive, tmp_path):
    out = tmp_path / "out"
    before = load_corpus(archive, model="none", out=out)
    write(archive, "2020-01.md", POST.format(n=1, day=1) + "\n# More\n\nGCP.\n")
    cluster.register_plugin(_DieOn("2020-01.md"))
    try:
        with pytest.raises(DaskEngineError, match=r"partition 0 \(1 file, 2020-01.md\).*died"):
            load_corpus(archive, model="none", out=out, engine=dask_engine_for(cluster, out))
    finally:
        cluster.unregister_worker_plugin(_DieOn.name)
    assert_same_tables(before, Corpus.read_parquet(out))


def test_importing_the_package_does_not_import_dask():
    script = "import sys, weeknotes_analysis; print({'dask', 'distributed'} & set(sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "set()"


def test_partitions_keep_the_order_and_even_sizes(tmp_path):
    sizes = [10, 10, 10, 10, 100, 10, 10, 10]
    names = [f"{index}.md" for index in range(len(sizes))]
    for name, size in zip(names, sizes, strict=True):
        write(tmp_path, name, "x" * size)
    parts = dask_engine.plan_partitions(tmp_path, names, partition_bytes=60, at_least=1)
    assert [name for part in parts for name in part.relatives] == names
    assert [part.relatives for part in parts] == [
        ("0.md", "1.md", "2.md", "3.md"),
        ("4.md",),
        ("5.md", "6.md", "7.md"),
    ]
    even = dask_engine.plan_partitions(tmp_path, names[:4], partition_bytes=10**6, at_least=2)
    assert [part.relatives for part in even] == [("0.md", "1.md"), ("2.md", "3.md")]
    assert parts[1].describe() == "partition 1 (1 file, 4.md)"


def _manifest_parts(out) -> dict:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {key: manifest[key] for key in ("parts", "post_part", "post_about", "labels", "span")}


@pytest.mark.slow
def test_a_cold_dask_build_writes_the_local_builds_parts_from_the_workers(
    cluster, archive, tmp_path, monkeypatch
):
    # Gathering the workers' rows on the driver is what the Dask build of every file avoids.
    monkeypatch.setattr(dask_engine, "_collect", None)
    write(archive, "2021-01.md", POST.format(n=4, day=5).replace("2020-01", "2021-01"))
    write(archive, "broken.md", b"\xff\xfe bad bytes")
    local = load_corpus(archive, model="none", out=tmp_path / "local")
    out = tmp_path / "dask"
    corpus = load_corpus(archive, model="none", out=out, engine=dask_engine_for(cluster, out))
    assert_same_tables(local, corpus)
    # The same part files, byte for byte (their content hashes), and the same totals.
    assert _manifest_parts(out) == _manifest_parts(tmp_path / "local")
    assert set(_manifest_parts(out)["parts"]["posts"]) == {"2020", "2021"}
    assert not (out / SCRATCH).exists()
    only_bad = tmp_path / "only-bad"
    write(only_bad, "broken.md", b"\xff\xfe bad bytes")
    empty = load_corpus(
        only_bad,
        model="none",
        out=tmp_path / "d2",
        engine=dask_engine_for(cluster, tmp_path / "d2"),
    )
    assert_same_tables(load_corpus(only_bad, model="none", out=tmp_path / "l2"), empty)
