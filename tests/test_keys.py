"""Document identity (crawler.keys): each key made and read back in one place."""

from __future__ import annotations

import pytest

from crawler import keys
from crawler.parse.cfr_units import unit_key
from crawler.parse.expect import ECCN, FR_CITATION
from crawler.records import Node


@pytest.mark.parametrize(
    ("node", "key", "parts"),
    [
        (Node("744.11", "section"), "cfr:15:744.11", ("15", "744.11", "", "")),
        (
            Node("Supplement No. 4 to Part 744", "appendix"),
            "cfr:15:744:supp-4",
            ("15", "744", "supp", "4"),
        ),
        (Node("Appendix A to Part 744", "appendix"), "cfr:15:744:app-A", ("15", "744", "app", "A")),
        (Node("Note: Export / re-export", "appendix"), "cfr:15:744:note-export-re-export", None),
    ],
)
def test_cfr_unit_keys_are_made_and_read_back(node, key, parts):
    assert unit_key(15, "744", node) == key
    assert keys.title_part(key) == ("15", "744")
    if parts:
        assert keys.cfr_parts(key) == parts
        assert keys.cfr_key(parts[0], keys.cfr_unit(key)) == key


def test_a_redline_key_names_its_unit_and_rule():
    key = keys.projection_key("cfr:15:744:supp-4", "2026-21001")
    assert key == "cfr:15:744:supp-4~fr:2026-21001"
    assert key.startswith(keys.projections_of("cfr:15:744:supp-4"))
    assert keys.is_projection(key) and not keys.is_projection("cfr:15:744:supp-4")
    assert keys.projection_parts(key) == ("cfr:15:744:supp-4", "2026-21001")
    assert keys.projection_parts("cfr:15:744.11") == ("cfr:15:744.11", "")


def test_document_keys_round_trip():
    assert keys.fr_number(keys.fr_key("2026-21001")) == "2026-21001"
    assert keys.pi_number(keys.pi_key("2026-21001")) == "2026-21001"
    assert keys.bis_path(keys.bis_key("/press-release/x")) == "/press-release/x"
    assert keys.section_number("cfr:15:744.11") == "744.11"
    assert keys.section_number("cfr:15:744") is None
    assert keys.section_number("cfr:15:744:app-A") is None


def test_one_eccn_and_fr_citation_rule():
    assert ECCN.findall("3A090, 4A906.a and 3A0901 but not 3F090") == ["3A090", "4A906"]
    assert ECCN.fullmatch("3A090") and not ECCN.fullmatch("3A090.a")
    found = FR_CITATION.findall("See 91 FR 70101; 89 FR 84462, and 1234 FR 5")
    assert found == [("91", "70101"), ("89", "84462")]
