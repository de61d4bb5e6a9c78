"""One training (or validation) step of a strategy: forward passes and the weighted loss terms.

The step knows nothing about Accelerate: the loop wraps the student (DDP, autocast) and calls
``step(batch)``. The teacher stays a separate, frozen module, never a submodule of anything
trainable, so it is never handed to DDP nor to the optimizer.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from sleep_kd.data.stages import UNSCORED_NIGHT
from sleep_kd.errors import InputError
from sleep_kd.losses import LossTerm, Outputs, get_loss, list_losses
from sleep_kd.models.context import context_epochs_of
from sleep_kd.strategies.registry import Strategy


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients into ``module`` and put it in eval mode (BatchNorm on running statistics)."""
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module.eval()


def _resolve_options(strategy: Strategy, loss_options: Mapping[str, Mapping[str, Any]] | None,
                     class_weights: torch.Tensor | None) -> dict[str, dict[str, Any]]:
    """Options of each of the strategy's terms, checked; options of other known terms are checked and ignored."""
    loss_options = dict(loss_options or {})
    for term, options in loss_options.items():
        if term not in list_losses():
            raise InputError(f"loss options given for unknown loss term {term!r}; known loss terms: "
                             f"{', '.join(list_losses())}")
        get_loss(term).check_options(options or {})
    resolved = {}
    for term in strategy.terms:
        options = dict(loss_options.get(term) or {})
        # Terms that take class weights get the training split's, unless the config set them.
        if class_weights is not None and "class_weights" in get_loss(term).option_names:
            options.setdefault("class_weights", class_weights)
        resolved[term] = options
    return resolved


class StrategyStep:
    """Callable computing a strategy's loss on one batch.

    Parameters
    ----------
    strategy : Strategy
    student : nn.Module
        Trainable network (possibly wrapped by DDP): ``student(x, return_taps=...)``.
    teacher : nn.Module or None
        Frozen network, required when ``strategy.teacher`` is set.
    loss_options : dict[str, dict] or None
        ``loss_options[term]`` is passed to that term's function.
    class_weights : Tensor (C,) or None
        Training-split class weights for terms that take ``class_weights`` (``wce``).
    unscored_nights : bool or None
        Whether batches may hold epochs of nights nobody scored. ``False`` (a fully scored run)
        lets a one-window batch skip the per-term row selection, and with it a host sync per term
        and step on a GPU; ``None`` finds out batch by batch.
    """

    def __init__(self, strategy: Strategy, *, student: nn.Module, teacher: nn.Module | None = None,
                 loss_options: Mapping[str, Mapping[str, Any]] | None = None,
                 class_weights: torch.Tensor | None = None, unscored_nights: bool | None = None) -> None:
        if strategy.needs_teacher and teacher is None:
            raise InputError(f"strategy {strategy.name!r} needs a frozen teacher trained by "
                             f"{strategy.teacher!r}: pass --teacher CKPT")
        self.strategy = strategy
        self.student = student
        self.teacher = freeze(teacher) if teacher is not None else None
        self.terms: dict[str, LossTerm] = {term: get_loss(term) for term in strategy.terms}
        self.options = _resolve_options(strategy, loss_options, class_weights)
        self.needs_taps = any(term.needs_taps for term in self.terms.values())
        self.unscored_nights = unscored_nights

    def _run(self, model: nn.Module, x: torch.Tensor) -> Outputs:
        if self.needs_taps:
            logits, taps = model(x, return_taps=True)
            return Outputs(logits, taps)
        return Outputs(model(x))

    def _run_teacher(self, x: torch.Tensor) -> Outputs:
        # A single-window teacher of a context student scores the (B*T, 1, n) windows one by one.
        if x.ndim == 4 and not context_epochs_of(self.teacher):
            return self._run(self.teacher, x.flatten(0, 1))
        return self._run(self.teacher, x)

    def _teacher_outputs(self, batch: Mapping[str, torch.Tensor]) -> Outputs | None:
        """The frozen teacher's logits and taps, in float32 whatever autocast the loop runs the step under.

        The distillation targets are the teacher's own: a teacher trained in fp32 is run in fp32 on
        every device (CPU and CUDA autocast keep different operations in float32, so the autocast
        is switched off rather than relied on), and the loss terms never see bf16-rounded targets.
        """
        if self.teacher is None:
            return None
        # Re-asserted every call: a loop calling .train() on "all models" must not move BN statistics.
        self.teacher.eval()
        signal = _batch_signal(batch, self.strategy.teacher_modality)
        with torch.no_grad(), torch.autocast(signal.device.type, enabled=False):
            return self._run_teacher(signal.float())

    def __call__(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Loss of one batch.

        Parameters
        ----------
        batch : dict
            ``"eeg"`` and/or ``"ecg"`` (B, 1, n_times) and ``"label"`` (B,) int64; with context
            (B, T, 1, n_times) and (B, T). Label -1: an epoch no term counts; -2: an epoch of a
            night nobody scored, which only the terms that need no stage see.

        Returns
        -------
        dict
            ``"loss"`` (scalar, with grad), ``"<term>_loss"`` for each term (detached), extra
            detached parts of terms that have them (``"sd_kl_loss"``, ``"sd_ce_loss"``),
            ``"<term>_scored_epochs"`` and ``"<term>_unscored_epochs"`` (the epochs each term saw)
            and ``"logits"`` (B, C) detached float32; with context (B, T, C), every epoch.
        """
        if "label" not in batch:
            raise InputError(f"batch has no 'label' key; got keys {sorted(batch)}")
        targets = batch["label"].long()
        student = self._run(self.student, _batch_signal(batch, self.strategy.student_modality))
        teacher = self._teacher_outputs(batch)
        all_logits = student.logits
        context = targets.ndim == 2  # every term sees one row per epoch, the epochs it counts
        result: dict[str, torch.Tensor] = {}
        total = None
        for name, term in self.terms.items():
            # A term sees the scored epochs; a term that needs no stage sees those of unscored nights too.
            if not context and self.unscored_nights is False:  # every window is scored: no selection, no sync
                rows_student, rows_teacher, rows_targets, empty = student, teacher, targets, False
            else:
                seen = (targets >= 0) | (targets == UNSCORED_NIGHT) if term.label_free else targets >= 0
                rows_student, rows_teacher, rows_targets, empty = epoch_rows(student, teacher, targets, seen,
                                                                             always=context)
            # Weight-0 terms stay in the graph times 0: every parameter then receives a (zero)
            # gradient, so DDP needs no find_unused_parameters and Adam leaves those weights alone.
            value = term(rows_student, rows_teacher, rows_targets, **self.options[name])
            if empty:  # no epoch for this term in the batch: still a (zero) gradient for every parameter
                value = value * 0.0
            weighted = self.strategy.terms[name] * value
            total = weighted if total is None else total + weighted
            result[f"{name}_loss"] = value.detach()
            if term.parts is not None:
                with torch.no_grad():
                    parts = term.parts(rows_student, rows_teacher, rows_targets, **self.options[name])
                result.update({f"{name}_{part}_loss": v.detach() * (0.0 if empty else 1.0) for part, v in parts.items()})
            counted = rows_targets[:0] if empty else rows_targets
            result[f"{name}_scored_epochs"] = (counted >= 0).sum().detach()
            result[f"{name}_unscored_epochs"] = (counted == UNSCORED_NIGHT).sum().detach()
        result["loss"] = total
        result["logits"] = all_logits.detach().float()
        return result


def epoch_rows(student: Outputs, teacher: Outputs | None, targets: torch.Tensor, keep: torch.Tensor, *,
               always: bool):
    """One row per epoch, and only the epochs in ``keep``, of the outputs and targets.

    Parameters
    ----------
    student, teacher : Outputs with logits (B, C) or, with context, (B, T, C) (a single-window
        teacher's (B*T, C)), and taps (B*T, channels, length), rows in the order ``b * T + t``.
    targets : Tensor (B,) or (B, T).
    keep : bool Tensor of targets' shape, the epochs the term sees.
    always : select even when every row is kept (context: today's path, index_select of all rows);
        one window with every row kept passes the outputs as they are.

    Returns
    -------
    (student, teacher, targets, empty): outputs and targets (N,) of the N kept epochs. When no
    epoch is kept (``empty``), every row is kept with target 0, for the caller to multiply the
    term by zero.
    """
    flat, keep = targets.reshape(-1), keep.reshape(-1)
    empty = not bool(keep.any())
    if empty:
        keep, flat = torch.ones_like(keep), torch.zeros_like(flat)
    if not always and bool(keep.all()):
        return student, teacher, flat, empty
    rows = keep.nonzero().squeeze(1)

    def select(outputs: Outputs | None) -> Outputs | None:
        if outputs is None:
            return None
        logits = outputs.logits.reshape(-1, outputs.logits.shape[-1]).index_select(0, rows)
        taps = None if outputs.taps is None else {
            group: [tap.index_select(0, rows) for tap in layers] for group, layers in outputs.taps.items()}
        return Outputs(logits, taps)

    return select(student), select(teacher), flat.index_select(0, rows), empty


def _batch_signal(batch: Mapping[str, torch.Tensor], modality: str) -> torch.Tensor:
    if modality not in batch:
        raise InputError(f"batch has no {modality!r} signal; got keys {sorted(batch)}")
    return batch[modality]


def build_step(strategy: Strategy, *, student: nn.Module, teacher: nn.Module | None = None,
               loss_options: Mapping[str, Mapping[str, Any]] | None = None,
               class_weights: torch.Tensor | None = None, unscored_nights: bool | None = None) -> StrategyStep:
    """Build the step of ``strategy``; see :class:`StrategyStep` (freezes the teacher)."""
    return StrategyStep(strategy, student=student, teacher=teacher, loss_options=loss_options,
                        class_weights=class_weights, unscored_nights=unscored_nights)
