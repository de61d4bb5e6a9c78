"""Train one strategy: ``sleep-kd train --strategy feat_temp`` (or ``accelerate launch train_loop.py ...``).

Strategies: eeg_base, ecg_base, feat_train, feat_temp, feat_wce, kd_temp (and the control ecg_self).
With no ``--data``, the embedded synthetic cohort is used (built on first use). A teacher or
starting checkpoint that is not given is looked up beside the run folder and, if missing, trained first.

The same code serves three doors: ``sleep-kd train``, the top-level ``train_loop.py`` (``accelerate
launch train_loop.py --strategy feat_temp``) and, from Python, :func:`train` with
:class:`TrainOptions` (the studies and benchmarks), which takes the flags as values instead of a
command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

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
SWITCHES = ("cpu", "deterministic", "compile")  # flags without a value: train.<name> = true
FILES = ("config", "resume")  # flags that name a file or folder the run reads, not a config key
MODULE_LAUNCH = ("-m", "sleep_kd.cli", "train")  # how the resume line starts this command from Python


@dataclass(frozen=True)
class TrainOptions:
    """The options of one training run, as values: what a ``sleep-kd train`` command line would say.

    Attributes
    ----------
    flags : flag name (its ``--help`` spelling with ``_`` for ``-``, e.g. ``mixed_precision``) -> value;
        ``cpu``, ``deterministic`` and ``compile`` take ``True``; paths may be :class:`~pathlib.Path`.
    sets : ``KEY=VALUE`` config overrides (``--set``), applied after the flags, in order.

    ``a + b`` is both, ``b``'s flags winning and its overrides applied after ``a``'s.

    Examples
    --------
    >>> base = TrainOptions.of("data.split=kfold", data="cohort.h5", cpu=True, epochs=2)
    >>> (base + TrainOptions.of(teacher="runs/eeg_base/best")).argv()[:4]
    ['--data', 'cohort.h5', '--cpu', '--epochs']
    """

    flags: Mapping[str, Any] = field(default_factory=dict)
    sets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.flags) - set(FLAG_KEYS) - set(SWITCHES) - set(FILES))
        if unknown:  # a caller's slip, not a user's
            raise TypeError(f"unknown training option(s) {unknown}; known: "
                            f"{', '.join(sorted([*FLAG_KEYS, *SWITCHES, *FILES]))}")

    @classmethod
    def of(cls, *sets: str, **flags: Any) -> "TrainOptions":
        """``TrainOptions.of("train.lr=3e-4", data=path, cpu=True)``: overrides and flags, ``None`` flags left out."""
        return cls({k: v for k, v in flags.items() if v is not None and v is not False}, tuple(sets))

    def __add__(self, other: "TrainOptions") -> "TrainOptions":
        return TrainOptions({**self.flags, **other.flags}, self.sets + other.sets)

    def argv(self) -> list[str]:
        """The command-line words of these options (for a resume line or a message)."""
        words: list[str] = []
        for name, value in self.flags.items():
            flag = "--" + name.replace("_", "-")
            words += [flag] if value is True else [flag, str(value)]
        return words + [word for pair in self.sets for word in ("--set", pair)]

    def layer(self) -> dict:
        """The flags that set config keys, as a nested config layer."""
        options: dict = {}
        for name, (section, key) in FLAG_KEYS.items():
            value = self.flags.get(name)
            if value is not None:
                value = os.fspath(value) if isinstance(value, os.PathLike) else value
                (options.setdefault(section, {}) if section else options)[key] = value
        for name in SWITCHES:
            if self.flags.get(name):
                options.setdefault("train", {})[name] = True
        return options


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=prog, description="\n\n".join(__doc__.split("\n\n")[:2]),
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", required=True, help="eeg_base, ecg_base, feat_train, feat_temp, feat_wce or kd_temp; "
                        "the control ecg_self (self-training)")
    parser.add_argument("--config", help="a YAML file of config keys (see configs/defaults.yaml; configs/paper.yaml "
                                         "reproduces the original's choices)")
    parser.add_argument("--data", help="HDF5 cohort made by sleep-kd ingest (default: the embedded "
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
                        help="auto (default): fp32 on every device (bf16 bends the ECG students' gradients: docs/precision.md); no = fp32; bf16 and fp16 as asked")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-steps", type=int, help="stop after N optimizer steps (smoke runs)")
    parser.add_argument("--resume", help="run folder to continue from its last saved state")
    parser.add_argument("--cpu", action="store_true", help="force the CPU")
    parser.add_argument("--deterministic", action="store_true", help="deterministic algorithms (GPU runs)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the trained network (pays off on long runs; see docs/speed.md)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key, e.g. --set train.lr=3e-4 (repeatable)")
    return parser


def options_of(args: argparse.Namespace) -> TrainOptions:
    """The flags a parsed command line gave, as :class:`TrainOptions`."""
    names = (*FLAG_KEYS, *SWITCHES, *FILES)
    return TrainOptions.of(*args.set, **{name: getattr(args, name) for name in names})


def flag_names() -> dict[str, str]:
    """Dotted config key -> the flag that sets it (named in error messages)."""
    names = {".".join(k for k in keys if k): "--" + flag.replace("_", "-") for flag, keys in FLAG_KEYS.items()}
    return {**names, **{f"train.{flag}": f"--{flag}" for flag in SWITCHES}}


def resolve(strategy: str, options: TrainOptions = TrainOptions()):
    """``(layers, config)`` of one run: every option checked, nothing built or written.

    Studies that plan many runs check each run's options with this before the first one trains.
    """
    from sleep_kd.engine.prerequisites import ConfigLayers
    from sleep_kd.strategies import get_strategy

    get_strategy(strategy)  # an unknown name fails here, listing the known ones
    layers = ConfigLayers(config_file=options.flags.get("config"), options=options.layer(),
                          set_pairs=list(options.sets), flag_names=flag_names())
    return layers, layers.resolve(strategy, base=_saved_config(options.flags.get("resume")))


def train(strategy: str, options: TrainOptions = TrainOptions(), *, script: Path | None = None,
          command_line: list[str] | None = None) -> int:
    """Train one strategy (and its missing prerequisites): the exit status of the same command line.

    Parameters
    ----------
    strategy : a registered strategy name.
    options : the run's flags and overrides.
    script : the top-level script that was run (``train_loop.py``), named in the resume line of an
        interrupted run; ``None``: the line runs ``python -m sleep_kd.cli train``.
    command_line : the arguments as typed, repeated by that line (default: ``options`` spelt out).

    Returns
    -------
    0 when trained (``options.flags["out"]`` or the default run folder holds it), 1 when the loss
    became non-finite, 130 when interrupted (its state saved; the resume line printed). Bad options
    raise :class:`~sleep_kd.errors.InputError` before anything is built.
    """
    from sleep_kd.allocator import keep_freed_memory
    from sleep_kd.engine.data import cohort_tag
    from sleep_kd.engine.interrupt import EXIT_INTERRUPTED, TrainingInterrupted
    from sleep_kd.engine.outputs import check_output_dir
    from sleep_kd.engine.prerequisites import resolve_prerequisites
    from sleep_kd.engine.runs import run_dir
    from sleep_kd.engine.trainer import NonFiniteLossError, train as train_config

    layers, config = resolve(strategy, options)
    keep_freed_memory()  # glibc keeps freed feature maps for reuse: far fewer page faults
    resume = options.flags.get("resume")
    if resume is None:  # before any prerequisite is trained: the run itself must be able to write
        out = run_dir(config, cohort_tag(config))
        check_output_dir(out, label=f"--out {out}" if options.flags.get("out") else f"run folder {out}")
    announce = _main_process_printer()
    try:
        if resume is None:
            resolve_prerequisites(config, layers, announce=announce,
                                  train_fn=lambda c: train_config(c, announce=announce))
        result = train_config(config, resume=Path(resume) if resume else None, announce=announce)
    except NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except TrainingInterrupted as stop:
        if _is_main_process():
            argv = command_line if command_line is not None else ["--strategy", strategy, *options.argv()]
            print(f"interrupted ({stop.signal_name}): state saved; resume with: "
                  f"{resume_command(stop, strategy=strategy, argv=argv, script=script)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    announce(f"[sleep_kd] done: {result.out} (best: " + ", ".join(
        f"{k} {v:.4f}" for k, v in result.best_metrics.items() if isinstance(v, float)) + ")")
    return 0


@cli_entry
def main(argv: list[str] | None = None, *, prog: str = "sleep-kd train", script: Path | None = None) -> int:
    """The command line: ``sleep-kd train --strategy NAME [options]`` (``prog``, ``script``: the door used)."""
    argv = sys.argv[1:] if argv is None else [str(word) for word in argv]
    args = build_parser(prog).parse_args(argv)
    return train(args.strategy, options_of(args), script=script, command_line=argv)


def resume_command(stop, *, strategy: str, argv: list[str], script: Path | None = None) -> str:
    """The shell command that continues an interrupted run, as it can be pasted where this one ran.

    Every word is quoted for the shell (a run folder with a space in it); the interpreter is this
    one unless ``python`` on the PATH is the same. Several processes on one machine resume under
    ``torch.distributed.run`` with as many (Accelerate's launcher runs it too; it needs nothing on
    the PATH); several machines need their rendezvous options again, and the line says so. A
    prerequisite stopped while it was being trained first (the teacher of kd_temp) resumes as
    itself, then the original command carries on from it. ``script``: the top-level script run
    (its path relative to the working folder where it can be), else ``-m sleep_kd.cli train``.
    """
    import shlex
    import shutil

    python = shutil.which("python")  # not resolved: a virtualenv's python is a link to the bare interpreter
    python = "python" if python and os.path.abspath(python) == os.path.abspath(sys.executable) else sys.executable
    processes = int(os.environ.get("WORLD_SIZE", "1") or 1)
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", str(processes)) or processes)
    launcher = [python]
    if processes > 1:
        nodes = ["--nnodes", str(processes // per_node)] if per_node < processes else []
        launcher += ["-m", "torch.distributed.run", *nodes, "--nproc_per_node", str(per_node)]
    launcher += _launch_words(script)
    interrupted = stop.strategy or strategy
    command = shlex.join([*launcher, "--strategy", interrupted, "--resume", str(stop.out)])
    if interrupted != strategy:
        command += " && " + shlex.join([*launcher, *argv])
    if per_node < processes:
        command += " (on every machine, with the rendezvous options the run was launched with)"
    return command


def _launch_words(script: Path | None) -> list[str]:
    """What follows the interpreter: the script's path (relative where it can be) or ``-m sleep_kd.cli train``."""
    if script is None:
        return list(MODULE_LAUNCH)
    script = Path(script).resolve()
    try:
        return [str(script.relative_to(Path.cwd().resolve()))]
    except ValueError:
        return [str(script)]  # run from elsewhere: the full path


def _saved_config(resume: str | Path | None):
    """On --resume, the run's own resolved config.yaml is the base that flags and --set refine."""
    if resume is None:
        return None
    from sleep_kd.errors import InputError

    path = Path(resume) / "config.yaml"
    if not path.is_file():
        raise InputError(f"--resume {resume}: no config.yaml there (expected a run folder written by train_loop.py)")
    return path


def _is_main_process() -> bool:
    """Whether this is the main process (the environment says which process this is)."""
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0


def _main_process_printer() -> Callable[..., None]:
    """print() on the main process only."""
    return print if _is_main_process() else (lambda *_: None)


if __name__ == "__main__":
    sys.exit(main())
