"""Turn a folder of weekly tech-news notes into tidy pandas tables, entities, topics and charts.

The top level holds what every user needs: :func:`load_corpus` (build or read the tables of an
archive), :class:`Corpus`, :func:`build_report`, the error types and the version. The rest lives
in modules named after their job, imported on first use::

    import weeknotes_analysis as wa

    corpus = wa.load_corpus("data/sample", model="none")
    wa.analysis.period_counts(corpus, "topic", freq="month")   # counts per period, drill-down
    wa.plots.topic_heatmap(...)                                # charts: data in, Axes out
    wa.phrases.rank_phrases(corpus)                            # key phrases
    wa.sentiment.sentiment_by_period(corpus)                   # sentiment roll-ups

``dir(weeknotes_analysis)`` lists the names and the modules.
"""

__version__ = "0.1.0"

import warnings
from importlib import import_module
from typing import Any

from .build import BuildLockedError, OutputError
from .build import build_corpus as load_corpus
from .corpus import Corpus, StrictError
from .settings import SettingsError

# Modules by job. Charts and the report pull in matplotlib and Jupyter: every module is
# imported on first use, so that a build (and the command line) starts quickly.
MODULES = (
    "analysis",
    "build",
    "corpus",
    "discover",
    "display",
    "evaluate",
    "layout",
    "links",
    "markdown",
    "names",
    "nlp",
    "notebook",
    "output",
    "pages",
    "phrases",
    "plots",
    "process",
    "report",
    "schema",
    "sentiment",
    "sentiment_model",
    "settings",
    "sources",
    "takeaways",
    "topics",
)

# Names at the top level loaded on first use (they import matplotlib or Jupyter).
_LAZY = {"ReportError": "report", "build_report": "report"}

# The flat names of release 0.1, kept for one release: each warns and points to its module.
# Listed nowhere in __all__ or dir(). The functions ``phrases`` and ``sentiment`` are not
# here: those names are their modules now (``wa.phrases.phrases``, ``wa.sentiment.sentiment``).
DEPRECATED = {
    "TABLES": "schema",
    "ArchiveSettings": "settings",
    "Discovery": "discover",
    "Evaluation": "evaluate",
    "Finding": "takeaways",
    "GoldEvaluation": "evaluate",
    "Post": "sources",
    "Problem": "sources",
    **dict.fromkeys(
        [
            "activity",
            "analysed_sections",
            "archive_summary",
            "between",
            "drill_down",
            "entity_names",
            "first_last_seen",
            "item_totals",
            "new_in_period",
            "parse_period",
            "period_counts",
            "period_label",
            "period_range",
            "period_starts",
            "row_shares",
            "section_totals",
            "suggest_freq",
            "tagged_sections",
            "top_cell",
            "top_columns",
            "top_items",
            "with_role",
        ],
        "analysis",
    ),
    **dict.fromkeys(
        [
            "activity_chart",
            "group_area",
            "group_colors",
            "period_heatmap",
            "recall_bars",
            "sentiment_chart",
            "top_bars",
            "topic_colors",
            "topic_heatmap",
            "topic_labels",
            "topic_lines",
            "topic_mix",
            "use_style",
        ],
        "plots",
    ),
    "build_phrase_pipeline": "phrases",
    "distinctive": "phrases",
    "first_seen": "phrases",
    "is_filler": "phrases",
    "rank_phrases": "phrases",
    "post_sentiment": "sentiment",
    "sentiment_by_period": "sentiment",
    "sentiment_by_year": "sentiment",
    "build_pipeline": "nlp",
    "entities": "nlp",
    "load_gazetteer": "nlp",
    "load_taxonomy": "topics",
    "tag_sections": "topics",
    "column_names": "schema",
    "build_corpus": "build",
    "clear_memory_cache": "build",
    "check_archive": "corpus",
    "readable": "display",
    "evaluate_gold": "evaluate",
    "evaluate_topics": "evaluate",
    "discover_topics": "discover",
    "excluded_headings": "settings",
    "load_settings": "settings",
    "recurring_headings": "settings",
    "find_posts": "sources",
    "read_post": "sources",
    "findings": "takeaways",
    **dict.fromkeys(
        [
            "copy_notebooks",
            "corpus_taxonomy",
            "default_freq",
            "locate",
            "open_archive",
            "save_figure",
        ],
        "notebook",
    ),
}


def __getattr__(name: str) -> Any:
    if name in MODULES:
        return import_module(f".{name}", __name__)
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in DEPRECATED:
        module = DEPRECATED[name]
        warnings.warn(
            f"weeknotes_analysis.{name} is deprecated and goes in the next release: "
            f"use weeknotes_analysis.{module}.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        # Not cached in globals(): every use warns, so none slips through unnoticed.
        return getattr(import_module(f".{module}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *MODULES})


__all__ = [
    "BuildLockedError",
    "Corpus",
    "OutputError",
    "ReportError",
    "SettingsError",
    "StrictError",
    "__version__",
    "build_report",
    "load_corpus",
]
