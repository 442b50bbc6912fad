"""The output-layer cheatsheet as code: task -> output activation, output size and loss.

:func:`advise` answers "what should the last layer and the loss be?", :func:`check` warns *before
training* when a chosen (activation, loss, size) doesn't fit the task or the targets, and
:func:`infer_task` guesses the task from a target array.

=====================  =================  ==============  ===========================
task                   output activation  output units    loss
=====================  =================  ==============  ===========================
regression             linear             n_outputs       mse
regression_positive    softplus           n_outputs       msle
binary                 sigmoid            1               binary_crossentropy
multiclass             softmax            n_classes       categorical_crossentropy
multilabel             sigmoid            n_classes       binary_crossentropy
probabilistic          softmax            n_classes       kl_divergence
=====================  =================  ==============  ===========================

The lecture's table pairs categorical cross-entropy with a *sigmoid* output; that is an error, corrected
here: see :func:`advise`.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from pinngen.core.findings import Finding
from pinngen.core.losses import LossFn, get_loss, get_output_activation, output_loss

TASKS = ("regression", "regression_positive", "binary", "multiclass", "multilabel", "probabilistic")
CLASSIFICATION_TASKS = ("binary", "multiclass", "multilabel")
REGRESSION_TASKS = ("regression", "regression_positive")

_REGRESSION_LOSSES = ("mse", "mae", "msle", "huber", "poisson", "gaussian_nll")
_CATEGORICAL_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence")
_CLASSIFICATION_LOSSES = ("binary_crossentropy",) + _CATEGORICAL_LOSSES


# code -> when it is raised; the tests make sure each one can fire
WARNING_CODES = {
    "bce_needs_sigmoid": "binary cross-entropy on an output that isn't a probability (linear, relu, ...)",
    "categorical_with_sigmoid": "categorical cross-entropy / KL on sigmoid outputs (the lecture's error)",
    "categorical_needs_softmax": "categorical cross-entropy / KL on an output that isn't a distribution",
    "poisson_needs_positive_output": "Poisson loss on an output that can be <= 0 or is bounded",
    "msle_negative_predictions": "msle on an output that can go negative (clipped, no gradient)",
    "gaussian_nll_needs_linear": "gaussian_nll on a squashed output",
    "softmax_single_unit": "softmax over one unit (always 1)",
    "regression_loss_on_labels": "a regression loss (mse, mae, ...) on class labels",
    "classification_loss_for_regression": "a cross-entropy loss for a regression task",
    "multiclass_as_multilabel": "sigmoid + binary cross-entropy for one-class-per-sample targets",
    "multilabel_with_softmax": "softmax for several-labels-per-sample targets",
    "targets_not_finite": "NaN or infinite targets",
    "bounded_output_unbounded_targets": "sigmoid/softmax/tanh output, regression targets outside its range",
    "positive_output_negative_targets": "relu/softplus/exp output, negative regression targets",
    "msle_negative_targets": "msle with negative targets",
    "poisson_negative_targets": "Poisson loss with negative targets",
    "labels_with_bce": "integer class labels (one column) with binary cross-entropy over k > 1 units",
    "bce_targets_outside_unit_interval": "binary cross-entropy with targets outside [0, 1]",
    "sparse_with_onehot": "sparse categorical cross-entropy with one-hot targets",
    "labels_not_integers": "one-column targets for categorical cross-entropy that aren't class indices",
    "targets_not_distributions": "KL / categorical cross-entropy targets whose rows don't sum to 1",
    "output_size_mismatch": "output units don't match the classes / target columns",
}


@dataclass(frozen=True)
class Advice:
    """The advised output layer and loss for a task; ``reason`` says why, ``alternatives`` what else fits."""

    task: str
    output_activation: str
    output_size: int
    loss: str
    reason: str
    alternatives: tuple[str, ...] = ()

    def loss_fn(self) -> LossFn:
        """``fn(raw_output, target) -> scalar``: the stable fused loss on the raw last-layer output."""
        return output_loss(self.output_activation, self.loss)

    def activation_fn(self):
        """The output activation to apply to the raw output at prediction time."""
        return get_output_activation(self.output_activation)

    def __str__(self) -> str:
        return (
            f"{self.task}: {self.output_size} unit(s), {self.output_activation} output, {self.loss} loss. "
            f"{self.reason}"
        )


@dataclass(frozen=True)
class AdviceWarning:
    """A mismatch found before training: stable ``code``, one-sentence ``message``, ``hint`` to fix it."""

    code: str
    message: str
    hint: str = ""

    def to_finding(self) -> Finding:
        """The same statement as a :class:`~pinngen.core.findings.Finding` of severity ``"warning"``."""
        return Finding(code=self.code, severity="warning", message=self.message, hint=self.hint)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" Hint: {self.hint}" if self.hint else "")


# --------------------------------------------------------------------------- advise

_CHEATSHEET: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "regression": (
        "linear",
        "mse",
        "A linear output can reach any real value, and mean squared error is the likelihood of Gaussian "
        "noise on the targets; scale the targets to mean 0, std 1.",
        (
            "mae: robust to outliers (fits the median)",
            "huber: squared for small errors, absolute for large ones",
            "msle with a softplus output: positive targets spanning orders of magnitude "
            "(task 'regression_positive')",
            "gaussian_nll with 2 x n_outputs linear units: predict a variance as well",
        ),
    ),
    "regression_positive": (
        "softplus",
        "msle",
        "For positive targets spanning orders of magnitude, msle compares log(1 + y), i.e. ratios, so the "
        "largest values don't dominate; a softplus output is always positive, so no prediction is clipped.",
        (
            "exp output + poisson: non-negative counts (log link, fused and stable)",
            "linear output + mse on log(y): the same idea by transforming the targets",
            "mse with a softplus output: positive targets on one scale",
        ),
    ),
    "binary": (
        "sigmoid",
        "binary_crossentropy",
        "One sigmoid unit gives p(y = 1) in (0, 1) and binary cross-entropy is the Bernoulli likelihood; "
        "train on the raw output with output_loss('sigmoid', 'binary_crossentropy'), stable for any logit.",
        ("2 softmax units + categorical_crossentropy (task 'multiclass', n_classes=2): equivalent",),
    ),
    "multiclass": (
        "softmax",
        "categorical_crossentropy",
        "Exactly one class per sample: softmax turns k outputs into one probability distribution (positive, "
        "summing to 1) and categorical cross-entropy, -log p(true class), is its likelihood. Not sigmoid: "
        "sigmoid outputs don't sum to 1, so the loss only pushes the true class up and never the others "
        "down; that is not the likelihood of one class (sigmoid is right for multilabel).",
        (
            "sparse_categorical_crossentropy: the same loss for integer labels "
            "(categorical_crossentropy here takes one-hot rows or integer labels)",
        ),
    ),
    "multilabel": (
        "sigmoid",
        "binary_crossentropy",
        "Each of the k labels is present or absent independently: one sigmoid unit per label and binary "
        "cross-entropy per label. Not softmax: it makes the labels compete, so two present labels could "
        "never both reach 1.",
        (),
    ),
    "probabilistic": (
        "softmax",
        "kl_divergence",
        "The targets are distributions (rows summing to 1): softmax outputs are distributions too, and "
        "KL(target || prediction) is 0 exactly when they match.",
        (
            "categorical_crossentropy on the same targets: the same gradient (it differs by the constant "
            "target entropy)",
        ),
    ),
}


def _count(name: str, value) -> int | None:
    if value is None:
        return None
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{name}={value!r}; give a positive integer") from None
    if isinstance(value, bool) or n < 1:
        raise ValueError(f"{name}={value!r}; give a positive integer")
    return n


def _output_size(task: str, n_outputs: int | None, n_classes: int | None) -> int:
    if task in REGRESSION_TASKS:
        if n_classes is not None:
            raise ValueError(
                f"n_classes={n_classes!r} is for classification tasks; give task {task!r} n_outputs"
            )
        return n_outputs or 1
    if task == "binary":
        if n_outputs not in (None, 1) or n_classes not in (None, 2):
            raise ValueError(
                f"task 'binary' uses 1 sigmoid unit (2 classes), got n_outputs={n_outputs!r}, "
                f"n_classes={n_classes!r}; for 2 softmax units use task='multiclass', n_classes=2"
            )
        return 1
    if n_outputs is not None and n_classes is not None and n_outputs != n_classes:
        raise ValueError(f"task {task!r}: n_outputs={n_outputs} and n_classes={n_classes} disagree")
    k = n_classes if n_classes is not None else n_outputs
    if k is None or k < 2:
        raise ValueError(
            f"task {task!r} needs n_classes >= 2 (one output unit per class), got {k!r}; "
            "for a single yes/no label use task='binary'"
        )
    return k


def advise(task: str, *, n_outputs: int | None = None, n_classes: int | None = None) -> Advice:
    """The output activation, output size and loss for ``task`` (one of ``TASKS``).

    ``n_outputs``: number of regression targets (default 1). ``n_classes``: number of classes
    (``multiclass``), labels (``multilabel``) or categories (``probabilistic``); ``n_outputs`` is accepted
    as a synonym there. ``binary`` always has one unit.

    Why softmax and not sigmoid for categorical cross-entropy (the lecture's table says sigmoid): the
    loss ``-sum_k t_k log p_k`` is the likelihood of one class only when ``p`` is a distribution over the
    classes. Softmax outputs sum to 1, so raising the true class lowers the others. Independent
    sigmoids don't sum to 1: the loss then only pushes the true class's output towards 1 and leaves the
    rest free (all outputs near 1 scores perfectly). Sigmoid is the right output when several labels can
    be on at once (``multilabel``), and there it goes with binary cross-entropy per label.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {list(TASKS)}")
    size = _output_size(task, _count("n_outputs", n_outputs), _count("n_classes", n_classes))
    activation, loss, reason, alternatives = _CHEATSHEET[task]
    return Advice(task, activation, size, loss, reason, alternatives)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class _Targets:
    columns: int  # size of the last axis; 1 for (n,)
    n_bad: int  # NaN/inf entries; the statistics below use the finite ones
    integer: bool  # every finite value is a whole number
    distinct: int
    lo: float
    hi: float
    min_positive: float
    binary01: bool  # every value is 0 or 1
    row_sum_lo: float
    row_sum_hi: float


def _summarise(targets) -> _Targets:
    y = np.asarray(targets)
    if y.dtype == bool:
        y = y.astype(np.int8)
    if not np.issubdtype(y.dtype, np.number) or y.ndim == 0 or y.size == 0:
        raise ValueError(
            f"targets must be a non-empty numeric array of shape (n,) or (n, d), got {y.shape} {y.dtype}"
        )
    rows = y.reshape(-1, 1) if y.ndim == 1 else y.reshape(-1, y.shape[-1])
    finite = np.isfinite(rows)
    v = rows[finite].astype(np.float64)
    if v.size == 0:
        v = np.array([np.nan])
    sums = np.where(finite, rows, 0).sum(axis=-1)
    positive = v[v > 0]
    return _Targets(
        columns=rows.shape[-1],
        n_bad=int((~finite).sum()),
        integer=bool(np.all(v == np.round(v))),
        distinct=int(np.unique(v).size),
        lo=float(v.min()),
        hi=float(v.max()),
        min_positive=float(positive.min()) if positive.size else np.nan,
        binary01=bool(np.all((v == 0) | (v == 1))),
        row_sum_lo=float(sums.min()),
        row_sum_hi=float(sums.max()),
    )


def _rows_are_distributions(t: _Targets) -> bool:
    return t.columns >= 2 and t.lo >= 0 and abs(t.row_sum_lo - 1) < 1e-3 and abs(t.row_sum_hi - 1) < 1e-3


def _task_of(t: _Targets, max_classes: int = 20) -> str:
    if t.columns == 1:
        if t.binary01:
            return "binary"
        if t.integer and t.lo >= 0 and t.distinct <= max_classes:
            return "multiclass"
    elif t.binary01:
        return "multiclass" if _rows_are_distributions(t) else "multilabel"
    elif _rows_are_distributions(t):
        return "probabilistic"
    if t.lo >= 0 and t.hi > 0 and t.hi / t.min_positive >= 1e3:
        return "regression_positive"
    return "regression"


def infer_task(targets, *, max_classes: int = 20) -> str:
    """Guess the task from a target array of shape ``(n,)`` or ``(n, d)`` (NaN/inf entries ignored).

    Rules, first match wins:

    1. one column, every value 0 or 1                                   -> ``binary``
    2. one column, whole numbers >= 0, at most ``max_classes`` distinct  -> ``multiclass`` (labels)
    3. several columns, all 0/1, exactly one 1 per row (one-hot)        -> ``multiclass``
    4. several columns, all 0/1, otherwise                              -> ``multilabel``
    5. several columns, non-negative, every row sums to 1 (+-1e-3)      -> ``probabilistic``
    6. all values >= 0 and max / (smallest positive) >= 1000            -> ``regression_positive``
    7. anything else                                                     -> ``regression``

    A guess from a sample: counts (0, 1, 2, ...) look like class labels under rule 2; pass the task
    explicitly to :func:`check` when you know it.
    """
    return _task_of(_summarise(targets), max_classes)


# --------------------------------------------------------------------------- check


def check(
    task: str | None = None,
    *,
    output_activation: str,
    loss: str,
    output_size: int,
    targets=None,
) -> list[AdviceWarning]:
    """Warnings about an output layer + loss that don't fit each other, the task or the targets.

    Run it before training: an empty list means nothing looks wrong. ``targets`` (optional, shape
    ``(n,)`` or ``(n, d)``, NumPy or JAX) enables the checks on values, ranges and sizes; without
    ``task`` the task is guessed from the targets with :func:`infer_task`. Every combination returned
    by :func:`advise` passes. Codes are listed in ``WARNING_CODES``; ``[w.to_finding() for w in ...]``
    gives :class:`~pinngen.core.findings.Finding` records.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {list(TASKS)}")
    get_output_activation(output_activation)
    get_loss(loss)
    size = _count("output_size", output_size)
    if size is None:
        raise ValueError("output_size=None; give the number of output units")
    t = None if targets is None else _summarise(targets)
    guess = task if task is not None or t is None else _task_of(t)
    from pinngen.core.advisor_checks import Setup, warnings_for

    return warnings_for(Setup(guess, task is not None, output_activation, loss, size, t))
