"""Ctrl-C (SIGINT) and SIGTERM (Slurm, torchrun before they kill) stop training at a resumable point.

The handler only raises a flag; the loop looks at it after each optimizer step (never inside an
accumulation window, whose gradients a saved state would not hold), saves the resumable state on
every rank and raises :class:`TrainingInterrupted`. Under several processes the ranks agree on the
step to stop at: the flag is summed over them (one small collective per optimizer step, only when
there are several processes). A second Ctrl-C stops at once, the usual way.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import torch

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


class TrainingInterrupted(Exception):
    """Training of ``strategy`` stopped on a signal after saving its state in ``out``."""

    def __init__(self, out: Path, signal_name: str, *, strategy: str | None = None) -> None:
        super().__init__(f"{signal_name}: stopped, resumable state saved in {out}")
        self.out = out
        self.signal_name = signal_name
        self.strategy = strategy


class StopRequests:
    """``with StopRequests() as stop:`` ... ``stop.agreed(accelerator)`` after each optimizer step."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict = {}

    def _handle(self, number, frame) -> None:
        self.received = signal.Signals(number).name
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: stop now

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def agreed(self, accelerator) -> bool:
        """True on every rank if any rank received a stop signal."""
        if accelerator.num_processes == 1:
            return self.received is not None
        flag = torch.tensor([1.0 if self.received else 0.0], device=accelerator.device)
        return bool(accelerator.reduce(flag, reduction="sum").item() > 0)
