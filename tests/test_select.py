"""Which items a subscription wants."""

from crawler.config import SubscriptionConfig
from crawler.diff import diff_documents
from crawler.digest.select import Facets, change_facets, matches
from crawler.digest.topics import EMERGING_TECHNOLOGIES
from crawler.records import Node


def section(text: str) -> Node:
    return Node("740.27", "section", "§ 740.27 License Exception ACA.", "", (Node("b", text=text),))


def test_an_eccn_watch_sees_its_entry_and_sections_that_mention_it():
    mention = diff_documents(
        section("(b) Items in ECCN 3A090.a may go to A:1."),
        section("(b) Items in ECCN 3A090.a may go to A:1 and A:5."),
    )
    facets = change_facets("cfr:15:740.27", "§ 740.27", mention, EMERGING_TECHNOLOGIES)
    assert matches(SubscriptionConfig(name="ai chips", eccns=("3A090*",)), facets)
    assert not matches(SubscriptionConfig(name="crypto", eccns=("5A002",)), facets)
    entry = Node(
        "Supplement No. 1 to Part 774",
        "appendix",
        children=(
            Node("4A906", "eccn", "4A906 Quantum computers", children=(Node("p1", text="a. 34"),)),
        ),
    )
    changed = Node(
        entry.label,
        entry.kind,
        children=(
            Node("4A906", "eccn", "4A906 Quantum computers", children=(Node("p1", text="a. 40"),)),
        ),
    )
    own = change_facets(
        "cfr:15:774:supp-1", "CCL", diff_documents(entry, changed), EMERGING_TECHNOLOGIES
    )
    assert matches(SubscriptionConfig(name="q", eccns=("4A9*",)), own)


def test_filters_combine_and_empty_ones_match_everything():
    item = Facets(
        agencies=("industry-and-security-bureau",),
        type="Rule",
        cfr=("15:744",),
        entities=(("IRAN", "Pars Aero Parts Trading"),),
        text="Entity List rule",
        topics=("quantum",),
    )
    assert matches(SubscriptionConfig(name="all"), item)
    assert matches(
        SubscriptionConfig(
            name="x",
            types=("RULE",),
            cfr=("15",),
            entity_countries=("Iran",),
            keywords=("entity list",),
        ),
        item,
    )
    assert not matches(SubscriptionConfig(name="x", types=("PRORULE",), cfr=("15",)), item)
    assert not matches(SubscriptionConfig(name="x", cfr=("15:74",)), item)  # 15:744 is not 15:74
