"""The words each choice key of the config takes, every list written once.

The config schema (``sleep_kd/engine/schema.py``) checks a value against these lists; the code
that acts on the value (the dataset's normalisation, the split, a loss term, the trainer, the
context network) imports its list from here too, so a new word is added in one place and the
error a user sees lists exactly what the code accepts. Registered names (models, strategies,
loss terms, sources) are not here: their registries list them (``sleep_kd.registry``).
"""

from __future__ import annotations

# train.mixed_precision: auto (settled when the config is resolved: sleep_kd.hardware), fp32, fp16, bf16.
MIXED_PRECISIONS = ("auto", "no", "fp16", "bf16")
# train.lr_schedule: a constant rate, or cosine to zero over all optimizer steps.
LR_SCHEDULES = ("none", "cosine")
# train.nonfinite: stop the run at a NaN or Inf loss, or skip the batch and count it.
NONFINITE_POLICIES = ("stop", "skip")

# data.normalization: each window scaled to [0, 1], robust z-score (median / IQR), or as stored.
NORMALIZATIONS = ("minmax", "zscore", "none")
# data.split: the seed's split by subset, subjects pooled, or k subject-wise folds.
SPLIT_METHODS = ("original", "pooled", "kfold")
# "seed" once named the original system's choice (data.split, loss.at.group_weighting); now it is
# only a number. The old word is still read, with a notice.
SEED_ALIASES = {"seed": "original"}

# loss.sd.kl_reduction: KL divergence summed per window and averaged over the batch, or averaged
# over every element as well.
KL_REDUCTIONS = ("batchmean", "mean")
# loss.at.groups: the feature maps a U-Time pass returns (UTime.forward(return_taps=True)).
TAP_GROUPS = ("encoder", "bottleneck", "decoder", "final", "head")
# loss.at.normalize, loss.at.distance, loss.at.group_weighting: see sleep_kd.losses.attention.
AT_NORMALIZATIONS = ("sample", "batch")
AT_DISTANCES = ("l2", "l1")
AT_GROUP_WEIGHTINGS = ("original", "uniform")

# model.overrides.sequence of a context network: the model over the epochs' features.
SEQUENCE_MODELS = ("tcn", "gru", "transformer", "tcn_causal")
