"""Find (or train first) the teacher and starting checkpoints a strategy needs.

``feat_temp`` needs an ``eeg_base`` teacher and a ``feat_train`` student to start from, and
``feat_train`` itself needs the ``eeg_base`` teacher. A prerequisite not given on the command line
is looked up in the run folder of the same cohort and class count (the sibling folder named after
the strategy that trains it); if it is not there, it is trained first, with the same options, and
the command says so as it does it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sleep_kd.engine.checkpoint import CONFIG, WEIGHTS
from sleep_kd.engine.config import resolve_config
from sleep_kd.data.cohort_file import require_modalities
from sleep_kd.engine.data import cohort_path, cohort_tag
from sleep_kd.engine.runs import run_dir
from sleep_kd.errors import InputError
from sleep_kd.strategies import get_strategy

ROLES = (("teacher", "teacher"), ("init", "init_from"))


@dataclass
class ConfigLayers:
    """What the user asked for, kept so a prerequisite gets the same options as the run itself."""

    config_file: str | None = None
    options: dict = field(default_factory=dict)
    set_pairs: list[str] = field(default_factory=list)
    flag_names: dict[str, str] = field(default_factory=dict)  # dotted key -> the flag that set it

    def resolve(self, strategy: str, *, out: Path | None = None, base: Path | None = None) -> dict:
        config = resolve_config(strategy, config_file=self.config_file, options=self.options,
                                set_pairs=self.set_pairs, base_file=base, flag_names=self.flag_names)
        if out is not None:
            config["paths"]["out"] = str(out)
        return config


def require_same_model(best: Path, config: dict, *, role: str) -> None:
    """Refuse a looked-up prerequisite of another model or context length than the run's own.

    A one-window teacher found beside a context run (or the reverse) would otherwise be used
    silently; one given with ``--teacher`` / ``--init`` is the user's choice and is not checked here.
    """
    try:
        found = json.loads((best / CONFIG).read_text())["model"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # an unreadable record is reported, naming the file, when the checkpoint is loaded
    wanted, context = config["model"]["name"], config["model"]["context_epochs"]
    mismatch = found.get("name") != wanted or (context and found.get("context_epochs", 0) != context)
    if mismatch:
        found_text = found.get("name", "?") + (f" with {found['context_epochs']} epochs of context"
                                              if found.get("context_epochs") else "")
        wanted_text = wanted + (f" with {context} epochs of context" if context else "")
        raise InputError(f"{best}: the {role} found for this run is {found_text}, but this run trains "
                         f"{wanted_text}; give --{role} CKPT to use it anyway, or another --runs folder")


def has_checkpoint(folder: Path) -> bool:
    return (folder / WEIGHTS).is_file() and (folder / CONFIG).is_file()


def resolve_prerequisites(config: dict, layers: ConfigLayers, *,
                          train_fn: Callable[[dict], object], announce: Callable[[str], None]) -> dict:
    """Fill ``paths.teacher`` and ``paths.init`` of ``config``, training what is missing first.

    Parameters
    ----------
    config : the run's resolved configuration (updated in place and returned).
    layers : the user's config layers, reused for the prerequisite runs.
    train_fn : trains one resolved config (the prerequisite's), e.g. :func:`sleep_kd.engine.trainer.train`.
    announce : prints one line (main process only).
    """
    strategy = get_strategy(config["strategy"])
    if config["data"]["path"]:  # before any prerequisite is trained (the default cohort holds both signals)
        require_modalities(cohort_path(config), strategy.modalities, what=f"strategy {strategy.name}")
    siblings = run_dir(config, cohort_tag(config)).parent
    for role, attribute in ROLES:
        needed = getattr(strategy, attribute)
        if needed is None or config["paths"][role]:
            continue
        best = siblings / needed / "best"
        if not has_checkpoint(best):
            announce(f"[sleep_kd] {strategy.name} needs its {role} from '{needed}', which is not at {best}: "
                     f"training {needed} first")
            prerequisite = layers.resolve(needed, out=siblings / needed)
            prerequisite["paths"]["init"] = None  # a starting point given by the user is for the run itself
            if get_strategy(needed).student_modality != strategy.student_modality:
                prerequisite["paths"]["encoder_init"] = None  # an ECG encoder cannot start the EEG teacher
            resolve_prerequisites(prerequisite, layers, train_fn=train_fn, announce=announce)
            train_fn(prerequisite)
        else:
            require_same_model(best, config, role=role)
            announce(f"[sleep_kd] {strategy.name}: using the {role} at {best}")
        config["paths"][role] = str(best)
    return config
