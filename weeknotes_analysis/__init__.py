"""Turn a folder of weekly tech-news notes into tidy pandas tables, entities, topics and charts."""

__version__ = "0.1.0"

from importlib import import_module
from typing import Any

from .analysis import (
    activity,
    analysed_sections,
    archive_summary,
    between,
    drill_down,
    entity_names,
    first_last_seen,
    item_totals,
    new_in_period,
    parse_period,
    period_counts,
    period_label,
    period_range,
    period_starts,
    row_shares,
    section_totals,
    suggest_freq,
    tagged_sections,
    top_cell,
    top_columns,
    top_items,
    with_role,
)
from .build import BuildLockedError, OutputError, build_corpus, clear_memory_cache
from .corpus import Corpus, StrictError, check_archive
from .display import readable
from .evaluate import Evaluation, GoldEvaluation, evaluate_gold, evaluate_topics
from .nlp import build_pipeline, entities, load_gazetteer
from .phrases import (
    build_phrase_pipeline,
    distinctive,
    first_seen,
    is_filler,
    phrases,
    rank_phrases,
)
from .schema import TABLES, column_names
from .sentiment import post_sentiment, sentiment, sentiment_by_period, sentiment_by_year
from .settings import (
    ArchiveSettings,
    SettingsError,
    excluded_headings,
    load_settings,
    recurring_headings,
)
from .sources import Post, Problem, find_posts, read_post
from .takeaways import Finding, findings
from .topics import load_taxonomy, tag_sections

load_corpus = build_corpus

# Charts and the report pull in matplotlib and Jupyter: loaded on first use, so that a
# build (and the command line) starts quickly.
_LAZY = {
    "activity_chart": "plots",
    "group_area": "plots",
    "group_colors": "plots",
    "period_heatmap": "plots",
    "recall_bars": "plots",
    "sentiment_chart": "plots",
    "top_bars": "plots",
    "topic_colors": "plots",
    "topic_heatmap": "plots",
    "topic_labels": "plots",
    "topic_lines": "plots",
    "topic_mix": "plots",
    "use_style": "plots",
    "Discovery": "discover",
    "discover_topics": "discover",
    "ReportError": "report",
    "build_report": "report",
    "copy_notebooks": "report",
    "corpus_taxonomy": "report",
    "default_freq": "report",
    "locate": "report",
    "open_archive": "report",
    "save_figure": "report",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "TABLES",
    "ArchiveSettings",
    "BuildLockedError",
    "Corpus",
    "Discovery",
    "Evaluation",
    "Finding",
    "GoldEvaluation",
    "OutputError",
    "Post",
    "Problem",
    "ReportError",
    "SettingsError",
    "StrictError",
    "__version__",
    "activity",
    "activity_chart",
    "analysed_sections",
    "archive_summary",
    "between",
    "build_corpus",
    "build_phrase_pipeline",
    "build_pipeline",
    "build_report",
    "check_archive",
    "clear_memory_cache",
    "column_names",
    "copy_notebooks",
    "corpus_taxonomy",
    "default_freq",
    "discover_topics",
    "distinctive",
    "drill_down",
    "entities",
    "entity_names",
    "evaluate_gold",
    "evaluate_topics",
    "excluded_headings",
    "find_posts",
    "findings",
    "first_last_seen",
    "first_seen",
    "group_area",
    "group_colors",
    "is_filler",
    "item_totals",
    "load_corpus",
    "load_gazetteer",
    "load_settings",
    "load_taxonomy",
    "locate",
    "new_in_period",
    "open_archive",
    "parse_period",
    "period_counts",
    "period_heatmap",
    "period_label",
    "period_range",
    "period_starts",
    "phrases",
    "post_sentiment",
    "rank_phrases",
    "read_post",
    "readable",
    "recall_bars",
    "recurring_headings",
    "row_shares",
    "save_figure",
    "section_totals",
    "sentiment",
    "sentiment_by_period",
    "sentiment_by_year",
    "sentiment_chart",
    "suggest_freq",
    "tag_sections",
    "tagged_sections",
    "top_bars",
    "top_cell",
    "top_columns",
    "top_items",
    "topic_colors",
    "topic_heatmap",
    "topic_labels",
    "topic_lines",
    "topic_mix",
    "use_style",
    "with_role",
]
