"""Softened-logit distillation ``sd`` (Hinton et al., 2015) with the classification part."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sleep_kd.choices import KL_REDUCTIONS
from sleep_kd.errors import InputError
from sleep_kd.losses.registry import Outputs, register_loss

# Hinton et al. use T up to 20; the loss scales by T^2, and T = 1e300 overflows it.
TEMPERATURE_MAX = 100.0


def _check(temperature: float, alpha: float, kl_reduction: str) -> None:
    if not 0 < temperature <= TEMPERATURE_MAX:  # NaN fails both comparisons
        raise InputError(f"loss term 'sd' option 'temperature' must lie in (0, {TEMPERATURE_MAX:g}], "
                         f"got {temperature!r}")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"loss term 'sd' option 'alpha' must lie in [0, 1], got {alpha!r}")
    if kl_reduction not in KL_REDUCTIONS:
        raise InputError(f"loss term 'sd' option 'kl_reduction' must be one of {KL_REDUCTIONS}, got {kl_reduction!r}")


def sd_parts(student: Outputs, teacher: Outputs, targets: torch.Tensor, *, temperature: float = 4.0,
             alpha: float = 0.5, kl_reduction: str = "batchmean") -> dict[str, torch.Tensor]:
    """The two parts of ``sd``: ``kl`` = T^2 KL(p_teacher || p_student) and ``ce`` (hard labels)."""
    _check(temperature, alpha, kl_reduction)
    student_logits, teacher_logits = student.logits.float(), teacher.logits.float()
    if teacher_logits.shape != student_logits.shape:
        raise InputError(
            f"loss term 'sd' needs teacher and student logits of equal shape, got teacher "
            f"{tuple(teacher_logits.shape)} and student {tuple(student_logits.shape)}"
        )
    log_p_student = F.log_softmax(student_logits / temperature, dim=1)
    log_p_teacher = F.log_softmax(teacher_logits / temperature, dim=1)
    kl_sum = F.kl_div(log_p_student, log_p_teacher, reduction="sum", log_target=True)
    # "mean" divides by batch x classes (the seed's defect); "batchmean" is the true KL per sample.
    # Divided here rather than by kl_div's reduction, whose "mean" PyTorch plans to redefine.
    kl = kl_sum / (student_logits.numel() if kl_reduction == "mean" else student_logits.shape[0])
    # T^2 keeps the soft-target gradients on the scale of the hard-label ones (Hinton et al.).
    return {"kl": temperature**2 * kl, "ce": scored_cross_entropy(student_logits, targets)}


def scored_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the rows with a stage (targets >= 0; -2 marks a night nobody scored).

    Every row scored: exactly ``F.cross_entropy``. No row scored: zero, still in the graph (every
    parameter that made the logits gets a zero gradient).
    """
    scored = targets >= 0
    if bool(scored.all()):
        return F.cross_entropy(logits, targets)
    if not bool(scored.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[scored], targets[scored])


@register_loss(needs_teacher=True, parts=sd_parts, label_free=True)
def sd(student: Outputs, teacher: Outputs, targets: torch.Tensor, *, temperature: float = 4.0,
       alpha: float = 0.5, kl_reduction: str = "batchmean") -> torch.Tensor:
    """``alpha * T^2 * KL(p_teacher || p_student) + (1 - alpha) * CE``.

    The KL sees every row the step passes (scored epochs and those of unscored nights); the CE
    only the scored rows (:func:`scored_cross_entropy`).

    Parameters
    ----------
    temperature : float
        T, softening both distributions (the seed: 1).
    alpha : float
        Weight of the distillation part; 1 - alpha weighs the cross-entropy on the labels.
    kl_reduction : {"batchmean", "mean"}
        "mean" reproduces the seed (the KL sum divided by batch x classes).
    """
    parts = sd_parts(student, teacher, targets, temperature=temperature, alpha=alpha, kl_reduction=kl_reduction)
    return alpha * parts["kl"] + (1.0 - alpha) * parts["ce"]
