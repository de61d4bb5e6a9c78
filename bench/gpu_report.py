"""The GPU check's short text table, from its JSON report (``bench/gpu.py``). Missing parts read as such."""

from __future__ import annotations


def _cell(entry, key: str, fmt: str = "{}") -> str:
    """``entry[key]`` formatted, or what stands in its place (an error, a skip, a dash)."""
    if not isinstance(entry, dict):
        return "-"
    if key in entry and entry[key] is not None:
        return fmt.format(entry[key])
    return "error" if "error" in entry else ("skipped" if "skipped" in entry else "-")


def header_lines(report: dict) -> list[str]:
    info = report.get("machine", {})
    if not info.get("gpu"):
        return [f"GPU check: no CUDA device on this machine ({info.get('cpu', '?')}, {info.get('cores', '?')} cores, "
                f"torch {info.get('torch', '?')}); GPU figures not measured"]
    return [f"GPU check: {info['gpu']} ({info.get('gpu_memory_gib', '?')} GiB, compute capability "
            f"{info.get('compute_capability', '?')}), driver {info.get('driver', '?')}, "
            f"torch {info.get('torch', '?')}, CUDA {info.get('torch_cuda', '?')}, cuDNN {info.get('cudnn', '?')}"]


def test_lines(tests: dict) -> list[str]:
    if "passed" not in tests:
        return [f"cuda tests: {tests.get('status', 'not run')}"]
    lines = [f"cuda tests (pytest -m cuda tests/gpu): {tests['passed']} passed, {tests['failed']} failed, "
             f"{tests['error']} errors, {tests['skipped']} skipped ({tests.get('status')}, {tests.get('seconds')} s)"]
    lines += [f"  skipped: {reason}" for reason in tests.get("skip_reasons", [])]
    lines += [f"  {t['outcome'].upper()} {t['test']}: {t.get('reason', '')}"[:220]
              for t in tests.get("tests", []) if t["outcome"] in ("failed", "error")]
    for figure in tests.get("figures", []):
        lines.append("  " + figure_line(figure))
    return lines


def figure_line(figure: dict) -> str:
    """One line per figure a cuda test recorded."""
    check = figure.get("check")
    if check in ("evaluate_cuda_vs_cpu", "predict_cuda_vs_cpu"):
        return (f"{check} {figure.get('checkpoint')}: same class on {100 * figure.get('same_fraction', 0):.2f} % of "
                f"{figure.get('windows')} windows, max |dp| {figure.get('max_abs_difference', float('nan')):.2e}")
    if check == "syncs":
        where = "; ".join(f"{k} x{v}" for k, v in list(figure.get("steady_by_location", {}).items())[:4])
        return (f"syncs per step {figure.get('strategy')}/{figure.get('model')}/{figure.get('precision')}: "
                f"{figure.get('per_step')} (allowed {figure.get('allowed')}): {where}")
    if check == "resume":
        return f"resume (--deterministic): weights bit-equal {figure.get('weights_bit_equal')}"
    if check == "fp16_scaler":
        over = figure.get("overflow", {})
        return (f"fp16 forced overflow: weights changed {over.get('weights_changed')}, scale "
                f"{over.get('scale_before')} -> {over.get('scale_after')} (Accelerate's flag says skipped: "
                f"{over.get('accelerate_says_skipped')})")
    if check == "for_scoring_cuda":
        strict, tf32 = figure.get("strict_fp32", {}), figure.get("tf32", {})
        nan = float("nan")
        return (f"for_scoring {figure.get('network')}: max |dlogit| {strict.get('max_abs_difference', nan):.1e} "
                f"fp32, {tf32.get('max_abs_difference', nan):.1e} TF32")
    return f"{check}: " + ", ".join(f"{k} {v}" for k, v in figure.items() if k != "check")[:200]


def speed_lines(speed: dict) -> list[str]:
    if "training" not in speed:
        return [f"speed: {speed.get('skipped', speed.get('error', 'not measured'))}"]
    matmul = speed.get("matmul_tflops", {})
    title = f"training step, batch {speed.get('plan', {}).get('batch', '?')}"
    lines = ["matmul TFLOP/s: " + ", ".join(f"{k} {v}" for k, v in matmul.items()),
             f"{title:34s} {'windows/s':>10s} {'of matmul':>10s} {'peak GiB':>9s}"]
    for model, entry in speed["training"].items():
        for precision, step in entry.items():
            if precision == "gflop_per_window_step":
                continue
            lines.append(f"  {model + ' ' + precision:32s} {_cell(step, 'windows_per_s'):>10s} "
                         f"{_cell(step, 'fraction_of_matmul', '{:.3f}'):>10s} {_cell(step, 'peak_memory_gib'):>9s}")
    for model, entry in speed.get("largest_batch", {}).items():
        for precision, found in entry.items():
            step = found.get("step", {}) if isinstance(found, dict) else {}
            lines.append(f"  largest batch {model} {precision}: {_cell(found, 'largest_batch')} windows "
                         f"(stopped by {_cell(found, 'stopped_by')}): {_cell(step, 'windows_per_s')} windows/s, "
                         f"{_cell(step, 'peak_memory_gib')} GiB")
    for inputs, entry in speed.get("loader", {}).items():
        if inputs != "training_windows_per_s" and isinstance(entry, dict):
            needed = {k[len("workers_needed_"):]: v for k, v in entry.items() if k.startswith("workers_needed_")}
            lines.append(f"  loader {inputs} windows/s by workers {entry.get('windows_per_s_by_workers')}; "
                         f"workers needed to keep up: {needed}")
    epochs = speed.get("plan", {}).get("night_epochs", "?")
    for model, entry in speed.get("scoring_night", {}).items():
        lines.append(f"  night of {epochs} epochs, nights/s, {model}: " + ", ".join(f"{k} {_cell(v, 'nights_per_s')}"
                                                                   for k, v in entry.items()))
    return lines


def format_table(report: dict) -> str:
    """The report as a few dozen lines of text."""
    lines = header_lines(report) + test_lines(report.get("cuda_tests", {})) + speed_lines(report.get("speed", {}))
    return "\n".join(lines) + "\n"
