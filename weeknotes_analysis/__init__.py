"""Turn a folder of weekly tech-news notes into tidy pandas tables, entities, topics and charts."""

__version__ = "0.1.0"

from .build import BuildLockedError, build_corpus, clear_memory_cache
from .corpus import Corpus, StrictError, check_archive
from .evaluate import Evaluation, evaluate_topics
from .nlp import build_pipeline, entities, load_gazetteer
from .schema import TABLES, column_names
from .sources import Post, Problem, find_posts, read_post
from .topics import load_taxonomy, tag_sections

load_corpus = build_corpus

__all__ = [
    "TABLES",
    "BuildLockedError",
    "Corpus",
    "Evaluation",
    "Post",
    "Problem",
    "StrictError",
    "__version__",
    "build_corpus",
    "build_pipeline",
    "check_archive",
    "clear_memory_cache",
    "column_names",
    "entities",
    "evaluate_topics",
    "find_posts",
    "load_corpus",
    "load_gazetteer",
    "load_taxonomy",
    "read_post",
    "tag_sections",
]
