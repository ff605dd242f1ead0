"""The `weeknotes` command, run in-process on small archives in a temporary folder."""

from __future__ import annotations

import re

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
