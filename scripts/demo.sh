#!/usr/bin/env bash
# The main job: set up, build the embedded synthetic cohort, train the 4-class chain with night
# context (context_small: the seed's U-Time per 30-s epoch, a dilated convolution over 20 epochs =
# 10 minutes; the teacher has the same context), evaluate, print the table with the reference
# pipeline first, then what one run can show and what it cannot (sleep-kd study demo_note).
#
# It trains the comparison the studies support (night context: the ECG base with one window and
# with 20 epochs) and the one they do not (the EEG teacher: eeg_base and kd_temp); ALL=1 adds the
# attention-transfer students (feat_train, feat_temp, feat_wce: all six strategies, ~60 % longer).
#
# Recipe (docs/context.md, "The recipe"): first a one-window EEG and a one-window ECG baseline;
# every context model then starts its per-epoch encoder from one of them (paths.encoder_init):
# from scratch, an ECG context model sits at the class prior for its first ~30,000 windows, more
# than the demo trains. Subject-wise fold 0 of 5 (test 5 subjects, validation 5, training 14).
# Budgets, in epochs x training windows drawn at random each epoch (train.windows_per_epoch):
# the EEG runs 2 x 5,000 (EEG is learnt in the first epoch), the one-window ECG base 4 x 6,000
# (it leaves the class prior only after ~15,000 windows: with 3 x 5,000 it stayed there on some
# CPUs and every context student started from nothing), every context student 3 x 5,000. Its
# time: docs/demo.md.
#   MODEL=utime_small bash scripts/demo.sh   trains the one-window chain instead (3 x 5,000 each).
#   EPOCHS=4 WINDOWS=6000 bash scripts/demo.sh   sets the students' budget (defaults 3 and 5000).
#   ALL=1 bash scripts/demo.sh   trains all six strategies.
# Precision: auto (the default) trains in fp32 on every machine: bf16 autocast bends the ECG
# students' gradients, natively or not (docs/precision.md); the first lines of each run say so. Pass
# the option --mixed-precision with the value bf16 to train in bf16 anyway.
#   bash scripts/demo.sh            (extra arguments go to every train_loop.py call)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
py="${VENV:-.venv}/bin/python"
start=$(date +%s)
model="${MODEL:-context_small}"
budget=(--classes 4 --epochs "${EPOCHS:-3}" --set data.split=kfold --set "train.windows_per_epoch=${WINDOWS:-5000}")
train() { "$py" train_loop.py "${budget[@]}" "$@"; }
one="runs/synthetic-default/4class"  # the one-window runs (MODEL=utime_small's own root)
students=(ecg_base kd_temp)
rows_feat=()
if [ "${ALL:-0}" = 1 ]; then
  # feat_temp pulls in its prerequisites (eeg_base teacher, feat_train student) and says so.
  students=(feat_temp ecg_base feat_wce kd_temp)
fi
if [ "$model" = utime_small ]; then
  runs="$one"
  for strategy in eeg_base "${students[@]}"; do
    train --strategy "$strategy" --model utime_small --runs runs "$@"
  done
  rows=("$runs/ecg_base/best")
else
  # One runs root per model: prerequisites are looked up beside a run, and a one-window teacher or
  # starting point must not be picked up by a context chain (nor the reverse).
  root="runs/$model"
  runs="$root/synthetic-default/4class"
  # Later options win: the EEG runs and the one-window ECG base get their own budgets.
  eeg=(--epochs 2 --set train.windows_per_epoch=5000)
  train --strategy eeg_base --model utime_small --runs runs "${eeg[@]}" "$@"
  train --strategy ecg_base --model utime_small --runs runs --epochs 4 --set train.windows_per_epoch=6000 "$@"
  train --strategy eeg_base --model "$model" --runs "$root" --set "paths.encoder_init=$one/eeg_base/best" "${eeg[@]}" "$@"
  # feat_temp trains feat_train first (from the same ECG encoder) and finds the context eeg_base.
  for strategy in "${students[@]}"; do
    train --strategy "$strategy" --model "$model" --runs "$root" --set "paths.encoder_init=$one/ecg_base/best" "$@"
  done
  rows=("$runs/ecg_base/best" "$one/ecg_base/best")  # the students are measured against the first: context
fi
"$py" -m sleep_kd.cli reference | tee "$runs/reference.txt"
[ "${ALL:-0}" = 1 ] && rows_feat=("$runs/feat_wce/best" "$runs/feat_temp/best")
"$py" evaluate.py "$runs/eeg_base/best" --compare "${rows[@]}" "$runs/kd_temp/best" \
  "${rows_feat[@]}" --json "$runs/comparison.json" | tee "$runs/comparison.txt" \
  | sed -n '/^model /,$p'
"$py" -m sleep_kd.cli study demo_note
echo "[sleep_kd] the whole chain took $(( $(date +%s) - start )) s (after setup); reports in $runs/comparison.*"
