"""The engine module: one fork pool for the build and the model, and no import cycles."""

from __future__ import annotations

import ast
import os
import struct
import time
from pathlib import Path

import pytest

import weeknotes_analysis
from weeknotes_analysis import engine

PACKAGE = Path(weeknotes_analysis.__file__).parent


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The nodes under ``if TYPE_CHECKING:`` (never imported at run time)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    return skipped


def package_imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports at run time, at its top or in a function.

    ``from . import __version__`` takes a name of the package's ``__init__``, which imports
    every module: it is not counted (the package itself is not a module of the graph)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("weeknotes_analysis."):
                found.add(node.module.split(".")[1])
            elif node.module == "weeknotes_analysis":
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("weeknotes_analysis."):
                    found.add(alias.name.split(".")[1])
    return (found & modules) - {path.stem}


def import_graph() -> dict[str, set[str]]:
    files = {path.stem: path for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    return {name: package_imports(path, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a path that returns to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_a_cycle_through_a_function_import(tmp_path):
    (tmp_path / "a.py").write_text("from .b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from .c import y\n")
    (tmp_path / "c.py").write_text("from . import a\n")
    modules = {"a", "b", "c"}
    graph = {p.stem: package_imports(p, modules) for p in tmp_path.glob("*.py")}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    (tmp_path / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n"
    )
    graph = {p.stem: package_imports(p, modules) for p in tmp_path.glob("*.py")}
    assert find_cycle(graph) is None


def test_no_import_cycle_in_the_package():
    graph = import_graph()
    assert "engine" in graph["build"] and "engine" in graph["dask_engine"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_engine_imports_nothing_from_the_package_at_run_time():
    assert import_graph()["engine"] == set()


def _report(_: int) -> tuple[int, str]:
    return os.getpid(), engine.inherited()


@pytest.mark.skipif(not engine.can_fork(), reason="no fork on this platform")
def test_fork_pool_workers_inherit_the_state_and_it_is_cleared_after():
    with engine.fork_pool("loaded once", workers=2) as pool:
        results = list(pool.map(_report, range(4)))
    assert {state for _, state in results} == {"loaded once"}
    assert all(pid != os.getpid() for pid, _ in results)
    with pytest.raises(RuntimeError, match="fork_pool"):
        engine.inherited()


@pytest.mark.skipif(not engine.can_fork(), reason="no fork on this platform")
def test_fork_pool_kills_its_workers_when_the_block_raises():
    with pytest.raises(KeyboardInterrupt), engine.fork_pool("state", workers=2) as pool:
        pool.submit(_report, 0).result()
        workers = list(pool._processes.values())
        raise KeyboardInterrupt
    assert workers and all(not worker.is_alive() for worker in workers)


@pytest.mark.skipif(not engine.can_fork(), reason="no fork on this platform")
def test_a_worker_killed_while_it_sends_a_result_leaves_no_thread_waiting():
    # A worker killed while it writes a result leaves a message's length and part of its body
    # in the result pipe: the pool's manager thread waits for the rest, and the interpreter's
    # exit waits for that thread (a stopped build that never ends). The same bytes, written
    # here, stand in for that worker.
    with pytest.raises(KeyboardInterrupt), engine.fork_pool("state", workers=1) as pool:
        pool.submit(_report, 0).result()
        manager = pool._executor_manager_thread
        manager.result_queue._writer._send(struct.pack("!i", 1_000_000) + b"part of a result")
        time.sleep(0.5)
        raise KeyboardInterrupt
    manager.join(timeout=5)
    assert not manager.is_alive()


def test_old_import_paths_still_work():
    from weeknotes_analysis.build import DASK_SCRATCH, Engine, Processed

    assert Processed is engine.Processed and Engine is engine.Engine
    assert DASK_SCRATCH == engine.DASK_SCRATCH


def test_build_options_and_keywords_give_the_same_build(tmp_path):
    from weeknotes_analysis import load_corpus
    from weeknotes_analysis.build import BuildOptions

    from .conftest import SAMPLE

    by_keywords = load_corpus(SAMPLE, model="none", jobs=1, cache=False)
    options = BuildOptions(model="auto", jobs=1, cache=False)
    by_options = load_corpus(SAMPLE, options=options, model="none")
    assert by_options.stats["model"] == "none"
    assert by_options.summary() == by_keywords.summary()
    with pytest.raises(TypeError, match="unexpected keyword argument 'modle'"):
        load_corpus(SAMPLE, modle="none")
