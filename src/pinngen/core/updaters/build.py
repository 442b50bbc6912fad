"""Phase spec -> updater."""

from __future__ import annotations

from collections.abc import Callable

import jax

from pinngen.core.optim import DENSE_QUASI_NEWTON, Phase, is_quasi_newton, make_transform
from pinngen.core.updaters.base import combined_terms, weighted_total
from pinngen.core.updaters.gradient import GradientUpdater
from pinngen.core.updaters.groups import GroupPlan, GroupUpdater, group_masks
from pinngen.core.updaters.lbfgs import LBFGSUpdater
from pinngen.core.updaters.transform import TransformedLoss, transformed_total


def make_updater(phase: Phase, *, loss_terms: Callable, static, names: tuple[str, ...], params, dtype=None):
    """The updater of one phase. Raises ValueError (one line) for groups that name unknown loss terms,
    match no parameter, overlap, or leave parameters or terms without a group."""
    if phase.groups:
        clash = sorted(set(phase.groups) & set(names))
        if clash:
            raise ValueError(f"group name(s) {clash} are also loss term names; rename the groups (their curves are "
                             "recorded as loss/<group>)")
        masks = group_masks(params, {n: (g.select if g.select is not None else (g.params or [n]))
                                     for n, g in phase.groups.items()})
        covered = set()
        plans = []
        for name, g in phase.groups.items():
            unknown = sorted(set(g.terms) - set(names))
            if unknown:
                raise ValueError(f"group {name!r} names unknown loss term(s) {unknown}; the terms are {list(names)}")
            covered |= set(g.terms)
            tx, sched = make_transform(g, phase.steps * g.steps, dtype)
            plans.append(GroupPlan(name, masks[name], tx, sched, tuple(g.terms), g.steps))
        missing = sorted(set(names) - covered)
        if missing:
            raise ValueError(f"loss term(s) {missing} belong to no group; list each term in a group's terms")
        # full batch: every inner update sees the whole data; minibatches: a fresh one each
        per_step = phase.batches_per_step if phase.batch_size else 1
        return GroupUpdater(combined_terms(loss_terms, static, names), plans, batches_per_step=per_step)
    # the one place where a phase's loss_transform (sqrt / log of the total) enters: every updater below
    # differentiates it, and TransformedLoss records the untransformed total
    total_fn = transformed_total(weighted_total(loss_terms, static, names), phase.loss_transform)
    if phase.optimizer in DENSE_QUASI_NEWTON and phase.transform is None:
        check_dense_size(phase, params)
    tx, sched = make_transform(phase, phase.steps, dtype)
    if is_quasi_newton(phase.optimizer) and phase.transform is None:
        updater = LBFGSUpdater(total_fn, tx, steps=phase.steps, tol_grad=phase.tol_grad,
                               tol_change=phase.tol_change, patience=phase.patience)
    else:
        updater = GradientUpdater(total_fn, tx, sched)
    return updater if phase.loss_transform == "none" else TransformedLoss(updater, phase.loss_transform)


def check_dense_size(phase: Phase, params) -> None:
    """A dense quasi-Newton phase holds an n x n inverse Hessian: refuse more than ``max_dense_params``."""
    leaves = jax.tree_util.tree_leaves(params)
    n = sum(int(x.size) for x in leaves)
    if n > phase.max_dense_params:
        item = max((x.dtype.itemsize for x in leaves), default=8)
        raise ValueError(f"optimizer {phase.optimizer}: the model has {n:,} trainable parameters and its dense "
                         f"inverse Hessian would take {n * n * item / 1e9:.1f} GB (limit max_dense_params="
                         f"{phase.max_dense_params:,}); use optimizer: lbfgs, or a smaller network")
