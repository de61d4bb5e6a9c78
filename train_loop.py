"""Train one strategy: ``accelerate launch train_loop.py --strategy feat_temp`` (or plain ``python``).

Strategies: eeg_base, ecg_base, feat_train, feat_temp, feat_wce, kd_temp (and the control ecg_self). With no ``--data``, the
embedded synthetic cohort is used (built on first use). A teacher or starting checkpoint that is
not given is looked up beside the run folder and, if missing, trained first.
"""

from __future__ import annotations

import argparse
import sys

from sleep_kd.allocator import keep_freed_memory
from sleep_kd.errors import ArgumentParser, cli_entry
from sleep_kd.hardware import MIXED_PRECISIONS

# Command-line flags that set a config key: flag destination -> (section, key).
FLAG_KEYS = {
    "data": ("data", "path"), "classes": ("data", "n_classes"), "out": ("paths", "out"),
    "teacher": ("paths", "teacher"), "init": ("paths", "init"), "epochs": ("train", "epochs"),
    "batch_size": ("train", "batch_size"), "grad_accum": ("train", "grad_accum"),
    "mixed_precision": ("train", "mixed_precision"), "seed": (None, "seed"), "model": ("model", "name"),
    "max_steps": ("train", "max_steps"), "runs": ("paths", "runs"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog="train_loop.py", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", required=True, help="eeg_base, ecg_base, feat_train, feat_temp, feat_wce or kd_temp; "
                        "the control ecg_self (self-training)")
    parser.add_argument("--config", help="a YAML file of config keys (see configs/defaults.yaml; configs/paper.yaml "
                                         "reproduces the original's choices)")
    parser.add_argument("--data", help="HDF5 cohort made by python -m sleep_kd.data.ingest (default: the embedded "
                                       "synthetic cohort)")
    parser.add_argument("--classes", type=int, choices=(3, 4), help="3 (W/NREM/REM) or 4 (W/Light/Deep/REM)")
    parser.add_argument("--out", help="run folder (default: runs/<cohort>/<n>class/<strategy>)")
    parser.add_argument("--runs", help="runs root folder (default: runs)")
    parser.add_argument("--teacher", help="checkpoint folder of the frozen EEG teacher (default: looked up)")
    parser.add_argument("--init", help="checkpoint folder the student starts from (default: looked up)")
    parser.add_argument("--model", help="registered model name (utime_small, utime_seed; with night context: "
                        "context_small, context_seed)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, help="per process")
    parser.add_argument("--grad-accum", type=int, help="optimizer step every N batches")
    parser.add_argument("--mixed-precision", choices=MIXED_PRECISIONS,
                        help="auto (default): bf16 where the GPU or CPU runs it natively, else fp32; no = fp32")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-steps", type=int, help="stop after N optimizer steps (smoke runs)")
    parser.add_argument("--resume", help="run folder to continue from its last saved state")
    parser.add_argument("--cpu", action="store_true", help="force the CPU")
    parser.add_argument("--deterministic", action="store_true", help="deterministic algorithms (GPU runs)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the trained network (pays off on long runs; see bench/README.md)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key, e.g. --set train.lr=3e-4 (repeatable)")
    return parser.parse_args(argv)


def flag_names() -> dict[str, str]:
    """Dotted config key -> the flag that sets it (named in error messages)."""
    names = {".".join(k for k in keys if k): "--" + flag.replace("_", "-") for flag, keys in FLAG_KEYS.items()}
    return {**names, **{f"train.{flag}": f"--{flag}" for flag in ("cpu", "deterministic", "compile")}}


def options_from(args: argparse.Namespace) -> dict:
    """The flags that were given, as a nested config layer."""
    options: dict = {}
    for flag, (section, key) in FLAG_KEYS.items():
        value = getattr(args, flag)
        if value is None:
            continue
        (options.setdefault(section, {}) if section else options)[key] = value
    for flag in ("cpu", "deterministic", "compile"):
        if getattr(args, flag):
            options.setdefault("train", {})[flag] = True
    return options


def resolved(argv: list[str]):
    """``(args, layers, config)`` of a command line: every option checked, nothing built or written.

    Scripts that plan many runs (scripts/kd_study.py, scripts/kd_seeds.py) check each run's
    arguments with this before the first one trains.
    """
    from sleep_kd.engine.prerequisites import ConfigLayers
    from sleep_kd.strategies import get_strategy

    args = parse_args(argv)
    get_strategy(args.strategy)  # an unknown name fails here, listing the known ones
    layers = ConfigLayers(config_file=args.config, options=options_from(args), set_pairs=args.set,
                          flag_names=flag_names())
    return args, layers, layers.resolve(args.strategy, base=_saved_config(args.resume))


@cli_entry
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args, layers, config = resolved(argv)
    keep_freed_memory()  # glibc keeps freed feature maps for reuse: far fewer page faults
    from pathlib import Path

    from sleep_kd.engine.data import cohort_tag
    from sleep_kd.engine.interrupt import EXIT_INTERRUPTED, TrainingInterrupted
    from sleep_kd.engine.outputs import check_output_dir
    from sleep_kd.engine.prerequisites import resolve_prerequisites
    from sleep_kd.engine.runs import run_dir
    from sleep_kd.engine.trainer import NonFiniteLossError, train

    if args.resume is None:  # before any prerequisite is trained: the run itself must be able to write
        out = run_dir(config, cohort_tag(config))
        check_output_dir(out, label=f"--out {out}" if args.out else f"run folder {out}")
    announce = _main_process_printer()
    try:
        if args.resume is None:
            resolve_prerequisites(config, layers, train_fn=lambda c: train(c, announce=announce), announce=announce)
        result = train(config, resume=Path(args.resume) if args.resume else None, announce=announce)
    except NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except TrainingInterrupted as stop:
        if _is_main_process():
            print(f"interrupted ({stop.signal_name}): state saved; resume with: "
                  f"{resume_command(stop, strategy=args.strategy, argv=argv)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    announce(f"[sleep_kd] done: {result.out} (best: " + ", ".join(
        f"{k} {v:.4f}" for k, v in result.best_metrics.items() if isinstance(v, float)) + ")")
    return 0


def resume_command(stop, *, strategy: str, argv: list[str]) -> str:
    """The shell command that continues an interrupted run, as it can be pasted where this one ran.

    Every word is quoted for the shell (a run folder with a space in it); the interpreter is this
    one unless ``python`` on the PATH is the same. Several processes on one machine resume under
    ``torch.distributed.run`` with as many (Accelerate's launcher runs it too; it needs nothing on
    the PATH); several machines need their rendezvous options again, and the line says so. A
    prerequisite stopped while it was being trained first (the teacher of kd_temp) resumes as
    itself, then the original command carries on from it.
    """
    import os
    import shlex
    import shutil
    from pathlib import Path

    python = shutil.which("python")  # not resolved: a virtualenv's python is a link to the bare interpreter
    python = "python" if python and os.path.abspath(python) == os.path.abspath(sys.executable) else sys.executable
    script = Path(__file__).resolve()
    try:
        script = script.relative_to(Path.cwd().resolve())
    except ValueError:
        pass  # run from elsewhere: the full path
    processes = int(os.environ.get("WORLD_SIZE", "1") or 1)
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", str(processes)) or processes)
    launcher = [python]
    if processes > 1:
        nodes = ["--nnodes", str(processes // per_node)] if per_node < processes else []
        launcher += ["-m", "torch.distributed.run", *nodes, "--nproc_per_node", str(per_node)]
    interrupted = stop.strategy or strategy
    command = shlex.join([*launcher, str(script), "--strategy", interrupted, "--resume", str(stop.out)])
    if interrupted != strategy:
        command += " && " + shlex.join([*launcher, str(script), *argv])
    if per_node < processes:
        command += " (on every machine, with the rendezvous options the run was launched with)"
    return command


def _saved_config(resume: str | None):
    """On --resume, the run's own resolved config.yaml is the base that flags and --set refine."""
    if resume is None:
        return None
    from pathlib import Path

    from sleep_kd.errors import InputError

    path = Path(resume) / "config.yaml"
    if not path.is_file():
        raise InputError(f"--resume {resume}: no config.yaml there (expected a run folder written by train_loop.py)")
    return path


def _is_main_process() -> bool:
    """Whether this is the main process (the environment says which process this is)."""
    import os

    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0


def _main_process_printer():
    """print() on the main process only."""
    return print if _is_main_process() else (lambda *_: None)


if __name__ == "__main__":
    sys.exit(main())
