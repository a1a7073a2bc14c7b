"""The README is a short entry point to the pages in docs/: its links and theirs lead somewhere."""

import re
from pathlib import Path

from lottery_init.config.paths import ROOT

README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
# [text](target), the target without a title; images (![alt](target)) are links too.
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = ("http://", "https://", "mailto:")


def relative_links(page: Path) -> list[str]:
    """The targets of `page`'s relative links, without their `#anchor`."""
    targets = LINK.findall(page.read_text(encoding="utf-8"))
    return [t.split("#")[0] for t in targets if not t.startswith(EXTERNAL) and t[0] != "#"]


def test_every_relative_link_leads_to_a_file():
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in [README, *PAGES]
        for target in relative_links(page)
        if not (page.parent / target).exists()
    ]
    assert broken == []


def test_the_readme_stays_short():
    assert README.stat().st_size <= 9000


def test_the_readme_links_every_docs_page():
    linked = {(README.parent / target).resolve() for target in relative_links(README)}
    assert [p.name for p in PAGES if p.resolve() not in linked] == []
