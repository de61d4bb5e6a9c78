"""``mixed_precision: auto``: fp32 for training on every device; bf16 only when asked (docs/precision.md)."""

import yaml
import pytest

import train_loop
from sleep_kd import hardware
from sleep_kd.errors import InputError


@pytest.fixture
def cpu_bf16(monkeypatch):
    """``cpu_bf16(True/False)``: pretend the CPU has (or lacks) native bf16, through the one check."""
    monkeypatch.delenv(hardware.FORCE_ENV, raising=False)

    def pretend(native: bool) -> None:
        monkeypatch.setattr(hardware, "cpu_runs_bf16_natively", lambda: native)
    return pretend


def test_auto_is_fp32_on_a_cpu_without_native_bf16(cpu_bf16):
    cpu_bf16(False)
    precision, why = hardware.resolve_mixed_precision("auto", cuda=False)
    assert precision == "no"
    assert why == "fp32 (auto: this CPU has no native bf16, where bf16 would be emulated and slower)"


def test_auto_trains_in_fp32_on_a_cpu_with_native_bf16_and_says_why(cpu_bf16):
    cpu_bf16(True)
    assert hardware.resolve_mixed_precision("auto", cuda=False) == (
        "no", "fp32 (auto: this CPU runs bf16 natively, but bf16 trains the ECG students less accurately than "
              "fp32; docs/precision.md)")


def test_auto_trains_in_fp32_on_a_cuda_gpu_with_native_bf16(monkeypatch):
    monkeypatch.setattr(hardware, "native_bf16", lambda *, cuda: cuda)
    precision, why = hardware.resolve_mixed_precision("auto", cuda=True)
    assert precision == "no" and why.startswith("fp32 (auto: this CUDA GPU runs bf16 natively, but")


def test_bf16_asked_for_is_kept_and_its_cost_is_named(cpu_bf16):
    cpu_bf16(True)
    assert hardware.resolve_mixed_precision("bf16", cuda=False) == (
        "bf16", "bf16 as asked (this CPU runs bf16 natively); bf16 trains the ECG students less accurately "
                "than fp32 (docs/precision.md)")


def test_asked_precisions_are_kept_and_emulated_bf16_is_named(cpu_bf16):
    cpu_bf16(False)
    assert hardware.resolve_mixed_precision("no", cuda=False) == ("no", "fp32 as asked")
    precision, why = hardware.resolve_mixed_precision("bf16", cuda=False)
    assert precision == "bf16" and "has no native bf16" in why


def test_auto_never_picks_fp16_and_fp16_off_cuda_is_refused(cpu_bf16):
    cpu_bf16(True)
    assert hardware.resolve_mixed_precision("auto", cuda=False)[0] != "fp16"
    with pytest.raises(InputError, match="fp16 needs a CUDA GPU"):
        hardware.resolve_mixed_precision("fp16", cuda=False)


def test_the_environment_override_forces_either_answer(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_runs_bf16_natively", lambda: True)
    monkeypatch.setenv(hardware.FORCE_ENV, "0")
    assert hardware.native_bf16(cuda=False) is False
    monkeypatch.setattr(hardware, "cpu_runs_bf16_natively", lambda: False)
    monkeypatch.setenv(hardware.FORCE_ENV, "1")
    assert hardware.native_bf16(cuda=False) is True


@pytest.mark.parametrize("native, expected", [(False, "no"), (True, "no")])
def test_a_run_saves_and_prints_the_precision_auto_chose(native, expected, cpu_bf16, tiny_cohort, tmp_path,
                                                         train_args, capsys):
    cpu_bf16(native)
    out = tmp_path / "run"
    assert train_loop.main(["--strategy", "ecg_base", *train_args(tiny_cohort, tmp_path, "--out", str(out),
                                                                  "--max-steps", "1")]) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["train"]["mixed_precision"] == expected
    chosen = "fp32 (auto: this CPU runs bf16 natively, but" if native else "fp32 (auto: this CPU has no native bf16"
    assert f"[sleep_kd] mixed precision: {chosen}" in capsys.readouterr().out


def test_auto_is_the_default():
    from sleep_kd.engine.config import defaults

    assert defaults()["train"]["mixed_precision"] == "auto"


def test_a_cpu_limited_to_avx2_is_seen_as_without_native_bf16(tmp_path):
    """oneDNN's ISA cap is how an AVX2-only CPU is imitated here: the real check must follow it."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != hardware.FORCE_ENV}
    env["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    code = "from sleep_kd.hardware import resolve_mixed_precision as r; print(r('auto', cuda=False)[0])"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert result.stdout.strip() == "no"


@pytest.fixture
def cpu(monkeypatch):
    """``cpu(flags, onednn=True, machine="x86_64")``: pretend the CPU reports these flags."""
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)

    def pretend(flags, *, onednn: bool = True, machine: str = "x86_64") -> None:
        monkeypatch.setattr(hardware, "cpu_flags", lambda: None if flags is None else set(flags.split()))
        monkeypatch.setattr(hardware, "onednn_has_bf16", lambda: onednn)
        monkeypatch.setattr(hardware.platform, "machine", lambda: machine)
    return pretend


ICE_LAKE = "fma avx avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni"  # AVX-512, no bf16 arithmetic


def test_an_avx512_cpu_without_avx512_bf16_is_not_native_although_onednn_says_bf16(cpu):
    """oneDNN's check says yes on any AVX-512 CPU; there bf16 is emulated (0.76x of fp32, docs/speed.md)."""
    cpu(ICE_LAKE, onednn=True)
    assert hardware.cpu_runs_bf16_natively() is False


@pytest.mark.parametrize("extra", ["avx512_bf16", "amx_bf16 amx_tile"])
def test_a_cpu_with_bf16_arithmetic_is_native(cpu, extra):
    cpu(f"{ICE_LAKE} {extra}")
    assert hardware.cpu_runs_bf16_natively() is True


def test_no_onednn_bf16_means_not_native_whatever_the_flags(cpu):
    cpu(f"{ICE_LAKE} avx512_bf16", onednn=False)
    assert hardware.cpu_runs_bf16_natively() is False


@pytest.mark.parametrize("cap, native", [("AVX512_CORE_VNNI", False), ("avx2", False), ("AVX512_CORE_BF16", True),
                                         ("AVX512_CORE_AMX", True), ("ALL", True)])
def test_a_onednn_isa_cap_below_bf16_makes_a_bf16_cpu_emulate(cpu, monkeypatch, cap, native):
    cpu(f"{ICE_LAKE} avx512_bf16")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert hardware.cpu_runs_bf16_natively() is native


@pytest.mark.parametrize("onednn", [True, False])
def test_off_x86_or_without_cpuinfo_onednn_decides(cpu, onednn):
    cpu("fp asimd bf16", onednn=onednn, machine="aarch64")
    assert hardware.cpu_runs_bf16_natively() is onednn
    cpu(None, onednn=onednn)
    assert hardware.cpu_runs_bf16_natively() is onednn


def test_the_speed_flags_are_read_from_the_flags_line(cpu):
    cpu(f"{ICE_LAKE} avx512_bf16")
    assert hardware.cpu_speed_flags() == ["avx2", "fma", "avx512f", "avx512_bf16"]


def test_the_precision_is_settled_once_when_the_config_is_resolved_and_recorded_in_it(cpu_bf16, monkeypatch):
    from sleep_kd.engine.config import resolve_config

    cpu_bf16(False)
    monkeypatch.setattr(hardware, "trains_on_cuda", lambda *, cpu: False)
    train = resolve_config("ecg_base")["train"]
    assert (train["mixed_precision"], train["precision_reason"]) == (
        "no", "fp32 (auto: this CPU has no native bf16, where bf16 would be emulated and slower)")
    train = resolve_config("ecg_base", set_pairs=["train.mixed_precision=bf16"])["train"]
    assert train["mixed_precision"] == "bf16" and train["precision_reason"].startswith("bf16 as asked (this CPU has no")


def test_a_reason_written_in_a_config_file_is_replaced_by_the_settled_one(cpu_bf16, tmp_path):
    from sleep_kd.engine.config import resolve_config

    cpu_bf16(True)
    mine = tmp_path / "mine.yaml"
    mine.write_text("train:\n  mixed_precision: 'no'\n  precision_reason: bf16 because I say so\n")
    train = resolve_config("ecg_base", config_file=mine, set_pairs=["train.cpu=true"])["train"]
    assert (train["mixed_precision"], train["precision_reason"]) == ("no", "fp32 as asked")


def test_fp16_without_a_gpu_is_refused_when_the_config_is_resolved():
    from sleep_kd.engine.config import resolve_config

    with pytest.raises(InputError) as error:
        resolve_config("ecg_base", set_pairs=["train.mixed_precision=fp16", "train.cpu=true"])
    assert str(error.value) == ("train.mixed_precision fp16 needs a CUDA GPU (it relies on grad scaling); "
                                "use bf16 or auto on the CPU")


def test_the_trainer_refuses_a_config_whose_precision_was_never_settled():
    from sleep_kd.engine.trainer import precision_line

    with pytest.raises(ValueError, match=r"precision is not settled \(train.mixed_precision 'auto'\)"):
        precision_line({"train": {"mixed_precision": "auto", "precision_reason": None}})
    assert precision_line({"train": {"mixed_precision": "no", "precision_reason": "fp32 as asked"}}) == \
        "[sleep_kd] mixed precision: fp32 as asked"
