"""Score checkpoints: ``python evaluate.py CKPT [--data FILE.h5] [--split test] [--json OUT.json]``.

A door into ``sleep-kd evaluate`` (:mod:`sleep_kd.cli.evaluate`): the same options, the same reports.
"""

from __future__ import annotations

import sys

from sleep_kd.cli import evaluate as _evaluate


def main(argv: list[str] | None = None) -> int:
    return _evaluate.main(argv, prog="evaluate.py")


if __name__ == "__main__":
    sys.exit(main())
