"""Help the AWS CLI way: ``cfinval help``, ``cfinval help <command>`` and ``cfinval <command>
help`` print help and exit 0, as ``--help`` does."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

__all__ = ["add_command", "add_help_command"]


class _HelpWord(argparse.Action):
    """A trailing positional ``help`` prints the command's help and exits 0; any other stray
    word is refused as argparse refuses it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if values is None:  # argparse calls an optional positional with nothing too
            return
        if values != "help":
            parser.error(f"unrecognized arguments: {values}")
        parser.print_help()
        parser.exit(0)


def add_command(
    commands: Any, name: str, *, help_word: bool = True, **kwargs: Any
) -> argparse.ArgumentParser:
    """``commands.add_parser(name, **kwargs)``, understanding a trailing ``help`` (unless
    ``help_word=False``: a command with sub-commands of its own handles the word there)."""
    parser: argparse.ArgumentParser = commands.add_parser(name, **kwargs)
    if help_word:
        parser.add_argument("help_word", nargs="?", action=_HelpWord, help=argparse.SUPPRESS)
    return parser


def add_help_command(parser: argparse.ArgumentParser, commands: Any) -> None:
    """The ``help [<command>]`` command; add it after every other command."""
    helper = commands.add_parser(
        "help",
        help="show this help, or a command's (as `cfinval <command> help` does)",
        description="Shows the help of cfinval or of one of its commands.",
    )
    helper.add_argument("topic", nargs="?", choices=sorted(commands.choices), metavar="<command>")

    def run(args: argparse.Namespace, out: TextIO) -> int:
        chosen = parser if args.topic is None else commands.choices[args.topic]
        chosen.print_help(out)
        return 0

    helper.set_defaults(run=run)
