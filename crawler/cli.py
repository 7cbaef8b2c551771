"""The ``regwatch`` command: a thin shell that parses options, calls one function, prints."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from crawler import config as config_module
from crawler.clock import utcnow
from crawler.errors import DegradedRun, RegwatchError, StorageError
from crawler.keys import readable
from crawler.records import SourceState


class Context:
    def __init__(self, config_path: Path | None, verbose: bool) -> None:
        self.config_path = config_path
        self.verbose = verbose

    @property
    def config(self) -> config_module.Config:
        path = self.config_path
        if path is None and Path("config.toml").exists():
            path = Path("config.toml")
        return config_module.load(path)


class Group(click.Group):
    """Turns RegwatchError into one line on stderr (a traceback only with --verbose)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RegwatchError as exc:
            if ctx.params.get("verbose"):
                raise
            click.echo(f"regwatch: {exc}", err=True)
            sys.exit(exc.exit_code)


def _date(_ctx: Any, _param: Any, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-10-05") from None


def _today(config: config_module.Config) -> date:
    return utcnow().astimezone(ZoneInfo(config.timezone)).date()


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="REGWATCH_CONFIG",
    help="config.toml to use (default: ./config.toml if present, else built-in "
    "defaults). Also REGWATCH_CONFIG.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log the crawl and show tracebacks.")
@click.version_option(package_name="regwatch")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """regwatch: tracks changes to US regulations (Federal Register, eCFR, BIS) and tells you
    what changed."""
    # without --verbose nothing is logged: errors reach the user as one line each
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.CRITICAL + 1,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(config_path, verbose)


@main.command()
@click.option(
    "--date",
    "day",
    callback=_date,
    help="The day to run for (default: today in the configured time zone).",
)
@click.pass_obj
def run(obj: Context, day: date | None) -> None:
    """The daily job: crawl every enabled source since its last good run, store new
    versions, write the day's digest. Exit status 3 when a source or document failed."""
    from crawler.jobs import daily as job

    config = obj.config
    now = utcnow()
    report = job.daily(
        config, day or _today(config), now, utcnow, verbose=obj.verbose, env=os.environ
    )
    _print_report(report)
    for path in report.digest:
        click.echo(f"digest: {path}")
    if not report.ok:
        raise DegradedRun(_degraded_line(report))


@main.command()
@click.pass_obj
def inspect(obj: Context) -> None:
    """Poll the Federal Register's Public Inspection list now (the day's, Eastern time)
    for the configured agencies: a filing never seen before, or one withdrawn, is kept as
    an alert, mailed at once and put in the feeds. `regwatch schedule` runs it every
    [schedule] inspect minutes in the FR's office hours. Exit status 3 when the poll failed."""
    from crawler.jobs import daily as job

    report = job.inspect(obj.config, utcnow(), utcnow, verbose=obj.verbose, env=os.environ)
    _print_report(report)
    for alert in report.alerts:
        click.echo(f"alert: {alert.title}")
    if not report.ok:
        raise DegradedRun(_degraded_line(report))


@main.command()
@click.argument("source", required=False)
@click.option(
    "--since", callback=_date, help="First day (default: 30 days before --until; eCFR: 2017-01-01)."
)
@click.option("--until", callback=_date, help="Last day (default: today).")
@click.option("--title", type=int, help="eCFR only: the CFR title, e.g. 15.")
@click.option("--part", help="eCFR only: the part, e.g. 744.")
@click.pass_obj
def backfill(
    obj: Context,
    source: str | None,
    since: date | None,
    until: date | None,
    title: int | None,
    part: str | None,
) -> None:
    """Backfill SOURCE (default federal_register, the first registered) for a date range,
    with a progress bar: FR documents published from --since to --until; for ecfr, every
    date on which --title/--part changed (resumable: dates already stored are skipped).
    Also: crawl."""
    from crawler.jobs import daily as job

    config = obj.config
    source = source or job.default_source()
    until = until or _today(config)
    if since is None:
        since = job.backfill_since(source, until)
    if since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}")
    report = job.backfill(
        config,
        source,
        since,
        until,
        utcnow(),
        utcnow,
        verbose=obj.verbose,
        progress=sys.stderr.isatty() or obj.verbose,
        command=click.get_current_context().info_name or "crawl",
        title=title,
        env=os.environ,
        part=part,
    )
    _print_report(report)
    if not report.ok:
        raise DegradedRun(_degraded_line(report))


main.add_command(backfill, name="crawl")


@main.command()
@click.option("--date", "day", callback=_date, required=True, help="The day, e.g. 2026-10-05.")
@click.pass_obj
def digest(obj: Context, day: date) -> None:
    """Render the digest of DAY again from the store (text and HTML files)."""
    from crawler.digest.report import write_digest
    from crawler.jobs.daily import open_store

    config = obj.config
    store = open_store(config, create=False)
    try:
        for path in write_digest(store, day, config):
            click.echo(str(path))
    finally:
        store.close()


@main.command()
@click.argument("citation")
@click.argument("other", required=False, metavar="[FILE_B]")
@click.option(
    "--from",
    "from_day",
    callback=_date,
    help="The earlier date (default: the version before --to's).",
)
@click.option("--to", "to_day", callback=_date, help="The later date (default: the latest).")
@click.option(
    "--rule",
    help="Compare the text FR doc RULE said the unit would have (its "
    "publication-day redline) with the eCFR's text on --to: what the eCFR "
    "integrated differently.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "unified", "html", "json"]),
    default="text",
    show_default=True,
    help="Word-level text, unified, a standalone HTML redline page, or the diff model as JSON.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text format (default: when writing to a terminal).",
)
@click.pass_obj
def diff(
    obj: Context,
    citation: str,
    other: str | None,
    from_day: date | None,
    to_day: date | None,
    rule: str | None,
    fmt: str,
    color: bool | None,
) -> None:
    """Show what changed in CITATION ("15 CFR 744.11", "744.11", "Supp. No. 4 to Part 744",
    "15 CFR 744", cfr:15:744.11) between two dates, fetching from the eCFR on demand a
    version the store does not have. With two files (diff FILE_A FILE_B: eCFR XML, GPO bulk
    eCFR, annual CFR, a rule's FR XML, an eRegs tree), what changed from FILE_A to FILE_B,
    with no store."""
    from crawler.diff import views
    from crawler.diff.cite import UNOFFICIAL
    from crawler.diff.provenance import NORMALISED
    from crawler.jobs.daily import open_store
    from crawler.query.lookup import Lookup

    if other is not None:
        _diff_files(citation, other, bool(from_day or to_day or rule), fmt, color)
        return
    config = obj.config
    store = open_store(config, create=False)
    try:
        lookup = Lookup(store, config, utcnow())
        key = lookup.resolve(citation)
        if rule:
            found = lookup.compare_rule(key, rule, to_day)
        else:
            found = lookup.compare(key, from_day, to_day)
    finally:
        store.close()
    name = f"{readable(found.key)} ({found.title})"
    old_label = f"as amended by FR Doc. {rule}" if rule else found.old.day
    official = found.official()
    if fmt == "json":
        model = found.to_json(rule)
        click.echo(json.dumps(model, indent=2, ensure_ascii=False, sort_keys=True))
    elif fmt == "html":
        click.echo(views.html_view(found.diff, name, old_label, found.new.day, official), nl=False)
    elif fmt == "unified":
        click.echo(
            views.unified_view(
                found.diff, f"{found.key}@{found.old.day}", f"{found.key}@{found.new.day}"
            ),
            nl=False,
        )
    elif found.old.version.id == found.new.version.id:
        click.echo(
            f"{name}: no change from {from_day} to {to_day or 'the latest stored version'}: "
            f"the text in effect since "
            f"{found.new.day} stood throughout"
        )
    else:
        colour = sys.stdout.isatty() if color is None else color
        click.echo(f"{name}: {old_label} -> {found.new.day}, {found.diff.counted()}")
        click.echo(f"{UNOFFICIAL}: " + ", ".join(f"{x.text} {x.url}" for x in official))
        click.echo(views.text_view(found.diff, colour=colour), nl=False)
        click.echo("Provenance (" + NORMALISED + "):")
        for line in found.provenance_lines():
            click.echo(f"  {line}")


def _diff_files(file_a: str, file_b: str, dated: bool, fmt: str, color: bool | None) -> None:
    """``regwatch diff FILE_A FILE_B``: two files compared, no store opened or created."""
    from crawler.diff import views
    from crawler.diff.cite import cite_diff
    from crawler.errors import UsageError
    from crawler.query.file_diff import compare_files

    if dated:
        raise UsageError("--from, --to and --rule apply to a CITATION, not to two files")
    for name in (file_a, file_b):
        if not Path(name).is_file():
            raise UsageError(f"diff FILE_A FILE_B: {name} is not a file (give two files)")
    found = compare_files(Path(file_a), Path(file_b))
    found = dataclasses.replace(
        found, diff=cite_diff(None, found.diff, found.old.tree, found.new.tree)
    )
    if fmt == "json":
        model = {
            "from": file_a,
            "from_format": found.old.format,
            "to": file_b,
            "to_format": found.new.format,
            **found.diff.to_json(),
        }
        click.echo(json.dumps(model, indent=2, ensure_ascii=False, sort_keys=True))
    elif fmt == "html":
        title = f"{Path(file_a).name} -> {Path(file_b).name}"
        click.echo(views.html_view(found.diff, title, file_a, file_b), nl=False)
    elif fmt == "unified":
        click.echo(views.unified_view(found.diff, file_a, file_b), nl=False)
    else:
        click.echo(
            f"{file_a} ({found.old.format}) -> {file_b} ({found.new.format}): "
            f"{found.diff.counted()}"
        )
        colour = sys.stdout.isatty() if color is None else color
        click.echo(views.text_view(found.diff, colour=colour), nl=False)


@main.command()
@click.argument("citation")
@click.pass_obj
def history(obj: Context, citation: str) -> None:
    """List the stored versions of CITATION with the date each took effect, what changed,
    and the FR documents named as their source."""
    from crawler.jobs.daily import open_store
    from crawler.query.lookup import Lookup
    from crawler.query.reconcile import unexplained_history

    config = obj.config
    store = open_store(config, create=False)
    try:
        lookup = Lookup(store, config, utcnow())
        found = lookup.history(lookup.resolve(citation))
        strays = unexplained_history(store, found)
    finally:
        store.close()
    click.echo(readable(found.key))
    for line in found.lines:
        click.echo(f"  {line.day}  v{line.seq}  {line.change}")
        for cited in line.sources:
            said = f" = FR Doc. {cited.number}: {cited.title}" if cited.number else ""
            click.echo(f"      source: {cited.citation}{said}")
        stray = strays.get(line.seq)
        if stray is not None:
            where = "; ".join(c.citation for c in stray.changes)
            click.echo(f"      no stored rule explains: {where}")
            if stray.flagged:
                maybe = ", ".join(f"FR Doc. {n}" for n in stray.flagged)
                click.echo(f"      (its instructions not applied, {maybe} may)")
    if found.checked is None:
        click.echo("  (fetched on demand; no run has checked the eCFR: nothing else is known)")
    else:
        click.echo(
            f"  (checked {found.checked.span()}; nothing is known after {found.checked.last})"
        )


@main.command()
@click.argument("number")
@click.option("--date", "day", callback=_date, help="As of this day (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def rule(obj: Context, number: str, day: date | None, fmt: str) -> None:
    """Show FR Doc. NUMBER's life, each date with its source: filed for public inspection,
    published, comments due, effective (every date its DATES paragraph gives, and later
    documents that move it), corrected, and the day the eCFR showed it in each unit it
    amends; then what stands today (due, in effect, not yet in the eCFR)."""
    from crawler.diff import views
    from crawler.diff.model import DocumentDiff
    from crawler.jobs.daily import open_store
    from crawler.query.timeline import timelines

    config = obj.config
    today = day or _today(config)
    store = open_store(config, create=False)
    as_of = datetime.combine(today, time(23, 59), ZoneInfo(config.timezone)) if day else utcnow()
    try:
        found = timelines(store, config, as_of)(number)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(found.to_json(today), indent=2))
        return
    click.echo(f"FR Doc. {found.number}: {found.title}")
    click.echo(f"  {found.kind}{', ' + found.citation if found.citation else ''} · {found.url}")
    for each in found.dates:
        when = (each.day or "not set").replace("T", " ")
        note = f" ({each.note})" if each.note else ""
        click.echo(f"  {when:<16}  {each.kind.words}{note}  [{each.source}]")
    click.echo(f"As of {today}:")
    for line in found.status(today) or ["no date ahead, and no unit it amends is stored"]:
        click.echo(f"  {line}")
    for unit in found.units:
        if unit.operations:
            click.echo(f"{unit.citation} against the eCFR's latest text, by operation:")
        for operation in unit.operations:
            by = f" (FR Doc. {operation.by})" if operation.by else ""
            click.echo(f"  {operation.status}{by}: {operation.citation} ({operation.op})")
            if operation.difference:
                said = views.text_view(DocumentDiff(operation.difference), colour=False)
                click.echo("".join(f"      {line}\n" for line in said.splitlines()), nl=False)


@main.command()
@click.option("--date", "day", callback=_date, help="From this day (default: today).")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366))
@click.pass_obj
def upcoming(obj: Context, day: date | None, days: int) -> None:
    """List the stored rules that take effect in the next 7 and the next DAYS days."""
    from crawler.jobs.daily import open_store
    from crawler.query.timeline import timelines
    from crawler.query.timeline import upcoming as coming

    config = obj.config
    today = day or _today(config)
    store = open_store(config, create=False)
    as_of = datetime.combine(today, time(23, 59), ZoneInfo(config.timezone)) if day else utcnow()
    try:
        found = coming(store, today, days, timelines(store, config, as_of, units=False))
    finally:
        store.close()
    week_end = (today + timedelta(days=7)).isoformat()
    week = [t for t in found if (t.effective or "") <= week_end]
    sections = [("the next 7 days", week)]
    if days > 7:
        sections.append((f"days 8 to {days}", found[len(week) :]))
    for heading, rules in sections:
        click.echo(f"Taking effect in {heading} (from {today}):")
        for each in rules:
            cited = f" ({each.citation})" if each.citation else ""
            click.echo(f"  {each.effective}  FR Doc. {each.number}{cited}: {each.title}")
        if not rules:
            click.echo("  none stored")


@main.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the demo's store and digests.",
)
@click.pass_obj
def demo(obj: Context, folder: Path) -> None:
    """An offline tour: replay a recorded-format week of BIS documents through the daily job,
    day by day, and show where the digests and the store are."""
    from crawler.demo.tour import run_demo
    from crawler.snapshot.source import every as every_snapshot

    result = run_demo(config_module.load(None), folder, verbose=obj.verbose)
    click.echo(f"Replay server: {result.server} (the project's recorded-format BIS week)")
    for entry in result.days:
        stats = {line.source: line.stats for line in entry.report.sources}
        said = "; ".join(snap.summary(stats.get(snap.name, {})) for snap in every_snapshot())
        click.echo(f"  {entry.day}  {entry.report.status:<8}  {said}  -> {entry.report.digest[0]}")
    added = {k: result.after[k] - result.before[k] for k in ("documents", "versions", "changes")}
    click.echo(
        f"Store:   {result.store} ({result.after['documents']} documents, "
        f"{result.after['versions']} versions; this demo added {added['documents']} "
        f"documents, {added['versions']} versions, {added['changes']} changes)"
    )
    click.echo(f"Digests: {result.digests}{'/'} (one .txt and one .html per day)")
    click.echo(f"Feeds:   {result.digests.parent / 'feeds'}/ (all.atom, all.rss)")
    site = result.digests.parent / "site" / "index.html"
    click.echo(f"Site:    {site} (static pages, no server)")
    click.echo(
        f"Next:    regwatch --config {result.config} digest --date "
        f"{result.days[-1].day if result.days else ''}"
    )
    click.echo(
        f"Browse:  regwatch --config {result.config} serve, then open http://127.0.0.1:8000/"
    )


@main.command()
@click.pass_obj
def sources(obj: Context) -> None:
    """List the sources regwatch can crawl (the source registry), whether each is enabled,
    where it points, the document keys it owns and the formats it parses, and from which
    day through which day the store has checked it."""
    from crawler.fetch.spiders import SOURCES
    from crawler.jobs.daily import open_store
    from crawler.query.coverage import checked

    config = obj.config
    try:
        store = open_store(config, create=False)
    except StorageError as exc:
        store, missing = None, str(exc)
    try:
        for name, source in SOURCES.items():
            settings = source.settings(config)
            state = "enabled" if settings.enabled else "disabled"
            where = getattr(settings, "api_base", settings.site_base)
            click.echo(f"{name}  ({source.title}, {state}, {where})")
            click.echo(f"    {source.summary}")
            click.echo(f"    keys {', '.join(source.keys)}; formats {', '.join(source.formats)}")
            seen = checked(store, name) if store else None
            click.echo(
                f"    checked: {seen.first} to {seen.last}" if seen else "    checked: never"
            )
    finally:
        if store is not None:
            store.close()
    if store is None:
        click.echo(f"({missing})")


@main.command()
@click.option(
    "--list",
    "show",
    is_flag=True,
    help="Send nothing; show what waits in the outbox and why (status, attempts, next "
    "attempt, last error).",
)
@click.pass_obj
def send(obj: Context, show: bool) -> None:
    """Send the digests waiting in the outbox (queued by `regwatch run`) that are due now:
    retries after a down server, with backoff. Exit status 3 if some could not be sent or
    wait for a retry. --list shows what waits and why."""
    if show:
        _list_outbox(obj.config)
        return
    from crawler.deliver.outbox import send as send_due

    sent = send_due(obj.config, utcnow(), os.environ)
    report, waiting = sent.report, sent.waiting
    later = f"{waiting.count} waiting for retry at {waiting.next_attempt}" if waiting.count else ""
    click.echo(f"email: {report.sent} sent, {report.failed} failed{'; ' + later if later else ''}")
    for line in report.errors:
        click.echo(f"  error: email: {line}", err=True)
    if waiting.count or report.failed:
        raise DegradedRun(f"email: {report.failed} failed, {waiting.count} waiting for retry")


def _list_outbox(config: config_module.Config) -> None:
    from crawler.deliver.outbox import unsent
    from crawler.jobs.daily import open_store

    store = open_store(config, create=False)
    try:
        found = unsent(store)
    finally:
        store.close()
    for line in found:
        after = f", next attempt {line.next_attempt}" if line.next_attempt else ""
        click.echo(
            f"{line.digest}  {line.recipient}  {line.status} after {line.attempts} "
            f"attempt(s){after}"
        )
        if line.last_error:
            click.echo(f"    last error: {line.last_error}")
    if not found:
        click.echo("nothing waits in the outbox")


@main.command()
@click.option(
    "--since",
    callback=_date,
    required=True,
    help="The first effective date, e.g. 2026-10-01.",
)
@click.option("--country", help="Only entries under this country (e.g. IRAN).")
@click.pass_obj
def entities(obj: Context, since: date, country: str | None) -> None:
    """Entity List entries added, removed and revised that took legal effect since a date,
    with the FR rule behind each: from the stored eCFR versions of Supplement No. 4 to Part
    744 and, before the eCFR shows them, from the rules themselves. Each row gives the
    effective, published and in-eCFR dates."""
    from crawler.jobs.daily import open_store
    from crawler.query.coverage import first_known, last_known
    from crawler.query.entities import history

    store = open_store(obj.config, create=False)
    try:
        found = history(store, since.isoformat(), country)
    finally:
        store.close()
    for c in found.changes:
        fields = f" [{', '.join(c.fields)}]" if c.fields else ""
        rule = f"FR Doc. {c.fr_document}" if c.fr_document else ""
        said = " = ".join(x for x in (c.citation, rule) if x)
        source = f" ({said})" if said else ""
        click.echo(f"{c.effective}  {c.op.entry_word:<8} {c.country}: {c.entity}{fields}{source}")
        click.echo(
            f"            effective {c.effective}, published {c.published or 'unknown'}, "
            f"in eCFR: {c.in_ecfr or 'not yet'}"
        )
    last, first = last_known(found.checked), first_known(found.checked)
    if not found.changes:
        click.echo(f"no Entity List change took effect from {since} to {last}")
    spans = " and ".join(c.span() for c in found.checked)
    before = f"; nothing is known before {first}" if since.isoformat() < first else ""
    click.echo(f"(checked {spans}; nothing is known after {last}{before})")


@main.command()
@click.argument("eccn")
@click.pass_obj
def eccn(obj: Context, eccn: str) -> None:
    """The history of one Commerce Control List entry (e.g. 3A090): each date it was added,
    removed or changed, what part of it changed, and the redline."""
    from crawler.jobs.daily import open_store
    from crawler.query.entities import eccn_report

    store = open_store(obj.config, create=False)
    try:
        found = eccn_report(store, eccn.upper())
    finally:
        store.close()
    for c in found.changes:
        click.echo(f"{c.day}  {c.op}: {', '.join(c.parts)}")
        click.echo("".join(f"    {line}\n" for line in c.text.splitlines()), nl=False)
    if not found.changes:
        click.echo(f"no change of ECCN {found.eccn} from {found.checked.first}")
    click.echo(f"(checked {found.checked.span()}; nothing is known after {found.checked.last})")


@main.command()
@click.option("--list", "show", is_flag=True, help="Show the jobs and their next run times.")
@click.pass_obj
def schedule(obj: Context, show: bool) -> None:
    """Run the configured jobs ([schedule] in config.toml: the daily job, outbox retries,
    the Public Inspection poll during the FR's office hours) on time, in the foreground,
    until SIGTERM; one scheduler per store."""
    from crawler.jobs import schedule as scheduling

    config = obj.config
    if show:
        for name, said, when in scheduling.next_runs(config, utcnow()):
            click.echo(f"{name:<7} {said:<48} next: {when.isoformat() if when else 'never'}")
        return
    scheduling.serve(config)


@main.command()
@click.pass_obj
def feeds(obj: Context) -> None:
    """Rebuild the Atom and RSS feeds (everything, and one per subscription) and the static
    site's pages of the latest report (site/index.html: the app's day, rule, unit and
    comparison pages as files, for reading without `regwatch serve`)."""
    from crawler.deliver.feeds import write_feeds
    from crawler.jobs.daily import open_store

    config = obj.config
    store = open_store(config, create=False)
    try:
        for path in write_feeds(store, config):
            click.echo(str(path))
        from crawler.deliver.site import write_site

        click.echo(str(write_site(store, config)[-1]))
    finally:
        store.close()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_obj
def serve(obj: Context, host: str, port: int) -> None:
    """Serve the web app and JSON API (/api/, OpenAPI at /api/openapi.json) over the store,
    read-only. Beyond loopback it needs a token in REGWATCH_SERVE_TOKEN, asked of every
    request (Authorization: Bearer TOKEN; feed URLs carry a token of their own)."""
    from crawler.deliver.web.server import serve as run_server

    run_server(obj.config, host, port, announce=click.echo)


@main.command()
@click.pass_obj
def rebuild(obj: Context) -> None:
    """Make every stored version's tree and changes again from the stored raw payloads with
    the current parser (after an upgrade). Adds no change, digest entry, feed entry or mail."""
    import time

    from crawler.jobs.daily import open_store
    from crawler.jobs.rebuild import rebuild as rebuild_store

    store = open_store(obj.config, create=False)
    started = time.monotonic()
    try:
        report = rebuild_store(store, obj.config, _progressbar)
    finally:
        store.close()
    for line in report.kept:
        click.echo(f"  kept: {line}", err=True)
    click.echo(f"{report.summary()} in {time.monotonic() - started:.1f} s")


@main.command()
@click.pass_obj
def topics(obj: Context) -> None:
    """List the topics documents and changes are tagged with: the 14 emerging-technology areas
    BIS named in 83 FR 58201, then your own [[topics]] from config.toml."""
    from crawler.digest.topics import all_topics

    for topic in all_topics(obj.config):
        click.echo(f"{topic.name}  ({topic.title})")
        click.echo(f"    {', '.join(topic.keywords)}")


def _progressbar(items: list[str]) -> Any:
    """A progress bar on stderr, hidden when stderr is not a terminal."""
    return click.progressbar(
        items, label="rebuilding", file=sys.stderr, hidden=not sys.stderr.isatty()
    )


def _print_report(report: Any) -> None:
    for line in report.sources:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(line.stats.items()))
        window = f"{line.since} to {line.until}" if line.since else f"to {line.until}"
        window = window if line.until else "no window"
        click.echo(f"{line.source}: {line.status} ({window}; {counts or 'nothing counted'})")
    for error in report.errors:
        click.echo(f"  error: {error.source}: {readable(error.target)}: {error.message}", err=True)


def _degraded_line(report: Any) -> str:
    bad = [f"{s.source} {s.status}" for s in report.sources if s.status != SourceState.OK]
    return f"run {report.run} {report.status}: {', '.join(bad)}; {len(report.errors)} error(s)"
