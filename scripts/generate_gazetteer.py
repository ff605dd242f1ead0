"""Regenerate the AWS services of the gazetteer from botocore and awacs (never run at build time).

Every AWS service gets its own id with parent ``aws``, whatever its prefix ("Amazon Forecast",
"AWS Resource Access Manager", "Amazon QLDB"). The names come from two packaged, authoritative
sources, so nothing is typed by hand and nothing is downloaded:

- botocore (``botocore/data/<service>/<date>/service-2.json``): ``metadata.serviceFullName`` and
  ``metadata.serviceAbbreviation`` of every service with an API;
- awacs (one module per IAM service prefix, with its ``service_name``): also the services that
  botocore has dropped (QLDB) or that never had a public API (Sumerian).

The entries are written between the two marker comments of ``gazetteer.yaml``; entries outside
them keep their ids (ec2, s3, aws-lambda...) and a service they already name is not added again.
Aliases are chosen so that no common English word becomes an unconditional alias:

- "Amazon X" and "AWS X" always (matched with their case);
- bare "X" when it cannot be English: a word with an inner capital or a digit ("SageMaker",
  "Route 53", "EC2 Instance Connect"); plain words ("Forecast", "Sumerian", "Resource Access
  Manager", "Machine Learning") only as an ambiguous alias, counted where AWS or one of its
  services is named in the same section;
- an abbreviation ("RAM", "QLDB") with its prefix always, bare only from four characters on,
  shorter ones ambiguous as above, and never when the gazetteer lists it as a generic term
  (``not_entities``: "RAM" is memory).

The AWS regions come from botocore too (``botocore/data/partitions.json``): each region its
own place under ``aws``, named by its code and its description ("us-east-2", "US East (Ohio)").

Usage (needs the ``gazetteer`` extra: ``pip install -e .[gazetteer]``)::

    python scripts/generate_gazetteer.py [--gazetteer PATH] [--check]
"""

from __future__ import annotations

import argparse
import gzip
import json
import pkgutil
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GAZETTEER = Path(__file__).resolve().parents[1] / "weeknotes_analysis/resources/gazetteer.yaml"
BEGIN = "  # BEGIN generated AWS services (scripts/generate_gazetteer.py; do not edit by hand)"
END = "  # END generated AWS services"
PREFIXES = ("Amazon", "AWS")
# Last words that name a part of a service's API, not a service ("... Runtime", "... Data Plane").
PART_WORDS = {
    "Runtime", "Plane", "DataPlane", "Data", "Query", "Events", "Streams", "Contacts", "API",
    "APIs", "MCP", "Console", "Admin", "Auth", "Channel", "Control", "Server",
}  # fmt: skip
# Lower-case words that may stand inside a service's name ("Lookout for Vision").
JOINERS = {"for", "and", "of", "on", "in", "with", "by"}
CONTEXT = ["aws", "amazon-web-services"]
REGION_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@dataclass
class Service:
    """One AWS service: its names as the sources write them and its abbreviations."""

    key: str
    prefix: str
    rest: str
    names: set[str] = field(default_factory=set)
    abbreviations: set[str] = field(default_factory=set)


def botocore_names() -> Iterator[tuple[str, str | None]]:
    """``(full name, abbreviation)`` of every service in botocore's data."""
    import botocore

    root = Path(botocore.__file__).parent / "data"
    for service in sorted(root.iterdir()):
        versions = sorted(service.glob("*/service-2.json*"))
        if not versions:
            continue
        path = versions[-1]
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        metadata = json.loads(raw).get("metadata", {})
        if metadata.get("serviceFullName"):
            yield metadata["serviceFullName"], metadata.get("serviceAbbreviation")


def awacs_names() -> Iterator[tuple[str, str | None]]:
    """``(service name, None)`` of every IAM service prefix that awacs knows."""
    import awacs

    for module in pkgutil.iter_modules(awacs.__path__):
        path = Path(awacs.__path__[0]) / f"{module.name}.py"
        if not path.is_file():
            continue
        match = re.search(r'^service_name = "(.+)"$', path.read_text(), flags=re.M)
        if match:
            yield match.group(1), None


def region_entries(forms: set[str]) -> list[dict[str, object]]:
    """A place under ``aws`` for every region of botocore's commercial, China and GovCloud
    partitions: its code and its description, both distinctive as written."""
    import botocore

    document = json.loads((Path(botocore.__file__).parent / "data/partitions.json").read_text())
    entries: list[dict[str, object]] = []
    for partition in document["partitions"]:
        if partition["id"] not in REGION_PARTITIONS:
            continue
        for code, region in sorted(partition["regions"].items()):
            description = str(region.get("description") or "")
            if code.endswith("-global") or not re.fullmatch(r"[a-z]+(?:-[a-z]+)+-\d+", code):
                continue
            aliases = [form for form in (code, description) if form and form.lower() not in forms]
            if not aliases:
                continue
            forms.update(form.lower() for form in aliases)
            entries.append(
                {
                    "id": code,
                    "name": description or code,
                    "label": "GPE",
                    "kind": "place",
                    "parent": "aws",
                    "aliases": aliases,
                }
            )
    return entries


def clean(name: str) -> tuple[str, str, list[str]] | None:
    """``(prefix, rest, abbreviations)`` of a service name, or None when it is not one: code
    names ("AmazonApiGatewayV2"), parts of an API ("... Runtime"), descriptions in lower case
    ("AWS service providing managed private networks")."""
    abbreviations = re.findall(r"\(([A-Z][A-Z0-9]{1,7})\)", name)
    name = re.sub(r"\s*\([^)]*\)", "", name).strip()
    words = name.split()
    if len(words) < 2 or words[0] not in PREFIXES:
        return None
    if re.fullmatch(r"[vV]\d+", words[-1]) and len(words) > 2:
        words = words[:-1]
    rest = words[1:]
    if (
        len(rest) > 5
        or rest[-1] in PART_WORDS
        or {"Runtime", "Plane"} & set(rest)
        or any(not (word[0].isupper() or word[0].isdigit() or word in JOINERS) for word in rest)
        or any(not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.:/-]*", word) for word in rest)
        or any(re.search(r"[a-z][A-Z].*[a-z][A-Z]", word) for word in rest)
    ):
        return None
    return words[0], " ".join(rest), abbreviations


def service_key(rest: str) -> str:
    """What merges the sources' names of one service: "Budgets" and "Budget", "Forecast
    Service" and "Forecast" are one."""
    key = re.sub(r"[^a-z0-9]", "", rest.lower())
    key = key.removesuffix("service") or key
    return key.removesuffix("s")


def collect() -> list[Service]:
    """Every service of both sources, merged by the name without its prefix."""
    services: dict[str, Service] = {}
    for full, abbreviation in [*botocore_names(), *awacs_names()]:
        cleaned = clean(full)
        if cleaned is None:
            continue
        prefix, rest, abbreviations = cleaned
        key = service_key(rest)
        service = services.setdefault(key, Service(key=key, prefix=prefix, rest=rest))
        # The shortest name names the service ("Amazon Forecast", not "... Forecast Service").
        if len(rest) < len(service.rest):
            service.prefix, service.rest = prefix, rest
        service.names.add(f"{prefix} {rest}")
        service.abbreviations.update(abbreviations)
        if abbreviation:
            short = abbreviation.split()[-1]
            if re.fullmatch(r"[A-Z][A-Z0-9]{1,7}", short) and short != rest:
                service.abbreviations.add(short)
    return sorted(services.values(), key=lambda service: service.key)


def distinctive(word: str) -> bool:
    """Whether a bare one-word name can stand alone: an inner capital or a digit in a word
    with lower-case letters ("SageMaker"), or four or more capitals ("QLDB", not "IQ")."""
    if word.isupper():
        return len(word) >= 4
    return bool(re.search(r"[A-Z0-9]", word[1:]))


def entry_of(service: Service) -> dict[str, object]:
    """The gazetteer entry of one service (aliases before the clash check)."""
    aliases = [f"{prefix} {service.rest}" for prefix in PREFIXES]
    ambiguous: list[str] = []
    bare = service.rest
    if any(distinctive(word) for word in bare.split(" ")):
        aliases.append(bare)
    else:
        ambiguous.append(bare)
    for abbreviation in sorted(service.abbreviations):
        aliases.extend(f"{prefix} {abbreviation}" for prefix in PREFIXES)
        (aliases if distinctive(abbreviation) else ambiguous).append(abbreviation)
    slug = re.sub(r"[^a-z0-9]+", "-", service.rest.lower()).strip("-")
    return {
        "id": f"{service.prefix.lower()}-{slug}",
        "name": f"{service.prefix} {service.rest}",
        "label": "PRODUCT",
        "kind": "cloud-service",
        "parent": "aws",
        "aliases": aliases,
        "case_sensitive": True,
        "ambiguous": ambiguous,
        "context": CONTEXT,
    }


def split_file(text: str) -> tuple[str, str]:
    """The file before the generated block (BEGIN line included) and after it (END included)."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{GAZETTEER}: the BEGIN/END marker comments of the generated block")
    head, rest = text.split(BEGIN + "\n", 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n", END + tail


def taken_forms(text: str) -> tuple[set[str], set[str]]:
    """Ids and lower-case surface forms (aliases and ambiguous) of the hand-kept entries, and
    the generic terms (``not_entities``: "RAM" is memory before it is a service)."""
    document = yaml.safe_load(text)
    entries = document["entities"]
    ids = {entry["id"] for entry in entries}
    forms = {
        form.lower()
        for entry in entries
        for form in [*(entry.get("aliases") or []), *(entry.get("ambiguous") or [])]
    }
    forms.update(str(term).lower() for term in document.get("not_entities") or [])
    return ids, forms


def generated_entries(kept: str) -> list[dict[str, object]]:
    """New entries for the services that the hand-kept entries do not name yet."""
    ids, forms = taken_forms(kept)
    entries: list[dict[str, object]] = []
    for service in collect():
        entry = entry_of(service)
        names = [f"{prefix} {service.rest}" for prefix in PREFIXES] + [service.rest]
        if entry["id"] in ids or any(name.lower() in forms for name in names):
            continue
        for key in ("aliases", "ambiguous"):
            free = [form for form in entry[key] if form.lower() not in forms]  # type: ignore[attr-defined]
            forms.update(form.lower() for form in free)
            entry[key] = free
        if not entry["ambiguous"]:
            del entry["ambiguous"], entry["context"]
        ids.add(str(entry["id"]))
        entries.append(entry)
    return entries + [entry for entry in region_entries(forms) if entry["id"] not in ids]


def render(entries: list[dict[str, object]]) -> str:
    """The entries as YAML lines in the style of the hand-kept ones."""
    lines: list[str] = []
    for entry in entries:
        lines.append(f"  - id: {entry['id']}")
        for key in ("name", "label", "kind", "parent"):
            lines.append(f"    {key}: {entry[key]}")
        for key in ("aliases", "ambiguous", "context"):
            if key in entry:
                lines.append(f"    {key}: {json.dumps(entry[key])}")
            if key == "aliases":
                lines.append("    case_sensitive: true")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gazetteer", type=Path, default=GAZETTEER)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = args.gazetteer.read_text()
    head, tail = split_file(text)
    kept = head.removesuffix(BEGIN + "\n") + tail.removeprefix(END)
    entries = generated_entries(kept)
    updated = head + render(entries) + tail
    if args.check:
        stale = updated != text
        print(f"{args.gazetteer}: {'stale' if stale else 'up to date'}")
        return int(stale)
    args.gazetteer.write_text(updated)
    print(f"{args.gazetteer}: {len(entries)} generated AWS services and regions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
