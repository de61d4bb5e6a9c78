"""What attention transfer (AT) moves into the ECG student's encoder.

    sleep-kd study at_probe RUNS [--context 20] [--train-windows 6000] [--truth DIR] [--out FILE.json]

RUNS is a ``sleep-kd study kd_study`` runs folder (``RUNS/fold<f>/context<T>/{eeg_base,ecg_base,feat_train-*}``).
Everything is read from the per-epoch U-Time encoders on single 30-s windows (a context model's
``encoder``: the layers AT compares), in eval mode, for every fold:

- **how close the maps are**: the distance AT minimises (mean squared difference of the
  L2-normalised attention maps, sum over channels of x^2, ``sleep_kd.losses.attention``) between
  each ECG encoder on the ECG and the EEG teacher's encoder on the EEG of the same windows, per
  tap group, on the test subjects;
- **what the features say about the stage**: a linear probe (multinomial logistic regression on
  the standardised mean and standard deviation over time of the bottleneck, fitted on a sample of
  the training subjects' windows, scored on the test subjects) against the scored stages and,
  with truth files, the true stages.

The ECG encoders read: ``ecg_base`` (cross-entropy only), each ``feat_train-*`` (AT only: the
start of Feat-WCE and Feat-Temp) and an untrained encoder (the same preset from a fixed seed)
as the floor; the EEG teacher's own features give the ceiling of the probe. If AT brings the maps
close but not the probe, it transfers where the teacher looks, not what it sees there.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.common import check_context, check_report_path, mean_over_folds, teacher_cohort, write_report

GROUPS = ("encoder", "bottleneck", "decoder", "final", "head")
BATCH = 256
MAX_TRAIN_WINDOWS = 1_000_000  # the probe's training sample; all of MASS is about 200,000 windows


def per_epoch_encoder(model):
    """The U-Time that scores each epoch: the model itself, or a context model's ``encoder``."""
    from sleep_kd.models import context_epochs_of

    return model.encoder if context_epochs_of(model) else model


def windows(checkpoint: Path, split: str, *, limit: int | None, seed: int = 0):
    """(eeg (n, 1, L), ecg (n, 1, L), scored (n,), recording ids (n,), epochs (n,)) of a split, float32.

    Only scored windows; at most ``limit`` of them, drawn at random with ``seed`` (all if None).
    """
    from sleep_kd.data.dataset import CohortWindows

    config = json.loads((checkpoint / "config.json").read_text())
    data = config["data"]
    dataset = CohortWindows(data["path"], n_classes=data["n_classes"], recordings=data["splits"][split],
                            sfreq=data["sfreq"], window_s=data["window_s"], normalization=data["normalization"],
                            modalities=("eeg", "ecg"))
    index = np.arange(len(dataset))
    if limit is not None and index.size > limit:
        index = np.sort(np.random.default_rng(seed).choice(index, size=limit, replace=False))
    items = [item for start in range(0, index.size, BATCH)
             for item in dataset.__getitems__(index[start:start + BATCH].tolist())]
    stack = lambda key: np.stack([np.asarray(item[key]) for item in items])  # noqa: E731
    recordings = np.asarray([dataset.recordings[int(item["recording"])] for item in items])
    return stack("eeg"), stack("ecg"), stack("label"), recordings, stack("epoch")


def taps_of(encoder, signal: np.ndarray) -> tuple[dict[str, list[np.ndarray]], np.ndarray]:
    """Attention maps per tap group (lists of (n, L_layer) float32) and bottleneck summaries (n, 2 * C)."""
    import torch

    from sleep_kd.losses.attention import attention_map

    maps: dict[str, list[list[np.ndarray]]] = {g: [] for g in GROUPS}
    summaries = []
    encoder.eval()
    with torch.no_grad():
        for start in range(0, len(signal), BATCH):
            _, taps = encoder(torch.from_numpy(signal[start:start + BATCH]), return_taps=True)
            for group in GROUPS:
                layers = [attention_map(t).numpy() for t in taps[group]]
                if not maps[group]:
                    maps[group] = [[] for _ in layers]
                for store, layer in zip(maps[group], layers):
                    store.append(layer)
            bottleneck = taps["bottleneck"][0].float()
            summaries.append(torch.cat([bottleneck.mean(-1), bottleneck.std(-1)], dim=1).numpy())
    return {g: [np.concatenate(parts) for parts in layers] for g, layers in maps.items()}, np.concatenate(summaries)


def map_distance(student: dict, teacher: dict) -> dict[str, float]:
    """AT's distance per group: mean over layers of the mean squared map difference."""
    return {g: float(np.mean([np.mean((s - t) ** 2) for s, t in zip(student[g], teacher[g])])) for g in GROUPS}


def probe_kappa(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_ys: dict[str, np.ndarray]) -> dict:
    """Kappa of a standardised multinomial logistic regression, fitted on train, against each test label set."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import cohen_kappa_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(train_x, train_y)
    predicted = probe.predict(test_x)
    return {f"probe_kappa_vs_{name}": float(cohen_kappa_score(y[y >= 0], predicted[y >= 0]))
            for name, y in test_ys.items()}


def true_stages(truth_dir: Path | None, checkpoint: Path, recordings: np.ndarray, epochs: np.ndarray) -> np.ndarray | None:
    """The generator's true stages of the windows (-1 where unscorable), or None without truth files."""
    if truth_dir is None:
        return None
    from sleep_kd.evaluation.truth import true_classes_of

    from sleep_kd.data.preparation import read_preparation

    data = read_preparation(json.loads((checkpoint / "config.json").read_text()), checkpoint=checkpoint)
    return true_classes_of(data.path, truth_dir, recordings, epochs, n_classes=data.n_classes)


def fold_probe(folder: Path, *, train_windows: int, truth_dir: Path | None) -> dict:
    """The figures of one fold (see the module docstring)."""
    import torch

    from sleep_kd.engine.restore import model_from_checkpoint
    from sleep_kd.models import create_model

    teacher_dir = folder / "eeg_base" / "best"
    teacher = per_epoch_encoder(model_from_checkpoint(teacher_dir)[0])
    train = windows(teacher_dir, "train", limit=train_windows)
    test = windows(teacher_dir, "test", limit=None)
    labels = {"scored": test[2]}
    true = true_stages(truth_dir, teacher_dir, test[3], test[4])
    if true is not None:
        labels["true"] = true
    teacher_maps, teacher_test = taps_of(teacher, test[0])
    _, teacher_train = taps_of(teacher, train[0])
    out = {"test_windows": int(len(test[2])), "train_windows": int(len(train[2])),
           "eeg_teacher": probe_kappa(teacher_train, train[2], teacher_test, labels)}
    students = {"ecg_base": folder / "ecg_base" / "best",
                **{d.name: d / "best" for d in sorted(folder.glob("feat_train-*")) if (d / "best").is_dir()}}
    encoders = {name: per_epoch_encoder(model_from_checkpoint(path)[0]) for name, path in students.items()}
    torch.manual_seed(0)
    encoders["untrained"] = create_model(teacher.config["name"], n_classes=teacher.n_classes,
                                         **{k: v for k, v in teacher.config.items() if k not in ("name", "n_classes")})
    for name, encoder in encoders.items():
        maps, test_x = taps_of(encoder, test[1])
        _, train_x = taps_of(encoder, train[1])
        out[name] = {**{f"at_distance_{g}": d for g, d in map_distance(maps, teacher_maps).items()},
                     **probe_kappa(train_x, train[2], test_x, labels)}
    return out


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="sleep-kd study at_probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, help="a kd_study runs folder")
    parser.add_argument("--context", type=int, default=20, help="the context length to read (0 = one window)")
    parser.add_argument("--train-windows", type=int, default=6000, help="training windows the probe is fitted on")
    parser.add_argument("--truth", type=Path, help="folder of <id>.csv true stages (default: beside the cohort)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    check_context(args.context)
    if not 10 <= args.train_windows <= MAX_TRAIN_WINDOWS:
        raise InputError(f"--train-windows {args.train_windows}: the probe needs 10 to {MAX_TRAIN_WINDOWS} windows")
    if not args.runs.is_dir():
        raise InputError(f"{args.runs}: no such folder (a kd_study runs folder)")
    if args.truth is not None and not args.truth.is_dir():
        raise InputError(f"--truth {args.truth}: no such folder")
    check_report_path(args.out)
    folders = sorted(p / f"context{args.context}" for p in args.runs.glob("fold*")
                     if (p / f"context{args.context}" / "eeg_base" / "best").is_dir()
                     and any((p / f"context{args.context}").glob("feat_train-*/best")))
    if not folders:
        raise InputError(f"{args.runs}: no fold*/context{args.context} with eeg_base/best and feat_train-*/best "
                         "(a kd_study runs folder that trained feat_train?)")
    if args.truth is None:
        beside = teacher_cohort(folders[0]).parent / "truth"
        args.truth = beside if beside.is_dir() else None
    per_fold = [fold_probe(f, train_windows=args.train_windows, truth_dir=args.truth) for f in folders]
    summary = mean_over_folds(per_fold)
    print(f"[at_probe] {len(folders)} fold(s), context {args.context}, mean over folds:")
    for name, value in summary.items():
        if isinstance(value, dict):
            print(f"   {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in value.items()))
    if args.out:
        write_report(args.out, "at_probe", argv, folders, per_fold=per_fold, summary=summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
