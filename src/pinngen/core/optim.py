"""Optimizer phases and parameter groups: pydantic specs and their Optax transformations.

A training run is a list of phases (e.g. Adam for 10k steps, then L-BFGS until it converges). A phase
either trains every parameter with one optimizer, or trains named **parameter groups** (a GAN's
generator and discriminator), each with its own optimizer, schedule, loss terms and number of updates
per step. The specs are plain, serialisable hyperparameters; a transform built in Python can be passed
instead of a name (``Phase(transform=optax.chain(...))``).

Any Optax optimizer is available by name (``optimizer: lion``), with its keyword arguments in ``args``
(``args: {b1: 0.5, b2: 0.999}``); unknown names and arguments are one-line errors that list the valid ones.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Literal

import jax.numpy as jnp
import optax
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEDULES = ("constant", "cosine", "exponential", "warmup_cosine", "linear", "step")

# Full-batch quasi-Newton optimizers with a strong-Wolfe line search: L-BFGS (limited memory) and the dense
# inverse-Hessian ones of pinngen.core.quasi_newton (n x n numbers: small networks, float64).
DENSE_QUASI_NEWTON = ("bfgs", "ssbfgs", "ssbroyden")
QUASI_NEWTON = ("lbfgs", *DENSE_QUASI_NEWTON)
# Names with their own handling (momentum / weight decay wiring); any other optax optimizer also works.
NAMED = ("adam", "adamw", "sgd", "adadelta", "rmsprop", "adagrad", "nadam", *QUASI_NEWTON)
_NOT_OPTIMIZERS = {"lbfgs", "chain", "named_chain", "identity", "set_to_zero", "apply_if_finite",
                   "multi_transform", "partition", "inject_hyperparams", "inject_stateful_hyperparams",
                   "MultiSteps", "masked", "flatten", "with_extra_args_support", "stateless",
                   "stateless_with_tree_map", "maybe_update", "conditionally_mask", "conditionally_transform",
                   "skip_not_finite", "skip_large_updates", "optimistic_gradient_descent"}


def optax_optimizers() -> dict[str, Callable]:
    """Optax's optimizer aliases: public functions whose first parameter is ``learning_rate``."""
    out = {}
    for name in dir(optax):
        fn = getattr(optax, name)
        if (name.startswith(("_", "scale_by")) or name in _NOT_OPTIMIZERS
                or not (inspect.isfunction(fn) or isinstance(fn, functools.partial))):
            continue
        try:
            params = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            continue
        if params and params[0] == "learning_rate":
            out[name] = fn
    return out


_OPTAX = optax_optimizers()
OPTIMIZERS = tuple(sorted(set(_OPTAX) | set(QUASI_NEWTON)))


def is_quasi_newton(name: str | None) -> bool:
    """A full-batch quasi-Newton optimizer with a line search (lbfgs, bfgs, ssbfgs, ssbroyden): it needs one
    deterministic objective on the whole batch, chooses its own step, and may stop on its tolerances."""
    return name in QUASI_NEWTON


def quasi_newton_title(name: str) -> str:
    """How text names a quasi-Newton optimizer: lbfgs -> L-BFGS, ssbroyden -> SSBroyden."""
    return {"lbfgs": "L-BFGS", "bfgs": "BFGS", "ssbfgs": "SSBFGS", "ssbroyden": "SSBroyden"}.get(name, name)


def optimizer_args(name: str) -> list[str]:
    """Keyword arguments an optimizer takes besides the learning rate."""
    if is_quasi_newton(name):
        return []
    return [p for p in inspect.signature(_OPTAX[name]).parameters if p != "learning_rate"]


class EarlyStopping(BaseModel):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` evaluations; ``restore_best``
    returns the best model when it stops, and with ``restore_at_end`` also when training ends without stopping
    (a large ``patience`` then makes it plain model selection on ``monitor``)."""

    model_config = ConfigDict(extra="forbid")
    monitor: str = "val/loss"
    patience: int = Field(10, ge=1)
    min_delta: float = Field(0.0, ge=0.0)
    restore_best: bool = True
    restore_at_end: bool = Field(False, description="also restore the best model when training ends without "
                                 "stopping early (needs restore_best)")


class OptimizerSpec(BaseModel):
    """An optimizer, its arguments and its learning-rate schedule."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    optimizer: str = Field("adam", description="an Optax optimizer name (adam, adamw, sgd, lion, ...), lbfgs, or "
                           "the dense quasi-Newton bfgs, ssbfgs, ssbroyden")
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of the Optax optimizer, "
                                 "e.g. {b1: 0.5} (DCGAN's Adam)")
    lr: float = Field(1e-3, gt=0.0)
    schedule: Literal["constant", "cosine", "exponential", "warmup_cosine", "linear", "step"] = "constant"
    warmup_steps: int = Field(0, ge=0)
    decay_rate: float = Field(0.9, gt=0.0, le=1.0, description="exponential: factor per decay_steps; step: factor")
    decay_steps: int = Field(1000, ge=1)
    end_lr_factor: float = Field(0.0, ge=0.0, le=1.0, description="final lr / lr for cosine and linear")
    clip_norm: float | None = Field(None, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    momentum: float | None = Field(None, ge=0.0, lt=1.0)
    transform: Any = Field(None, exclude=True, description="Python only: an optax.GradientTransformation "
                           "used instead of `optimizer` (its learning rate is its own; lr is not recorded)")

    @field_validator("optimizer")
    @classmethod
    def _known(cls, v):
        if v not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {v!r}; choose one of {', '.join(OPTIMIZERS)}")
        return v

    @model_validator(mode="after")
    def _args_exist(self):
        valid = optimizer_args(self.optimizer)
        bad = sorted(set(self.args) - set(valid))
        if bad:
            raise ValueError(f"{self.optimizer} has no argument(s) {', '.join(bad)}; its arguments are "
                             f"{', '.join(valid) or 'none'}")
        if self.transform is not None and not isinstance(self.transform, optax.GradientTransformation):
            raise ValueError(f"transform must be an optax.GradientTransformation, got {type(self.transform).__name__}")
        return self


class Group(OptimizerSpec):
    """A named parameter group: its parameters, its optimizer, the loss terms it minimises, and how many
    times it is updated per training step (``steps: 5`` for a WGAN critic)."""

    terms: list[str] = Field(min_length=1, description="loss terms whose weighted sum this group minimises")
    steps: int = Field(1, ge=1, description="updates of this group per training step")
    params: list[str] | None = Field(None, description="parameter path prefixes, e.g. [discriminator] or "
                                     "[net.layers.0]; default: the group's name")
    select: Any = Field(None, exclude=True, description="Python only: (path, leaf) -> bool instead of params")
    adversarial: bool = Field(False, description="this group's objective opposes another group's (GAN players): "
                              "the diagnosis does not read its level and trend as progress")

    @model_validator(mode="after")
    def _not_lbfgs(self):
        if is_quasi_newton(self.optimizer):
            raise ValueError(f"a parameter group cannot use {self.optimizer} (a line search needs one objective); "
                             "use a first-order optimizer")
        return self


class Phase(OptimizerSpec):
    """One optimizer phase. ``steps`` is an upper bound for the quasi-Newton optimizers (lbfgs, bfgs, ssbfgs,
    ssbroyden), which may stop earlier (and say why)."""

    steps: int = Field(1000, ge=0)
    batch_size: int | None = Field(None, ge=1, description="None: full batch")
    epochs: int | None = Field(None, ge=1, description="if set, steps = epochs * (n_samples // batch_size)")
    groups: dict[str, Group] | None = Field(None, description="two-player (or more) training: named parameter "
                                            "groups updated in this order within each step")
    # quasi-Newton only (memory: L-BFGS; max_dense_params: bfgs, ssbfgs, ssbroyden)
    memory: int = Field(20, ge=1)
    max_linesearch_steps: int = Field(30, ge=1)
    tol_grad: float = Field(1e-10, ge=0.0, description="stop when the gradient norm falls below")
    tol_change: float = Field(1e-12, ge=0.0, description="stop when |relative loss change| falls below")
    patience: int = Field(20, ge=1, description="quasi-Newton: consecutive steps of tiny change, or without "
                          "a decrease, before it stops")
    max_dense_params: int = Field(20_000, ge=1, description="bfgs/ssbfgs/ssbroyden hold an n x n inverse Hessian "
                                  "(n^2 * 8 bytes in float64: 3.2 GB at 20,000); more parameters are refused")
    approx_dec_rtol: float | None = Field(
        None, ge=0.0, description="zoom line search: relative loss level under which the approximate "
        "(Hager-Zhang) Wolfe conditions apply; default: 1e-6 in float64, larger in float32 (see make_optimizer)")
    initial_step: Literal["keep", "one"] = Field(
        "one", description="zoom line search's first trial step each iteration: 'one' (the quasi-Newton step, as "
        "optax.lbfgs and PyTorch start) or 'keep' (the last accepted step; after one tiny step the next ones stay "
        "tiny: on Burgers 'one' lowered the loss faster on 3 seeds out of 3, bench/lbfgs_probe.py)")
    loss_transform: Literal["none", "sqrt", "log"] = Field(
        "none", description="what this phase differentiates: the weighted total loss L ('none'), sqrt(L) or "
        "log(L) (as Urbán, Stefanou & Pons 2025 and Kiyani et al. 2025 do in the quasi-Newton phase; L plus the "
        "dtype's smallest normal number, so L = 0 stays finite). History still records L, its terms and the "
        "gradient norm of L; the quasi-Newton tolerances (tol_grad, tol_change) and line search act on the "
        "transformed objective. Needs a non-negative total (mean squared residuals); not with groups")

    @model_validator(mode="after")
    def _consistent(self):
        if is_quasi_newton(self.optimizer) and self.batch_size is not None:
            raise ValueError(f"{self.optimizer} needs the full batch: remove batch_size from the {self.optimizer} "
                             "phase")
        if self.groups is not None and is_quasi_newton(self.optimizer):
            raise ValueError("groups need first-order optimizers: set the phase optimizer to the default, or "
                             "remove groups")
        if self.groups is not None and not self.groups:
            raise ValueError("groups is empty: name at least one parameter group, or remove groups")
        if self.groups is not None and self.loss_transform != "none":
            raise ValueError(f"loss_transform={self.loss_transform!r} applies to one objective, not to parameter "
                             "groups: remove loss_transform or groups")
        return self

    @property
    def label(self) -> str:
        return "+".join(self.groups) if self.groups else self.optimizer

    @property
    def batches_per_step(self) -> int:
        """Minibatches one step consumes: each inner update of a group sees a fresh one."""
        return max(g.steps for g in self.groups.values()) if self.groups else 1

    def resolved(self, n_samples: int) -> Phase:
        """This phase with ``steps`` computed from ``epochs`` (Keras-style) for a data set of n samples."""
        if self.epochs is None:
            return self
        per_step = (self.batch_size or n_samples) * self.batches_per_step
        return self.model_copy(update={"steps": self.epochs * max(n_samples // per_step, 1)})


def make_schedule(spec: OptimizerSpec, n: int) -> optax.Schedule:
    """Learning rate as a function of the update count (``n`` updates in all)."""
    lr, n = spec.lr, max(n, 1)
    if spec.schedule == "constant":
        base = optax.constant_schedule(lr)
    elif spec.schedule == "cosine":
        base = optax.cosine_decay_schedule(lr, max(n - spec.warmup_steps, 1), alpha=spec.end_lr_factor)
    elif spec.schedule == "exponential":
        base = optax.exponential_decay(lr, spec.decay_steps, spec.decay_rate)
    elif spec.schedule == "linear":
        base = optax.linear_schedule(lr, lr * spec.end_lr_factor, max(n - spec.warmup_steps, 1))
    elif spec.schedule == "step":
        base = optax.exponential_decay(lr, spec.decay_steps, spec.decay_rate, staircase=True)
    elif spec.schedule == "warmup_cosine":
        return optax.warmup_cosine_decay_schedule(
            0.0, lr, max(spec.warmup_steps, 1), n, end_value=lr * spec.end_lr_factor
        )
    else:  # pydantic already restricts the choices
        raise ValueError(f"schedule={spec.schedule!r}; choose one of {SCHEDULES}")
    if spec.warmup_steps:
        warm = optax.linear_schedule(0.0, lr, spec.warmup_steps)
        return optax.join_schedules([warm, base], [spec.warmup_steps])
    return base


def _approx_dec_rtol(phase: Phase, dtype) -> float:
    """In float32 the loss is only known to ~1e-7 relative (more after summing thousands of residuals),
    so the exact Wolfe decrease test fails on rounding and L-BFGS stalls within a few steps (measured on
    Burgers); the approximate Wolfe conditions (Hager & Zhang 2005) take over sooner there."""
    if phase.approx_dec_rtol is not None:
        return phase.approx_dec_rtol
    return 1e-6 if dtype is not None and jnp.dtype(dtype) == jnp.float64 else 1e-4


def make_transform(spec: OptimizerSpec, n: int, dtype=None) -> tuple[optax.GradientTransformation, Callable | None]:
    """The Optax transformation of a phase or group, and its schedule (None when not known: a
    user-supplied transform). ``n``: the number of updates it will make (for decaying schedules)."""
    if spec.transform is not None:
        return spec.transform, None
    name = spec.optimizer
    if is_quasi_newton(name):
        # The line search picks the step (lr is not used).
        ls = optax.scale_by_zoom_linesearch(max_linesearch_steps=spec.max_linesearch_steps,
                                            approx_dec_rtol=_approx_dec_rtol(spec, dtype),
                                            initial_guess_strategy=spec.initial_step)
        if name == "lbfgs":
            tx = optax.lbfgs(learning_rate=None, memory_size=spec.memory, linesearch=ls)
        else:
            from pinngen.core.quasi_newton import dense_quasi_newton

            tx = dense_quasi_newton(name, ls)
        return tx, optax.constant_schedule(1.0)
    sched = make_schedule(spec, n)
    kwargs = dict(spec.args)
    valid = optimizer_args(name)
    if spec.momentum is not None and "momentum" in valid:
        kwargs.setdefault("momentum", spec.momentum)
    # weight_decay: 0 (the field's default) means none, also for optimizers whose own default is not 0
    decay_inside = "weight_decay" in valid
    if decay_inside:
        kwargs.setdefault("weight_decay", spec.weight_decay)
    opt = _OPTAX[name](sched, **kwargs)
    chain = []
    if spec.clip_norm is not None:
        chain.append(optax.clip_by_global_norm(spec.clip_norm))
    if spec.weight_decay and not decay_inside:
        chain.append(optax.add_decayed_weights(spec.weight_decay))
    if chain:
        opt = optax.chain(*chain, opt)
    return opt, sched


def make_optimizer(phase: Phase, dtype=None) -> tuple[optax.GradientTransformation, Callable | None]:
    """The Optax transformation of a single-optimizer phase and its schedule (for recording the lr)."""
    return make_transform(phase, phase.steps, dtype)
