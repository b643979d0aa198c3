"""Tenant discovery commands, named, paginated and printed as ``aws cloudfront`` does::

    cfinval list-distribution-tenants [--association-filter JSON|SHORTHAND|file://PATH]
        [--max-items N] [--starting-token TOKEN] [--page-size N] [--no-paginate]
    cfinval list-distribution-tenants-by-customization (--web-acl-arn ARN | --certificate-arn ARN)
        [the same paging options]

Paginated (the default), the AWS CLI prints the tenants of every page as one
``DistributionTenantList`` and, after a ``--max-items`` cut, a ``NextToken`` that
``--starting-token`` (ours or the AWS CLI's) continues from; ``--no-paginate`` makes one call
(``--max-items`` is then its ``MaxItems``) and prints its whole response, ``NextMarker``
included.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from .helpcmd import add_command
from .invalidation import Kit
from .params import check_paging, load_structure, positive_int

__all__ = ["LIST", "LIST_BY_CUSTOMIZATION", "add_tenant_commands"]

LIST = "list-distribution-tenants"
LIST_BY_CUSTOMIZATION = "list-distribution-tenants-by-customization"
_FILTER_SHAPE = {"DistributionId": "string", "ConnectionGroupId": "string"}
_RESULT_KEY = "DistributionTenantList"


def _paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-items", type=positive_int, metavar="N", help="total items to print")
    parser.add_argument("--page-size", type=positive_int, metavar="N", help="items per call")
    parser.add_argument("--starting-token", metavar="TOKEN", help="a NextToken to resume from")
    parser.add_argument(
        "--no-paginate",
        dest="paginate",
        action="store_false",
        help="make one call and print its raw response",
    )
    parser.add_argument("--marker", help=argparse.SUPPRESS)  # the raw Marker: one call


def add_tenant_commands(commands: Any, common: argparse.ArgumentParser, kit: Kit) -> None:
    """Add ``list-distribution-tenants`` and ``list-distribution-tenants-by-customization``."""
    lister = add_command(
        commands,
        LIST,
        parents=[common],
        help="list the account's distribution tenants (as the AWS CLI does)",
        description="Lists distribution tenants, following every page unless --max-items or "
        "--no-paginate says otherwise, as `aws cloudfront list-distribution-tenants` does. "
        "--association-filter (JSON, shorthand DistributionId=ID,ConnectionGroupId=ID, or "
        "file://PATH) keeps those of one distribution and/or connection group.",
    )
    lister.add_argument(
        "--association-filter",
        metavar="FILTER",
        help="DistributionId=ID,ConnectionGroupId=ID (either or both), JSON, or file://PATH",
    )
    _paging(lister)
    lister.set_defaults(run=functools.partial(_cmd_list_tenants, kit))

    by = add_command(
        commands,
        LIST_BY_CUSTOMIZATION,
        parents=[common],
        help="list the distribution tenants using a web ACL or certificate (as the AWS CLI does)",
        description="Lists the distribution tenants whose customizations use the web ACL "
        "--web-acl-arn or the certificate --certificate-arn (exactly one), as `aws "
        "cloudfront list-distribution-tenants-by-customization` does.",
    )
    by.add_argument("--web-acl-arn", metavar="ARN", help="the AWS WAF web ACL ARN")
    by.add_argument("--certificate-arn", metavar="ARN", help="the ACM certificate ARN")
    _paging(by)
    by.set_defaults(run=functools.partial(_cmd_list_by_customization, kit))


def _print_pages(kit: Kit, title: str, pages: Any, args: argparse.Namespace, out: TextIO) -> None:
    """Every page as the AWS CLI prints a paginated result: ``text`` streamed page by page
    (the result key only), ``json``/``table`` as one merged result; then ``NextToken``."""
    from .output import cli_data, format_text

    fmt = kit.output_format(args)
    query = kit.query(args)

    def show(data: Any) -> None:
        format_text(query(data) if query is not None else data, out)

    if fmt == "text":
        for page in pages:
            if page.items_present:
                show(cli_data({_RESULT_KEY: page.to_dict()[_RESULT_KEY]}))
        if pages.resume_token is not None:
            show({"NextToken": {"NextToken": pages.resume_token}})
        return
    merged: dict[str, Any] = {}
    for page in pages:
        if page.items_present:
            merged.setdefault(_RESULT_KEY, []).extend(page.to_dict()[_RESULT_KEY])
    if pages.resume_token is not None:
        merged["NextToken"] = pages.resume_token
    kit.print(title, cli_data(merged), fmt, query, out)


def _print_one(kit: Kit, title: str, page: Any, args: argparse.Namespace, out: TextIO) -> None:
    from .output import cli_data

    fmt = kit.output_format(args)
    kit.print(title, cli_data(page.to_dict()), fmt, kit.query(args), out)


def _run_listing(
    kit: Kit,
    args: argparse.Namespace,
    out: TextIO,
    title: str,
    one: Callable[[Any, str | None, int | None], Any],
    pages: Callable[[Any], Iterable[Any]],
) -> int:
    kit.output_format(args)  # a bad --output or --query fails before any request
    kit.query(args)
    paginate = check_paging(args)
    with kit.client(args) as client:
        if not paginate:
            _print_one(kit, title, one(client, args.marker, args.max_items), args, out)
        else:
            _print_pages(kit, title, pages(client), args, out)
    return 0


def _cmd_list_tenants(kit: Kit, args: argparse.Namespace, out: TextIO) -> int:
    from cfinval._core.tenants import ListTenants

    association = None
    if args.association_filter is not None:
        association = load_structure("--association-filter", args.association_filter, _FILTER_SHAPE)
    ListTenants.validate(association)  # typed errors (unknown keys, non-strings) before I/O
    return _run_listing(
        kit,
        args,
        out,
        "ListDistributionTenants",
        lambda client, marker, size: client.list_distribution_tenants(
            AssociationFilter=association, Marker=marker, MaxItems=size
        ),
        # the filter as given: its keys' order and an empty {} go on the wire as the AWS CLI
        # sends them, page after page
        lambda client: client._tenant_pages(
            association, args.page_size, args.max_items, args.starting_token
        ),
    )


def _cmd_list_by_customization(kit: Kit, args: argparse.Namespace, out: TextIO) -> int:
    from cfinval._core.tenants import ListTenantsByCustomization

    ListTenantsByCustomization.validate(args.web_acl_arn, args.certificate_arn)
    return _run_listing(
        kit,
        args,
        out,
        "ListDistributionTenantsByCustomization",
        lambda client, marker, size: client.list_distribution_tenants_by_customization(
            WebACLArn=args.web_acl_arn,
            CertificateArn=args.certificate_arn,
            Marker=marker,
            MaxItems=size,
        ),
        lambda client: client.paginate_distribution_tenants_by_customization(
            web_acl_arn=args.web_acl_arn,
            certificate_arn=args.certificate_arn,
            page_size=args.page_size,
            max_items=args.max_items,
            starting_token=args.starting_token,
        ),
    )
