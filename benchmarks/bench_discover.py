"""Discover topics on real archives: coverage, time, NMF against k-means, and stability.

    python benchmarks/bench_discover.py ../shared/corpora/this-week-in-rust --out /tmp/twir

For each archive: a rules-only build (cached in ``--out``; its time is the yardstick), then
``discover_topics`` with NMF and with k-means on the same vectors (candidates, the share of
sections about some topic before and after merging the suggestions, the candidates' mean
coherence, seconds), whether two runs write the same bytes, and, with ``--stability``, how many
candidates change when the archive gains one post (its latest).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from weeknotes_analysis import load_corpus
from weeknotes_analysis.discover import discover_topics
from weeknotes_analysis.sources import find_posts


def definitions(discovery) -> set[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Each candidate as what it tags by: its id, terms, entities and min_score."""
    return {
        (row.id, tuple(row.terms), tuple(row.entities), row.min_score)
        for row in discovery.candidates.itertuples()
    }


def measure(archive: Path, out: Path, *, stability: bool) -> None:
    started = time.perf_counter()
    corpus = load_corpus(archive, model="none", out=out, cache=False)
    build = time.perf_counter() - started
    print(f"{archive.name}: rules-only build {build:.1f} s, {len(corpus.sections)} sections")
    for method in ("nmf", "kmeans"):
        started = time.perf_counter()
        discovery = discover_topics(corpus, method=method)
        seconds = time.perf_counter() - started
        coherence = discovery.candidates["coherence"].mean() if len(discovery.candidates) else 0
        print(
            f"  {method:6s} {len(discovery.candidates):3d} candidates, about some topic "
            f"{discovery.coverage['before']:.1%} -> {discovery.coverage['after']:.1%}, "
            f"mean coherence {coherence:.2f}, {seconds:.1f} s ({seconds / build:.2f} of the build)"
        )
    first = discover_topics(corpus).yaml
    print(f"  two runs byte-identical: {first == discover_topics(corpus).yaml}")
    if stability:
        paths, _ = find_posts(archive)
        latest = max(paths)
        with tempfile.TemporaryDirectory() as folder:
            smaller = Path(folder) / archive.name
            shutil.copytree(archive, smaller)
            (smaller / latest.relative_to(archive)).unlink()
            fewer = load_corpus(smaller, model="none")
            for method in ("nmf", "kmeans"):
                before = definitions(discover_topics(fewer, method=method))
                after = definitions(discover_topics(corpus, method=method))
                print(
                    f"  {method:6s} one post added ({latest.name}): {len(after - before)} of "
                    f"{len(after)} candidates new or changed, {len(before - after)} of "
                    f"{len(before)} gone or changed"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archives", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="a scratch folder for builds")
    parser.add_argument("--stability", action="store_true", help="also add one post and compare")
    args = parser.parse_args()
    for archive in args.archives:
        measure(archive, args.out / archive.name, stability=args.stability)


if __name__ == "__main__":
    main()
