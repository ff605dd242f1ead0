"""Partitioned output: one part file per year, only changed parts written, lazy reads."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from weeknotes_analysis import Corpus, load_corpus, output, schema
from weeknotes_analysis import parts as parts_module

from .conftest import write

POST = "---\ntitle: Week {n}\ndate: {year}-03-0{n}\n---\n\n# Cloud\n\nAWS and AWS Lambda news.\n"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    for year in (2019, 2020, 2021):
        for n in (1, 2):
            write(folder, f"{year}-0{n}.md", POST.format(n=n, year=year))
    write(folder, "undated.md", "---\ntitle: No date\n---\n\n# Notes\n\nKubernetes.\n")
    return folder


def part_files(out: Path) -> dict[tuple[str, str], os.stat_result]:
    """(table, part) -> the stat of the current version's part file."""
    manifest = json.loads((out / "manifest.json").read_text())
    found = {}
    for name, folder in manifest["tables"].items():
        for path in (out / folder).iterdir():
            part, digest = path.stem.rsplit("-", 1)
            assert len(digest) == output.HASH_CHARS
            found[(name, part)] = path.stat()
    return found


def assert_same_tables(left: Corpus, right: Corpus) -> None:
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(
            getattr(left, name), getattr(right, name), check_categorical=False, obj=name
        )


def test_tables_are_split_by_year_and_read_back_in_order(archive, tmp_path):
    out = tmp_path / "out"
    built = load_corpus(archive, model="none", out=out)
    parts = part_files(out)
    # Seven posts: a part per year (a longer archive gets a part per quarter or month).
    assert {part for table, part in parts if table == "sections"} == {
        "2019",
        "2020",
        "2021",
        "undated",
    }
    assert {part for table, part in parts if table == "problems"} == {"all"}
    for name, frame in built.tables().items():
        plain = pd.read_parquet(out / f"{name}.parquet")
        assert list(plain.columns) == list(frame.columns), name
        assert len(plain) == len(frame)
        if "post_id" in frame and len(frame):
            assert plain["post_id"].tolist() == frame["post_id"].tolist(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["layout"] == output.LAYOUT
    assert manifest["parts"]["sections"]["2020"]["rows"] == 2
    assert len(manifest["parts"]["sections"]["2020"]["hash"]) == 32


def test_one_post_rebuild_rewrites_only_its_year(archive, tmp_path):
    out = tmp_path / "out"
    load_corpus(archive, model="none", out=out)
    before = part_files(out)
    write(archive, "2020-02.md", POST.format(n=2, year=2020).replace("AWS", "Azure"))
    after_build = load_corpus(archive, model="none", out=out)
    after = part_files(out)
    assert set(after) == set(before)
    relinked = {key for key, info in after.items() if info.st_ino == before[key].st_ino}
    assert {key for key in after if key[1] != "2020"} <= relinked
    # The post's word count is the same: its posts row (and its year's part) is kept.
    assert {(table, "2020") for table in ("sections", "entities", "topics")}.isdisjoint(relinked)
    assert ("posts", "2020") in relinked
    cold = load_corpus(archive, model="none", out=tmp_path / "cold")
    assert_same_tables(after_build, cold)
    assert_same_tables(Corpus.read_parquet(out), cold)


def test_the_span_of_a_part_keeps_parts_small_and_names_in_date_order():
    def posts(count: int, years: int) -> pd.DataFrame:
        days = [365 * years * i // count for i in range(count)]
        dates = pd.Timestamp("2016-01-01", tz="UTC") + pd.to_timedelta(days, unit="D")
        return pd.DataFrame({"post_id": [f"p{i}" for i in range(count)], "date": dates})

    assert parts_module.part_span(posts(500, 10)) == "year"
    assert parts_module.part_span(posts(2000, 10)) == "quarter"
    assert parts_module.part_span(posts(8000, 10)) == "month"
    frame = posts(40, 2)
    for span in parts_module.SPANS:
        names = list(parts_module.post_parts(frame, span).values())
        assert names == sorted(names), span
    assert parts_module.post_parts(frame, "quarter")["p0"] == "2016-Q1"
    assert parts_module.post_parts(frame, "month")["p39"] == "2017-12"


def test_one_post_rebuild_reads_only_its_year_and_the_posts(archive, tmp_path, monkeypatch):
    out = tmp_path / "out"
    load_corpus(archive, model="none", out=out)
    read = []
    real = output.read_table

    def recording(path, table):
        read.append((table, Path(path).name))
        return real(path, table)

    monkeypatch.setattr(output, "read_table", recording)
    write(archive, "2021-01.md", POST.format(n=1, year=2021) + "\n# More\n\nGoogle Cloud.\n")
    rebuilt = load_corpus(archive, model="none", out=out)
    monkeypatch.undo()
    assert rebuilt.stats["fresh"] == 1
    whole = {table for table, name in read if not name.endswith(".parquet")}
    assert whole == {"posts", "problems"}  # small: read whole
    years = {name.split("-")[0] for table, name in read if name.endswith(".parquet")}
    assert years == {"2021"}
    assert_same_tables(rebuilt, load_corpus(archive, model="none", out=tmp_path / "cold"))


def test_unchanged_rebuild_reads_no_table_and_is_lazy(archive, tmp_path):
    out = tmp_path / "out"
    first = load_corpus(archive, model="none", out=out)
    again = load_corpus(archive, model="none", out=out)
    assert set(again.loaded()) <= {"problems"}  # the skipped links are compared
    assert again.stats["fresh"] == 0
    pd.testing.assert_frame_equal(again.sections, first.sections, check_categorical=False)
    assert "sections" in again.loaded() and "phrases" not in again.loaded()


def test_lazy_corpus_loads_a_table_on_first_use(archive, tmp_path):
    out = tmp_path / "out"
    built = load_corpus(archive, model="none", out=out)
    lazy = Corpus.read_parquet(out, lazy=True)
    assert lazy.loaded() == []
    assert len(lazy.links) == len(built.links)
    assert lazy.loaded() == ["links"]
    assert_same_tables(lazy, built)
    again = pickle.loads(pickle.dumps(Corpus.read_parquet(out, lazy=True)))
    assert again.loaded() == [] and len(again.posts) == len(built.posts)


def test_lazy_corpus_gives_a_dask_dataframe(archive, tmp_path):
    pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")
    out = tmp_path / "out"
    built = load_corpus(archive, model="none", out=out)
    frame = Corpus.read_parquet(out, lazy=True).dask_table("sections").compute()
    assert frame["section_id"].tolist() == built.sections["section_id"].tolist()


def make_old_layout(out: Path) -> None:
    """Rewrite ``out`` as the previous layout wrote it: one part-0.parquet per table, no
    parts in the manifest."""
    manifest = json.loads((out / "manifest.json").read_text())
    home = out / ".versions" / "old"
    for name in manifest["tables"]:
        frame = pd.read_parquet(out / manifest["tables"][name])
        (home / name).mkdir(parents=True)
        frame.to_parquet(home / name / "part-0.parquet", index=False)
        (out / f"{name}.parquet").unlink()
        (out / f"{name}.parquet").symlink_to(f".versions/old/{name}")
    shutil.rmtree(out / ".versions" / manifest["version"])
    for key in ("layout", "parts", "rows", "flags"):
        manifest.pop(key, None)
    manifest.update(version="old", previous=None)
    manifest["tables"] = {name: f".versions/old/{name}" for name in manifest["tables"]}
    (out / "manifest.json").write_text(json.dumps(manifest))


def test_an_old_layout_folder_reads_and_rebuilds(archive, tmp_path):
    out = tmp_path / "out"
    built = load_corpus(archive, model="none", out=out)
    make_old_layout(out)
    assert_same_tables(Corpus.read_parquet(out), built)
    assert_same_tables(Corpus.read_parquet(out, lazy=True), built)
    write(archive, "2021-02.md", POST.format(n=2, year=2021).replace("AWS", "Azure"))
    rebuilt = load_corpus(archive, model="none", out=out)
    assert json.loads((out / "manifest.json").read_text())["layout"] == output.LAYOUT
    assert_same_tables(rebuilt, load_corpus(archive, model="none", out=tmp_path / "cold"))


@pytest.mark.parametrize("fail_at", [1, 3, 6])
def test_a_write_killed_between_parts_leaves_the_previous_version(
    archive, tmp_path, monkeypatch, fail_at
):
    out = tmp_path / "out"
    before = load_corpus(archive, model="none", out=out)
    write(archive, "2019-01.md", POST.format(n=1, year=2019) + "\n# More\n\nGoogle Cloud.\n")
    calls = {"n": 0}
    real_link, real_write = os.link, pd.DataFrame.to_parquet

    def counted(real):
        def call(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == fail_at:
                raise KeyboardInterrupt("killed")
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(os, "link", counted(real_link))
    monkeypatch.setattr(pd.DataFrame, "to_parquet", counted(real_write))
    with pytest.raises(KeyboardInterrupt):
        load_corpus(archive, model="none", out=out)
    monkeypatch.undo()
    assert_same_tables(Corpus.read_parquet(out), before)
    for name, frame in before.tables().items():
        assert len(pd.read_parquet(out / f"{name}.parquet")) == len(frame)
    again = load_corpus(archive, model="none", out=out)
    assert "google-cloud" in set(again.topics["topic"])
    assert len(list((out / ".versions").iterdir())) == 2  # the current and the one before


RUST_POST = (
    "---\ntitle: This Week in Rust {n}\ndate: {year}-0{month}-0{day}\n---\n\n"
    "# Updates\n\nCargo and rustc news; Tokio {n} and AWS Lambda.\n\n"
    "# Jobs\n\nKubernetes and Docker roles.\n"
)


def test_one_post_rebuild_applies_the_archives_subjects_as_a_cold_build(tmp_path):
    """An archive whose titles name its subject: the rebuild of one part applies the subject
    to that part with the archive's totals, as a cold build of the edited archive does."""
    archive = tmp_path / "archive"
    for n in range(12):
        year, month, day = 2019 + n % 3, 1 + n % 4, 1 + n % 7
        write(archive, f"post-{n:02d}.md", RUST_POST.format(n=n, year=year, month=month, day=day))
    out = tmp_path / "out"
    load_corpus(archive, model="none", out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["subjects"] == ["rust"]
    write(archive, "post-04.md", RUST_POST.format(n=4, year=2020, month=1, day=5) + "\nGCP.\n")
    rebuilt = load_corpus(archive, model="none", out=out)
    assert rebuilt.loaded() == []  # the rebuild of some parts returns a lazy corpus
    assert rebuilt.topics["subject"].any() or rebuilt.post_topics["subject"].any()
    assert_same_tables(rebuilt, load_corpus(archive, model="none", out=tmp_path / "cold"))
