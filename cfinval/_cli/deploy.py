"""``cfinval invalidate-tenants``: the deploy step from the command line.

::

    cfinval invalidate-tenants --distribution-id E1 --paths /index.html '/static/*' [--wait]
    cfinval invalidate-tenants --tenant-ids dt_1 dt_2 --paths '/*' --caller-reference deploy-42

Prints the :class:`cfinval.InvalidationReport` as JSON (``--output``/``--query`` apply) once
every tenant is done, and on a terminal a progress line on stderr meanwhile. Exit codes: 0
every tenant succeeded; 254 some tenants failed and every failure was the service's answer
(``EntityNotFound``, ``AccessDenied``, ``TooManyInvalidationsInProgress`` at the deadline...);
255 some failed otherwise (a timeout waiting, the network); 130 interrupted, after printing
the report so far (``"Complete": false``): run again with the printed ``CallerReference`` to
resume without creating anything twice. On any other error (credentials that fail mid-run,
the tenant listing refused...) the report so far and the same hint come first, then the
error's line and exit code. A generated prefix is printed on stderr before anything is sent,
so a run killed outright can be resumed too. A distribution with no tenants exits 0 with a
warning on stderr (the service answers ``EntityNotFound`` for one that does not exist).
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any, TextIO

import cfinval
from cfinval._core.defaults import DEFAULT_CONCURRENCY, DEFAULT_DEPLOY_TIMEOUT, DEFAULT_POLL

from .errors import GENERAL_RC, SERVICE_RC, UsageError
from .helpcmd import add_command

__all__ = ["NAME", "add_deploy_command"]

NAME = "invalidate-tenants"
TITLE = "InvalidateTenants"

DESCRIPTION = (
    "The deploy step: creates one invalidation of --paths on every tenant of "
    "--distribution-id (or on each of --tenant-ids / --ids-file), at most --concurrency at "
    "once, pacing itself when throttled and waiting out the distribution's in-flight limits "
    "(TooManyInvalidationsInProgress), then prints a JSON report, one result per tenant. "
    "Tenant T is sent CallerReference PREFIX-T: run again with the report's CallerReference "
    "as --caller-reference and nothing is created twice. --wait also waits until every "
    "invalidation is Completed. Exit codes: 0 all succeeded, 254 some tenants failed (the "
    "service said no), 255 some failed otherwise (timeout, network), 130 interrupted; on "
    "Ctrl+C or another error (credentials failing mid-run) the report so far and the "
    "--caller-reference that resumes it are printed first. A generated prefix is printed on "
    "stderr before anything is sent. A distribution with no tenants: 0 and a warning."
)


def add_deploy_command(commands: Any, common: argparse.ArgumentParser, **cli: Any) -> None:
    """Register the command. ``cli`` holds what the command shares with the others (passed
    in: this module does not import the package it is part of): the argument types
    ``positive_int``, ``positive_seconds``, ``seconds`` and the helpers ``client``,
    ``output_format``, ``query``, ``print``, ``read_ids``."""
    types = cli
    parser = add_command(
        commands,
        NAME,
        parents=[common],
        help="invalidate paths on every tenant of a distribution (the deploy step)",
        description=DESCRIPTION,
    )
    parser.set_defaults(run=functools.partial(run, cli=cli))
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--distribution-id", metavar="ID", help="every tenant of this distribution")
    which.add_argument("--tenant-ids", nargs="+", metavar="ID", help="these tenants")
    which.add_argument(
        "--ids-file", metavar="FILE", help="tenant Ids, one a line ('-': stdin; # comments)"
    )
    parser.add_argument(
        "--paths", nargs="+", required=True, metavar="PATH", help="paths (or #cache-tags)"
    )
    parser.add_argument(
        "--caller-reference",
        metavar="PREFIX",
        help="prefix of every tenant's CallerReference: a previous run's, to resume it "
        "(default: a fresh one, printed in the report)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="also wait until every invalidation is Completed"
    )
    parser.add_argument(
        "--concurrency",
        type=types["positive_int"],
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"tenants creating at once (default: {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--poll",
        type=types["positive_seconds"],
        default=DEFAULT_POLL,
        metavar="SECONDS",
        help=f"with --wait, seconds between two reads (default: {DEFAULT_POLL:g})",
    )
    parser.add_argument(
        "--timeout",
        type=types["seconds"],
        default=DEFAULT_DEPLOY_TIMEOUT,
        metavar="SECONDS",
        help="the whole run's deadline: tenants still refused or in progress then are "
        f"reported failed (default: {DEFAULT_DEPLOY_TIMEOUT:g})",
    )


class Progress:
    """``12/500 tenants: 11 ok, 1 failed`` rewritten in place on stderr, only on a terminal."""

    def __init__(self, stream: TextIO | None) -> None:
        isatty = getattr(stream, "isatty", None)
        try:
            self.stream = stream if isatty is not None and isatty() else None
        except (OSError, ValueError):  # closed
            self.stream = None
        self.shown = False

    def update(self, done: int, total: int | None, failed: int) -> None:
        if self.stream is None:
            return
        of = "" if total is None else f"/{total}"
        line = f"\r{done}{of} tenants: {done - failed} ok, {failed} failed"
        try:
            self.stream.write(line + "\x1b[K")
            self.stream.flush()
            self.shown = True
        except (OSError, ValueError):
            self.stream = None

    def end(self) -> None:
        if self.stream is not None and self.shown:
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass


def run(args: argparse.Namespace, out: TextIO, *, cli: dict[str, Any]) -> int:
    fmt = cli["output_format"](args)
    query = cli["query"](args)
    _print = cli["print"]
    tenant_ids = args.tenant_ids
    if args.ids_file is not None:
        tenant_ids = cli["read_ids"](args.ids_file)
        if not tenant_ids:
            raise UsageError("no tenant Ids given (--ids-file, or one Id a line on stdin)")
    progress = Progress(sys.stderr)
    with cli["client"](args) as client:
        deployment = client.invalidate_tenants(
            args.paths,
            distribution_id=args.distribution_id,
            tenant_ids=tenant_ids,
            caller_reference=args.caller_reference,
            wait=args.wait,
            concurrency=args.concurrency,
            poll=args.poll,
            timeout=args.timeout,
        )
        hint = f"resume with --caller-reference {deployment.caller_reference}"
        if args.caller_reference is None:  # generated: say it before anything is sent
            _say(f"CallerReference prefix: {deployment.caller_reference} (to {hint})\n")
        failed = 0
        try:
            for result in deployment:
                failed += not result.ok
                progress.update(len(deployment.results), deployment.tenants, failed)
        except (Exception, KeyboardInterrupt) as exc:
            # The report so far and how to resume, then the error's line and exit code.
            deployment.close()
            progress.end()
            _print(TITLE, deployment.report().to_json_dict(), fmt, query, out)
            stopped = "Interrupted" if isinstance(exc, KeyboardInterrupt) else "Stopped"
            _say(f"\n{stopped}: {hint}\n")
            raise
        progress.end()
        report = deployment.report()
    _print(TITLE, report.to_json_dict(), fmt, query, out)
    if report.tenants == 0 and args.distribution_id is not None:
        _say(
            f"warning: distribution {args.distribution_id} has no tenants: "
            "nothing was invalidated\n"
        )
    return exit_code(report)


def _say(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed or None
        pass


def exit_code(report: cfinval.InvalidationReport) -> int:
    """0 all succeeded; 254 every failure the service's answer; 255 some other failure."""
    if report.ok:
        return 0
    if all(isinstance(result.error, cfinval.CloudFrontError) for result in report.failed):
        return SERVICE_RC
    return GENERAL_RC
