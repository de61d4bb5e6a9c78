"""keep_freed_memory: forward passes stop page-faulting; the opt-out leaves glibc alone."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sleep_kd import allocator

ROOT = Path(__file__).resolve().parents[2]
FAULTS = """
import resource, torch
from sleep_kd.allocator import keep_freed_memory
from sleep_kd.models import create_model
print(keep_freed_memory())
torch.manual_seed(0)
model = create_model("utime_small", n_classes=4).eval()
x = torch.rand(32, 1, model.n_times)
with torch.no_grad():
    model(x)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        model(x)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(**env) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", FAULTS], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), **env}).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_scoring_passes_stop_faulting_pages():
    (kept, faults), (system, system_faults) = _faults(), _faults(SLEEP_KD_MALLOC="system")
    assert (kept, system) == ("True", "False")
    assert system_faults > 5000  # glibc's defaults map the feature maps afresh each pass
    assert faults < system_faults / 5  # here: a few hundred to 3750 against 29,000 for 10 passes


def test_the_opt_out_does_not_touch_malloc(monkeypatch):
    monkeypatch.setenv("SLEEP_KD_MALLOC", "System")
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda *a: pytest.fail("glibc was called"))
    assert allocator.keep_freed_memory() is False


def test_another_c_library_is_left_alone(monkeypatch):
    class Musl:  # no gnu_get_libc_version
        pass

    monkeypatch.delenv("SLEEP_KD_MALLOC", raising=False)
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda *a: Musl())
    assert allocator.keep_freed_memory() is False
