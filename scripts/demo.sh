#!/usr/bin/env bash
# The main job: set up, build the embedded synthetic cohort, train the whole 4-class chain
# (eeg_base, feat_train, feat_temp, ecg_base, feat_wce, kd_temp) with night context (context_small:
# the seed's U-Time per 30-s epoch, a dilated convolution over 20 epochs = 10 minutes; the teacher
# has the same context), evaluate, print the table with the reference pipeline first.
#   MODEL=utime_small bash scripts/demo.sh   trains the one-window chain instead.
# Precision: auto (the default) trains in bf16 where the CPU or GPU runs it natively (AVX512-BF16,
# AMX, CUDA compute 8.0+) and in fp32 elsewhere, where bf16 is emulated and far slower; the first
# lines of each run say which. Pass --mixed-precision no (or bf16) to choose yourself.
#   bash scripts/demo.sh            (extra arguments go to every train_loop.py call)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
py="${VENV:-.venv}/bin/python"
start=$(date +%s)
model="${MODEL:-context_small}"
# One runs root per model: prerequisites are looked up beside a run, and a one-window teacher or
# starting point must not be picked up by a context chain (nor the reverse).
root="runs"; [ "$model" = utime_small ] || root="runs/$model"
# feat_temp pulls in its prerequisites (eeg_base teacher, feat_train student) and says so.
for strategy in feat_temp ecg_base feat_wce kd_temp; do
  "$py" train_loop.py --strategy "$strategy" --classes 4 --model "$model" --runs "$root" "$@"
done
runs="$root/synthetic-default/4class"
"$py" scripts/demo_reference.py | tee "$runs/reference.txt"
"$py" evaluate.py "$runs/eeg_base/best" --compare "$runs/ecg_base/best" "$runs/kd_temp/best" \
  "$runs/feat_wce/best" "$runs/feat_temp/best" --json "$runs/comparison.json" | tee "$runs/comparison.txt" \
  | sed -n '/^model /,$p'
echo "[sleep_kd] the whole chain took $(( $(date +%s) - start )) s (after setup); reports in $runs/comparison.*"
