"""The ``cfinval`` command (also ``python -m cfinval``).

::

    cfinval list-invalidations-for-distribution-tenant --id ID [AWS CLI paging/output options]
    cfinval audit --ids-file FILE          per-tenant InProgress/Completed counts
    cfinval wait --id ID                   until the tenant's invalidations are Completed
    cfinval invalidate-tenants --distribution-id ID --paths P...   the deploy step (_cli.deploy)
    cfinval fake-server                    the embedded fake CloudFront on 127.0.0.1
    cfinval help | cfinval <command> help  help, as ``aws help`` (also ``-h``/``--help``)
    cfinval create-invalidation-for-distribution-tenant / get-invalidation-for-distribution-tenant
    cfinval wait invalidation-for-distribution-tenant-completed   (see ``invalidation.py``)

Listing prints what ``aws cloudfront list-invalidations-for-distribution-tenant`` prints, and
exits with the AWS CLI v2 codes: 252 bad arguments, 253 no credentials, 254 the service said no,
255 anything else, 130 interrupted. Imported only when the command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TextIO, cast

import cfinval
from cfinval._core.defaults import DEFAULT_CONCURRENCY, DEFAULT_POLL, DEFAULT_TIMEOUT
from cfinval._errors import OPERATION_NAME as OPERATION

from .deploy import add_deploy_command
from .errors import (
    GENERAL_RC,
    INTERRUPTED_RC,
    SERVICE_RC,
    USAGE_RC,
    Failure,
    UsageError,
    credential_failure,
    exit_code,
    one_line,
)
from .helpcmd import add_command, add_help_command
from .invalidation import Kit, add_invalidation_commands, add_waiters
from .params import positive_int
from .streams import OutputFailed, StandardOutput, silence_stdout
from .tenants import add_tenant_commands

__all__ = ["main"]

PROG = "cfinval"
DEFAULT_CLI_TIMEOUT = 60.0  # the AWS CLI's --cli-read-timeout / --cli-connect-timeout default


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_RC, f"{self.prog}: error: {message}\n")

    def _print_message(self, message: str, file: Any = None) -> None:
        # Help or usage that cannot be written is dropped, as Python 3.11's argparse does;
        # 3.10's lets the OSError of a full or closed stream end in a traceback.
        with contextlib.suppress(AttributeError, OSError):
            super()._print_message(message, file)


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be more than zero seconds")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be zero or more seconds, got {text!r}")
    return value


def _global_options() -> _Parser:
    """Options accepted before or after the command, as in the AWS CLI.

    Defaults are ``SUPPRESS`` so that a value given before the command is not reset by the
    command's own copy of the option; :func:`_opt` supplies the real defaults.
    """
    parent = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parent.add_argument_group("global options")
    group.add_argument("--endpoint-url", metavar="URL", help="send requests to this URL")
    group.add_argument("--profile", help="use this profile from the shared AWS config files")
    group.add_argument("--region", help="AWS region (selects the partition for CloudFront)")
    group.add_argument(
        "--output",
        choices=("json", "text", "table", "yaml", "yaml-stream"),
        help="output format (default: json; yaml and yaml-stream are refused)",
    )
    group.add_argument("--query", metavar="EXPR", help="JMESPath expression to filter the output")
    group.add_argument(
        "--cli-read-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="socket read timeout; 0 waits forever (default: 60)",
    )
    group.add_argument(
        "--cli-connect-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="socket connect timeout; 0 waits forever (default: 60)",
    )
    group.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="the CA certificate bundle to verify TLS certificates with (overrides "
        "AWS_CA_BUNDLE and the profile's ca_bundle)",
    )
    group.add_argument(
        "--no-verify-ssl",
        dest="verify_ssl",
        action="store_false",
        help="do not verify TLS certificates (a warning is printed for each host)",
    )
    group.add_argument("--debug", action="store_true", help="log requests to stderr")
    return parent


_DEFAULTS: dict[str, Any] = {
    "endpoint_url": None,
    "profile": None,
    "region": None,
    "output": None,
    "query": None,
    "cli_read_timeout": DEFAULT_CLI_TIMEOUT,
    "cli_connect_timeout": DEFAULT_CLI_TIMEOUT,
    "ca_bundle": None,
    "verify_ssl": True,
    "debug": False,
}


def _opt(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, _DEFAULTS.get(name))


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = _Parser(
        prog=PROG,
        parents=[common],
        description="A small, fast command for CloudFront ListInvalidationsForDistributionTenant.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    # (name, what it runs, whether it takes the global options, help, description)
    table = (
        (
            "list-invalidations-for-distribution-tenant",
            _cmd_list,
            True,
            "list a distribution tenant's invalidations (as the AWS CLI does)",
            "Lists the invalidations of a distribution tenant, newest first, following every "
            "page unless --max-items or --no-paginate says otherwise. Output and NextToken "
            "tokens are those of the AWS CLI.",
        ),
        (
            "audit",
            _cmd_audit,
            True,
            "count InProgress/Completed invalidations of many tenants",
            "Lists every tenant named in --ids-file (one Id per line; '-' or no file reads "
            "stdin; blank lines and lines starting with # are skipped) with bounded "
            "concurrency, and prints per-tenant counts. A tenant that fails (missing, access "
            "denied) is reported on its own line; the exit code is then 254.",
        ),
        (
            "wait",
            _cmd_wait,
            True,
            "wait until a tenant's invalidations are Completed",
            "Polls the tenant's listing until the given invalidations (default: those in "
            "progress now) are Completed. Prints nothing and exits 0 on success; exits 255 on "
            "timeout.",
        ),
        (
            "fake-server",
            _cmd_fake_server,
            False,
            "run the embedded fake CloudFront on 127.0.0.1",
            "Serves the package's fake CloudFront over HTTP (HTTPS with --ssl-certfile) until "
            "Ctrl+C or SIGTERM, so any client (cfinval, boto3, the AWS CLI with --endpoint-url) "
            "can be tested without AWS. Requests must be SigV4-signed with the printed "
            "credentials.",
        ),
    )
    sub: dict[str, argparse.ArgumentParser] = {}
    for name, run, global_options, summary, description in table:
        sub[name] = add_command(
            commands,
            name,
            parents=[common] if global_options else [],
            help_word=name != "wait",  # its waiters take the word (invalidation.add_waiters)
            help=summary,
            description=description,
        )
        sub[name].set_defaults(run=run)
    add_deploy_command(  # the deploy step: its own module
        commands,
        common,
        positive_int=positive_int,
        positive_seconds=_positive_seconds,
        seconds=_seconds,
        client=_client,
        output_format=_output_format,
        query=_query,
        print=_print,
        read_ids=_read_ids,
    )

    lister = sub["list-invalidations-for-distribution-tenant"]
    lister.add_argument("--id", required=True, help="the distribution tenant Id")
    lister.add_argument("--max-items", type=positive_int, metavar="N", help="total items to print")
    lister.add_argument(
        "--page-size", type=positive_int, metavar="N", help="items per service call"
    )
    lister.add_argument("--starting-token", metavar="TOKEN", help="a NextToken to resume from")
    lister.add_argument(
        "--no-paginate",
        dest="paginate",
        action="store_false",
        help="make one call and print its raw response",
    )
    lister.add_argument("--marker", help=argparse.SUPPRESS)  # the raw Marker: one call
    audit = sub["audit"]

    audit.add_argument("--ids-file", default="-", metavar="FILE", help="tenant Ids, one a line")
    audit.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"tenants at once (default: {DEFAULT_CONCURRENCY})",
    )
    audit.add_argument(
        "--max-items-per-tenant", type=positive_int, metavar="N", help="stop each listing at N"
    )
    audit.add_argument("--page-size", type=positive_int, metavar="N", help="items per call")
    wait = sub["wait"]

    wait.add_argument("--id", help="the distribution tenant Id (required)")
    wait.add_argument(
        "--invalidation-ids", nargs="+", metavar="ID", help="wait for these invalidations"
    )
    wait.add_argument(
        "--poll",
        type=_positive_seconds,
        default=DEFAULT_POLL,
        metavar="SECONDS",
        help=f"seconds between two reads of the listing (default: {DEFAULT_POLL:g})",
    )
    wait.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up after this many seconds, exit code 255 (default: {DEFAULT_TIMEOUT:g})",
    )
    kit = Kit(client=_client, output_format=_output_format, query=_query, print=_print)
    add_waiters(wait, common, kit)
    add_invalidation_commands(commands, common, kit)
    add_tenant_commands(commands, common, kit)
    fake = sub["fake-server"]

    fake.add_argument("--host", default="127.0.0.1", help="address to listen on")
    fake.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    fake.add_argument(
        "--ssl-certfile",
        metavar="FILE",
        help="serve HTTPS with this PEM certificate (chain), and key unless --ssl-keyfile",
    )
    fake.add_argument("--ssl-keyfile", metavar="FILE", help="the certificate's private key (PEM)")
    seed = fake.add_mutually_exclusive_group()
    seed.add_argument("--seed-file", metavar="FILE", help="tenants and invalidations (JSON)")
    seed.add_argument(
        "--tenants", type=int, default=None, metavar="N", help="generate N tenants (default 3)"
    )
    fake.add_argument(
        "--invalidations-per-tenant", type=int, default=5, metavar="N", help="with --tenants"
    )
    fake.add_argument("--write-ids", metavar="FILE", help="write the tenant Ids to FILE")
    fake.add_argument("--access-key", help="access key id to accept")
    fake.add_argument("--secret-key", help="secret access key to accept")
    fake.add_argument(
        "--region", default=None, help="the one signing region to accept (default: any region)"
    )
    fake.add_argument(
        "--no-verify-signatures",
        dest="verify_signatures",
        action="store_false",
        help="accept unsigned requests",
    )
    fake.add_argument(
        "--fault",
        metavar="SPEC",
        action="append",
        default=[],
        help="misbehave on purpose, e.g. 'throttle,every=3', '503,start=1,count=2', "
        "'stall:5,every=4', 'reset,every=10', 'skew:900' (repeatable; kinds: "
        "error, throttle, html, empty, garbage, oversize, gzip-bomb, rewind, skew, "
        "reset, cut, stall, drip; 'op=NAME' selects an operation)",
    )
    fake.add_argument("--distribution-id", metavar="ID", help="the generated tenants' distribution")
    fake.add_argument(
        "--complete-after",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="created invalidations complete after SECONDS (default 30)",
    )
    fake.add_argument(
        "--complete-after-gets",
        type=int,
        metavar="N",
        help="... or once N Gets have seen them InProgress",
    )
    fake.add_argument("--max-paths-in-progress", type=positive_int, default=3000, metavar="N")
    fake.add_argument("--max-wildcards-in-progress", type=positive_int, default=15, metavar="N")
    add_help_command(parser, commands)
    return parser


def _version() -> str:
    return (
        f"cfinval/{cfinval.__version__} Python/{sys.version_info[0]}.{sys.version_info[1]}."
        f"{sys.version_info[2]}"
    )


# --- shared helpers -----------------------------------------------------------------------------


def _output_format(args: argparse.Namespace) -> str:
    from .output import output_format

    return output_format(_opt(args, "output"), _opt(args, "profile"))


def _query(args: argparse.Namespace) -> Callable[[Any], Any] | None:
    expression = _opt(args, "query")
    if expression is None:
        return None
    from .query import QueryError, compile_query

    try:
        return compile_query(expression)
    except QueryError as exc:
        raise UsageError(f"Bad value for --query {expression}: {exc}") from None


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[cfinval.Client]:
    import httpx

    from .._config import check_region

    read = _opt(args, "cli_read_timeout")
    connect = _opt(args, "cli_connect_timeout")
    timeout = httpx.Timeout(read or None, connect=connect or None)
    region = _opt(args, "region")
    if region is not None:  # the AWS CLI: a bad --region is a configuration error (255)
        check_region(region, "--region", cfinval.ConfigError)
    with cfinval.Client(
        profile=_opt(args, "profile"),
        region=region,
        endpoint_url=_opt(args, "endpoint_url"),
        timeout=timeout,
    ) as client:
        # As in the AWS CLI, --ca-bundle and --no-verify-ssl apply to the CloudFront endpoint
        # only: STS, IAM Identity Center and sign-in keep AWS_CA_BUNDLE / ca_bundle / defaults.
        client._service_tls = _service_tls(args)
        yield client


def _service_tls(args: argparse.Namespace) -> dict[str, Any] | None:
    """The TLS settings of ``--ca-bundle`` / ``--no-verify-ssl``; None: the configured ones."""
    ca_bundle = _opt(args, "ca_bundle")
    verify = _opt(args, "verify_ssl")
    if ca_bundle is None and verify:
        return None

    def warn(message: str) -> None:  # urllib3's warning, which the AWS CLI prints
        sys.stderr.write(f"InsecureRequestWarning: {message}\n")

    if not verify:  # as in the AWS CLI, --no-verify-ssl wins over --ca-bundle
        return {"verify": False, "on_unverified": warn}
    return {"ca_bundle": ca_bundle, "ca_bundle_source": "--ca-bundle"}


def _print(
    title: str, data: Any, fmt: str, query: Callable[[Any], Any] | None, out: TextIO
) -> None:
    from .output import format_json, format_table, format_text, terminal_width

    if query is not None:
        data = query(data)
    if fmt == "json":
        format_json(data, out)
    elif fmt == "text":
        format_text(data, out)
    else:
        format_table(title, data, out, terminal_width(out))


# --- list-invalidations-for-distribution-tenant ------------------------------------------------


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    from .output import cli_data, format_text
    from .params import check_paging

    fmt = _output_format(args)
    query = _query(args)
    paginate = check_paging(args)
    with _client(args) as client:
        if not paginate:
            page = client.list_invalidations_for_distribution_tenant(
                Id=args.id, Marker=args.marker, MaxItems=args.max_items
            )
            _print(OPERATION, cli_data({"InvalidationList": page.to_dict()}), fmt, query, out)
            return 0
        pages = client.paginate(
            args.id,
            page_size=args.page_size,
            max_items=args.max_items,
            starting_token=args.starting_token,
        )
        if fmt == "text":
            # Streamed page by page, as the AWS CLI does: only the result key of each page.
            for page in pages:
                items = page.to_dict().get("Items")
                data = cli_data({"InvalidationList": {"Items": items}})
                format_text(query(data) if query is not None else data, out)
            if pages.resume_token is not None:
                data = {"NextToken": {"NextToken": pages.resume_token}}
                format_text(query(data) if query is not None else data, out)
            return 0
        merged: dict[str, Any] = {}
        for page in pages:
            items = page.to_dict().get("Items")
            if items is None:
                continue
            if "InvalidationList" in merged:
                merged["InvalidationList"]["Items"].extend(items)
            else:
                merged["InvalidationList"] = {"Items": items}
        if pages.resume_token is not None:
            merged["NextToken"] = pages.resume_token
        _print(OPERATION, cli_data(merged), fmt, query, out)
    return 0


# --- audit --------------------------------------------------------------------------------------


def _read_ids(path: str) -> list[str]:
    try:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --ids-file {path}: {exc}") from None
    ids = [line.strip() for line in lines]
    return [line for line in ids if line and not line.startswith("#")]


def _audit_row(result: cfinval.TenantResult) -> dict[str, Any]:
    row: dict[str, Any] = {"Id": result.tenant_id}
    if result.error is not None:
        code = getattr(result.error, "code", None) or type(result.error).__name__
        message = getattr(result.error, "message", None) or str(result.error)
        row["Error"] = {"Code": code, "Message": message}
        return row
    counts = result.counts()
    row["InProgress"] = counts.get("InProgress", 0)
    row["Completed"] = counts.get("Completed", 0)
    row["Total"] = sum(counts.values())
    if result.resume_token is not None:
        row["NextToken"] = result.resume_token
    return row


def _cmd_audit(args: argparse.Namespace, out: TextIO) -> int:
    fmt = _output_format(args)
    query = _query(args)
    ids = _read_ids(args.ids_file)
    if not ids:
        raise UsageError("no tenant Ids given (--ids-file, or one Id a line on stdin)")
    rows: dict[str, dict[str, Any]] = {}
    code = 0
    with _client(args) as client:
        results = client.list_many(
            ids,
            concurrency=args.concurrency,
            max_items_per_tenant=args.max_items_per_tenant,
            page_size=args.page_size,
            keep_items=False,  # counts only: memory stays flat whatever the listing sizes
        )
        for result in results:
            rows[result.tenant_id] = _audit_row(result)
            if result.error is not None:  # the code a listing of that tenant exits with
                code = max(code, exit_code(result.error))
    ordered = [rows[tenant_id] for tenant_id in dict.fromkeys(ids)]
    _print("Audit", {"Tenants": ordered}, fmt, query, out)
    return code


# --- wait ---------------------------------------------------------------------------------------


def _cmd_wait(args: argparse.Namespace, out: TextIO) -> int:
    if args.id is None:
        raise UsageError("the following arguments are required: --id")
    with _client(args) as client:
        client.wait_until_completed(
            args.id,
            invalidation_ids=args.invalidation_ids,
            poll=args.poll,
            timeout=args.timeout,
        )
    return 0


# --- fake-server --------------------------------------------------------------------------------


def _cmd_fake_server(args: argparse.Namespace, out: TextIO) -> int:
    from .fake_server import run_fake_server

    return run_fake_server(args, out)


# --- entry point --------------------------------------------------------------------------------


def _configure_debug() -> Callable[[], None]:
    """Log cfinval's and httpx's debug records to stderr; returns the undo (for in-process
    callers such as tests: the command itself exits right after)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s - %(threadName)s - %(name)s - %(levelname)s - %(message)s")
    )
    loggers = [logging.getLogger(name) for name in ("cfinval", "httpx")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

    def undo() -> None:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)

    return undo


def _fail(err: TextIO, message: str, code: int) -> int:
    err.write(f"\n{one_line(message)}\n")
    return code


def _run(argv: Sequence[str] | None, out: TextIO, err: TextIO) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    undo_debug = None
    library = logging.getLogger("cfinval")
    if not any(isinstance(handler, logging.NullHandler) for handler in library.handlers):
        # what went wrong is the one line of the error; the AWS CLI shows botocore's log
        # records (a refused SSO token refresh...) only with --debug, and so does cfinval
        library.addHandler(logging.NullHandler())
    if _opt(args, "debug"):
        undo_debug = _configure_debug()
        logging.getLogger("cfinval").debug("%s command %s", _version(), args.command)
    try:
        code: int = args.run(args, out)
        return code
    except OutputFailed:
        raise  # main() reports it, once the buffered output is dropped
    except Failure as exc:
        return _fail(err, str(exc), exc.code)
    except cfinval.ParamValidationError as exc:
        return _fail(err, f"Parameter validation failed: {exc}", USAGE_RC)
    except cfinval.NoCredentialsError as exc:  # what failed, what to do, the AWS CLI's code
        profile = _opt(args, "profile") or os.environ.get("AWS_PROFILE") or "default"
        return _fail(err, *credential_failure(exc, profile))
    except cfinval.CloudFrontError as exc:
        return _fail(err, str(exc), SERVICE_RC)
    except cfinval.WaitTimeoutError as exc:
        return _fail(err, f"Waiter failed: {exc}", GENERAL_RC)
    except cfinval.Error as exc:
        return _fail(err, str(exc), GENERAL_RC)
    finally:
        if undo_debug is not None:
            undo_debug()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    out = cast(TextIO, StandardOutput(sys.stdout))
    err = sys.stderr if sys.stderr is not None else io.StringIO()  # stderr closed: say nothing
    try:
        try:
            code = _run(argv, out, err)
        except SystemExit:  # argparse: --help, --version, usage errors
            out.flush()
            raise
        out.flush()
        return code
    except KeyboardInterrupt:
        with contextlib.suppress(Failure, OSError):
            out.write("\n")
        return INTERRUPTED_RC
    except BrokenPipeError:
        silence_stdout()
        return 0
    except OutputFailed as exc:
        silence_stdout()
        return _fail(err, str(exc), exc.code)
