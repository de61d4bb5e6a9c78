"""The six training variants of the seed (its ``--model_type`` names) and our controls, as data."""

from __future__ import annotations

from sleep_kd.strategies.registry import Strategy, register_strategy

EEG_BASE = register_strategy(Strategy(
    name="eeg_base", student_modality="eeg", terms={"ce": 1.0},
    description="stage 1: the EEG teacher, cross-entropy on EEG from scratch",
))
ECG_BASE = register_strategy(Strategy(
    name="ecg_base", student_modality="ecg", terms={"ce": 1.0},
    description="stage 1: the ECG baseline, cross-entropy on ECG from scratch",
))
FEAT_TRAIN = register_strategy(Strategy(
    name="feat_train", student_modality="ecg", terms={"at": 1.0, "ce": 0.0}, teacher="eeg_base",
    best_metric="at_loss", best_mode="min",
    description="stage 2: attention transfer from the frozen EEG teacher; the ECG CE is logged, not trained",
))
FEAT_TEMP = register_strategy(Strategy(
    name="feat_temp", student_modality="ecg", terms={"sd": 1.0}, teacher="eeg_base", init_from="feat_train",
    description="stage 3 (AT+SD+CL, the proposed model): softened distillation + CE from the feat_train student",
))
FEAT_WCE = register_strategy(Strategy(
    name="feat_wce", student_modality="ecg", terms={"wce": 1.0}, init_from="feat_train",
    description="stage 3 (AT+CL): weighted cross-entropy from the feat_train student",
))
KD_TEMP = register_strategy(Strategy(
    name="kd_temp", student_modality="ecg", terms={"sd": 1.0}, teacher="eeg_base",
    description="stage 2 (SD+CL): softened distillation + CE from the frozen EEG teacher, student from scratch",
))
ECG_SELF = register_strategy(Strategy(
    name="ecg_self", student_modality="ecg", terms={"sd": 1.0}, teacher="ecg_base", teacher_modality="ecg", control=True,
    description="control (self-training, noisy student): the frozen ECG base teaches a fresh ECG student with the "
                "same softened distillation + CE as kd_temp, over scored and unscored nights",
))
