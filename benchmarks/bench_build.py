"""Build benchmarks: ratios measured side by side in one run on this machine.

Every measurement runs in a fresh Python process (cold imports, cold model load), so the
figures are what a user sees from the command line. The cold builds behind goals 1, 2, 3 and 5
run in --repeat rounds (default 3); each ratio is the median of its rounds' ratios, since a
shared machine's speed drifts by 20% from one minute to the next. Usage:

    .venv/bin/python benchmarks/bench_build.py [--archive PATH] [--rust PATH] [--quick]
        [--repeat N]

Goals (issue 5): 1. cold --jobs 1 / bare nlp.pipe <= 1.15 (the bare run has the same
components as the build: NER; with --phrases parser also tagger, parser and lemmatizer);
2. --jobs 2 / --jobs 1 <= 0.65; 3. hand-written loop / default cold build >= 2.5;
4. unchanged rebuild / cold <= 0.10 and one file changed / cold <= 0.25;
5. rules-only words per second on This Week in Rust >= 40,000;
6. peak memory of a full build of This Week in Rust with the model < 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("WEEKNOTES_CORPORA", REPO.parent / "shared" / "corpora"))

PRELUDE = """
import json, resource, sys, threading, time
start = time.perf_counter()
"""
# Peak memory as proportional set size: every sampled moment, the PSS of this process and its
# workers summed (pages shared after fork are counted once, split between the processes).
PSS_SAMPLER = """
import psutil
pss_peak = [0]
def _sample():
    me = psutil.Process()
    while True:
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_full_info().pss
            except (psutil.Error, OSError):
                pass
        pss_peak[0] = max(pss_peak[0], total)
        time.sleep(0.25)
threading.Thread(target=_sample, daemon=True).start()
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
    phrases: str = "rules",
    pss: bool = False,
) -> dict:
    target = "None" if out is None else repr(str(out))
    sampler = PSS_SAMPLER if pss else "pss_peak = [0]\n"
    return run(
        sampler
        + textwrap.dedent(
            f"""
            from weeknotes_analysis import load_corpus
            corpus = load_corpus({str(archive)!r}, model={model!r}, jobs={jobs}, out={target},
                                 cache={cache}, phrases={phrases!r})
            extra = {{"words": int(corpus.posts["word_count"].sum()), "posts": len(corpus.posts),
                      "pss_mb": pss_peak[0] / 2**20}}
            """
        )
    )


def bare_pipe(sections_parquet: Path, *, exclude: str = "NER_ONLY_EXCLUDE") -> dict:
    """``nlp.pipe`` over the build's section texts: spaCy imported, the model loaded without
    the ``exclude``d components, every text run. Reading the texts is not timed."""
    return run(
        f"""
        import pandas as pd
        from weeknotes_analysis.nlp import NER_ONLY_EXCLUDE, resolve_model
        from weeknotes_analysis.process import PARSER_EXCLUDE
        sections = pd.read_parquet({str(sections_parquet)!r})
        pairs = zip(sections["text"], sections["footnotes"])
        texts = [t for pair in pairs for t in pair if t and t.strip()]  # what NER reads
        start = time.perf_counter()  # from here: what a bare spaCy script does
        import spacy
        nlp = spacy.load(resolve_model("auto"), exclude={exclude})
        entities = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=64))
        extra = {{"entities": entities, "components": nlp.pipe_names}}
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
    posts = sorted(path for path in copy.rglob("*") if path.suffix in (".md", ".markdown"))
    first = posts[len(posts) // 2]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nOne more line about AWS.\n")


def verdict(value: float, goal: float, *, at_most: bool) -> str:
    met = value <= goal if at_most else value >= goal
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=CORPORA / "ignoreme-weeklynotes")
    parser.add_argument("--rust", type=Path, default=CORPORA / "this-week-in-rust")
    parser.add_argument("--quick", action="store_true", help="skip the full-model Rust build")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the cold builds")
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    print(f"machine: {platform.machine()}, {cpus} cores, Python {platform.python_version()}")
    print(f"archive: {args.archive}; rust: {args.rust}")
    rounds: list[dict[str, dict]] = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        # The cold builds of each ratio run side by side, and the whole set args.repeat times
        # over: each ratio is the median of its rounds' ratios (a shared machine drifts).
        for round_number in range(args.repeat):
            at = tmp / f"round{round_number}"
            r: dict[str, dict] = {}
            r["cold1"] = build(args.archive, at / "cold1", model="auto", jobs=1)
            r["bare"] = bare_pipe(at / "cold1" / "sections.parquet")
            r["cold1_parser"] = build(
                args.archive, at / "cold1-p", model="auto", jobs=1, phrases="parser"
            )
            r["bare_parser"] = bare_pipe(
                at / "cold1" / "sections.parquet", exclude="PARSER_EXCLUDE"
            )
            r["cold2"] = build(args.archive, at / "cold2", model="auto", jobs=2)
            r["default"] = build(args.archive, at / "default", model="auto", jobs=cpus)
            r["default_parser"] = build(
                args.archive, at / "default-p", model="auto", jobs=cpus, phrases="parser"
            )
            r["hand"] = hand_loop(args.archive)
            r["rules"] = build(args.rust, at / "rules", model="none", jobs=cpus)
            rounds.append(r)
        last = tmp / f"round{args.repeat - 1}"
        agains = [
            build(args.archive, last / "default", model="auto", jobs=cpus)
            for _ in range(args.repeat)
        ]
        again = {"seconds": statistics.median(run["seconds"] for run in agains)}
        touch_one(args.archive, tmp / "edited")
        edited_cold = build(tmp / "edited", tmp / "edited-cold", model="auto", jobs=cpus)
        edited = build(tmp / "edited", last / "default", model="auto", jobs=cpus)
        rust_model = rust_edited = None
        if not args.quick:
            rust_model = build(args.rust, tmp / "rust", model="auto", jobs=cpus, pss=True)
            # 4b on the large archive: one post added to a week's worth of history.
            touch_one(args.rust, tmp / "rust-edited")
            rust_edited = build(tmp / "rust-edited", tmp / "rust", model="auto", jobs=cpus)

    def median(values: list[float]) -> float:
        return statistics.median(values)

    def seconds_of(key: str) -> dict:
        return {"seconds": median([r[key]["seconds"] for r in rounds])}

    def paired(name: str, a: str, b: str, goal: float, at_most: bool) -> None:
        """The median over the rounds of a/b, each round's two builds run side by side."""
        values = [r[a]["seconds"] / r[b]["seconds"] for r in rounds]
        value = median(values)
        seconds = f"{seconds_of(a)['seconds']:.1f} vs {seconds_of(b)['seconds']:.1f}"
        sign = "<=" if at_most else ">="
        each = " ".join(f"{v:.2f}" for v in values)
        print(
            f"{name:<52}{seconds:>16}{value:>8.2f}{sign + str(goal):>8}  "
            f"{verdict(value, goal, at_most=at_most)}  (rounds: {each})"
        )

    default = seconds_of("default")

    def ratio(name: str, a: dict, b: dict, goal: float, at_most: bool, digits: int = 1) -> None:
        value = a["seconds"] / b["seconds"]
        seconds = f"{a['seconds']:.{digits}f} vs {b['seconds']:.1f}"
        sign = "<=" if at_most else ">="
        print(
            f"{name:<52}{seconds:>16}{value:>8.2f}{sign + str(goal):>8}  "
            f"{verdict(value, goal, at_most=at_most)}"
        )

    print(f"\n{args.repeat} rounds; medians of the seconds and of each round's ratio")
    print(f"{'measure':<52}{'seconds':>16}{'ratio':>8}{'goal':>8}  verdict")
    paired("1. cold --jobs 1 / bare nlp.pipe (NER)", "cold1", "bare", 1.15, True)
    paired(
        "1'. same, --phrases parser / bare (NER+parser)", "cold1_parser", "bare_parser", 1.15, True
    )
    paired("2. cold --jobs 2 / --jobs 1", "cold2", "cold1", 0.65, True)
    paired("3. hand loop / default cold build", "hand", "default", 2.5, False)
    paired("3'. hand loop / cold build --phrases parser", "hand", "default_parser", 2.5, False)
    ratio("4a. unchanged rebuild / cold", again, default, 0.10, True, digits=2)
    ratio("4b. one file changed / cold", edited, edited_cold, 0.25, True, digits=2)
    rates = [r["rules"]["words"] / r["rules"]["seconds"] for r in rounds]
    words_per_second = median(rates)
    rules = rounds[0]["rules"]
    print(
        f"{'5. rules-only words/s (Rust, ' + format(rules['words'], ',') + ' words)':<52}"
        f"{seconds_of('rules')['seconds']:>15.1f}s{words_per_second:>8,.0f}{'>=40000':>8}  "
        f"{verdict(words_per_second, 40_000, at_most=False)}"
    )
    print(f"   (each round: {', '.join(f'{rate:,.0f}' for rate in rates)} words/s)")
    if rust_model is not None and rust_edited is not None:
        ratio(
            "4b'. as 4b on This Week in Rust (against its cold build)",
            rust_edited,
            rust_model,
            0.25,
            True,
            digits=2,
        )
        print(
            f"{'6. peak memory (PSS), Rust with the model, MB':<52}"
            f"{rust_model['seconds']:>15.1f}s{rust_model['pss_mb']:>8,.0f}{'<1536':>8}  "
            f"{verdict(rust_model['pss_mb'], 1536, at_most=True)}"
        )
        print(
            f"   (resident set sizes: main process {rust_model['peak_mb']:,.0f} MB, largest "
            f"worker {rust_model['children_mb']:,.0f} MB; forked workers share the model's pages)"
        )
    print(
        f"\n   bare pipelines: {rounds[0]['bare']['components']} and "
        f"{rounds[0]['bare_parser']['components']}"
    )


if __name__ == "__main__":
    main()
