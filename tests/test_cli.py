"""The `weeknotes` command, run in-process on small archives in a temporary folder."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from weeknotes_analysis import Corpus, schema
from weeknotes_analysis.cli import build_parser, main

from .conftest import REPO, SAMPLE, write


def test_build_writes_every_table_and_a_summary(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", str(SAMPLE), "--out", str(out), "--model", "none"]) == 0
    assert sorted(p.name for p in out.glob("*.parquet")) == sorted(
        f"{t}.parquet" for t in schema.TABLES
    )
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.match(r"\d+ posts, \d+ sections, \d+ links, .* \d+ problems", line)
    corpus = Corpus.read_parquet(out)
    assert len(corpus.posts) >= 20


def test_build_quiet_prints_nothing(tmp_path, capsys):
    assert main(["build", str(SAMPLE), "--out", str(tmp_path), "--model", "none", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_bad_file_keeps_exit_zero_but_strict_fails_naming_it(tmp_path, capsys):
    archive = tmp_path / "archive"
    write(archive, "2020-01.md", "---\ntitle: Good\ndate: 2020-01-01\n---\n\n# A\n\nText.\n")
    write(archive, "2020-02.md", "---\ntitle: [oops\ndate: 2020-01-08\n---\n\nx\n")
    assert main(["build", str(archive), "--out", str(tmp_path / "o"), "--model", "none"]) == 0
    assert "1 problems (1 errors)" in capsys.readouterr().out
    code = main(
        ["build", str(archive), "--out", str(tmp_path / "s"), "--model", "none", "--strict"]
    )
    assert code == 1
    assert "2020-02.md:2" in capsys.readouterr().err


def test_check_lists_problems_and_exits_nonzero_on_errors(tmp_path, capsys):
    write(tmp_path, "2020-01.md", "---\ntitle: Good\ndate: 2020-01-01\n---\n\nText.\n")
    assert main(["check", str(tmp_path)]) == 0
    assert "no problems" in capsys.readouterr().out
    write(tmp_path, "2020-02.md", b"\xff\xfe bad bytes")
    assert main(["check", str(tmp_path)]) == 1
    assert "not-utf8" in capsys.readouterr().out


def test_missing_archive_is_a_clear_error(tmp_path, capsys):
    assert main(["build", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert "no such archive folder" in capsys.readouterr().err


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for command in commands:
        assert f"weeknotes {command}" in readme, f"`weeknotes {command}` is not in README.md"


@pytest.mark.parametrize("flag", ["--model", "--jobs", "--strict", "--quiet", "--out"])
def test_build_accepts_the_documented_options(flag):
    build = build_parser()._subparsers._group_actions[0].choices["build"]  # type: ignore[union-attr]
    assert flag in build._option_string_actions


def test_version(capsys):
    from weeknotes_analysis import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"weeknotes {__version__}"


def test_build_says_what_it_did_fresh_then_reused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", str(SAMPLE), "--out", str(out), "--model", "none"]) == 0
    first = capsys.readouterr().out
    assert re.search(r"model none; 26 files parsed, 0 reused from the cache; \d+\.\d s", first)
    assert main(["build", str(SAMPLE), "--out", str(out), "--model", "none"]) == 0
    assert "0 files parsed, 26 reused from the cache" in capsys.readouterr().out


def test_build_with_problems_names_the_files_and_the_check_command(tmp_path, capsys):
    archive = tmp_path / "archive"
    write(archive, "2020-01.md", "---\ntitle: Good\ndate: 2020-01-01\n---\n\n# A\n\nText.\n")
    write(archive, "2020-02.md", '---\ntitle: "oops\ndate: 2020-01-08\n---\n\nx\n')
    assert main(["build", str(archive), "--out", str(tmp_path / "o"), "--model", "none"]) == 0
    out = capsys.readouterr().out
    assert "2020-02.md: error yaml-invalid" in out
    assert f"weeknotes check {archive}" in out
    main(["check", str(archive)])
    assert "add its closing quote" in capsys.readouterr().out


def test_check_lists_recurring_headings_with_a_snippet(tmp_path, capsys):
    for day in (6, 13, 20):
        write(
            tmp_path,
            f"2020-01-{day:02d}.md",
            f"---\ntitle: W{day}\ndate: 2020-01-{day:02d}\n---\n\n# News {day}\n\nText.\n\n"
            "# Upcoming Events\n\nA meetup.\n",
        )
    assert main(["check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Upcoming Events: 3 posts (100%)" in out and "News 6" not in out
    assert 'exclude_headings = ["Upcoming Events"]' in out


def test_notebooks_command_copies_them_pointing_at_the_archive(tmp_path, capsys):
    import nbformat

    assert main(["notebooks", str(tmp_path / "nb"), "--archive", str(SAMPLE)]) == 0
    copied = sorted((tmp_path / "nb").glob("*.ipynb"))
    shipped = resources.files("weeknotes_analysis") / "notebooks"
    assert [p.name for p in copied] == sorted(
        p.name for p in shipped.iterdir() if p.name.endswith(".ipynb")
    )
    assert len(copied) == 6
    parameters = nbformat.read(copied[0], as_version=4).cells[1].source
    assert f"archive = {str(SAMPLE.resolve())!r}" in parameters
    assert main(["notebooks", str(tmp_path / "nb")]) == 2  # never overwrites
    assert "already there" in capsys.readouterr().err


def test_report_passes_every_build_option_it_accepts(tmp_path, monkeypatch):
    from weeknotes_analysis import report as report_module

    calls = []
    monkeypatch.setattr(
        report_module, "build_report", lambda path, **options: calls.append(options) or tmp_path
    )
    config = write(tmp_path, "w.toml", "")
    argv = ["report", str(SAMPLE), "--out", str(tmp_path), "--phrases", "parser", "--jobs", "1"]
    argv += ["--config", str(config), "--taxonomy", "t.yaml", "--gazetteer", "g.yaml", "--quiet"]
    assert main([*argv, "--role", "any", "--freq", "month", "--min-sections", "3"]) == 0
    options = calls[0]
    assert options["phrases"] == "parser" and options["jobs"] == 1
    assert options["config"] == str(config)
    assert (options["taxonomy"], options["gazetteer"]) == ("t.yaml", "g.yaml")
    assert options["role"] is None and options["freq"] == "month"
    assert options["min_sections"] == 3
    parser = build_parser()._subparsers._group_actions[0].choices["report"]  # type: ignore[union-attr]
    accepted = {a.dest for a in parser._actions} - {"help", "path", "quiet"}
    assert accepted <= set(options), accepted - set(options)
