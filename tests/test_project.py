"""The project itself: dependencies in step, Makefile targets documented, README commands."""

from __future__ import annotations

import re
import subprocess
import tomllib

import yaml

from .conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_runtime_dependencies_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pyproject = {_name(req): req.split("==")[1] for req in project["dependencies"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for req in dep["pip"]:
                if not req.startswith("-e"):
                    conda[_name(req)] = req.split("==")[1]
        elif _name(dep) not in {"python", "pip"}:
            conda[_name(dep)] = dep.split("=")[1]
    assert conda == pyproject


def test_every_make_target_is_documented_and_help_is_the_default():
    makefile = (REPO / "Makefile").read_text()
    assert ".DEFAULT_GOAL := help" in makefile
    targets = re.findall(r"^([a-zA-Z][\w-]*):", makefile, flags=re.M)
    undocumented = [t for t in targets if not re.search(rf"^{t}:.*## \S", makefile, flags=re.M)]
    assert targets and undocumented == []
    listed = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True).stdout
    for target in ("report", "test"):
        assert re.search(rf"^\s+{target}\s", listed, flags=re.M)


def test_readme_quick_start_has_exactly_the_two_commands():
    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \S+)\s*$", quick, flags=re.M)
    assert commands == ["make report", "make test"]


def test_ci_runs_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()
