"""Markdown bodies: sections, plain text, links of every kind, footnotes."""

from __future__ import annotations

from weeknotes_analysis.markdown import count_words, parse_markdown


def parse_body(body: str, *, first_line: int = 1):
    parsed = parse_markdown(body, first_line=first_line)
    return parsed.sections, parsed.links


BODY = """Intro with a [link](https://example.com/a) and a note[^n].

# First *item*

Text with [a reference][ref], <https://auto.example.org/x>, `code` and
a soft break. A second note[^m].

```python
print("not text")
```

<div><a href="https://html.example.net/">raw</a></div>

## Sub item

![a picture](pic.png) and [relative](/posts/other/) text<!-- hidden -->.

[ref]: https://www.reference.example.com/page "Title"

[^n]: The intro note with [a footnote link](https://foot.example.com/).
[^m]: Second note, see [there](https://second.example.com/) too.
"""


def test_sections_split_at_headings_with_plain_text():
    sections, _ = parse_body(BODY, first_line=10)
    assert [(s.position, s.heading, s.level) for s in sections] == [
        (0, None, 0),
        (1, "First item", 1),
        (2, "Sub item", 2),
    ]
    first = sections[1].text
    assert "a reference" in first and "code" in first
    assert "not text" not in first and "raw" not in first and "[^" not in first
    assert "hidden" not in sections[2].text
    assert sections[1].line == 12


def test_links_have_kinds_and_footnote_links_follow_their_reference():
    _, links = parse_body(BODY)
    kinds = {(link.url, link.kind, link.position, link.in_footnote) for link in links}
    assert kinds == {
        ("https://example.com/a", "inline", 0, False),
        ("https://www.reference.example.com/page", "reference", 1, False),
        ("https://auto.example.org/x", "autolink", 1, False),
        ("https://html.example.net/", "html", 1, False),
        ("pic.png", "image", 2, False),
        ("/posts/other/", "inline", 2, False),
        ("https://foot.example.com/", "inline", 0, True),
        ("https://second.example.com/", "inline", 1, True),
    }


def test_footnote_text_belongs_to_the_first_referencing_section():
    body = (
        "# A\n\nOne[^1].\n\n# B\n\nAgain[^1] and[^2].\n\n"
        "[^1]: Shared [x](https://x.org).\n[^2]: Only B.\n"
    )
    sections, links = parse_body(body)
    assert [s.footnotes for s in sections] == [["Shared x."], ["Only B."]]
    assert [(link.url, link.position) for link in links] == [("https://x.org", 1)]


def test_intro_without_words_is_dropped_and_positions_start_at_one():
    sections, _ = parse_body("\n\n# Only heading\n\nWords here.\n")
    assert [(s.position, s.heading) for s in sections] == [(1, "Only heading")]


def test_javascript_urls_never_become_links():
    _, links = parse_body("# A\n\n[click](javascript:alert(1)) and [ok](https://ok.org)\n")
    assert [link.url for link in links] == ["https://ok.org"]


def test_undefined_reference_stays_text():
    sections, links = parse_body("# A\n\nSee [missing][nowhere] here.\n")
    assert links == [] and "[missing][nowhere]" in sections[0].text


def test_count_words_ignores_punctuation():
    assert count_words("Hello, world - it's 2017 !") == 4


JEKYLL_AND_HUGO = """{% include toc.html %}

Docker Desktop 4.8
------------------

{% highlight bash %}
docker extension install portainer/portainer-docker-extension:latest
{% endhighlight %}

Docker shipped [extensions](https://docs.docker.com/extensions/){:target="_blank"}, and I love how
simple they are. {% include note.html content="Beta" %}
{: .note}

{{< figure src="/img/docker.png" caption="Docker Desktop extensions" >}}

Terraform 1.2
-------------

{{% notice info %}}
HashiCorp released Terraform 1.2 with {{ site.data.features | size }} new checks.
{{% /notice %}}

{{< highlight go >}}
resource "aws_instance" "web" {}
{{< /highlight >}}

Code keeps its braces: `format!("{{}}")` and `{{.Title}}`, and Rust's {:?} and {:#x} stay,
as does Ruby's {:key=>1}.
"""


def test_template_markup_of_jekyll_and_hugo_is_no_text_and_lines_keep_their_numbers():
    parsed = parse_markdown(JEKYLL_AND_HUGO, first_line=5)
    assert [(s.heading, s.line) for s in parsed.sections] == [
        ("Docker Desktop 4.8", 7),
        ("Terraform 1.2", 20),
    ]
    docker, terraform = (section.text for section in parsed.sections)
    assert docker == "Docker shipped extensions, and I love how simple they are."
    assert terraform == (
        "HashiCorp released Terraform 1.2 with  new checks.\n\n"
        'Code keeps its braces: format!("{{}}") and {{.Title}}, and Rust\'s {:?} and {:#x} stay,'
        " as does Ruby's {:key=>1}."
    )


def test_lines_of_unclosed_template_tags_are_read_in_one_pass():
    # Each pattern stops at the next tag's opening: 100,000 unclosed tags on a line would take
    # minutes to strip if every one scanned to the end of the line (or of the file).
    lines = ["{% ", "{{< ", "{% raw %}", "{{< highlight go >}}", "{:a="]
    body = "## Tags\n\n" + "\n".join(tag * 100_000 for tag in lines) + "\n\nStill here.\n"
    parsed = parse_markdown(body)
    assert [s.heading for s in parsed.sections] == ["Tags"]
    assert parsed.sections[0].text.endswith("Still here.")
    assert "{% raw %}" not in parsed.sections[0].text


def test_a_headings_own_attribute_list_is_no_part_of_its_text():
    body = (
        "## Lambda runs container images {#lambda-images}\n\nText.\n\n"
        "## Azure outage {.warning data-x=1}\n\nText.\n\n"
        "Notes {: #notes .aside}\n-----\n\nText.\n\n"
        # Braces that are the heading's words stay: a format spec, a set, JSON.
        "## Rust's {:?} format\n\nText.\n\n## The set {a, b}\n\nText.\n"
    )
    headings = [section.heading for section in parse_markdown(body).sections]
    assert headings == [
        "Lambda runs container images",
        "Azure outage",
        "Notes",
        "Rust's {:?} format",
        "The set {a, b}",
    ]


def test_a_heading_written_in_html_starts_a_section():
    body = (
        "Intro.\n\n"
        '<h2 id="k8s">Docker shim <em>goes</em> &amp; stays</h2>\n\n'
        "Kubernetes 1.20 deprecates the Docker shim.\n\n"
        '<H3>Links</H3>\n<p><a href="https://example.org/a">a</a></p>\n\n'
        "Text after.\n\n"
        # Not a heading block: a heading inside other HTML, an empty one.
        "<div><h2>Inside</h2></div>\n\n<h2></h2>\n\nEnd.\n"
    )
    parsed = parse_markdown(body, first_line=5)
    found = [(s.heading, s.level, s.line, s.text) for s in parsed.sections]
    assert found == [
        (None, 0, 5, "Intro."),
        ("Docker shim goes & stays", 2, 7, "Kubernetes 1.20 deprecates the Docker shim."),
        ("Links", 3, 11, "Text after.\n\nEnd."),
    ]
    assert [(link.position, link.url) for link in parsed.links] == [(2, "https://example.org/a")]
