#!/usr/bin/env bash
# The main job: set up, build the embedded synthetic cohort, train the whole 4-class chain
# (eeg_base, feat_train, feat_temp, ecg_base, feat_wce, kd_temp), evaluate, print the table.
# bf16 autocast: 1.4x faster than fp32 on CPUs with AVX512-BF16 or AMX (bench/README.md).
#   bash scripts/demo.sh            (extra arguments go to every train_loop.py call)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
py="${VENV:-.venv}/bin/python"
start=$(date +%s)
# feat_temp pulls in its prerequisites (eeg_base teacher, feat_train student) and says so.
for strategy in feat_temp ecg_base feat_wce kd_temp; do
  "$py" train_loop.py --strategy "$strategy" --classes 4 --mixed-precision bf16 "$@"
done
runs="runs/synthetic-default/4class"
"$py" evaluate.py "$runs/eeg_base/best" --compare "$runs/ecg_base/best" "$runs/kd_temp/best" \
  "$runs/feat_wce/best" "$runs/feat_temp/best" --json "$runs/comparison.json" | tee "$runs/comparison.txt" \
  | sed -n '/^model /,$p'
echo "[sleep_kd] the whole chain took $(( $(date +%s) - start )) s (after setup); reports in $runs/comparison.*"
