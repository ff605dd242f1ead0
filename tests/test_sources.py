"""Reading posts: discovery, every front-matter format, keys, dates, post ids."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from weeknotes_analysis.sources import (
    date_from_filename,
    find_posts,
    parse_post,
    post_id_for,
    read_post,
)

from .conftest import write


def parse(text: str, name: str = "2017-45.md"):
    return parse_post(text.encode("utf-8"), Path(name))


def test_post_id_drops_extension_and_index():
    assert post_id_for(Path("2017-45.md")) == "2017-45"
    assert post_id_for(Path("2018-01/index.md")) == "2018-01"
    assert post_id_for(Path("notes/2019/2019-03.markdown")) == "notes/2019/2019-03"


def test_yaml_front_matter_with_mixed_case_keys_and_offset_date():
    post, problems = parse(
        "---\ntitle:  Week 45, 2017 - Things  \nDate:   2017-11-06T20:50:04+11:00  \n"
        'categories:   ["Weekly Notes"]\nKeywords:\n  - AWS\n  - azure \n'
        'Description: "Hi"\n---\n\n# A\n\ntext\n'
    )
    assert problems == []
    assert post.format == "yaml"
    assert post.title == "Week 45, 2017 - Things"
    assert post.date == pd.Timestamp("2017-11-06T09:50:04", tz="UTC")
    assert post.categories == ["Weekly Notes"]
    assert post.keywords == ["aws", "azure"]
    assert post.description == "Hi"
    assert post.body_line == 10


def test_toml_front_matter():
    post, problems = parse(
        '+++\ntitle = "Week 2"\ndate = 2024-01-10T08:00:00+01:00\ntags = ["Go", "k8s"]\n+++\nBody\n'
    )
    assert problems == []
    assert (post.format, post.title) == ("toml", "Week 2")
    assert post.date == pd.Timestamp("2024-01-10T07:00:00", tz="UTC")
    assert post.keywords == ["go", "k8s"]


def test_json_front_matter():
    post, problems = parse(
        '{\n  "title": "Week 3",\n  "date": "2024-01-17",\n  "keywords": ["aws"]\n}\n\nBody text\n'
    )
    assert problems == []
    assert (post.format, post.title, post.keywords) == ("json", "Week 3", ["aws"])
    assert post.date == pd.Timestamp("2024-01-17", tz="UTC")
    assert post.body.strip() == "Body text"
    assert post.body_line == 5


def test_pelican_header_with_comma_tags_and_naive_date():
    post, problems = parse(
        "Title: This Week In Rust 1\nDate: 2013-06-07 18:46\nTags: this-week-in-rust, Rust\n"
        "Category: This Week in Rust\n\nHello and welcome.\n",
        "2013-06-07-this-week-in-rust.markdown",
    )
    assert problems == []
    assert post.format == "pelican"
    assert post.date == pd.Timestamp("2013-06-07 18:46", tz="UTC")
    assert post.keywords == ["this-week-in-rust", "rust"]
    assert post.categories == ["This Week in Rust"]
    assert post.body.strip() == "Hello and welcome."


def test_keywords_keyword_and_tags_merge_lower_case_without_duplicates():
    post, _ = parse(
        "---\ntitle: T\ndate: 2020-01-01\nkeywords: [AWS]\nkeyword: lambda\n"
        "tags: [aws, S3]\n---\nx\n"
    )
    assert post.keywords == ["aws", "lambda", "s3"]


def test_a_jekyll_post_reads_a_string_of_tags_as_words_separated_by_spaces():
    text = "---\ntitle: T\ncategories: weekly cloud\ntags: aws lambda\n---\nx\n"
    post, _ = parse(text, "_posts/2020-01-06-week-2.md")
    assert (post.keywords, post.categories) == (["aws", "lambda"], ["weekly", "cloud"])
    post, _ = parse(text.replace("aws lambda", "aws, machine learning"), "2020-01-06-week-2.md")
    assert post.keywords == ["aws", "machine learning"], "commas separate when there are any"
    post, _ = parse(text, "posts/week-2.md")
    assert post.keywords == ["aws lambda"], "elsewhere a string is one tag (Hugo's reading)"
    post, _ = parse(text, "content/post/2020-01-06-week-2.md")
    assert post.keywords == ["aws lambda"], "a Hugo post named as Jekyll names its posts"
    single = "---\ntitle: T\ncategory: machine learning\nkeywords: deep learning\n---\nx\n"
    post, _ = parse(single, "_posts/2020-01-06-week-2.md")
    assert (post.categories, post.keywords) == (["machine learning"], ["deep learning"]), (
        "Jekyll splits only its plural tags and categories"
    )
    post, _ = parse(
        "Title: T\nDate: 2013-06-07\nTags: machine learning\n\nx\n", "2013-06-07-week.markdown"
    )
    assert post.keywords == ["machine learning"], "Pelican separates its tags by commas only"


def test_a_jekyll_post_without_a_title_is_titled_by_its_name_as_jekyll_titles_it():
    post, problems = parse("---\nlayout: post\n---\n# A\n\ntext\n", "2020-01-06-week-1-in-k8s.md")
    assert problems == [] and post.title == "Week 1 In K8s"
    # A title in the front matter wins; a file named otherwise has none to give.
    assert parse("---\ntitle: Mine\n---\ntext\n", "2020-01-06-a.md")[0].title == "Mine"
    assert parse("---\ndate: 2020-01-06\n---\ntext\n", "week-1.md")[0].title is None


def test_a_post_without_a_date_is_dated_by_its_publish_date_as_hugo_dates_it():
    post, problems = parse("---\ntitle: A\npublishDate: 2021-03-01T09:00:00+01:00\n---\nx\n")
    assert problems == [] and post.date_source == "front-matter"
    assert post.date == pd.Timestamp("2021-03-01 08:00", tz="UTC")
    # `date` comes first; Jekyll's `published: true` is no date.
    both = parse("---\ndate: 2021-03-02\npubdate: 2021-03-01\n---\nx\n")[0]
    assert both.date == pd.Timestamp("2021-03-02", tz="UTC")
    post, problems = parse("---\npublished: true\n---\nx\n", "2021-03-03-a.md")
    assert post.date_source == "filename" and problems == []


def test_a_date_with_dots_is_read_day_first():
    assert parse("---\ndate: 09.01.2024\n---\nx\n")[0].date == pd.Timestamp("2024-01-09", tz="UTC")
    later = parse("---\ndate: 9.1.2024 10:30 +01:00\n---\nx\n")[0].date
    assert later == pd.Timestamp("2024-01-09 09:30", tz="UTC")
    post, problems = parse("---\ndate: 31.13.2024\n---\nx\n", "2024-01-09-a.md")
    assert [p.code for p in problems] == ["date-invalid"] and post.date_source == "filename"


def test_authors_as_mappings_give_their_names():
    text = "---\ndate: 2021-03-01\nauthor: {name: Ana, email: a@example.org}\n---\nx\n"
    assert parse(text)[0].author == "Ana"
    text = "---\ndate: 2021-03-01\nauthors:\n  - name: Ana\n  - Bo\n---\nx\n"
    assert parse(text)[0].author == "Ana, Bo"


def test_plain_markdown_without_front_matter_takes_date_from_file_name():
    post, problems = parse("# Heading\n\nJust text.\n", "notes/2019-03-04.md")
    assert post.format == "none"
    assert post.date == pd.Timestamp("2019-03-04", tz="UTC")
    assert post.date_source == "filename"
    assert [p.code for p in problems] == ["date-missing"]


def test_week_file_name_gives_that_weeks_monday():
    assert date_from_filename("2017-45.md") == pd.Timestamp("2017-11-06", tz="UTC")
    assert date_from_filename("2018-01/index.md") == pd.Timestamp("2018-01-01", tz="UTC")
    assert date_from_filename("about.md") is None


def test_crlf_and_byte_order_mark_are_fine():
    data = "\ufeff---\r\ntitle: T\r\ndate: 2020-01-01\r\n---\r\n\r\n# H\r\n\r\ntext\r\n".encode()
    post, problems = parse_post(data, Path("x.md"))
    assert problems == [] and post.title == "T" and "\r" not in post.body


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        ("---\ntitle: [unclosed\ndate: 2020-01-01\n---\nx\n", "yaml-invalid", 2),
        ("---\ntitle: T\n\nbody without a closing fence\n", "fence-unclosed", 1),
        ("---\n- a\n- b\n---\nx\n", "front-matter-not-mapping", 2),
        ('+++\ntitle = "x\n+++\nx\n', "toml-invalid", 2),
        ('{"title": "x",\n "date": }\n\nx\n', "json-invalid", 2),
        ("", "empty", 1),
    ],
)
def test_bad_front_matter_is_an_error_naming_the_line(tmp_path, content, code, line):
    path = write(tmp_path, "bad.md", content)
    post, problems = read_post(tmp_path, path)
    assert post is None
    assert [(p.severity, p.code, p.line) for p in problems] == [("error", code, line)]
    assert problems[0].path == "bad.md"


def test_not_utf8_and_binary_files_are_errors(tmp_path):
    latin = write(tmp_path, "latin.md", "---\ntitle: Caf\xe9\n---\nok\n".encode("latin-1"))
    binary = write(tmp_path, "image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert [p.code for p in read_post(tmp_path, latin)[1]] == ["not-utf8"]
    assert read_post(tmp_path, latin)[1][0].line == 2
    assert [p.code for p in read_post(tmp_path, binary)[1]] == ["binary"]


def test_yaml_object_tags_are_never_constructed(tmp_path):
    path = write(
        tmp_path,
        "evil.md",
        "---\ntitle: !!python/object/apply:os.system ['touch pwned']\n---\nx\n",
    )
    post, problems = read_post(tmp_path, path)
    assert post is None and problems[0].code == "yaml-invalid"
    assert not (tmp_path / "pwned").exists()


def test_discovery_finds_posts_and_bundles_and_skips_the_rest(tmp_path):
    write(tmp_path, "2017-45.md", "x")
    write(tmp_path, "old.markdown", "x")
    write(tmp_path, "2018-01/index.md", "x")
    write(tmp_path, "2018-01/photo.jpg", b"\xff\xd8")
    write(tmp_path, "_index.md", "list page")
    write(tmp_path, "posts/_index.en.md", "a list page in one language")
    write(tmp_path, "posts/_index.pt-br.md", "and in another")
    write(tmp_path, "notes.txt", "x")
    write(tmp_path, ".git/HEAD.md", "x")
    paths, problems = find_posts(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "2017-45.md",
        "2018-01/index.md",
        "old.markdown",
    ]
    assert problems == []


def test_links_that_loop_or_leave_the_archive_are_not_followed(tmp_path):
    archive = tmp_path / "archive"
    outside = write(tmp_path, "secret/outside.md", "---\ntitle: secret\n---\nx\n")
    write(archive, "2017-45.md", "x")
    os.symlink(outside, archive / "leak.md")
    os.symlink(tmp_path / "secret", archive / "leakdir")
    os.symlink(archive, archive / "loop")
    os.symlink(archive / "2017-45.md", archive / "alias.md")
    paths, problems = find_posts(archive)
    assert [p.name for p in paths] == ["2017-45.md"]
    codes = sorted((p.path, p.code) for p in problems)
    assert codes == [
        ("leak.md", "link-outside-archive"),
        ("leakdir", "link-outside-archive"),
        ("loop", "link-not-followed"),
    ]


def test_a_jekyll_post_is_dated_by_its_name_without_a_warning():
    post, problems = parse(
        "---\ntitle: T\nlayout: post\n---\n\n# A\n\nText.\n", "_posts/2019-03-04-notes.md"
    )
    assert post.date == pd.Timestamp("2019-03-04", tz="UTC")
    assert post.date_source == "filename"
    assert problems == []
    # A _posts folder handed over on its own is read the same way: its files bear Jekyll's names.
    post, problems = parse("# A\n\nText.\n", "2019-03-04-notes.md")
    assert (post.date, post.date_source, problems) == (
        pd.Timestamp("2019-03-04", tz="UTC"),
        "filename",
        [],
    )
    # Without a title after the date, or with a week number, the name is no Jekyll name: a
    # missing date is named.
    assert [p.code for p in parse("# A\n\nText.\n", "_posts/2019-03-04.md")[1]] == ["date-missing"]
    assert [p.code for p in parse("# A\n\nText.\n", "2019-09.md")[1]] == ["date-missing"]


def site_post(title: str, heading: str = "News") -> str:
    return f"---\nlayout: post\ntitle: {title}\n---\n\n# {heading}\n\nKubernetes 1.30 is out.\n"


def test_a_jekyll_site_root_reads_only_its_posts(tmp_path):
    from weeknotes_analysis import load_corpus

    write(tmp_path, "_config.yml", "title: Notes\n")
    write(tmp_path, "README.md", "# Notes\n\nThe repository of my blog.\n")
    write(tmp_path, "about.md", "---\nlayout: page\ntitle: About\n---\n\nAbout me.\n")
    write(tmp_path, "_drafts/soon.md", site_post("Soon"))
    write(tmp_path, "vendor/bundle/gems/minima/README.md", "# minima\n\nA theme.\n")
    write(tmp_path, "_site/index.md", "# Generated\n")
    write(tmp_path, "_posts/2024-01-07-week-1.md", site_post("Week 1"))
    write(tmp_path, "golang/_posts/2024-01-14-week-2.markdown", site_post("Week 2"))
    corpus = load_corpus(tmp_path, model="none")
    # A post's name is its file's, without the posts folder (a category folder stays).
    assert corpus.posts["post_id"].tolist() == ["2024-01-07-week-1", "golang/2024-01-14-week-2"]
    assert corpus.posts["date"].dt.day.tolist() == [7, 14]
    skipped = corpus.problems.set_index("path")
    assert sorted(skipped.index) == ["README.md", "_drafts/soon.md", "about.md"]
    assert set(skipped["code"]) == {"not-a-post"}
    assert "_posts/" in skipped.loc["about.md", "message"]


def test_a_build_written_inside_the_archive_is_not_read_as_part_of_it(tmp_path):
    from weeknotes_analysis.build import build_corpus

    write(tmp_path, "_posts/2024-01-07-week-1.md", site_post("Week 1"))
    write(tmp_path, "_posts/2024-01-14-week-2.md", site_post("Week 2"))
    out = tmp_path / "out"
    first = build_corpus(tmp_path, out=out, model="none")
    assert first.problems.empty
    # The tables are links into the build's versions: the next build walks past them.
    assert any(path.is_symlink() for path in out.iterdir())
    again = build_corpus(tmp_path, out=out, model="none")
    assert again.problems.empty, again.problems.to_dict("records")
    assert again.posts["post_id"].tolist() == ["2024-01-07-week-1", "2024-01-14-week-2"]
    # A folder that only looks like one is read as any other.
    plain = tmp_path / "plain"
    write(plain, "2024-01-07.md", "# Week 1\n\nText.\n")
    write(plain, "notes/manifest.json", "{}")
    write(plain, "notes/2024-01-14.md", "# Week 2\n\nText.\n")
    assert len(find_posts(plain)[0]) == 2


def test_posts_in_other_formats_are_named_in_problems_and_jekylls_extensions_read(tmp_path):
    from weeknotes_analysis import load_corpus

    write(tmp_path, "_config.yml", "title: Notes\n")
    write(tmp_path, "_posts/2024-01-07-week-1.mkd", site_post("Week 1"))
    write(tmp_path, "_posts/2024-01-14-week-2.mdown", site_post("Week 2"))
    write(tmp_path, "_posts/2024-01-21-week-3.html", "---\ntitle: W3\n---\n<h1>Docker</h1>\n")
    write(tmp_path, "_posts/2024-01-28-week-4.rst", "Week 4\n######\n\n:date: 2024-01-28\n")
    write(tmp_path, "_posts/2024-02-04-week-5.textile", "---\ntitle: W5\n---\nh1. Go\n")
    write(tmp_path, "_posts/2024-02-11-photo.jpg", "not a post at all")
    write(tmp_path, "index.html", "<html>the home page: a page, not a post</html>")
    corpus = load_corpus(tmp_path, model="none")
    assert corpus.posts["post_id"].tolist() == ["2024-01-07-week-1", "2024-01-14-week-2"]
    skipped = corpus.problems.set_index("path")
    assert sorted(skipped.index) == [
        "_posts/2024-01-21-week-3.html",
        "_posts/2024-01-28-week-4.rst",
        "_posts/2024-02-04-week-5.textile",
    ]
    assert set(skipped["code"]) == {"unsupported-format"}
    assert set(skipped["severity"]) == {"warning"}
    message = skipped.loc["_posts/2024-01-28-week-4.rst", "message"]
    assert message.startswith("a post in reStructuredText, not Markdown; not read")
    assert "pandoc" in message


def test_hugo_and_pelican_site_roots_read_their_content_folder(tmp_path):
    from weeknotes_analysis import load_corpus

    hugo = tmp_path / "hugo"
    write(hugo, "hugo.toml", 'title = "Notes"\n')
    write(hugo, "README.md", "# Notes\n")
    write(hugo, "themes/paper/README.md", "# Paper\n\nA theme.\n")
    write(hugo, "content/posts/2024-01/index.md", site_post("Week 1"))
    corpus = load_corpus(hugo, model="none")
    assert corpus.posts["post_id"].tolist() == ["content/posts/2024-01"]
    skipped = corpus.problems[corpus.problems["code"] == "not-a-post"]
    assert skipped["path"].tolist() == ["README.md"]

    pelican = tmp_path / "pelican"
    write(pelican, "pelicanconf.py", "AUTHOR = 'me'\n")
    write(pelican, "content/pages/about.md", "Title: About\n\nAbout me.\n")
    write(pelican, "content/2024-01-07-week-1.md", "Title: Week 1\nDate: 2024-01-07\n\n# A\n\nB.\n")
    corpus = load_corpus(pelican, model="none")
    assert corpus.posts["post_id"].tolist() == ["content/2024-01-07-week-1"]
    skipped = corpus.problems[corpus.problems["code"] == "not-a-post"]
    assert skipped["path"].tolist() == ["content/pages/about.md"]


def test_a_plain_folder_of_posts_is_read_whole(tmp_path):
    from weeknotes_analysis.sources import find_site

    write(tmp_path, "2024-01.md", site_post("One"))
    write(tmp_path, "notes/2024-02.md", site_post("Two"))
    assert find_site(tmp_path) is None


@pytest.mark.parametrize(
    ("name", "content", "mark", "line"),
    [
        ("hugo.md", "---\ntitle: A\ndate: 2020-01-06\ndraft: true\n---\n# A\n\nT.\n", "draft", 4),
        ("toml.md", '+++\ntitle = "A"\ndraft = true\n+++\n# A\n\nText.\n', "draft", 3),
        ("2020-01-06-a.md", "---\ntitle: A\npublished: false\n---\n# A\n\nT.\n", "published", 3),
        ("pelican.md", "Title: A\nDate: 2020-01-06\nStatus: draft\n\n# A\n\nText.\n", "status", 3),
    ],
)
def test_a_draft_is_skipped_as_its_generator_skips_it_naming_the_line(
    tmp_path, name, content, mark, line
):
    post, problems = read_post(tmp_path, write(tmp_path, name, content))
    assert post is None
    assert [(p.path, p.severity, p.code, p.line) for p in problems] == [
        (name, "warning", "draft", line)
    ]
    assert f"{mark}: " in problems[0].message and "to include it" in problems[0].message


def test_a_published_post_says_so_or_nothing_and_is_read(tmp_path):
    # draft: false, published: true and Pelican's hidden pages are published.
    for text in (
        "---\ntitle: A\ndate: 2020-01-06\ndraft: false\n---\n# A\n\nText.\n",
        "---\ntitle: A\ndate: 2020-01-06\npublished: true\n---\n# A\n\nText.\n",
        "Title: A\nDate: 2020-01-06\nStatus: hidden\n\n# A\n\nText.\n",
    ):
        post, problems = read_post(tmp_path, write(tmp_path, "a.md", text))
        assert post is not None and problems == [] and post.title == "A"


def test_a_draft_leaves_the_rest_of_the_archive_whole(tmp_path):
    from weeknotes_analysis import load_corpus

    write(tmp_path, "2020-01-06.md", "---\ntitle: Out\ndate: 2020-01-06\n---\n# AWS\n\nNews.\n")
    draft = "---\ntitle: Soon\ndate: 2020-01-13\ndraft: yes\n---\n# Azure\n\nSoon.\n"
    write(tmp_path, "2020-01-13.md", draft)
    corpus = load_corpus(tmp_path, model="none")
    assert corpus.posts["title"].tolist() == ["Out"]
    assert corpus.problems[["path", "code"]].values.tolist() == [["2020-01-13.md", "draft"]]
