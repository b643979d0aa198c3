"""The invalidation commands, named and printed as ``aws cloudfront`` names and prints them::

    cfinval create-invalidation-for-distribution-tenant --id ID
        (--invalidation-batch JSON|SHORTHAND|file://PATH | --paths PATH [PATH ...])
    cfinval get-invalidation-for-distribution-tenant --distribution-tenant-id ID --id ID
    cfinval wait invalidation-for-distribution-tenant-completed --distribution-tenant-id ID --id ID

``--paths`` is the shorthand that awscli's ``create-invalidation`` customization offers (in
awscli 1.46 it is not registered for the tenant command): the paths, space-separated, with a
``CallerReference`` made as that customization makes it (``cli-<epoch seconds>-<random>``).
"""

from __future__ import annotations

import argparse
import functools
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, TextIO

import cfinval

from .errors import GENERAL_RC, Failure, UsageError
from .helpcmd import add_command
from .params import load_structure

__all__ = ["CREATE", "GET", "WAITER_COMMAND", "Kit", "add_invalidation_commands", "add_waiters"]

#: ``aws cloudfront wait`` sub-command for the ``InvalidationForDistributionTenantCompleted``
#: waiter.
WAITER_COMMAND = "invalidation-for-distribution-tenant-completed"
CREATE = "create-invalidation-for-distribution-tenant"
GET = "get-invalidation-for-distribution-tenant"
_BATCH_SHAPE = {"Paths": {"Quantity": "integer", "Items": ["string"]}, "CallerReference": "string"}


class Kit(NamedTuple):
    """What a command needs of the ``cfinval`` command's shared helpers (passed in by
    ``build_parser``, so that these modules do not import the package that imports them)."""

    #: ``with kit.client(args) as client``: the client the global options describe.
    client: Callable[[argparse.Namespace], AbstractContextManager[cfinval.Client]]
    #: ``json``, ``text`` or ``table`` (a bad one: ``UsageError``).
    output_format: Callable[[argparse.Namespace], str]
    #: The compiled ``--query`` (``None``: none).
    query: Callable[[argparse.Namespace], Callable[[Any], Any] | None]
    #: ``print(title, data, format, query, out)`` in the AWS CLI's format.
    print: Callable[[str, Any, str, Callable[[Any], Any] | None, TextIO], None]


def add_invalidation_commands(
    commands: Any, common: argparse.ArgumentParser, kit: Kit
) -> dict[str, argparse.ArgumentParser]:
    """Add ``create-invalidation-for-distribution-tenant`` and
    ``get-invalidation-for-distribution-tenant`` to ``commands``."""
    create = add_command(
        commands,
        CREATE,
        parents=[common],
        help="invalidate paths on a distribution tenant (as the AWS CLI does)",
        description="Creates an invalidation on a distribution tenant and prints it as "
        "`aws cloudfront create-invalidation-for-distribution-tenant` does. Give the batch "
        "as JSON, shorthand (Paths={Quantity=1,Items=[/index.html]},CallerReference=ref) or "
        "file://PATH, or only the paths with --paths.",
    )
    create.add_argument("--id", required=True, help="the distribution tenant Id")
    batch = create.add_mutually_exclusive_group(required=True)
    batch.add_argument(
        "--invalidation-batch",
        metavar="BATCH",
        help="the InvalidationBatch: JSON, shorthand, or file://PATH",
    )
    batch.add_argument(
        "--paths",
        nargs="+",
        metavar="PATH",
        help="the space-separated paths to invalidate (a CallerReference is made for you); "
        "--invalidation-batch and --paths are mutually exclusive",
    )
    create.set_defaults(run=functools.partial(_cmd_create, kit))

    get = add_command(
        commands,
        GET,
        parents=[common],
        help="show one invalidation of a distribution tenant (as the AWS CLI does)",
        description="Prints one invalidation of a distribution tenant as `aws cloudfront "
        "get-invalidation-for-distribution-tenant` does.",
    )
    get.add_argument("--distribution-tenant-id", required=True, help="the distribution tenant Id")
    get.add_argument("--id", required=True, help="the invalidation Id")
    get.set_defaults(run=functools.partial(_cmd_get, kit))
    return {CREATE: create, GET: get}


class _AnyWord:
    """``choices`` that hold any word: :class:`_Waiters` says what an unknown one is
    (argparse would call it an invalid choice first)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter((WAITER_COMMAND,))


class _Waiters(argparse._SubParsersAction):  # type: ignore[type-arg]
    """``wait``'s optional sub-command: a waiter name, or ``help`` (the ``wait`` command's
    help, as for every command); any other word is refused as a stray argument."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = _AnyWord()  # type: ignore[assignment]  # any word; see __call__

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        name = values[0]
        if name == "help":
            parser.print_help()
            parser.exit(0)
        if name not in self._name_parser_map:
            parser.error(f"unrecognized arguments: {' '.join(values)}")
        super().__call__(parser, namespace, values, option_string)


def add_waiters(wait: argparse.ArgumentParser, common: argparse.ArgumentParser, kit: Kit) -> None:
    """Give ``wait`` its sub-command ``invalidation-for-distribution-tenant-completed`` (the
    AWS CLI's ``aws cloudfront wait`` name); ``wait --id ...`` alone stays the listing wait."""
    waiters = wait.add_subparsers(
        action=_Waiters,
        dest="waiter",
        metavar="[waiter]",
        help=f"{WAITER_COMMAND}: wait as the AWS CLI's waiter does (see `cfinval wait "
        f"{WAITER_COMMAND} help`)",
    )
    waiter = add_command(
        waiters,
        WAITER_COMMAND,
        parents=[common],
        help="wait until an invalidation of a distribution tenant is Completed",
        description="Gets the invalidation every 20 seconds until its status is Completed, "
        "at most 30 times, as `aws cloudfront wait "
        "invalidation-for-distribution-tenant-completed` does. Prints nothing and exits 0 on "
        "success; exits 255 when the attempts run out or the service answers with an error.",
    )
    waiter.add_argument(
        "--distribution-tenant-id", required=True, help="the distribution tenant Id"
    )
    waiter.add_argument("--id", required=True, help="the invalidation Id")
    waiter.set_defaults(run=functools.partial(_cmd_wait_invalidation, kit))


def caller_reference() -> str:
    """What awscli's ``--paths`` customization sends: ``cli-<epoch seconds>-<1..1000000>``."""
    return f"cli-{int(time.time())}-{random.randint(1, 1000000)}"  # noqa: S311  # not a secret


def _batch(args: argparse.Namespace) -> dict[str, Any]:
    if args.paths is not None:
        return {
            "CallerReference": caller_reference(),
            "Paths": {"Quantity": len(args.paths), "Items": list(args.paths)},
        }
    batch = load_structure("--invalidation-batch", args.invalidation_batch, _BATCH_SHAPE)
    unknown = [key for key in batch if key not in _BATCH_SHAPE]
    missing = [key for key in _BATCH_SHAPE if key not in batch]
    if unknown or missing:
        problems = [f'Unknown parameter in InvalidationBatch: "{key}"' for key in unknown]
        problems += [f'Missing required parameter in InvalidationBatch: "{key}"' for key in missing]
        raise UsageError(
            f"Parameter validation failed: {'; '.join(problems)} (it takes Paths and "
            "CallerReference)"
        )
    return batch


def _cmd_create(kit: Kit, args: argparse.Namespace, out: TextIO) -> int:
    from .output import cli_data

    fmt = kit.output_format(args)
    query = kit.query(args)
    batch = _batch(args)
    with kit.client(args) as client:
        created = client.create_invalidation_for_distribution_tenant(
            args.id, InvalidationBatch=batch
        )
    data: dict[str, Any] = {}
    if created.location is not None:  # botocore puts the header first
        data["Location"] = created.location
    data["Invalidation"] = created.to_dict()
    kit.print("CreateInvalidationForDistributionTenant", cli_data(data), fmt, query, out)
    return 0


def _cmd_get(kit: Kit, args: argparse.Namespace, out: TextIO) -> int:
    from .output import cli_data

    fmt = kit.output_format(args)
    query = kit.query(args)
    with kit.client(args) as client:
        found = client.get_invalidation_for_distribution_tenant(
            args.distribution_tenant_id, args.id
        )
    data = cli_data({"Invalidation": found.to_dict()})
    kit.print("GetInvalidationForDistributionTenant", data, fmt, query, out)
    return 0


def _cmd_wait_invalidation(kit: Kit, args: argparse.Namespace, out: TextIO) -> int:
    with kit.client(args) as client:
        try:
            client.wait_invalidation_for_distribution_tenant_completed(
                args.distribution_tenant_id, args.id
            )
        except cfinval.CloudFrontError as exc:
            # The AWS CLI reports botocore's WaiterError: no acceptor matched the error.
            raise Failure(
                f"Waiter {_WAITER_NAME} failed: An error occurred ({exc.code}): {exc.message}",
                GENERAL_RC,
            ) from None
        except cfinval.WaitTimeoutError as exc:
            raise Failure(str(exc), GENERAL_RC) from None
    return 0


_WAITER_NAME = "InvalidationForDistributionTenantCompleted"
