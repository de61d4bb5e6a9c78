"""Attention transfer ``at`` (Zagoruyko & Komodakis, ICLR 2017) on the U-Time feature taps."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from sleep_kd.choices import AT_DISTANCES as DISTANCES
from sleep_kd.choices import AT_GROUP_WEIGHTINGS as GROUP_WEIGHTINGS
from sleep_kd.choices import AT_NORMALIZATIONS as NORMALIZATIONS
from sleep_kd.choices import SEED_ALIASES
from sleep_kd.choices import TAP_GROUPS as ALL_GROUPS
from sleep_kd.errors import InputError
from sleep_kd.losses.registry import Outputs, register_loss

# Zagoruyko & Komodakis use p = 1, 2 and 4; |x|^p of float32 features overflows long before p = 1e300.
P_MAX = 8.0


def attention_map(features: torch.Tensor, *, p: float = 2, normalize: str = "sample") -> torch.Tensor:
    """Normalised attention map of a feature map.

    Parameters
    ----------
    features : Tensor (B, Ch, L)
    p : float
        Exponent: the map is the sum over channels of |x|^p.
    normalize : {"sample", "batch"}
        "sample": each sample's map has unit L2 norm (the usual attention transfer);
        "batch": unit L2 norm along the batch axis at each position (the seed's).

    Returns
    -------
    Tensor (B, L) float32
    """
    amap = features.float().abs().pow(p).sum(dim=1).flatten(1)
    return F.normalize(amap, p=2.0, dim=1 if normalize == "sample" else 0)


def _layer_distance(student: torch.Tensor, teacher: torch.Tensor, *, p: float, normalize: str,
                    distance: str) -> torch.Tensor:
    diff = attention_map(student, p=p, normalize=normalize) - attention_map(teacher, p=p, normalize=normalize)
    return diff.abs().mean() if distance == "l1" else diff.pow(2).mean()


def _check(p: float, normalize: str, distance: str, group_weighting: str, groups: Sequence[str]) -> None:
    if not 0 < p <= P_MAX:  # NaN fails both comparisons
        raise InputError(f"loss term 'at' option 'p' must lie in (0, {P_MAX:g}], got {p!r}")
    group_weighting = SEED_ALIASES.get(group_weighting, group_weighting)
    for option, value, allowed in (("normalize", normalize, NORMALIZATIONS), ("distance", distance, DISTANCES),
                                   ("group_weighting", group_weighting, GROUP_WEIGHTINGS)):
        if value not in allowed:
            raise InputError(f"loss term 'at' option {option!r} must be one of {allowed}, got {value!r}")
    unknown = [g for g in groups if g not in ALL_GROUPS]
    if unknown or not groups:
        raise InputError(f"loss term 'at' option 'groups' must be a non-empty subset of {ALL_GROUPS}, got {list(groups)}")


def _group_losses(student: Outputs, teacher: Outputs, groups: Sequence[str], **map_options) -> list[list[torch.Tensor]]:
    if student.taps is None or teacher.taps is None:
        raise InputError("loss term 'at' needs feature taps from both student and teacher (return_taps=True)")
    per_group = []
    for group in groups:
        s_layers, t_layers = student.taps.get(group, []), teacher.taps.get(group, [])
        if len(s_layers) != len(t_layers) or not s_layers:
            raise InputError(
                f"loss term 'at' tap group {group!r}: student has {len(s_layers)} layers, teacher "
                f"{len(t_layers)}; expected the same non-zero number"
            )
        losses = []
        for index, (s, t) in enumerate(zip(s_layers, t_layers)):
            if s.shape != t.shape:
                raise InputError(
                    f"loss term 'at' tap {group}[{index}]: student shape {tuple(s.shape)} differs "
                    f"from teacher shape {tuple(t.shape)}"
                )
            losses.append(_layer_distance(s, t, **map_options))
        per_group.append(losses)
    return per_group


@register_loss(needs_teacher=True, needs_taps=True, label_free=True)
def at(student: Outputs, teacher: Outputs, targets: torch.Tensor, *, p: float = 2, normalize: str = "sample",
       distance: str = "l2", groups: Sequence[str] = ALL_GROUPS, group_weighting: str = "original") -> torch.Tensor:
    """Distance between student and teacher attention maps over the tap groups.

    Parameters
    ----------
    p : float
        Exponent of the attention map (sum over channels of |x|^p).
    normalize : {"sample", "batch"}
        See :func:`attention_map`; "batch" is the seed's.
    distance : {"l2", "l1"}
        Mean squared or mean absolute difference of the maps ("l1" is the seed's).
    groups : sequence of str
        Tap groups compared, from ``encoder, bottleneck, decoder, final, head``.
    group_weighting : {"original", "uniform"}
        "original" (old name "seed"): average each group over its layers, then average the groups;
        "uniform": average over all layers.
    """
    groups = list(groups)
    _check(p, normalize, distance, group_weighting, groups)
    per_group = _group_losses(student, teacher, groups, p=p, normalize=normalize, distance=distance)
    if group_weighting == "uniform":
        return torch.stack([loss for losses in per_group for loss in losses]).mean()
    return torch.stack([torch.stack(losses).mean() for losses in per_group]).mean()
