"""The README tells the truth: its Python runs as written, its tables of commands and of
columns match the code (issue 14, item 5)."""

from __future__ import annotations

import re
import warnings

import matplotlib
import pytest

from weeknotes_analysis import schema
from weeknotes_analysis.cli import build_parser

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README, re.DOTALL | re.MULTILINE)


def test_the_readme_has_python_to_run():
    assert len(PYTHON_BLOCKS) >= 2


def test_every_python_block_runs_as_written_on_the_sample(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sample").symlink_to(REPO / "data" / "sample")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    with warnings.catch_warnings():
        # An old name in the README would warn: the README uses the current API only.
        warnings.simplefilter("error", DeprecationWarning)
        for number, block in enumerate(PYTHON_BLOCKS, start=1):
            try:
                exec(compile(block, f"README.md python block {number}", "exec"), namespace)
            except Exception as error:  # pragma: no cover - the message is the point
                pytest.fail(f"README python block {number} fails: {error!r}\n{block}")
    assert (tmp_path / "data" / "processed" / "posts.parquet").exists()


def command_rows() -> dict[str, str]:
    rows = re.findall(r"^\| `weeknotes (\S+)( [^`]*)?` \|", README, re.MULTILINE)
    return {name: options for name, options in rows}


def test_every_command_and_option_is_in_the_readme_table():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    rows = command_rows()
    assert set(commands) | {"--version"} == set(rows)
    for name, sub in commands.items():
        options = {o for a in sub._actions for o in a.option_strings if o.startswith("--")}
        options -= {"--help"}
        missing = [o for o in sorted(options) if o not in rows[name]]
        assert missing == [], f"weeknotes {name}: {missing} not in the README's table"
        for written in re.findall(r"--[a-z-]+", rows[name]):
            assert written in options, f"weeknotes {name}: the README names {written}"


def test_every_table_and_column_is_in_the_readme():
    for name in schema.TABLES:
        found = re.search(rf"^- `{name}`: (.*?)(?=^- `|^\n)", README, re.DOTALL | re.MULTILINE)
        assert found, f"the README's table list lacks {name}"
        text = found.group(1)
        missing = [c for c in schema.column_names(name) if not re.search(rf"\b{c}\b", text)]
        assert missing == [], f"{name}: the README does not name {missing}"
