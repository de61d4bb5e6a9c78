"""Train one strategy: ``accelerate launch train_loop.py --strategy feat_temp`` (or plain ``python``).

A door into ``sleep-kd train`` (:mod:`sleep_kd.cli.train`): the same options, the same runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sleep_kd.cli import train as _train

SCRIPT = Path(__file__)


def main(argv: list[str] | None = None) -> int:
    return _train.main(argv, prog="train_loop.py", script=SCRIPT)


def resume_command(stop, *, strategy: str, argv: list[str]) -> str:
    """The shell line that resumes an interrupted run of this script (see :func:`sleep_kd.cli.train.resume_command`)."""
    return _train.resume_command(stop, strategy=strategy, argv=argv, script=SCRIPT)


if __name__ == "__main__":
    sys.exit(main())
