"""The GPU check: is the trainer correct on CUDA, and how fast is the paper's network there? One run.

``python -m bench.gpu --out DIR [--budget-s 480] [--no-tests] [--no-speed]``

Without a CUDA device it says so, prints the machine, runs pytest on the cuda-marked tests (they
are collected and skip) and writes its report; exit 0. On a CUDA GPU, in about 8 minutes:

1. Correctness: ``pytest -m cuda tests/gpu``: every strategy a few steps in fp32, bf16 and fp16,
   the context model, a forced fp16 overflow (step skipped, scale lowered), a ``--deterministic``
   run resumed bit-equal to an uninterrupted one, ``evaluate.py`` and ``sleep_kd.predict`` on
   CUDA against the CPU, ``for_scoring`` against the plain network, host syncs per training step.
   The figures the tests record come back into the report.
2. Speed of ``utime_seed`` and ``context_seed`` (``bench/gpu_speed.py``): training-step windows/s
   at batch 64 in fp32 (TF32), bf16 and fp16, as a fraction of the GPU's own matmul rate in the
   same precision; peak memory; the largest batch (doubling until out of memory); whether the
   HDF5 loader keeps up (workers 0, 2, 4, 8); whole-night scoring (nights/s, 960 epochs).
3. ``DIR/gpu_check.json`` (every figure; the GPU, driver, torch and CUDA versions),
   ``DIR/gpu_check.txt`` (the short table) and ``DIR/cuda_tests.txt`` (pytest's output).
   Exit 1 if a cuda test failed, else 0.

What it needs: Python >= 3.10; torch >= 2.5 as far as checked (``torch.amp.GradScaler("cuda")``,
``torch.cuda.is_bf16_supported(including_emulation=...)`` in ``sleep_kd/hardware.py``; developed
on 2.13, the lent GPU image has 2.11); Accelerate 1.x, h5py, numpy, scipy, scikit-learn, pyyaml,
safetensors, tqdm, matplotlib, tensorboard, pytest. Not MNE, not edfio: the cohort is simulated
straight into the cohort file (``bench/gpu_cohort.py``), and nothing it imports reads or writes EDF.
The lent GPU machines' image has all of that; from a session with one, run::

    run(command="PYTHONUNBUFFERED=1 python3 -m bench.gpu --out $OUT", timeout_s=600)

To take MNE and edfio there anyway (the whole test suite, ingesting EDF files), fetch their pure
Python wheels here, at the pins of requirements.txt, and carry them::

    echo /.whl/ >> .git/info/exclude
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \\
        --platform manylinux2014_x86_64 -d .whl mne==1.13.2 edfio==0.4.18 decorator==5.3.2 \\
        pooch==1.9.0 platformdirs==4.14.9
    # there, with carry=[".whl"], before the command:
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bench.common import ROOT, machine
from bench.gpu_report import format_table

REPORT, TABLE, PYTEST_LOG, FIGURES = "gpu_check.json", "gpu_check.txt", "cuda_tests.txt", "cuda_figures.jsonl"
PACKAGES = ("accelerate", "h5py", "numpy", "scipy", "sklearn", "yaml", "safetensors", "tqdm", "matplotlib",
            "tensorboard", "pytest", "mne", "edfio")
OUTCOME = re.compile(r"^(tests/\S+::\S+)\s+(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)")
REASON = re.compile(r"^(FAILED|ERROR) (tests/\S+)(?: - (.*))?$")
# Most wanted first (a run cut by its time budget loses the last); then any other cuda test of tests/gpu.
CUDA_TESTS = ("tests/gpu/test_cuda_training.py", "tests/gpu/test_cuda_scoring.py", "tests/gpu/test_cuda_resume.py",
              "tests/gpu")
SKIP_REASON = re.compile(r"^SKIPPED \[\d+\] \S+?: (.*)$")


def versions() -> dict:
    """Python, torch with its CUDA and cuDNN, and every package the check may import (None: not installed)."""
    found = {"python": platform.python_version(), "torch": torch.__version__, "torch_cuda": torch.version.cuda,
             "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}
    from importlib.metadata import version

    for name in PACKAGES:
        try:
            present = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            present = False
        try:
            found[name] = version({"sklearn": "scikit-learn", "yaml": "pyyaml"}.get(name, name)) if present else None
        except Exception:  # noqa: BLE001  (a module without distribution metadata)
            found[name] = "installed"
    return found


def gpu_info() -> dict:
    """The GPU's name, memory, compute capability and driver (empty without CUDA)."""
    if not torch.cuda.is_available():
        return {}
    from sleep_kd.hardware import native_bf16

    props = torch.cuda.get_device_properties(0)
    return {"gpu": props.name, "gpu_count": torch.cuda.device_count(),
            "gpu_memory_gib": round(props.total_memory / 2 ** 30, 1),
            "compute_capability": f"{props.major}.{props.minor}", "multiprocessors": props.multi_processor_count,
            "driver": driver_version(), "gpu_native_bf16": native_bf16(cuda=True)}


def driver_version() -> str | None:
    try:
        run = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        return run.stdout.strip().splitlines()[0] if run.returncode == 0 and run.stdout.strip() else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def run_cuda_tests(out: Path, *, cohort: Path | None, timeout_s: float) -> dict:
    """``pytest -m cuda tests/gpu`` in a subprocess: counts, each test's outcome, failure lines, figures.

    The cohort already built is handed over (``SLEEP_KD_GPU_COHORT``); the tests append their
    figures to ``DIR/cuda_figures.jsonl`` (``SLEEP_KD_GPU_FIGURES``). pytest writes straight into
    ``DIR/cuda_tests.txt``, so a run cut by ``timeout_s`` (or from outside) keeps what it printed.
    """
    if importlib.util.find_spec("pytest") is None:
        return {"status": "not run: pytest is not installed (carry its wheel: see this file's header)"}
    figures, log = out / FIGURES, out / PYTEST_LOG
    figures.unlink(missing_ok=True)
    env = {**os.environ, "SLEEP_KD_GPU_FIGURES": str(figures), "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}
    if cohort is not None:
        env["SLEEP_KD_GPU_COHORT"] = str(cohort)
    command = [sys.executable, "-m", "pytest", *CUDA_TESTS, "-m", "cuda", "-v", "-rfEs", "-p", "no:cacheprovider"]
    tick = time.monotonic()
    with log.open("w") as handle:
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                  timeout=timeout_s)
            status = f"exit {done.returncode}"
        except subprocess.TimeoutExpired:
            status = f"stopped after {timeout_s:.0f} s (time budget)"
    result = {"status": status, "seconds": round(time.monotonic() - tick, 1), **pytest_outcomes(log.read_text())}
    if figures.is_file():
        result["figures"] = [json.loads(line) for line in figures.read_text().splitlines() if line.strip()]
    return result


def pytest_outcomes(text: str) -> dict:
    """Counts and per-test outcomes from ``pytest -v -rfEs`` output, with the reason of each failure and skip."""
    outcomes = {m[1]: m[2] for m in map(OUTCOME.match, text.splitlines()) if m}
    reasons = {m[2]: (m[3] or "")[:400] for m in map(REASON.match, text.splitlines()) if m}
    counts = {word.lower(): sum(1 for v in outcomes.values() if v == word) for word in ("PASSED", "FAILED", "ERROR",
                                                                                        "SKIPPED")}
    tests = [{"test": name, "outcome": outcome.lower(), **({"reason": reasons[name]} if name in reasons else {})}
             for name, outcome in outcomes.items()]
    skipped_because = sorted({m[1] for m in map(SKIP_REASON.match, text.splitlines()) if m})
    return {**counts, "skip_reasons": skipped_because, "tests": tests}


def build_cohorts(work: Path) -> dict[str, Path]:
    """The tests' cohort (10 nights x 0.5 h at 100 Hz) and the loader's (8 nights x 1 h at 200 Hz, the paper's rate)."""
    from bench.gpu_cohort import write_cohort

    return {"tests": write_cohort(work / "gpu.h5", n_subjects=10, hours=0.5, sfreq=100.0),
            "loader": write_cohort(work / "gpu200.h5", n_subjects=8, hours=1.0, sfreq=200.0)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for gpu_check.json, gpu_check.txt and cuda_tests.txt")
    parser.add_argument("--budget-s", type=float, default=480.0, help="seconds for the whole check (default 480)")
    parser.add_argument("--no-tests", action="store_true", help="leave out the cuda tests")
    parser.add_argument("--no-speed", action="store_true", help="leave out the speed measurements")
    return parser.parse_args(argv)


def save(report: dict, out: Path) -> None:
    """Write the report as it stands (after each section: a run stopped from outside keeps its figures)."""
    (out / REPORT).write_text(json.dumps(report, indent=1, default=float) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench.gpu_figures import speed_figures
    from bench.gpu_speed import Deadline, guarded

    deadline, out = Deadline(args.budget_s), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cuda = torch.cuda.is_available()
    report: dict = {"bench": "gpu", "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "cuda": cuda,
                    "machine": {**machine(), **versions(), **gpu_info()}}
    say = lambda line: print(f"[gpu check {args.budget_s - deadline.left():5.0f} s] {line}", flush=True)  # noqa: E731
    say(json.dumps(report["machine"]))
    if not cuda:
        say("no CUDA device on this machine: the cuda tests are only collected (they skip) and no GPU figure "
            "is measured")
    save(report, out)
    with tempfile.TemporaryDirectory(prefix="sleep_kd_gpu_") as work:
        cohorts = guarded(lambda: build_cohorts(Path(work))) if cuda else {}
        if "error" in cohorts:
            report["cohort_error"] = cohorts.pop("error")
        if not args.no_tests:  # leave the speed measurements at least 150 s
            budget = max(60.0, deadline.left() - (0 if args.no_speed or not cuda else 150.0))
            say(f"cuda tests (at most {budget:.0f} s) ...")
            report["cuda_tests"] = run_cuda_tests(out, cohort=cohorts.get("tests"), timeout_s=budget)
            save(report, out)
        if args.no_speed or not cuda or "loader" not in cohorts:
            report["speed"] = {"skipped": "asked" if args.no_speed else "no CUDA device" if not cuda else "no cohort"}
        else:
            say("speed ...")

            def keep(figures: dict) -> None:
                report["speed"] = figures
                save(report, out)
                say(f"speed: {', '.join(k for k in figures if k != 'plan')} done")
            report["speed"] = guarded(lambda: speed_figures(cohorts["loader"], deadline, on_section=keep))
    report["seconds"] = round(args.budget_s - deadline.left(), 1)
    save(report, out)
    table = format_table(report)
    (out / TABLE).write_text(table)
    print(table, flush=True)
    tests = report.get("cuda_tests", {})
    return 1 if cuda and (tests.get("failed") or tests.get("error")) else 0


if __name__ == "__main__":
    sys.exit(main())
