"""Build benchmarks: ratios measured side by side in one run on this machine.

Every measurement runs in a fresh Python process (cold imports, cold model load), so the
figures are what a user sees from the command line. Usage:

    .venv/bin/python benchmarks/bench_build.py [--archive PATH] [--rust PATH] [--quick]

Goals (issue 5): 1. cold --jobs 1 / bare nlp.pipe <= 1.15; 2. --jobs 2 / --jobs 1 <= 0.65;
3. hand-written loop / default cold build >= 2.5; 4. unchanged rebuild / cold <= 0.10 and
one file changed / cold <= 0.25; 5. rules-only words per second on This Week in Rust >= 40,000;
6. peak memory of a full build of This Week in Rust with the model < 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("WEEKNOTES_CORPORA", REPO.parent / "shared" / "corpora"))

NO_PHRASES_RATE = "5'. as 5, --phrases off"
PRELUDE = """
import json, resource, sys, time
start = time.perf_counter()
"""
REPORT = """
elapsed = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "children_mb": children_mb, **extra}))
"""


def run(body: str) -> dict[str, float]:
    """Run ``body`` in a fresh interpreter and return what it reports."""
    code = PRELUDE + textwrap.dedent(body) + REPORT
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def build(
    archive: Path,
    out: Path | None,
    *,
    model: str,
    jobs: int,
    cache: bool = True,
    phrases: str = "auto",
) -> dict:
    target = "None" if out is None else repr(str(out))
    return run(
        f"""
        from weeknotes_analysis import load_corpus
        corpus = load_corpus({str(archive)!r}, model={model!r}, jobs={jobs}, out={target},
                             cache={cache}, phrases={phrases!r})
        extra = {{"words": int(corpus.posts["word_count"].sum()), "posts": len(corpus.posts)}}
        """
    )


def bare_pipe(archive: Path, sections_parquet: Path) -> dict:
    return run(
        f"""
        import pandas as pd
        import spacy
        from weeknotes_analysis.nlp import NER_ONLY_EXCLUDE, iter_texts, resolve_model
        sections = pd.read_parquet({str(sections_parquet)!r})
        start = time.perf_counter()  # reading our parquet output is not part of NER
        nlp = spacy.load(resolve_model("auto"), exclude=NER_ONLY_EXCLUDE)
        entities = sum(len(doc.ents) for doc in nlp.pipe(iter_texts(sections), batch_size=64))
        extra = {{"entities": entities}}
        """
    )


def hand_loop(archive: Path) -> dict:
    return run(
        f"""
        from pathlib import Path
        import frontmatter, spacy
        from weeknotes_analysis.nlp import resolve_model
        nlp = spacy.load(resolve_model("auto"))
        entities = 0
        for path in sorted(Path({str(archive)!r}).rglob("*.md")):
            post = frontmatter.load(path)
            entities += len(nlp(post.content).ents)
        extra = {{"entities": entities}}
        """
    )


def touch_one(archive: Path, copy: Path) -> None:
    shutil.copytree(archive, copy)
    first = sorted(copy.rglob("*.md"))[len(list(copy.rglob("*.md"))) // 2]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nOne more line about AWS.\n")


def verdict(value: float, goal: float, *, at_most: bool) -> str:
    met = value <= goal if at_most else value >= goal
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=CORPORA / "ignoreme-weeklynotes")
    parser.add_argument("--rust", type=Path, default=CORPORA / "this-week-in-rust")
    parser.add_argument("--quick", action="store_true", help="skip the full-model Rust build")
    args = parser.parse_args()
    cpus = os.cpu_count()
    print(f"machine: {platform.machine()}, {cpus} cores, Python {platform.python_version()}")
    print(f"archive: {args.archive}")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        cold1 = build(args.archive, tmp / "cold1", model="auto", jobs=1)
        bare = bare_pipe(args.archive, tmp / "cold1" / "sections.parquet")
        cold2 = build(args.archive, tmp / "cold2", model="auto", jobs=2)
        default = build(args.archive, tmp / "default", model="auto", jobs=cpus or 1)
        hand = hand_loop(args.archive)
        again = build(args.archive, tmp / "default", model="auto", jobs=cpus or 1)
        touch_one(args.archive, tmp / "edited")
        edited_cold = build(tmp / "edited", tmp / "edited-cold", model="auto", jobs=cpus or 1)
        edited = build(tmp / "edited", tmp / "default", model="auto", jobs=cpus or 1)
        rules = build(args.rust, tmp / "rules", model="none", jobs=cpus or 1)
        # The same without key phrases: the parser is an analysis of its own, not NER.
        cold1_np = build(args.archive, tmp / "cold1-np", model="auto", jobs=1, phrases="off")
        default_np = build(
            args.archive, tmp / "default-np", model="auto", jobs=cpus or 1, phrases="off"
        )
        rules_np = build(args.rust, tmp / "rules-np", model="none", jobs=cpus or 1, phrases="off")
        rust_model = None
        if not args.quick:
            rust_model = build(args.rust, tmp / "rust", model="auto", jobs=cpus or 1)

    rows = [
        ("1. cold --jobs 1 / bare nlp.pipe", cold1["seconds"] / bare["seconds"], 1.15, True),
        ("2. cold --jobs 2 / --jobs 1", cold2["seconds"] / cold1["seconds"], 0.65, True),
        ("3. hand loop / default cold build", hand["seconds"] / default["seconds"], 2.5, False),
        ("4a. unchanged rebuild / cold", again["seconds"] / default["seconds"], 0.10, True),
        ("4b. one file changed / cold", edited["seconds"] / edited_cold["seconds"], 0.25, True),
    ]
    print()
    print(f"{'measure':<40}{'seconds':>24}{'ratio':>9}{'goal':>8}  verdict")
    detail = {
        rows[0][0]: f"{cold1['seconds']:.1f} vs {bare['seconds']:.1f}",
        rows[1][0]: f"{cold2['seconds']:.1f} vs {cold1['seconds']:.1f}",
        rows[2][0]: f"{hand['seconds']:.1f} vs {default['seconds']:.1f}",
        rows[3][0]: f"{again['seconds']:.2f} vs {default['seconds']:.1f}",
        rows[4][0]: f"{edited['seconds']:.2f} vs {edited_cold['seconds']:.1f}",
    }
    rows += [
        ("1'. as 1, --phrases off", cold1_np["seconds"] / bare["seconds"], 1.15, True),
        ("3'. as 3, --phrases off", hand["seconds"] / default_np["seconds"], 2.5, False),
    ]
    detail[rows[5][0]] = f"{cold1_np['seconds']:.1f} vs {bare['seconds']:.1f}"
    detail[rows[6][0]] = f"{hand['seconds']:.1f} vs {default_np['seconds']:.1f}"
    for name, ratio, goal, at_most in rows:
        sign = "<=" if at_most else ">="
        print(
            f"{name:<40}{detail[name]:>24}{ratio:>9.2f}{sign + str(goal):>8}  "
            f"{verdict(ratio, goal, at_most=at_most)}"
        )
    words_per_second = rules["words"] / rules["seconds"]
    print(
        f"{'5. rules-only words/s (Rust)':<40}{rules['seconds']:>23.1f}s{words_per_second:>9,.0f}"
        f"{'>=40000':>8}  {verdict(words_per_second, 40_000, at_most=False)}"
    )
    off_rate = rules_np["words"] / rules_np["seconds"]
    print(
        f"{NO_PHRASES_RATE:<40}{rules_np['seconds']:>23.1f}s{off_rate:>9,.0f}"
        f"{'>=40000':>8}  {verdict(off_rate, 40_000, at_most=False)}"
    )
    if rust_model is not None:
        total_mb = rust_model["peak_mb"] + rust_model["children_mb"]
        print(
            f"{'6. peak memory, Rust with model (MB)':<40}{rust_model['seconds']:>23.1f}s"
            f"{total_mb:>9,.0f}{'<1536':>8}  {verdict(total_mb, 1536, at_most=True)}"
        )
        print(
            f"   (main process {rust_model['peak_mb']:,.0f} MB + largest worker "
            f"{rust_model['children_mb']:,.0f} MB; forked workers share the model's pages)"
        )


if __name__ == "__main__":
    main()
