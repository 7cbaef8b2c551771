"""New rules against the prior rule text, the day they are published (pure functions).

The eCFR shows a rule's text only after it takes effect; the FR gives it on publication as
REGTEXT: whole sections, some paragraphs with the rest elided (STARS), table rows, or
prose instructions ("removing the phrase ... and adding in its place ..."). ``project``
applies what can be applied mechanically to the prior text and flags the rest."""

from crawler.amend.project import Projection, project

__all__ = ["Projection", "project"]
