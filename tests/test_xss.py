"""An XSS corpus in titles, rule text, agency names and URLs, rendered into the digest, the
email HTML, the feed and the static site, then loaded in headless Chromium: no script runs.

Each payload, if it ever ran, would mark the page (``data-pwned="N"`` on <html>); Chromium's
serialised DOM after load must carry no such mark."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import point_at, run_day

from crawler import config as config_module
from crawler.config import SubscriptionConfig
from crawler.deliver.email import compose
from crawler.digest.select import for_subscription
from crawler.report import digest_for
from storage import Store

MARK = "document.documentElement.setAttribute('data-pwned','{n}')"
PAYLOADS = [
    "<script>" + MARK.format(n=1) + "</script>",
    '<img src=x onerror="' + MARK.format(n=2) + '">',
    '"><svg onload="' + MARK.format(n=3) + '">',
    "&lt;script&gt;" + MARK.format(n=4) + "&lt;/script&gt;",
    "</title><script>" + MARK.format(n=5) + "</script>",
    '<a href="javascript:' + MARK.format(n=6) + '">x</a>',
]
JS_URL = "javascript:" + MARK.format(n=7)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def dom(path: Path, profile: Path) -> str:
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=2000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-500:]
    return result.stdout


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_no_script_runs_in_any_rendered_page(demo_server, tmp_path):
    docs = demo_server.corpus.documents
    docs["2026-21001"]["title"] = " ".join(PAYLOADS[:3])
    docs["2026-21001"]["abstract"] = " ".join(PAYLOADS[3:])
    docs["2026-21001"]["agencies"][1]["name"] = PAYLOADS[1]
    docs["2026-21002"]["html_url"] = JS_URL
    demo_server.corpus.xml["2026-21001"] = demo_server.corpus.xml["2026-21001"].replace(
        b"Pars Aero Parts Trading, No. 14",
        b"Pars &lt;script&gt;" + MARK.format(n=8).encode() + b"&lt;/script&gt; Trading, No. 14",
    )
    config = point_at(config_module.load(None, env={}), demo_server, tmp_path, ecfr=True)
    config = dataclasses.replace(
        config, subscriptions=(SubscriptionConfig(name=PAYLOADS[0], recipients=("a@example.com",)),)
    )
    run_day(config, date(2026, 10, 5))
    run_day(config, date(2026, 10, 9))
    store = Store.open(config.store_path)
    digest = digest_for(store, date(2026, 10, 5), config)
    email = compose(
        for_subscription(digest, config.subscriptions[0]),
        config.subscriptions[0],
        "a@example.com",
        config,
        datetime(2026, 10, 5, tzinfo=UTC),
    )
    email_html = tmp_path / "email.html"
    email_html.write_text(email.get_body(("html",)).get_content())
    pages = [
        config.digest_dir / "2026-10-05.html",
        config.digest_dir / "2026-10-09.html",
        email_html,
        tmp_path / "site" / "index.html",
        *sorted((tmp_path / "site" / "documents").glob("*.html")),
        *sorted((tmp_path / "site" / "changes").glob("*.html")),
        tmp_path / "feeds" / "all.atom",
    ]
    assert len(pages) > 8
    rendered_payload = False
    for page in pages:
        serialised = dom(page, tmp_path / "chromium")
        assert 'data-pwned="' not in serialised, page.name
        assert '<a href="javascript:' not in serialised.lower(), page.name  # as a tag
        rendered_payload |= "setAttribute" in serialised
    assert rendered_payload  # the payloads were on the pages, as text
