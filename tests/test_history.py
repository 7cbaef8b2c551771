"""History that costs what git costs (issue 13, part 6): a part's units whose XML bytes did
not change are neither parsed, stored nor diffed again; what is stored is the same as if
every unit had been parsed."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from test_held import OCT1, OCT9, demo_744, entity_list, entries_at, fetch, right_744

from crawler.config import EcfrConfig
from crawler.fetch.items import FetchedCfrPart
from crawler.parse.cfr_units import by_raw_digest, unit_refs
from crawler.parse.ecfr_xml import Reuse, parse_ecfr_xml
from crawler.records import Node, from_json
from crawler.snapshot.versioning import store_cfr_part
from storage import HeldStatus, Store


def manifest_at(store: Store, key: str, day: str) -> Node:
    return from_json(Node, store.blob(store.version_at(key, day).tree_blob))


def units_at(store: Store, key: str, day: str) -> dict[str, bytes]:
    """Every unit of the part ``key`` in effect on ``day``: its key -> its stored tree."""
    return {
        unit: store.blob(store.version_at(unit, day).tree_blob)
        for unit, _ in unit_refs(manifest_at(store, key, day))
    }


def test_only_the_units_whose_xml_changed_are_parsed(tmp_path):
    store = Store.open(tmp_path / "regwatch.db")
    fetch(store, demo_744(OCT1), OCT1, on="2026-10-01")
    stub = manifest_at(store, "cfr:15:744", "2026-10-01")
    reuse = Reuse(by_raw_digest(stub))
    parse_ecfr_xml(right_744(), "744", reuse)
    # 744.11 was amended: it alone is parsed; the other three are the manifest's unit-refs
    assert reuse.reused == {"cfr:15:744.1", "cfr:15:744.12", "cfr:15:744:supp-4"}
    assert list(reuse.digests) == [("section", "744.11")]
    counts = fetch(store, right_744(), OCT9)
    assert counts == {"sections_changed": 1, "sections_unchanged": 3}
    assert [v.valid_from for v in store.history("cfr:15:744.11")] == ["2026-10-01", "2026-10-09"]


def real_pairs(shared_data):
    ear = shared_data / "ecfr_title15" / "title-15-part-740_2025.xml"
    faa = shared_data / "ecfr_api_xml_14cfr107"
    if not ear.is_file() or not faa.is_dir():
        pytest.skip("../shared/data lacks the eCFR XML of 15 CFR 740 or 14 CFR 107")
    text = ear.read_bytes()
    # one word changed in one section of the real part, the rest byte for byte the same
    edited = text.replace(b"License Exception", b"License Permission", 1)
    assert edited != text
    return [
        ("15", "740", text, edited),
        (
            "14",
            "107",
            (faa / "part107_2020-01-01_EXCERPT.xml").read_bytes(),
            (faa / "part107_2026-01-01_EXCERPT.xml").read_bytes(),
        ),
    ]


def test_what_is_stored_is_what_a_whole_parse_stores_on_real_parts(tmp_path, shared_data):
    """Each real part stored at two dates (the second parsing only what changed) holds, on
    the second date, exactly the units a store given only the second payload holds."""
    for title, part, old, new in real_pairs(shared_data):
        history = Store.open(tmp_path / f"history-{part}.db")
        fresh = Store.open(tmp_path / f"fresh-{part}.db")
        key = f"cfr:{title}:{part}"
        first = store_part(history, int(title), part, old, date(2020, 1, 1))
        probe = Reuse(by_raw_digest(manifest_at(history, key, "2020-01-01")))
        parse_ecfr_xml(new, part, probe)  # what the second payload reads again, and skips
        second = store_part(history, int(title), part, new, date(2026, 1, 1))
        store_part(fresh, int(title), part, new, date(2026, 1, 1))
        assert first["sections_new"] > 10
        assert probe.reused and probe.digests, (len(probe.reused), list(probe.digests))
        if part == "740":  # the one edited section, and nothing else, is read again
            assert len(probe.digests) == 1 and second["sections_changed"] == 1, second
        assert second["sections_unchanged"] == len(probe.reused), second
        assert units_at(history, key, "2026-01-01") == units_at(fresh, key, "2026-01-01")
        # a third payload the same as the second parses nothing and stores nothing
        again = Reuse(by_raw_digest(manifest_at(history, key, "2026-01-01")))
        parse_ecfr_xml(new, part, again)
        assert not again.digests and len(again.reused) == len(
            unit_refs(manifest_at(history, key, "2026-01-01"))
        )


def store_part(store: Store, title: int, part: str, body: bytes, day: date) -> Counter[str]:
    at = f"{day.isoformat()}T12:00:00+00:00"
    run = store.start_run("crawl", None, at)
    item = FetchedCfrPart("ecfr", title, part, day, "http://127.0.0.1/x", body, at)
    return store_cfr_part(store, item, run, EcfrConfig())


def test_a_held_table_is_read_again_when_the_next_date_brings_the_same_xml(tmp_path):
    """The Entity List held while the rest of the part is applied: the manifest must not
    claim the held XML as read, or the same XML for the next date would be taken as
    unchanged and the loss pass unseen (neither held nor applied)."""
    store = Store.open(tmp_path / "regwatch.db")
    fetch(store, entity_list(range(20)), OCT1, on="2026-10-01")
    body = entity_list(range(17))  # 3 of 20 entries gone: held
    assert fetch(store, body, OCT9) == {"parts_held": 1, "sections_unchanged": 3}
    oct10 = date(2026, 10, 10)
    assert fetch(store, body, oct10, on="2026-10-10") == {"parts_held": 1, "sections_unchanged": 3}
    assert len(entries_at(store, "2026-10-10")) == 20
    assert [h.valid_from for h in store.held_fetches()] == ["2026-10-09", "2026-10-10"]
    # the same content fetched again the next day confirms each date's payload
    assert fetch(store, body, OCT9, on="2026-10-11")["sections_changed"] == 1
    assert len(entries_at(store, "2026-10-09")) == 17
    assert store.held_fetches(status=HeldStatus.APPLIED)
