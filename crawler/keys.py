"""Document identity (DESIGN.md "Identity"): every tracked thing has one stable key, made and
read here and nowhere else.

``fr:2024-12345`` an FR document, ``pi:2024-12345`` the same while on Public Inspection,
``cfr:15:744.11`` a CFR section, ``cfr:15:744:supp-4`` / ``cfr:15:744:app-A`` a supplement or
appendix, ``cfr:15:744`` a whole part, ``bis:/news-updates/...`` a BIS web page, and
``cfr:15:744.11~fr:2024-12345`` the unit as FR doc 2024-12345 said it would read (its
publication-day redline). Which source owns a key is the source registry's to say
(``crawler.fetch.spiders.owner``: each entry names the prefixes it owns)."""

from __future__ import annotations

import re

from crawler.parse.text import slug

FR = "fr:"
PI = "pi:"
CFR = "cfr:"
BIS = "bis:"
PROJECTION = "~" + FR  # between a unit's key and the rule's number in a redline's key
CFR_KEY = re.compile(r"^cfr:\d+:[\w.-]+(?::[\w-]+)?$")  # a unit's or part's key as typed


def fr_key(number: str) -> str:
    """2024-12345 -> fr:2024-12345."""
    return f"{FR}{number}"


def pi_key(number: str) -> str:
    """2024-12345 -> pi:2024-12345."""
    return f"{PI}{number}"


def bis_key(path: str) -> str:
    """/news-updates/x -> bis:/news-updates/x."""
    return f"{BIS}{path}"


def fr_number(key: str) -> str:
    """fr:2024-12345 -> 2024-12345 (a bare number is given back as it is)."""
    return key.removeprefix(FR)


def pi_number(key: str) -> str:
    """pi:2024-12345 -> 2024-12345."""
    return key.removeprefix(PI)


def bis_path(key: str) -> str:
    """bis:/news-updates/x -> /news-updates/x."""
    return key.removeprefix(BIS)


def cfr_key(title: int | str, unit: str) -> str:
    """(15, "744.11") -> cfr:15:744.11; (15, "744") -> cfr:15:744, the whole part."""
    return f"{CFR}{title}:{unit}"


def supplement_key(title: int | str, part: str, number: str) -> str:
    """(15, "744", "4") -> cfr:15:744:supp-4."""
    return cfr_key(title, f"{part}:supp-{number}")


ENTITY_LIST = supplement_key(15, "744", "4")  # Supplement No. 4 to Part 744


def appendix_key(title: int | str, part: str, ident: str) -> str:
    """(14, "107", "A") -> cfr:14:107:app-A."""
    return cfr_key(title, f"{part}:app-{ident}")


def label_key(title: int | str, part: str, label: str) -> str:
    """A unit of a part known only by its label: cfr:15:744:<label as a slug>."""
    return cfr_key(title, f"{part}:{slug(label)}")


def cfr_unit(key: str) -> str:
    """cfr:15:744:supp-4 -> 744:supp-4; cfr:15:744.11 -> 744.11 (the inverse of ``cfr_key``)."""
    return key.split(":", 2)[2]


def cfr_parts(key: str) -> tuple[str, str, str, str]:
    """cfr:15:744:supp-4 -> ("15", "744", "supp", "4"); cfr:15:744.11 -> ("15", "744.11", "",
    ""); cfr:14:107:app-A -> ("14", "107", "app", "A"); cfr:15:744 -> ("15", "744", "", "")."""
    _, title, rest = key.split(":", 2)
    part, _, unit = rest.partition(":")
    kind, _, ident = unit.partition("-") if unit.startswith(("supp-", "app-")) else (unit, "", "")
    return title, part, kind, ident


def readable(key: str) -> str:
    """A key as people read it: cfr:15:744.11 -> "15 CFR 744.11", cfr:15:744:supp-4 -> "15
    CFR 744 Supp. No. 4", fr:2026-21001 -> "FR Doc. 2026-21001", pi:2026-21110 -> "FR Doc.
    2026-21110 (public inspection)", bis:/press-release/x -> "bis.gov /press-release/x"."""
    if key.startswith(FR):
        return f"FR Doc. {fr_number(key)}"
    if key.startswith(PI):
        return f"FR Doc. {pi_number(key)} (public inspection)"
    if key.startswith(BIS):
        return f"bis.gov {bis_path(key)}"
    if not key.startswith(CFR):
        return key
    title, part, kind, ident = cfr_parts(key)
    if kind == "supp":
        return f"{title} CFR {part} Supp. No. {ident}"
    if kind == "app":
        return f"{title} CFR {part} App. {ident}"
    return f"{title} CFR {part}" + (f" {kind}" if kind else "")


def title_part(key: str) -> tuple[str, str]:
    """cfr:15:744.11, cfr:15:744:supp-4, cfr:15:744 -> ("15", "744"): the part a unit is in."""
    title, part, _, _ = cfr_parts(key)
    return title, part.split(".")[0]


def unit_label(key: str) -> str:
    """cfr:15:744.11 -> 744.11; cfr:15:744:supp-4 -> supp-4 (the label of a unit's stub)."""
    return key.rsplit(":", 1)[-1]


def section_number(key: str) -> str | None:
    """cfr:15:744.11 -> "744.11"; None for a part, supplement or appendix key."""
    return key.split(":")[2] if key.count(":") == 2 and "." in key else None


def projection_key(unit: str, number: str) -> str:
    """(cfr:15:744.11, 2024-12345) -> cfr:15:744.11~fr:2024-12345."""
    return f"{unit}{PROJECTION}{number}"


def projections_of(unit: str) -> str:
    """The key prefix of every redline of ``unit``."""
    return f"{unit}{PROJECTION}"


def is_projection(key: str) -> bool:
    return PROJECTION in key


def projection_parts(key: str) -> tuple[str, str]:
    """cfr:15:744.11~fr:2024-12345 -> (cfr:15:744.11, 2024-12345); a unit's own key -> (key, "")."""
    unit, _, number = key.partition(PROJECTION)
    return unit, number
