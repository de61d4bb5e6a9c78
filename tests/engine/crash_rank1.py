"""Test helper run under torchrun: rank 1 dies at its third training step, rank 0 carries on."""

import os
import sys

from sleep_kd.cli.train import main
from sleep_kd.engine import trainer

if os.environ.get("RANK") == "1":
    real_check = trainer.check_finite
    calls = {"n": 0}

    def dying_check(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("rank 1 crashed on purpose")
        return real_check(*args, **kwargs)

    trainer.check_finite = dying_check

if __name__ == "__main__":
    sys.exit(main())
