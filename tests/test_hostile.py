"""Hostile and broken archives: nothing good lost, every bad file named, nothing executed.

``tests/fixtures/hostile`` holds the broken and hostile files that fit in git beside good
posts; :func:`hostile_copy` adds what cannot be committed or is too big to: a post of several
megabytes, front matter nested deep enough to crash a C parser, a named pipe and symbolic
links that loop or leave the archive.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from weeknotes_analysis import Corpus, load_corpus
from weeknotes_analysis.cli import main
from weeknotes_analysis.corpus import check_archive
from weeknotes_analysis.markdown import html_links, parse_markdown
from weeknotes_analysis.sources import find_posts, post_id_for, read_post

from .conftest import IGNOREME, RUST, SAMPLE, need

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
HUGE_SECTIONS = 20_000

# path -> (severity, code, line) for every file of the committed fixture.
EXPECTED = {
    "2020-04-13.md": ("warning", "date-missing", 1),
    "2020-04-20-bad-date.md": ("warning", "date-invalid", 1),
    "2020-04-27-ancient-date.md": ("warning", "date-invalid", 1),
    "2020-05-04-front-matter-only.md": ("warning", "no-body", 5),
    "2020-05-11-deep-quotes.md": ("warning", "markdown-too-deep", 8),
    "2020-05-18-deep-lists.md": ("warning", "markdown-too-deep", 16),
    "alias-loop.md": ("error", "front-matter-too-complex", 2),
    "bad-json.md": ("error", "json-invalid", 4),
    "bad-toml.md": ("error", "toml-invalid", 2),
    "bad-yaml.md": ("error", "yaml-invalid", 4),
    "billion-laughs.md": ("error", "front-matter-too-complex", 8),
    "blank.md": ("error", "empty", 1),
    "empty.md": ("error", "empty", 1),
    "image.md": ("error", "binary", 3),
    "latin-1.md": ("error", "not-utf8", 2),
    "not-a-mapping.md": ("error", "front-matter-not-mapping", 2),
    "python-name.md": ("error", "yaml-invalid", 3),
    "python-object.md": ("error", "yaml-invalid", 2),
    "unclosed-fence.md": ("error", "fence-unclosed", 1),
    "utf-16.md": ("error", "not-utf8", 1),
    "yaml-deep.md": ("error", "front-matter-too-complex", 2),
}
# ...and for what hostile_copy adds.
EXPECTED_EXTRA = {
    "json-deep.md": ("error", "json-invalid", 1),
    "front-matter-too-large.md": ("error", "front-matter-too-large", 1),
    "yaml-very-deep.md": ("error", "front-matter-too-complex", 2),
    "pipe.md": ("error", "unreadable", None),
    "leak.md": ("error", "link-outside-archive", None),
    "leak-folder": ("error", "link-outside-archive", None),
    "loop-a.md": ("error", "link-outside-archive", None),
    "loop-b.md": ("error", "link-outside-archive", None),
    "broken.md": ("error", "link-outside-archive", None),
    "self": ("warning", "link-not-followed", None),
}
GOOD = {
    "2020-01-06": 3,
    "2020-01-13-bom-crlf": 2,
    "2020-01-20": 1,
    "2020-01-27": 1,
    "2020-02-03-pelican": 1,
    "2020-02-10": 1,
    "2020-02-17-hostile-html": 2,
}
WITH_WARNINGS = {
    "2020-04-13": 1,
    "2020-04-20-bad-date": 1,
    "2020-04-27-ancient-date": 1,
    "2020-05-04-front-matter-only": 0,
    "2020-05-11-deep-quotes": 1,
    "2020-05-18-deep-lists": 1,
}


def huge_post(sections: int = HUGE_SECTIONS) -> str:
    """A post of several megabytes: ``sections`` headings, each with a link and a footnote."""
    parts = ["---\ntitle: A huge week\ndate: 2020-06-01\n---\n"]
    for number in range(sections):
        parts.append(
            f"# Section {number}\n\nNews {number} about AWS, [a link](https://example.com/{number})"
            f" and a note[^{number}]. " + "Filler words to make it heavy. " * 6 + "\n"
        )
    parts.extend(f"[^{number}]: Footnote {number}.\n" for number in range(sections))
    return "\n".join(parts)


def hostile_copy(folder: Path, *, huge: bool = True) -> Path:
    """The committed fixture, plus a huge post, very deep front matter, a pipe and links."""
    archive = folder / "archive"
    shutil.copytree(HOSTILE, archive)
    if huge:
        (archive / "2020-06-01-huge.md").write_text(huge_post(), encoding="utf-8")
    (archive / "json-deep.md").write_text('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    (archive / "front-matter-too-large.md").write_text(
        "---\ntitle: Big\n" + "# a comment line\n" * 15_000 + "---\ntext\n"
    )
    # 50,000 levels overflow libyaml's C stack: a segfault, not an exception, if ever parsed.
    (archive / "yaml-very-deep.md").write_text(
        "---\ntitle: " + "[" * 50_000 + "]" * 50_000 + "\n---\ntext\n"
    )
    os.mkfifo(archive / "pipe.md")
    outside = folder / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("---\ntitle: secret\ndate: 2020-01-01\n---\n# S\n\nsecret\n")
    os.symlink(outside / "secret.md", archive / "leak.md")
    os.symlink(outside, archive / "leak-folder")
    os.symlink(archive / "loop-b.md", archive / "loop-a.md")
    os.symlink(archive / "loop-a.md", archive / "loop-b.md")
    os.symlink(archive / "missing.md", archive / "broken.md")
    os.symlink(archive, archive / "self")
    os.symlink(archive / "2020-01-06.md", archive / "same-post.md")
    return archive


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    return hostile_copy(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def hostile_small(tmp_path) -> Path:
    return hostile_copy(tmp_path, huge=False)


@dataclass
class Build:
    corpus: Corpus
    peak_mib: int
    seconds: float


@pytest.fixture(scope="module")
def hostile_build(hostile, tmp_path_factory) -> Build:
    """A build of the hostile archive in a fresh process, so its peak memory is its own."""
    out = tmp_path_factory.mktemp("hostile-out")
    script = textwrap.dedent(
        f"""
        import resource, time
        from weeknotes_analysis import load_corpus
        started = time.perf_counter()
        load_corpus({str(hostile)!r}, model="none", out={str(out)!r})
        elapsed = time.perf_counter() - started
        # VmHWM, not RUSAGE_SELF: Linux carries the forking process's peak across exec, so
        # a run from a pytest process grown by earlier tests would measure pytest.
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(max(peak, children) // 1024, round(elapsed, 1))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=1800, check=False
    )
    assert done.returncode == 0, f"the build failed (exit {done.returncode}): {done.stderr}"
    peak_mib, seconds = done.stdout.split()
    return Build(Corpus.read_parquet(out), int(peak_mib), float(seconds))


@pytest.fixture(scope="module")
def hostile_corpus(hostile_build) -> Corpus:
    return hostile_build.corpus


def problem_table(problems: pd.DataFrame) -> dict[str, tuple[str, str, int | None]]:
    rows = {}
    for row in problems.itertuples():
        line = None if pd.isna(row.line) else int(row.line)
        assert row.path not in rows, f"{row.path} has more than one problem"
        rows[row.path] = (row.severity, row.code, line)
    return rows


def test_the_committed_fixture_names_every_bad_file():
    problems = check_archive(HOSTILE)
    assert problem_table(problems) == EXPECTED
    assert all(len(message) > 20 for message in problems["message"])


def test_check_and_build_name_every_bad_file_with_code_and_line(hostile, hostile_corpus):
    expected = EXPECTED | EXPECTED_EXTRA
    assert problem_table(check_archive(hostile)) == expected
    assert problem_table(hostile_corpus.problems) == expected


def test_every_good_post_comes_out_whole(hostile, hostile_corpus, tmp_path):
    """Each good post's rows are those of the same file in an archive of good files only."""
    posts = hostile_corpus.posts.set_index("post_id")
    assert set(posts.index) == set(GOOD) | set(WITH_WARNINGS) | {"2020-06-01-huge"}
    assert posts["section_count"].to_dict() == GOOD | WITH_WARNINGS | {
        "2020-06-01-huge": HUGE_SECTIONS
    }
    clean = tmp_path / "clean"
    clean.mkdir()
    for path in find_posts(hostile)[0]:
        relative = path.relative_to(hostile)
        if post_id_for(relative) in GOOD and not path.is_symlink():
            (clean / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, clean / relative)
    alone = load_corpus(clean, model="none")
    assert alone.problems.empty
    for table in ("posts", "sections", "links"):
        among = hostile_corpus.tables()[table]
        among = among[among["post_id"].isin(GOOD)].reset_index(drop=True)
        pd.testing.assert_frame_equal(among, alone.tables()[table], check_categorical=False)


def test_a_post_of_megabytes_with_tens_of_thousands_of_sections_is_kept_whole(hostile_corpus):
    sections = hostile_corpus.sections[hostile_corpus.sections["post_id"] == "2020-06-01-huge"]
    links = hostile_corpus.links[hostile_corpus.links["post_id"] == "2020-06-01-huge"]
    assert len(sections) == HUGE_SECTIONS
    last = sections.iloc[-1]
    assert last["heading"] == f"Section {HUGE_SECTIONS - 1}"
    assert last["footnotes"] == f"Footnote {HUGE_SECTIONS - 1}."
    assert len(links) == HUGE_SECTIONS and links["url"].is_unique


def test_missing_or_bad_dates_load_with_a_warning_and_the_file_name_date(hostile_corpus):
    posts = hostile_corpus.posts.set_index("post_id")
    for post_id in ("2020-04-13", "2020-04-20-bad-date", "2020-04-27-ancient-date"):
        assert posts.loc[post_id, "date_source"] == "filename"
        assert posts.loc[post_id, "date"] == pd.Timestamp(post_id[:10], tz="UTC")
    assert posts.loc["2020-01-06", "date_source"] == "front-matter"


def test_deep_quotes_and_lists_keep_their_text(hostile_corpus):
    text = hostile_corpus.sections.set_index("post_id")["text"]
    quotes, lists = text["2020-05-11-deep-quotes"], text["2020-05-18-deep-lists"]
    assert "deepest quoted words" in quotes and "after the quotes" in quotes
    assert all(f"level{depth}" in lists.split() for depth in range(60))
    assert "deepest listed words" in lists and "after the lists" in lists


@pytest.mark.parametrize(
    ("body", "flattened"),
    [
        (">" * 17 + " words", False),
        (">" * 18 + " words", True),
        ("".join("  " * depth + f"- words{depth}\n" for depth in range(8)), False),
        ("".join("  " * depth + f"- words{depth}\n" for depth in range(9)), True),
        ("1. " * 9 + "words", True),
    ],
)
def test_nesting_is_kept_up_to_the_documented_depth(body, flattened):
    parsed = parse_markdown(f"# A\n\n{body}\n\nafter\n", first_line=5)
    assert [defect.code for defect in parsed.defects] == (
        ["markdown-too-deep"] if flattened else []
    )
    text = parsed.sections[0].text
    assert "words" in text and text.endswith("after")
    assert not re.search(r"(^|\s)(>|-|1\.)(\s|$)", text), "markers left in the text"


def test_raw_html_links_skip_comments_scripts_and_unsafe_schemes():
    html = (
        "<A HREF=x.com/a?b=1&amp;c=2>x</a> <abbr href=no> <img/src='i.png'>"
        "<!-- <a href=comment> --> <script>'<a href=script>'</script>"
        "<a href=\"javascript:alert(1)\"> <a href=' JAVASCRIPT:x'> <a title='>' href=y>"
        '<a href="" href=z> <a href=unclosed <!-- <a href=never>'
    )
    assert html_links(html) == ["x.com/a?b=1&c=2", "i.png", "y", "z"]


def test_byte_order_mark_and_crlf_are_a_good_post(hostile_corpus):
    post = hostile_corpus.posts.set_index("post_id").loc["2020-01-13-bom-crlf"]
    assert post["title"] == "Week 3, saved on Windows"
    sections = hostile_corpus.sections
    text = sections[sections["post_id"] == "2020-01-13-bom-crlf"]["text"]
    assert not text.str.contains("\r").any()


def test_yaml_object_tags_are_never_executed_or_constructed(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda command: calls.append(command))
    monkeypatch.chdir(tmp_path)
    for name in ("python-object.md", "python-name.md"):
        post, problems = read_post(HOSTILE, HOSTILE / name)
        assert post is None and problems[0].code == "yaml-invalid"
    assert calls == []
    assert not (tmp_path / "weeknotes-pwned.txt").exists()


def test_alias_bombs_are_refused_with_bounded_memory():
    tracemalloc.start()
    try:
        for name in ("billion-laughs.md", "alias-loop.md"):
            post, problems = read_post(HOSTILE, HOSTILE / name)
            assert post is None and problems[0].code == "front-matter-too-complex"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"reading two alias bombs took {peak / 2**20:.0f} MiB"


def test_yaml_nested_past_libyaml_stack_does_not_crash_the_process(tmp_path):
    script = textwrap.dedent(
        """
        from pathlib import Path
        from weeknotes_analysis.sources import load_post
        data = ("---\\ntitle: " + "[" * 50000 + "]" * 50000 + "\\n---\\ntext\\n").encode()
        post, problems = load_post(data, Path("deep.md"))
        print(problems[0].code)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"the reader crashed (exit {done.returncode}): {done.stderr}"
    assert done.stdout.strip() == "front-matter-too-complex"


def test_hostile_links_never_become_script_links(hostile_corpus):
    links = hostile_corpus.links[hostile_corpus.links["post_id"] == "2020-02-17-hostile-html"]
    assert set(links["url"]) == {
        "x",
        "http://:1%5B:",
        "http://",
        "https://%25zz.example/",
        "https://fine.example.com/",
        "https://raw.example.net/",
    }
    every_scheme = set(hostile_corpus.links["scheme"].dropna())
    assert every_scheme <= {"http", "https"}
    text = "\n".join(hostile_corpus.sections["text"])
    assert "[missing reference][nowhere]" in text and "[^undefined]" in text


def test_an_unreadable_file_is_named_and_the_rest_is_built(hostile_small, monkeypatch):
    real_open = Path.open

    def refuse(self: Path, *args, **kwargs):
        if self.name == "2020-01-20.md":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    problems = problem_table(check_archive(hostile_small))
    assert problems["2020-01-20.md"] == ("error", "unreadable", None)
    corpus = load_corpus(hostile_small, model="none", cache=False)
    assert problem_table(corpus.problems)["2020-01-20.md"] == ("error", "unreadable", None)
    assert "2020-01-20" not in set(corpus.posts["post_id"]) and "2020-01-06" in set(
        corpus.posts["post_id"]
    )


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="running as root: chmod 000 does not stop root from reading (simulated above)",
)
def test_a_file_without_read_permission_is_unreadable(tmp_path):
    path = tmp_path / "locked.md"
    path.write_text("---\ntitle: T\n---\ntext\n")
    path.chmod(0)
    try:
        post, problems = read_post(tmp_path, path)
    finally:
        path.chmod(0o644)
    assert post is None and problems[0].code == "unreadable"


def test_a_folder_that_cannot_be_listed_is_named(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "2020-01-01.md").write_text("# A\n\ntext\n")
    (tmp_path / "2020-01-08.md").write_text("# B\n\ntext\n")
    scandir = os.scandir

    def refuse(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    problems = problem_table(check_archive(tmp_path))
    assert problems == {"2020-01-08.md": ("warning", "date-missing", 1)} | {
        "locked": ("error", "unreadable", None)
    }


def test_check_prints_the_table_and_fails_on_errors(hostile_small, capsys):
    assert main(["check", str(hostile_small)]) == 1
    out = capsys.readouterr().out
    for path, (_, code, _) in (EXPECTED | EXPECTED_EXTRA).items():
        assert path in out and code in out
    assert main(["check", str(HOSTILE / "2020-02-10")]) == 0


def test_build_exits_0_and_strict_stops_at_the_first_problem(hostile_small, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", str(hostile_small), "--out", str(out), "--model", "none", "--quiet"]) == 0
    assert len(pd.read_parquet(out / "problems.parquet")) == len(EXPECTED | EXPECTED_EXTRA)
    capsys.readouterr()
    strict = ["build", str(HOSTILE), "--out", str(tmp_path / "strict"), "--model", "none"]
    assert main([*strict, "--strict", "--quiet"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("weeknotes: 2020-04-13.md:1: warning date-missing:")


def test_peak_memory_of_a_hostile_build_is_bounded(hostile_build):
    """Generous limits on memory only; the time is printed, never asserted."""
    print(f"hostile build: peak {hostile_build.peak_mib} MiB, {hostile_build.seconds} s")
    assert hostile_build.peak_mib < 1536, f"peak memory {hostile_build.peak_mib} MiB"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder`` (links not followed) with its size and modification time."""
    entries = {}
    for path in folder.rglob("*"):
        status = path.lstat()
        entries[path.relative_to(folder).as_posix()] = (status.st_size, status.st_mtime_ns)
    return entries


def test_a_build_writes_only_its_output_folder_and_never_connects(tmp_path, monkeypatch):
    archive = tmp_path / "archive"
    shutil.copytree(HOSTILE, archive)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)

    def no_network(*args, **kwargs):
        raise AssertionError(f"a build tried to reach the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    before = snapshot(tmp_path)
    load_corpus(archive, model="none", out=tmp_path / "out", cache=False)
    after = {
        path: entry for path, entry in snapshot(tmp_path).items() if not path.startswith("out")
    }
    assert after == before
    assert (tmp_path / "out" / "posts.parquet").exists()


@pytest.mark.slow
def test_the_html_report_escapes_what_the_archive_holds(tmp_path):
    from weeknotes_analysis import report

    archive = tmp_path / "archive"
    archive.mkdir()
    for name in ("2020-01-06.md", "2020-02-17-hostile-html.md", "bad-yaml.md", "image.md"):
        shutil.copy(HOSTILE / name, archive / name)
    # File names may hold markup too: they become post ids and problem paths.
    shutil.copy(HOSTILE / "2020-01-20.md", archive / "2020-03-02-<b>xss-name.md")
    shutil.copy(HOSTILE / "bad-json.md", archive / "<i>xss-bad.md")
    index = report.build_report(archive, out=tmp_path / "report", model="none")
    pages = sorted(index.parent.glob("*.html"))
    assert index in pages and len(pages) > 1
    everything = ""
    for page in pages:
        html = page.read_text(encoding="utf-8")
        everything += html
        assert "<script>alert('weeknotes-xss')" not in html, page.name
        assert "onerror=alert" not in html and 'onerror="alert' not in html, page.name
        assert 'href="javascript:' not in html.lower(), page.name
        assert "<b>xss-name" not in html and "<i>xss-bad" not in html, page.name
    assert "&lt;script&gt;alert(&#x27;weeknotes-xss&#x27;)&lt;/script&gt;" in everything


@pytest.mark.corpora
@pytest.mark.parametrize("archive", [SAMPLE, IGNOREME, RUST], ids=lambda path: path.name)
def test_the_archives_at_hand_have_no_errors(archive):
    problems = check_archive(need(archive))
    errors = problems[problems["severity"] == "error"]
    assert errors.empty, errors.to_string()


def test_the_readme_lists_every_problem_code():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    promises = readme.split("## What a build promises on bad input", 1)[1].split("\n## ", 1)[0]
    codes = {code for _, code, _ in (EXPECTED | EXPECTED_EXTRA).values()}
    missing = sorted(code for code in codes if f"`{code}`" not in promises)
    assert not missing, f"README does not explain {missing}"
