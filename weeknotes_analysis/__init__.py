"""Turn a folder of weekly tech-news notes into tidy pandas tables, entities, topics and charts."""

from .corpus import Corpus, StrictError, check_archive, load_corpus
from .schema import TABLES, column_names
from .sources import Post, Problem, find_posts, read_post

__version__ = "0.1.0"

__all__ = [
    "TABLES",
    "Corpus",
    "Post",
    "Problem",
    "StrictError",
    "__version__",
    "check_archive",
    "column_names",
    "find_posts",
    "load_corpus",
    "read_post",
]
