"""The version of the parsers, stored with every tree they make (``versions.parser_version``).

Bump it whenever a parser change can make a different tree from the same payload (new paths,
labels or fields). A version made by an older parser is made again from its raw payload
before anything is compared with it (``crawler.snapshot.rederive``), and ``regwatch rebuild`` makes
every stored tree again, so a parser upgrade is never reported as a change in the law.

History: 1, every tree stored before issue 12; 2, issue 12's paragraph tree (headings own
their paragraphs, inline markers split, notes, footnotes and definitions as their own units;
FR REGTEXT sections carry their paragraphs' tags).
"""

PARSER_VERSION = 2
