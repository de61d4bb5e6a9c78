"""Source-agnostic ingest: find nights, read them in parallel, crop, resample, check, store.

Every recording is prepared in a worker process (:func:`prepare_recording`); the parent writes the
results in sorted order so the output is the same whatever ``workers`` is.
"""

from __future__ import annotations

import dataclasses

import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sleep_kd.data.ingest import edf_reader
from sleep_kd.data.ingest.hypnogram import TIME_TOLERANCE_S
from sleep_kd.data.ingest.manifest import read_manifest
from sleep_kd.data.resampling import resample
from sleep_kd.data.ingest.sources import RecordingRef, Source, create_source
from sleep_kd.data.cohort_file import CohortWriter, StoredRecording
from sleep_kd.data.stages import Stage
from sleep_kd.errors import InputError

# Free space wanted beyond the uncompressed size estimate (HDF5 overhead, the tmp file).
DISK_MARGIN = 1.1
# A hypnogram whose scored epochs mostly lie outside the signal describes another recording (or
# is written in another time unit): refused, where a few epochs past the end are only dropped.
MAX_FRACTION_OUTSIDE = 0.5


def stage_counts(stages) -> dict[str, int]:
    """Epochs per stage name, in :class:`Stage` order, stages that occur only."""
    codes, counts = np.unique(np.asarray(stages), return_counts=True)
    found = {Stage(int(code)).name: int(count) for code, count in zip(codes, counts)}
    return {stage.name: found[stage.name] for stage in Stage if stage.name in found}


@dataclass
class IngestSummary:
    """What a run wrote: recording ids, skipped recordings with reasons, hours, epochs per stage.

    ``per_recording`` holds each written recording's epochs per stage (printed, so that a
    mislabelled night, e.g. all W or no REM, is visible at once).
    """

    out: Path
    written: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    hours: float = 0.0
    epochs_per_stage: dict[str, int] = field(default_factory=dict)
    per_recording: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unscored: list[str] = field(default_factory=list)  # written as nights nobody scored (--unscored)

    def format(self) -> str:
        def counts(table: dict[str, int]) -> str:
            return ", ".join(f"{name} {count}" for name, count in table.items()) or "none"

        scored = len(self.written) - len(self.unscored)
        lines = [f"wrote {len(self.written)} recordings ({self.hours:.2f} h) to {self.out}: {scored} scored, "
                 f"{len(self.unscored)} unscored",
                 f"epochs per stage: {counts(self.epochs_per_stage)}"]
        lines += [f"  {rid}: {counts(self.per_recording.get(rid, {}))}" for rid in self.written]
        lines += [f"warning: {text}" for text in self.warnings]
        lines.append(f"skipped {len(self.skipped)} recordings" + (":" if self.skipped else ""))
        lines += [f"  {rid}: {reason}" for rid, reason in self.skipped]
        return "\n".join(lines)


def check_describes(epochs, *, duration_s: float, source: str) -> np.ndarray:
    """Refuse a hypnogram most of whose scored epochs fall outside ``[0, duration_s]`` seconds of signal.

    Such a file cannot describe this recording (another night's file, or times in another unit).
    Ingest and ``sleep_kd.predict`` both call this one check. Returns the (n_epochs,) bool mask of
    the epochs inside the signal.
    """
    inside = (epochs.onset >= -TIME_TOLERANCE_S) & (
        epochs.onset + epochs.duration <= duration_s + TIME_TOLERANCE_S)
    scored = epochs.stage >= 0  # unscored epochs past the end are expected (Sleep-EDF's 24 h files)
    outside = int((scored & ~inside).sum())
    if outside and outside > MAX_FRACTION_OUTSIDE * int(scored.sum()):
        raise InputError(
            f"{source}: {outside} of the hypnogram's {int(scored.sum())} scored epochs lie outside the "
            f"signal's {duration_s:g} s (last epoch ends at {float((epochs.onset + epochs.duration).max()):g} s): "
            "it does not describe this recording (another night's file, or times in another unit?)")
    return inside


def _fit_epochs(epochs, *, duration_s: float, policy: str, source: str):
    """Drop (or reject, by ``policy``) epochs outside ``[0, duration_s]`` seconds; see :func:`check_describes`."""
    inside = check_describes(epochs, duration_s=duration_s, source=source)
    if policy == "error" and not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        raise InputError(
            f"{source}: annotation at {epochs.onset[i]:g} s (+{epochs.duration[i]:g} s) runs past "
            f"the signal, which lasts {duration_s:g} s from the first annotation"
        )
    epochs = epochs.select(inside)
    if len(epochs) == 0:
        raise InputError(f"{source}: no scoring epoch falls inside the {duration_s:g} s of signal")
    return epochs


def prepare_recording(source: Source, ref: RecordingRef, *, sfreq: float, root: Path) -> StoredRecording:
    """Read one night through ``source`` and bring it to the cohort schema at ``sfreq`` Hz.

    The source file's SHA-256 is computed in a thread while MNE reads it (1.26x on 8-h nights).
    """
    with ThreadPoolExecutor(max_workers=1) as hasher:
        digest = hasher.submit(edf_reader.sha256_file, ref.signal_file)
        return _to_schema(source.read(ref), ref, sfreq=sfreq, root=root, digest=digest.result)


def _to_schema(night, ref: RecordingRef, *, sfreq: float, root: Path, digest) -> StoredRecording:
    """A night as read by its source, resampled, cut and described; ``digest()`` gives the source's SHA-256."""
    name = ref.signal_file.name
    signals = {modality: (signal, rate) for modality, signal, rate in
               (("eeg", night.eeg, night.eeg_sfreq), ("ecg", night.ecg, night.ecg_sfreq)) if signal is not None}
    for modality, (_, rate) in signals.items():
        if rate + 1e-9 < sfreq:
            raise InputError(f"{name}: {modality.upper()} sampled at {rate:g} Hz, below the target "
                             f"{sfreq:g} Hz (pass --sfreq {rate:g} or lower)")
    first_rate = next(iter(signals.values()))[1]  # the crop falls on a sample of the first signal
    start_s = int(round(night.start_s * first_rate)) / first_rate
    resampled = {
        modality: resample(x[int(round(start_s * rate)):], sfreq_in=rate, sfreq_out=sfreq)
        for modality, (x, rate) in signals.items()
    }
    for modality, x in resampled.items():  # what is stored must still carry the signal (float32, at sfreq)
        edf_reader.check_signal(x, source=name, channel=night.attrs.get(f"{modality}_derivation") or modality,
                                when=f"after resampling to {sfreq:g} Hz")
    n_samples = min(x.size for x in resampled.values())
    if n_samples == 0:
        raise InputError(f"{name}: the signal ends before the first annotation at {night.start_s:g} s")
    duration_s = n_samples / sfreq
    epochs = _fit_epochs(night.epochs.shifted(-start_s), duration_s=duration_s,
                         policy=night.epochs_past_end, source=name)
    attrs = dict(night.attrs)
    attrs.update(
        subject=ref.subject, subset=ref.subset,
        eeg_sfreq_original=float(night.eeg_sfreq) if night.eeg is not None else float("nan"),
        ecg_sfreq_original=float(night.ecg_sfreq) if night.ecg is not None else float("nan"),
        source_file=_relative(ref.signal_file, root),
        hypnogram_file=_relative(ref.hypnogram_file, root) if ref.scored else "",
        scored=bool(ref.scored),
        source_sha256=digest(),
        start_offset_s=float(start_s), duration_s=float(duration_s),
    )
    eeg, ecg = resampled.get("eeg"), resampled.get("ecg")
    return StoredRecording(ref.recording_id, None if eeg is None else eeg[:n_samples],
                           None if ecg is None else ecg[:n_samples], epochs, attrs)


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _prepare_or_reason(source: Source, ref: RecordingRef, sfreq: float, root: Path):
    """Worker entry: a StoredRecording, or the one-line reason the night was rejected."""
    for kind, path in (("signal", ref.signal_file), ("hypnogram", ref.hypnogram_file))[:2 if ref.scored else 1]:
        if ref.listed_in and not Path(path).is_file():  # a manifest row names files that may not exist
            return f"{ref.listed_in}: {kind} file {path} not found"
    try:
        return prepare_recording(source, ref, sfreq=sfreq, root=root)
    except InputError as error:
        return str(error)


def _estimate_bytes(refs: list[RecordingRef], *, sfreq: float) -> int:
    """Uncompressed size of the output: two float32 channels over each night's duration."""
    total = 0
    for ref in refs:
        try:
            total += int(edf_reader.read_header(ref.signal_file).duration_s * sfreq * 4 * 2)
        except InputError:
            continue  # that night will be skipped with its own reason
    return total


def check_output(out: Path) -> None:
    """InputError, before any work, when ``out`` cannot become the cohort file.

    ``out`` must not be a folder, and its folder must exist (or be creatable) and take a new file:
    a probe file is created there and removed at once.
    """
    if out.is_dir():
        raise InputError(f"{out}: --out is an existing folder; expected a file path such as {out / 'cohort.h5'}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent, prefix=f".{out.name}.probe-"):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"{out.parent}: cannot write the cohort file {out.name} there ({reason})") from None


def check_disk_space(out: Path, needed_bytes: int) -> None:
    """InputError when the output folder has less free space than ``needed_bytes`` x margin."""
    free = shutil.disk_usage(out.parent).free
    if free < needed_bytes * DISK_MARGIN:
        raise InputError(f"{out.parent}: not enough free disk space for {out.name} "
                         f"(need about {needed_bytes * DISK_MARGIN / 1e6:.0f} MB, have {free / 1e6:.0f} MB)")


def _one_blas_thread() -> None:
    """Worker initialiser: one BLAS thread each, so ``workers`` processes share the cores evenly."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _results(source, refs, *, sfreq, root, workers):
    """Yield (ref, StoredRecording | reason) in the order of ``refs``."""
    if workers <= 1:
        for ref in refs:
            yield ref, _prepare_or_reason(source, ref, sfreq, root)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_one_blas_thread) as pool:
        futures = [pool.submit(_prepare_or_reason, source, ref, sfreq, root) for ref in refs]
        try:
            for ref, future in zip(refs, futures):
                yield ref, future.result()
        finally:
            for future in futures:
                future.cancel()


def _as_unscored(ref: RecordingRef) -> RecordingRef:
    """``ref`` as a night nobody scored when it has no hypnogram file (and no pairing problem)."""
    listed_file = ref.listed_in and Path(ref.hypnogram_file) != Path("")  # a manifest names a file: it must exist
    if ref.pairing_problem or listed_file or Path(ref.hypnogram_file).is_file():
        return ref
    return dataclasses.replace(ref, scored=False)


def _find(adapter, source: str, root, manifest, *, unscored: bool = False) -> tuple[Path, list[RecordingRef]]:
    """The recordings to read: listed in ``manifest`` (paths relative to it) or found under ``root``."""
    if manifest is not None:
        manifest = Path(manifest)
        return Path(root) if root is not None else manifest.parent, read_manifest(manifest, adapter=adapter,
                                                                                    unscored=unscored)
    if root is None:
        raise InputError("ingest needs --root DIR or --manifest FILE.csv")
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: --root is not a folder")
    refs = adapter.find(root)
    if not refs:
        raise InputError(f"{root}: found no recordings for source {source!r}")
    return root, refs


def ingest(source: str, root, out, *, sfreq: float = 200.0, workers: int = 1, strict: bool = False,
           progress: bool = True, manifest=None, unscored: bool = False, **source_options) -> IngestSummary:
    """Turn the recordings of ``source`` under ``root`` (or listed in ``manifest``) into ``out``.

    Bad nights are skipped with a one-line reason (``strict``: the run stops with InputError and
    nothing is written). InputError when no recording could be written, or none holds a scored
    epoch; a previous ``out`` is only replaced by a complete new file. ``out`` is checked first.
    ``unscored``: a recording with signals and no hypnogram file (a manifest row with an empty
    ``hypnogram`` cell) is kept as a night nobody scored, every epoch stored unscored and the
    recording's ``scored`` attribute False; without it, such a recording is skipped with its reason.
    A recording whose scoring is ambiguous is skipped either way.
    """
    out = Path(out)
    if not isinstance(sfreq, (int, float)) or not np.isfinite(sfreq) or sfreq <= 0:
        raise InputError(f"--sfreq must be a positive number of Hz, got {sfreq!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"--workers must be a whole number of processes, at least 1; got {workers!r}")
    check_output(out)
    adapter = create_source(source, **source_options)
    root, refs = _find(adapter, source, root, manifest, unscored=unscored)
    if unscored:
        refs = [_as_unscored(ref) for ref in refs]
    ids = [ref.recording_id for ref in refs]
    duplicates = sorted({rid for rid in ids if ids.count(rid) > 1})
    if duplicates:
        raise InputError(f"{root}: recording id {duplicates[0]!r} found more than once (ids must be unique)")
    check_disk_space(out, _estimate_bytes(refs, sfreq=sfreq))
    summary = IngestSummary(out=out)
    bar = tqdm(total=len(refs), desc=f"ingest {source}", unit="night", disable=not progress, file=sys.stderr)
    with CohortWriter(out, sfreq=sfreq, source=source) as writer:
        for ref, result in _results(adapter, refs, sfreq=sfreq, root=root, workers=workers):
            bar.update(1)
            if isinstance(result, str):
                if strict:
                    raise InputError(result)
                summary.skipped.append((ref.recording_id, result))
                bar.write(f"skipped {ref.recording_id}: {result}", file=sys.stderr)
                continue
            writer.add(result)
            _count(summary, ref.recording_id, result, bar=bar)
        bar.close()
        if not summary.written:
            first = summary.skipped[0][1] if summary.skipped else "none found"
            raise InputError(f"{root}: no recording could be written ({len(summary.skipped)} skipped; first: {first})")
        summary.epochs_per_stage = _total(summary.per_recording.values())
        if not any(Stage[name] >= 0 for name in summary.epochs_per_stage):
            raise InputError(f"{root}: none of the {len(summary.written)} recordings has a scored epoch "
                             "(all unscored or movement): nothing to train or evaluate on")
    return summary


def _total(tables) -> dict[str, int]:
    """Per-stage counts summed over recordings, in :class:`Stage` order."""
    total: dict[str, int] = {}
    for table in tables:
        for name, count in table.items():
            total[name] = total.get(name, 0) + count
    return {stage.name: total[stage.name] for stage in Stage if stage.name in total}


def _count(summary: IngestSummary, rid: str, recording: StoredRecording, *, bar) -> None:
    """Add a written recording to the summary; warn when it holds no scored epoch."""
    summary.written.append(rid)
    summary.hours += recording.attrs["duration_s"] / 3600.0
    summary.per_recording[rid] = stage_counts(recording.epochs.stage)
    if not recording.attrs.get("scored", True):
        summary.unscored.append(rid)
        return
    if not (recording.epochs.stage >= 0).any():
        text = f"{rid}: no scored epoch (all {len(recording.epochs)} unscored or movement)"
        summary.warnings.append(text)
        bar.write(f"warning: {text}", file=sys.stderr)
