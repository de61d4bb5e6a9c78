"""Errors a user can cause, and how command-line entry points report them.

Anything a user can get wrong (a bad file, a missing channel, a config key) raises
:class:`InputError` with a one-line message naming the file, recording, channel or key at fault
and what was expected. The entry points turn it into that line on stderr and exit code 2, with
no traceback (``../shared/CONTRACT.md``: 0 success, 2 bad usage or input, 1 anything else).
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Callable, TypeVar

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

F = TypeVar("F", bound=Callable[..., int | None])


class InputError(ValueError):
    """Bad input or usage: the message is one line that names what is wrong and where."""

    def __init__(self, message: str) -> None:
        text = str(message)
        # A DataLoader worker's error comes back as InputError("Caught InputError in DataLoader worker
        # process N. Original Traceback ... sleep_kd.errors.InputError: <message>"): keep the message.
        marker = f"{__name__}.InputError: "
        if text.startswith("Caught InputError in DataLoader worker") and marker in text:
            text = text.rsplit(marker, 1)[1]
        super().__init__(" ".join(text.split()))


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one :class:`InputError` line (exit 2 through :func:`cli_entry`).

    argparse's own error prints the usage block before its message; here the message alone names
    the program, the option and what is wrong. ``--help`` still prints the help and exits 0.
    """

    def error(self, message: str):  # argparse hook: must not return
        raise InputError(f"{self.prog}: {message}")


def cli_entry(main: F) -> Callable[..., int]:
    """Wrap a ``main(argv) -> int | None`` so bad input prints one line and returns 2.

    Other exceptions propagate (Python prints the traceback and exits 1).
    """

    @functools.wraps(main)
    def wrapped(*args, **kwargs) -> int:
        try:
            code = main(*args, **kwargs)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return EXIT_OK if code is None else int(code)

    return wrapped
