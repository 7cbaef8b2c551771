"""Whether the eCFR says what a rule said (crawler.query.reconcile): each operation of a rule
on a unit (each node its publication-day redline changed) against the eCFR's text there.

The real chain: rule 2014-06778 projected onto eRegs' text before it (v2014-02580), then
reconciled against eRegs' text after it (v2014-06778), both written as eCFR XML by
../shared/tools/eregs_to_ecfr.py: every operation is matched or its difference is shown.
Then the demo's store: matched, different, changed again by a later rule, flagged, and an
eCFR change no rule explains."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from urllib.request import Request, urlopen

import pytest
from click.testing import CliRunner
from conftest import DemoTour
from eregs_oracle import NEW, OLD, as_ecfr, expand_ranges

from crawler import config as config_module
from crawler.amend import project
from crawler.cli import main
from crawler.demo import replay
from crawler.demo.replay import Corpus, ReplayServer
from crawler.diff.cite import cited_diff
from crawler.parse.cfr_units import units
from crawler.parse.ecfr_xml import parse_ecfr_xml
from crawler.parse.fr_xml import parse_document_xml
from crawler.query.lookup import Lookup
from crawler.query.reconcile import (
    Status,
    operations,
    reconcile,
    redline,
    unexplained,
    unexplained_between,
)
from crawler.records import Node
from storage import Store

GZ = "Accept-Encoding"

RULE = "2014-06778_ATF_27CFR447_original.xml"
UNIT = "cfr:27:447.21"


def test_rule_2014_06778_against_the_text_after_it_every_operation_matched_or_shown(
    shared_data,
):
    shared = shared_data.parent
    old = {k: n for k, _, n in units(27, "447", parse_ecfr_xml(as_ecfr(shared, OLD, "2014-02-11")))}
    new = {k: n for k, _, n in units(27, "447", parse_ecfr_xml(as_ecfr(shared, NEW, "2014-04-04")))}
    doc = parse_document_xml((shared_data / "fr_xml" / RULE).read_bytes())
    [projection] = [p for p in project(doc, old.get) if p.key == UNIT]
    assert projection.new is not None
    after = expand_ranges(new[UNIT], old[UNIT])  # eRegs' "(c)-(d) [Reserved]" as the FR has it
    found = operations(UNIT, projection.old, projection.new, after)
    counts = Counter(o.status for o in found)
    print(f"\nrule 2014-06778 on § 447.21 against eRegs v2014-06778: {dict(counts)}")
    assert len(found) >= 24  # at least one node per instruction
    assert counts[Status.MATCHED] == len(found)  # spacing and bare "Note:" headings aside
    # against the text before the rule, nothing is in the eCFR yet
    before = operations(UNIT, projection.old, projection.new, old[UNIT])
    assert {o.status for o in before} == {Status.NOT_YET}
    # and a planted change to a paragraph the rule never touched is no rule's
    paths = [o.path for o in found]
    [stray] = unexplained(cited_diff(UNIT, after, _edited(after, ("Category I", "a"))), paths)
    assert stray.path == ("Category I", "a")
    assert unexplained(cited_diff(UNIT, old[UNIT], after), paths) == []


def _edited(node: Node, path: tuple[str, ...]) -> Node:
    if not path:
        return Node(node.label, node.kind, node.title, node.text + " (as amended)", node.children)
    kids = tuple(_edited(c, path[1:]) if c.label == path[0] else c for c in node.children)
    return Node(node.label, node.kind, node.title, node.text, kids, node.fields)


@pytest.fixture(scope="module")
def demo(demo_tour: DemoTour, tmp_path_factory: pytest.TempPathFactory):
    tour = demo_tour.copy(tmp_path_factory.mktemp("reconcile") / "tour")  # opening it writes
    config = config_module.load(tour / "demo.toml")
    store = Store.open(config.store_url, create=False, readonly=True)
    yield store, Lookup(store, config, datetime(2026, 10, 14, tzinfo=UTC), fetch=False)
    store.close()


def test_a_rule_its_correction_and_a_later_rule_on_one_unit(demo):
    store, lookup = demo
    unit = "cfr:15:744:supp-4"
    rule, fix, later = (
        redline(store, unit, n) for n in ("2026-21001", "C1-2026-21001", "2026-21390")
    )
    assert rule and fix and later
    found = {
        o.citation.split(", ", 1)[1]: o
        for o in reconcile(lookup, rule, "2026-10-09", [fix], [later]) or []
    }
    assert found["China: Hanzhou Quantum Instruments Co., Ltd."].status == Status.MATCHED
    shenzhen = found["China: Shenzhen Lumen Photonics Technology Co."]
    assert (shenzhen.status, shenzhen.by) == (Status.SUPERSEDED, "2026-21390")  # removed since
    pars = found["Iran: Pars Aero Parts Trading"]  # the demo's eCFR kept 88 FR 5000 and lost 70101
    assert pars.status == Status.DIFFERENT
    [difference] = pars.difference
    # against the corrected row (the correction fixed the address): the citation differs
    assert {f.name for f in difference.fields} == {"field:Federal Register citation"}
    # before the rule took effect the eCFR had none of it
    before = reconcile(lookup, rule, "2026-10-01", [fix], [])
    assert before is not None and {o.status for o in before} == {Status.NOT_YET}
    # the later rule, on its own, is matched on the day it took effect
    assert [o.status for o in reconcile(lookup, later, "2026-10-09") or []] == [Status.MATCHED]


def test_flagged_instructions_are_not_reconciled_as_text(demo):
    store, _ = demo
    assert redline(store, "cfr:15:774:supp-1", "2026-21250") is None


def test_an_ecfr_change_no_rule_explains(demo):
    store, lookup = demo
    unit = (
        "cfr:15:744.11"  # changed 2026-10-09 ("Preparing to transfer, or transferring"), by no rule
    )
    old, new = (lookup.side(unit, date(2026, 10, d)) for d in (1, 9))
    diff = cited_diff(unit, old.tree, new.tree)
    found = unexplained_between(store, unit, old.version, new.version, diff)
    assert [c.citation for c in found.changes] == ["§ 744.11(b)(2)"]
    # the Entity List's change that day: each entry is some stored rule's
    supp = "cfr:15:744:supp-4"
    old, new = (lookup.side(supp, date(2026, 10, d)) for d in (1, 9))
    diff = cited_diff(supp, old.tree, new.tree)
    assert unexplained_between(store, supp, old.version, new.version, diff).changes == ()


def test_the_pages_say_it(demo_tour: DemoTour):
    """The static site (the app's pages): the unit's timeline names the change no rule
    explains; the rule's page gives each operation with what the eCFR says there."""
    site = demo_tour.folder / "site"
    unit = (site / "cfr" / "15-744.11.html").read_text(encoding="utf-8")
    assert "No stored rule explains: § 744.11(b)(2)" in unit
    rule = (site / "rules" / "2026-21001.html").read_text(encoding="utf-8")
    assert '<tr class="superseded">' in rule and 'href="../rules/2026-21390.html"' in rule
    assert '<tr class="different">' in rule and '<tr class="matched">' in rule


def test_a_redline_says_what_was_compared_so_anyone_can_check_it(demo_tour: DemoTour, tmp_path):
    """Provenance: each side's payload sha256 is the sha256 of the bytes the eCFR served
    (the replay corpus's file for that date), its normalised sha256 that of the stored tree."""
    tour = demo_tour.copy(tmp_path / "tour")
    said = CliRunner().invoke(
        main, ["--config", str(tour / "demo.toml"), "diff", "744.11", "--format", "json"], env={}
    )
    provenance = json.loads(said.output)["provenance"]
    corpus = Path(replay.__file__).parent / "corpus" / "demo" / "ecfr" / "full"
    for side, day in (("from", "2026-10-01"), ("to", "2026-10-09")):
        served = (corpus / day / "title-15" / "part-744.xml").read_bytes()
        assert provenance[side]["payload_sha256"] == {"xml": hashlib.sha256(served).hexdigest()}
    config = config_module.load(tour / "demo.toml")
    store = Store.open(config.store_url, create=False, readonly=True)
    try:
        latest = store.latest_version("cfr:15:744.11")
        assert latest is not None
        tree = store.blob(latest.tree_blob)
    finally:
        store.close()
    assert provenance["to"]["normalised_sha256"] == hashlib.sha256(tree).hexdigest()
    text = CliRunner().invoke(main, ["--config", str(tour / "demo.toml"), "diff", "744.11"], env={})
    assert f"xml sha256 {provenance['to']['payload_sha256']['xml']}" in text.output
    # each side names the URL it was fetched from: fetching it again gives those bytes
    with ReplayServer(Corpus.demo()) as server:
        for side in ("from", "to"):
            url = urlsplit(provenance[side]["fetched_from"]["xml"])
            again = Request(f"{server.base}{url.path}?{url.query}", headers={GZ: "gzip"})
            with urlopen(again) as answer:
                body = answer.read()
                if answer.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
            assert url.query == "part=744"
            assert hashlib.sha256(body).hexdigest() == provenance[side]["payload_sha256"]["xml"]
            assert f" from {urlunsplit(url)};" in text.output
