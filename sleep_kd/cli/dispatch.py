"""One command with subcommands: parse the subcommand's name, hand the rest of the line to its module.

Each subcommand is a module with ``main(argv) -> int`` (its own parser, ``--help`` and one-line
errors); a ``main`` that takes a ``prog`` keyword is told the words that ran it (``sleep-kd
train``), which its usage and error lines then name. The module is imported only when its
subcommand runs, so ``sleep-kd --help`` and a mistyped name answer at once, without loading PyTorch.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
from dataclasses import dataclass
from typing import Mapping

from sleep_kd.errors import ArgumentParser


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: the module whose ``main(argv)`` runs it, and one line saying what it does."""

    module: str
    summary: str


def build_parser(prog: str, description: str, subcommands: Mapping[str, Subcommand],
                 *, version: str | None = None) -> argparse.ArgumentParser:
    """A parser of ``PROG SUBCOMMAND [ARGS...]`` whose help lists every subcommand with its summary."""
    width = max(map(len, subcommands)) + 2
    listing = "\n".join(f"  {name:<{width}}{sub.summary}" for name, sub in subcommands.items())
    parser = ArgumentParser(prog=prog, description=description, usage=f"{prog} COMMAND [options]",
                            epilog=f"commands:\n{listing}\n\n'{prog} COMMAND --help' gives the options of each.",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", metavar="COMMAND", choices=list(subcommands),
                        help="one of the commands below")
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    if version is not None:
        parser.add_argument("--version", action="version", version=f"{prog} {version}")
    return parser


def run_subcommand(parser: argparse.ArgumentParser, subcommands: Mapping[str, Subcommand],
                   argv: list[str] | None) -> int:
    """Parse ``argv`` with ``parser`` and run the chosen subcommand on the words after its name."""
    if not argv:
        parser.error(f"a command is needed, one of: {', '.join(subcommands)} ({parser.prog} --help says what each does)")
    args = parser.parse_args(argv)
    run = importlib.import_module(subcommands[args.command].module).main
    named = {"prog": f"{parser.prog} {args.command}"} if "prog" in inspect.signature(run).parameters else {}
    return run(args.args, **named)
